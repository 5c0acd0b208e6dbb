"""Evidence that a text is a study page, for pages of no known layout (`evidence` in the layouts mapping).

The reader can read any text, so detection must not let it take a README, a package manifest or a schema lying
beside the records: each would become a study with a made-up identity. A page with a known layout is a study
page; any other text is claimed only when it shows what registry pages hold (labelled registry fields, a registry
id, a criteria heading), in the amounts the mapping sets. What a refused text lacks is said in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from converters.model.vocabulary import normalise_wording
from converters.readers.registry_page.labelled import label_value
from converters.readers.registry_page.page import Line
from converters.readers.registry_page.rules import EvidenceRules, PageRules

# A word that may be a registry id: letters, digits and the joiners ids use ('CTRI/2020/01/012345',
# 'ChiCTR-IOR-17013520', 'JPRN-jRCT2071210009'); each is then checked against the registries' strict patterns.
_ID_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]*[A-Za-z0-9]")
_DIGIT = re.compile(r"\d")
_MAX_LINE = 2000  # longer lines are not searched for labels or ids (a minified file, a base64 blob)


@dataclass(frozen=True)
class PageEvidence:
    """What a text shows of a study: the known field labels it states with a value, its first registry id, its
    first criteria heading."""

    labels: tuple[str, ...]  # as written, in page order: one label per study field
    registry_id: str | None
    criteria_heading: str | None

    def kinds(self, rules: EvidenceRules) -> int:
        """How many kinds of evidence the text shows (labelled fields count from `min_labels`)."""
        return sum((len(self.labels) >= rules.min_labels, self.registry_id is not None,
                    self.criteria_heading is not None))

    def is_study(self, rules: EvidenceRules) -> bool:
        return len(self.labels) >= rules.labels_alone or self.kinds(rules) >= rules.min_kinds

    def shortfall(self, rules: EvidenceRules) -> str:
        """What the text shows and what a study page needs, in one line (why the reader did not take it)."""
        labels = (f"{len(self.labels)} labelled registry field{'' if len(self.labels) == 1 else 's'}"
                  + (f" ({', '.join(self.labels)})" if self.labels else ""))
        found = [
            labels,
            f"registry id {self.registry_id}" if self.registry_id else "no registry id",
            f"criteria heading '{self.criteria_heading}'" if self.criteria_heading else "no criteria heading",
        ]
        return (f"text that is not a study page: no known page layout, {', '.join(found)}; a page needs "
                f"{rules.min_kinds} of these: {rules.min_labels} labelled registry fields, a registry id, a criteria "
                f"heading; or {rules.labels_alone} labelled fields")


def page_evidence(lines: Iterable[Line], rules: PageRules) -> PageEvidence:
    """The evidence of a study in a page's lines (stops looking once it has all there is to count)."""
    labels: dict[str, str] = {}
    registry_id: str | None = None
    heading: str | None = None
    for line in lines:
        text = line.stripped
        if len(text) > _MAX_LINE:
            continue
        if len(labels) < rules.evidence.labels_alone:
            known = _known_label(text, rules)
            if known is not None:
                labels.setdefault(known[1], known[0])
        if heading is None and (m := rules.criteria.heading_line.match(text)):
            heading = m["label"]
        if registry_id is None:
            registry_id = _registry_id(text, rules)
    return PageEvidence(tuple(labels.values()), registry_id, heading)


def _known_label(text: str, rules: PageRules) -> tuple[str, str] | None:
    """The label of a 'Label: value' or 'Label | value |' line and the study field it names ('Gender' and 'Sex'
    name one field), when it is a study field's label."""
    pair = label_value(text)
    rule = rules.generic.label_only(normalise_wording(pair[0])) if pair is not None else None
    if pair is None or rule is None:
        return None
    return pair[0], rule.target


def _registry_id(text: str, rules: PageRules) -> str | None:
    """The first word of a line that a registry's identifier pattern (or ICTRP's form of it) accepts."""
    if not _DIGIT.search(text):
        return None
    for m in _ID_WORD.finditer(text):
        word = m.group()
        if _DIGIT.search(word) and (rules.identifiers.classify(word) or rules.identifiers.classify_ictrp(word)):
            return word
    return None
