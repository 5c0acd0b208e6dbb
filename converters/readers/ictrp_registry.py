"""Reader for the registry-to-ICTRP exchange XML (`<trials><trial><main>...`, format name `ictrp-registry-xml`).

What a primary registry sends to ICTRP, as who_ictrp.dtd 1.0 names it (schemas/ictrp/who_ictrp.dtd); the older
2009 variant of the same format (capitalised names: `Public_Title`, `Eligibility_criteria`, `Secondary_IDs`); and
the newer form ChiCTR publishes as its own XML (`results_*` and `ethics_reviews` added, the trial element spelt
`<Triall>`). One map reads all three (`mappings/ictrp_registry/study.yaml`). Trials are read one at a time.
Each is checked against the DTD, loaded from the package and never from the document: a trial that does not
follow it gets warnings (`ictrp-dtd-invalid`, at most 20) and is still read. A DOCTYPE that only names the DTD
is accepted and not loaded; one with declarations of its own is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from converters.fieldmap import XmlAdapter
from converters.loading import SourceDocument, short_message
from converters.problem_codes import ictrp
from converters.problems import Location, Problem
from converters.readers.base import ConverterCache, ReaderConfig, ReadOutcome, SourceUse
from converters.readers.ictrp_records import (
    TrialConverter,
    TrialPlace,
    XmlShape,
    read_xml_trials,
    xml_source_use,
)
from converters.resources import Resources

FORMAT = "ictrp-registry-xml"
MAPPING = "ictrp_registry/study.yaml"
DTD = "ictrp/who_ictrp.dtd"
ROOT = "trials"
TRIAL = "trial"
TRIAL_TAGS = (TRIAL, "Triall")  # ChiCTR's own XML spells its trial element "Triall"
_SNIFF_WINDOW = 8192
_MAX_DTD_PROBLEMS = 20

SHAPE = XmlShape(FORMAT, ROOT, TRIAL_TAGS, "main/trial_id", "exchange", "a registry exchange file",
                 allow_doctype=True)


class RegistryTrialConverter:
    """Built once per run: the field map (via `TrialConverter`) and the DTD."""

    def __init__(self, resources: Resources) -> None:
        self.trials = TrialConverter(resources, MAPPING, XmlAdapter())
        self.dtd = etree.DTD(str(resources.schemas_dir / DTD))

    def dtd_problems(self, trial: Any, where: Location) -> list[Problem]:
        """The trial checked on its own against who_ictrp.dtd's `trial` content model."""
        if self.dtd.validate(trial):
            return []
        return [ictrp.DTD_INVALID(where.model_copy(update={"line": error.line}), line=error.line,
                                  reason=short_message(error.message))
                for error in list(self.dtd.error_log)[:_MAX_DTD_PROBLEMS]]


class IctrpRegistryReader:
    name = FORMAT
    description = "WHO ICTRP registry exchange XML (<trials><trial><main>, who_ictrp.dtd), any number of trials"
    archive_suffixes = (".xml",)

    def __init__(self) -> None:
        self._converters = ConverterCache(RegistryTrialConverter)

    def converter(self, resources: Resources) -> RegistryTrialConverter:
        return self._converters.get(resources)

    def sniff(self, doc: SourceDocument) -> float:
        head = doc.data[:_SNIFF_WINDOW]
        start = head.find(b"<trials")
        if start < 0:
            return 0.0
        after = head[start:]
        trial = min((at for at in (after.find(b"<trial>"), after.find(b"<Triall>")) if at > 0), default=-1)
        return 0.95 if 0 < trial < after.find(b"<main>") else 0.0

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        converter = self.converter(config.resources)

        def convert(element: Any, place: TrialPlace) -> ReadOutcome:
            trial_id = element.findtext("main/trial_id")
            where = Location(file=doc.name, record=(trial_id or "").strip() or place.label, path=place.pointer)
            return converter.trials.convert(element, place, trial_id, converter.dtd_problems(element, where))

        return read_xml_trials(doc, config, SHAPE, convert)

    def source_use(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[SourceUse]:
        """Which values of each trial the field map uses (for coverage); parse and map only."""
        return xml_source_use(doc, config, SHAPE, self.converter(config.resources).trials)


READER = IctrpRegistryReader()
