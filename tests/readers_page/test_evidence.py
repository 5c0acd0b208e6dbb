"""The page reader claims a text of no known layout only with evidence of a study (issue 14): labelled registry
fields, a registry id, a criteria heading, in the amounts `evidence` in mappings/registry_page/layouts.yaml sets."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from converters.loading import SourceDocument
from converters.readers import choose_reader, discover_readers, unrecognised_input
from converters.readers.registry_page import READER
from converters.readers.registry_page.evidence import PageEvidence, page_evidence
from converters.readers.registry_page.page import Page
from converters.readers.registry_page.rules import EvidenceRules, PageRules
from converters.resources import Resources
from tests.conftest import ROOT, SEEDS


def _doc(text: str | bytes, name: str = "x.txt") -> SourceDocument:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SourceDocument(name, data, hashlib.sha256(data).hexdigest())


def _evidence(text: str, resources: Resources) -> PageEvidence:
    rules, _ = READER.rules(resources)
    return page_evidence(Page.from_text(text).lines, rules)


CLAIMED = {
    "a registry id and two labelled fields": "NCT ID: NCT01234567\nRecruitment Status: Recruiting\nPhase: Phase 2\n",
    "four labelled fields, no id": "Status | Recruiting |\nPhase | 2 |\nGender | All |\nStudy type: Interventional\n",
    "an ICTRP registry's id and a criteria heading": "Trial ChiCTR2000029308\nInclusion Criteria:\n1. Adults\n",
    "ICTRP's form of a jRCT id and a criteria heading": "JPRN-jRCT2071210009\nExclusion criteria\nPregnancy\n",
    "a Markdown page that opens with a link": "[Skip to content](#main)\nNCT ID: NCT01234567\nPhase: Phase 2\n"
                                              "Overall Status: Recruiting\n",
}
NOT_CLAIMED = {
    "prose": "Just some text.\n",
    "a README that names a trial": "# Notes\n\nWe follow NCT01234567 closely.\n",
    "two labels, nothing else": "Status: draft\nLast updated: 2024-01-01\n",
    "criteria words in a config file": "Inclusion: src/**\nExclusion: build/**\n",
    "a JSON array": "[1,2,3]\n",
    "a JSON object with labelled-looking values": '{"Status": "Recruiting", "Phase": "2", "id": "NCT01234567"}\n',
    "XML with a registry id": '<?xml version="1.0"?>\n<trial>\nNCT ID: NCT01234567\nPhase: 2\n</trial>\n',
}


@pytest.mark.parametrize("name", sorted(CLAIMED))
def test_text_with_evidence_of_a_study_is_claimed_as_a_guess(name: str) -> None:
    assert 0 < READER.sniff(_doc(CLAIMED[name])) < 0.5


@pytest.mark.parametrize("name", sorted(NOT_CLAIMED))
def test_text_without_evidence_is_not_claimed(name: str) -> None:
    assert READER.sniff(_doc(NOT_CLAIMED[name])) == 0
    assert choose_reader(_doc(NOT_CLAIMED[name]), discover_readers()) is None


def test_the_seed_pages_are_claimed_by_their_layouts() -> None:
    for page in sorted(SEEDS.glob("*.txt")):
        assert READER.sniff(_doc(page.read_bytes(), page.name)) == 0.9


def test_evidence_counts_each_field_once_and_finds_ids_as_words(resources: Resources) -> None:
    found = _evidence("Status: Recruiting\nRecruitment status: Recruiting\nGender: All\nSex: Female\n"
                      "See CTRI/2020/01/022735, and Exclusion Criteria: none\nExclusion criteria\n", resources)
    assert found == PageEvidence(labels=("Status", "Gender"), registry_id="CTRI/2020/01/022735",
                                 criteria_heading="Exclusion criteria")
    assert _evidence("PRENCT01234567X 2024-01-01 1234-5678\n", resources) == PageEvidence((), None, None)


def test_a_refused_text_is_told_what_it_lacks(resources: Resources) -> None:
    problem = unrecognised_input(_doc("Status: draft\nNotes: none\n", "NOTES.md"), None, resources)
    assert problem.code == "input-format-unknown" and problem.severity.value == "fatal"
    assert problem.message == (
        "No reader recognises this file (text that is not a study page: no known page layout, 1 labelled registry "
        "field (Status), no registry id, no criteria heading; a page needs 2 of these: 2 labelled registry fields, "
        "a registry id, a criteria heading; or 4 labelled fields).")


@pytest.mark.parametrize(("content", "what"), [
    (b"[1,2,3]", "a JSON array of 3 numbers"),
    (b'["a"]', "a JSON array of 1 string"),
    (b'[{"a": 1}, 2]', "a JSON array of 2 values of several kinds"),
    (b"{}", "an empty JSON object"),
    (b'{"name": "x", "version": "1.0"}', "a JSON object with keys name, version"),
    (b'{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}', "a JSON object with keys a, b, c, d, e, ..."),
    (b'{"name": "x",', "text that starts like JSON but does not parse (Expecting property name enclosed in "
                       "double quotes at line 1)"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- <not_this> -->\n<!DOCTYPE x [<!ENTITY e "v">]>\n<odm:ODM a="1"/>',
     "an XML document with root element <odm:ODM>"),
])
def test_json_and_xml_that_are_not_studies_say_what_they_are(resources: Resources, content: bytes,
                                                             what: str) -> None:
    doc = _doc(content, "f")
    assert choose_reader(doc, discover_readers()) is None
    expected = f"No reader recognises this file ({what}, not a study record)."
    assert unrecognised_input(doc, None, resources).message == expected


def test_the_evidence_thresholds_are_mapping_data(tmp_path: Path, resources: Resources) -> None:
    assert PageRules.load(resources).evidence == EvidenceRules(min_labels=2, labels_alone=4, min_kinds=2)
    for folder in ("mappings", "schemas"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    layouts = tmp_path / "mappings" / "registry_page" / "layouts.yaml"
    text = layouts.read_text(encoding="utf-8")
    assert text.count("labels_alone: 4") == 1
    layouts.write_text(text.replace("labels_alone: 4", "labels_alone: 2"), encoding="utf-8")
    edited = PageRules.load(Resources(root=tmp_path))
    two_labels = _evidence(NOT_CLAIMED["two labels, nothing else"], resources)
    assert not two_labels.is_study(PageRules.load(resources).evidence)
    assert two_labels.is_study(edited.evidence)
