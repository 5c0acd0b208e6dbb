"""NCT02513394 as API v2 JSON and as legacy XML: the same canonical study, except where the formats differ.

The two fixture files were downloaded years apart (the XML on 2020-08-18, the JSON after its 2023 update), so
besides real format differences there are differences of version (the record changed in between). Every
difference between the two canonical studies must match one entry below, and each entry checks its claim
where it can (text that differs only in layout must be equal once layout is removed; version differences must
go forward in time; the older download must have fewer sites). An unexplained difference fails the test, and
so does an explanation that no longer matches any difference.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from converters.model import Study, study_to_dict
from converters.resources import Resources
from tests.readers_ctgov.helpers import CTGOV, file_document, read

Check = Callable[[Any, Any], bool]


def _layout_free(text: Any) -> str:
    """Text without layout: markdown escapes, list markers and line wrapping removed."""
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>|])", r"\1", str(text))
    text = re.sub(r"(?m)^\s*(?:[-*+•]|\d{1,3}[.)])\s+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _same_text(json_value: Any, xml_value: Any) -> bool:
    return _layout_free(json_value) == _layout_free(xml_value)


def _later(json_value: Any, xml_value: Any) -> bool:
    return isinstance(json_value, str) and isinstance(xml_value, str) and json_value > xml_value


def _absent_in(side: str) -> Check:
    return lambda json_value, xml_value: (json_value if side == "json" else xml_value) is _MISSING


def _fewer_in_xml(json_value: Any, xml_value: Any) -> bool:
    return isinstance(json_value, list) and isinstance(xml_value, list) and len(xml_value) < len(json_value)


def _any(json_value: Any, xml_value: Any) -> bool:
    return True


@dataclass(frozen=True)
class Explained:
    pattern: str  # regex over the difference's JSON pointer in study.json
    kind: str  # "format" or "version"
    why: str
    check: Check


EXPLAINED = [
    # --- real format differences ---
    Explained(r"/arms/\d+/intervention_names", "format",
              "API v2 lists each arm's interventions; the XML links them only from the intervention side",
              _absent_in("xml")),
    Explained(r"/(condition|intervention)_codes/\d+/code", "format",
              "API v2 gives MeSH ids with the terms; the XML gives the MeSH terms only", _absent_in("xml")),
    Explained(r"/countries", "format",
              "the XML lists location_countries; API v2 has no country list beside the sites", _absent_in("json")),
    Explained(r"/design/number_of_groups", "format",
              "the XML states number_of_arms; API v2 does not", _absent_in("json")),
    Explained(r"/eligibility/std_ages", "format",
              "API v2 adds the age groups ClinicalTrials.gov derives from the ages; the XML has none",
              _absent_in("xml")),
    Explained(r"/identifiers/\d+/(type|domain)", "format",
              "API v2 types each secondary id and names its issuer; the XML gives bare secondary_id text",
              _absent_in("xml")),
    Explained(r"/organization", "format",
              "API v2 names the submitting organization; the XML has no such element", _absent_in("xml")),
    Explained(r"/status/\w+/text", "format",
              "the XML writes dates as text ('July 31, 2015'), kept as written; API v2 dates are ISO already",
              _absent_in("json")),
    Explained(r"/sponsors/(lead|collaborators/\d+)/organization_class", "format",
              "the XML agency_class knows only NIH, U.S. Fed, Industry and Other; API v2 splits Other into "
              "NETWORK, OTHER_GOV, INDIV, AMBIG, UNKNOWN",
              lambda j, x: x == "OTHER" and j in {"NETWORK", "OTHER_GOV", "INDIV", "AMBIG", "UNKNOWN"}),
    Explained(r"/(brief_summary|detailed_description|eligibility/criteria_text)", "format",
              "API v2 text is markdown; the XML text is plain and hard-wrapped: equal once layout is removed",
              _same_text),
    Explained(r"/eligibility/criteria/\d+/items/(\d+/children/)*\d+/text", "format",
              "an item's text wraps over lines in the XML: equal once line wrapping is removed", _same_text),
    Explained(r"/eligibility/criteria/\d+/items/(\d+/children/)*\d+/span", "format",
              "API v2 criteria are Markdown, read to plain text, so each item records where its source text is; "
              "an XML item's text is that exact text itself", _absent_in("xml")),
    Explained(r"/eligibility/criteria/\d+/items/(\d+/children/)*\d+/marker", "format",
              "list items are marked '*' in API v2 markdown and '-' in the XML text",
              lambda j, x: j in {"*", "-", "+"} and x in {"*", "-", "+"}),
    # --- differences of version: the record changed between the 2020 XML and the 2023 JSON download ---
    Explained(r"/status/(last_update_posted|last_update_submitted|verified)/value", "version",
              "the record was updated and re-verified after the XML was downloaded", _later),
    Explained(r"/status/primary_completion/(value|type)", "version",
              "the anticipated primary completion of the XML (September 2020) happened, as an actual date", _any),
    Explained(r"/status/results_first_(posted|submitted|submitted_qc)", "version",
              "results were submitted and posted in 2022, after the XML download", _absent_in("xml")),
    Explained(r"/sites", "version", "the older download lists fewer sites (recruitment was still growing)",
              _fewer_in_xml),
    Explained(r"/officials/\d+/name", "version", "the overall officials were changed", _any),
    Explained(r"/outcomes", "version", "the outcome measures were reworded and extended", _any),
    Explained(r"/references", "version",
              "ClinicalTrials.gov adds DERIVED references from PubMed once results are published",
              _absent_in("xml")),
]

_MISSING = object()


def _differences(json_value: Any, xml_value: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(json_value, dict) and isinstance(xml_value, dict):
        out = []
        for key in sorted(set(json_value) | set(xml_value)):
            out += _differences(json_value.get(key, _MISSING), xml_value.get(key, _MISSING), f"{path}/{key}")
        return out
    if isinstance(json_value, list) and isinstance(xml_value, list) and len(json_value) == len(xml_value):
        out = []
        for index, (a, b) in enumerate(zip(json_value, xml_value, strict=True)):
            out += _differences(a, b, f"{path}/{index}")
        return out
    return [] if json_value == xml_value else [(path, json_value, xml_value)]


def _canonical(study: Study) -> dict[str, Any]:
    document = study_to_dict(study)
    for key in ("source", "provenance", "unmapped", "problems"):
        document.pop(key, None)
    return document


@pytest.fixture(scope="module")
def both(resources: Resources) -> tuple[Study, Study]:
    _, json_outcomes = read(file_document(CTGOV / "v2" / "NCT02513394.json"), resources)
    _, xml_outcomes = read(file_document(CTGOV / "xml" / "NCT02513394.xml"), resources)
    assert json_outcomes[0].study is not None and xml_outcomes[0].study is not None
    return json_outcomes[0].study, xml_outcomes[0].study


def test_the_downloads_are_years_apart(both: tuple[Study, Study]) -> None:
    json_study, xml_study = both
    assert json_study.status.last_update_posted and xml_study.status.last_update_posted
    assert json_study.status.last_update_posted.value > xml_study.status.last_update_posted.value


def test_every_difference_is_explained(both: tuple[Study, Study]) -> None:
    json_study, xml_study = both
    differences = _differences(_canonical(json_study), _canonical(xml_study))
    used: set[str] = set()
    unexplained = []
    for path, json_value, xml_value in differences:
        match = next((e for e in EXPLAINED if re.fullmatch(e.pattern, path)), None)
        if match is None:
            unexplained.append((path, json_value, xml_value))
            continue
        assert match.check(json_value, xml_value), f"{path}: {match.why} -- but {json_value!r} vs {xml_value!r}"
        used.add(match.pattern)
    assert not unexplained, "unexplained differences: " + "; ".join(
        f"{p}: {str(j)[:60]!r} vs {str(x)[:60]!r}" for p, j, x in unexplained)
    stale = sorted({e.pattern for e in EXPLAINED} - used)
    assert not stale, f"explanations no longer needed: {stale}"


def test_the_shared_core_is_identical(both: tuple[Study, Study]) -> None:
    """What both formats state and did not change between downloads is equal, value for value."""
    json_study, xml_study = both
    assert json_study.registry_id() == xml_study.registry_id() == "NCT02513394"
    assert json_study.titles == xml_study.titles
    assert json_study.status.overall == xml_study.status.overall
    assert json_study.status.start is not None and xml_study.status.start is not None
    assert (json_study.status.start.value, json_study.status.start.precision) == (
        xml_study.status.start.value, xml_study.status.start.precision)
    assert json_study.design.model_dump(exclude={"number_of_groups"}) == xml_study.design.model_dump(
        exclude={"number_of_groups"})
    assert json_study.conditions == xml_study.conditions and json_study.keywords == xml_study.keywords
    assert [i.model_dump(exclude={"type", "domain"}) for i in json_study.identifiers] == [
        i.model_dump(exclude={"type", "domain"}) for i in xml_study.identifiers]
    assert json_study.interventions == xml_study.interventions
    assert json_study.eligibility.minimum_age == xml_study.eligibility.minimum_age
    assert json_study.eligibility.maximum_age is None and xml_study.eligibility.maximum_age is None
