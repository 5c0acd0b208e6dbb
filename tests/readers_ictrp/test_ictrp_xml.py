"""The ICTRP search-portal XML reader over real trials (fixtures/ictrp/*-cut.xml, cut byte for byte from the
exports in shared/data/ictrp/xml): identity, every mapped field against the source, coverage, outputs, bad input.

Expected values are computed here from the XML with lxml and the cleaning rule the map documents (HTML line
breaks become line breaks, padding goes, ';' separates list items), not with the reader's own functions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from typer.testing import CliRunner

from converters.cli import app
from converters.coverage import coverage
from converters.loading import SourceDocument
from converters.model import Study
from converters.readers import ReaderConfig
from converters.readers.ictrp_xml import READER
from converters.resources import Resources
from tests.conftest import FIXTURES
from tests.readers_ictrp.expected import cleaned as _clean
from tests.readers_ictrp.expected import items as _items

ICTRP = FIXTURES / "ictrp"
EXPORTS = [ICTRP / "ictrp-export-2024-09-06-cut.xml", ICTRP / "ictrp-export-2020-03-18-cut.xml"]
runner = CliRunner()

# TrialID -> (registry key, the registry's own id): one per registry in the fixtures
REGISTRY_IDS = {
    "NCT06360289": ("nct", "NCT06360289"), "CTIS2023-507385-11-00": ("euct", "2023-507385-11-00"),
    "DRKS00032447": ("drks", "DRKS00032447"), "ChiCTR2100050713": ("chictr", "ChiCTR2100050713"),
    "JPRN-jRCTs031210288": ("jrct", "jRCTs031210288"), "EUCTR2021-000037-14-ES": ("eudract", "2021-000037-14"),
    "JPRN-jRCT2071210009": ("jrct", "jRCT2071210009"), "NL-OMON55279": ("nl_omon", "NL-OMON55279"),
    "JPRN-UMIN000027045": ("umin", "UMIN000027045"), "KCT0000379": ("kct", "KCT0000379"),
    "NCT04252885": ("nct", "NCT04252885"), "ChiCTR2000029308": ("chictr", "ChiCTR2000029308"),
    "NCT04270383": ("nct", "NCT04270383"), "ChiCTR2000029589": ("chictr", "ChiCTR2000029589"),
    "NCT00173563": ("nct", "NCT00173563"),
}


def _read(path: Path, resources: Resources) -> list[tuple[Any, Study]]:
    data = path.read_bytes()
    doc = SourceDocument(path.name, data, "0" * 64)
    outcomes = list(READER.read(doc, ReaderConfig(resources=resources)))
    trials = list(etree.fromstring(data))
    assert len(outcomes) == len(trials)
    pairs = []
    for trial, outcome in zip(trials, outcomes, strict=True):
        assert outcome.study is not None, outcome.problems
        pairs.append((trial, outcome.study))
    return pairs


@pytest.fixture(scope="module")
def trials(resources: Resources) -> list[tuple[Any, Study]]:
    return [pair for path in EXPORTS for pair in _read(path, resources)]



def test_every_trial_converts_with_its_trial_id_under_its_own_registry(trials: list[tuple[Any, Study]]) -> None:
    assert len(trials) == len(REGISTRY_IDS)
    for trial, study in trials:
        trial_id = _clean(trial.findtext("TrialID"))
        registry = [(i.registry, i.value) for i in study.identifiers if i.kind.value == "registry"]
        assert registry == [REGISTRY_IDS[trial_id]], trial_id
        if registry[0][1] != trial_id:  # ICTRP's own form is kept too, under ICTRP's system
            assert ("ictrp", trial_id) in [(i.registry, i.value) for i in study.identifiers]


def test_each_mapped_field_matches_the_source(trials: list[tuple[Any, Study]]) -> None:
    for trial, study in trials:
        text = trial.findtext
        tid = text("TrialID")
        assert study.titles.brief == (_clean(text("Public_title")) or None), tid
        assert study.titles.official == (_clean(text("Scientific_title")) or None), tid
        assert study.titles.acronym == (_clean(text("Acronym")) or None), tid
        assert study.sponsors.lead is not None and study.sponsors.lead.name == _clean(text("Primary_sponsor"))
        assert [o.name for o in study.sponsors.collaborators] == _items(text("Secondary_Sponsor"))
        assert study.sponsors.support_sources == _items(text("Source_Support"))
        assert study.countries == _items(text("Countries")), tid
        assert study.conditions == _items(text("Condition")), tid
        _check_interventions(study, REGISTRY_IDS[_clean(tid)][0], _items(text("Intervention")))
        outcomes = [(o.kind.value, o.measure) for o in study.outcomes]
        assert outcomes == [("primary", m) for m in _items(text("Primary_outcome"))] + [
            ("secondary", m) for m in _items(text("Secondary_outcome"))], tid
        # the registration date: Date_registration (day first) must agree with Date_registration3 (YYYYMMDD)
        compact = _clean(text("Date_registration3"))
        assert study.status.first_submitted is not None
        assert study.status.first_submitted.value == f"{compact[:4]}-{compact[4:6]}-{compact[6:]}", tid
        written = _clean(text("Date_registration"))  # kept as written unless it is already ISO 8601
        assert study.status.first_submitted.text == (None if re.fullmatch(r"\d{4}-\d\d-\d\d", written) else written)
        status = _clean(text("Recruitment_Status"))
        if status.casefold() == "recruiting":
            assert study.status.overall == "RECRUITING"
        elif status:
            assert (study.status.overall, study.status.overall_text) == (None, status), tid
        # every word of both fields, in order (the heading's first criterion moves to a line of its own)
        words = " ".join((study.eligibility.criteria_text or "").split())
        for line in _clean(text("Inclusion_Criteria")).split("\n") + _clean(text("Exclusion_Criteria")).split("\n"):
            assert " ".join(line.split()) in words, (tid, line)
        emails = [c.email for c in study.central_contacts if c.email]
        assert emails == [e for e in dict.fromkeys(_clean(text("Contact_Email")).split(";")) if e.strip()] or \
            not study.central_contacts, tid
        statuses = _clean(text("Ethics_review_status")).split(";")
        dates = _clean(text("Ethics_review_approval_date")).split(";")
        expected = [(st or None, d or None) for st, d in zip(statuses, dates, strict=False) if st or d]
        got = [(e.status, e.approval_date.text if e.approval_date else None) for e in study.ethics_reviews]
        assert got == list(dict.fromkeys(expected)), tid
        links = [link.url for link in study.links]
        assert _clean(text("web_address")) in links, tid


def _check_interventions(study: Study, registry: str, items: list[str]) -> None:
    """ClinicalTrials.gov rows write `Type: name`; ChiCTR `group:what it receives`; the others a name."""
    pairs = [tuple(part.strip() for part in re.sub(r"[ \t]{2,}", " ", item).split(":", 1)) for item in items]
    got = [(i.type, i.name, i.arm_group_labels) for i in study.interventions]
    if registry == "nct":
        assert got == [(head.upper().replace(" ", "_"), rest, []) for head, rest in pairs]
    elif registry == "chictr":
        assert [a.label for a in study.arms] == list(dict.fromkeys(head for head, _ in pairs))
        given = [(head, rest) for head, rest in pairs if rest.rstrip(".").casefold() not in {"no", "none", "n/a", ""}]
        assert got == [(None, rest, [head]) for head, rest in given]
    else:
        assert got == [(None, item, []) for item in items] and not study.arms


@pytest.mark.parametrize(("trial_id", "field", "expected"), [
    ("NCT06360289", "minimum_age", None), ("ChiCTR2100050713", "minimum_age", (18.0, "YEARS", "18")),
    ("JPRN-jRCT2071210009", "maximum_age", (82.0, "YEARS", "<= 82age old")),
    ("KCT0000379", "minimum_age", (60.0, "YEARS", "60(Year)")),
    ("JPRN-UMIN000027045", "minimum_age", (16.0, "YEARS", "16years-old")),
    ("DRKS00032447", "maximum_age", (18.0, "YEARS", "18 Years")),
])
def test_ages_as_the_registries_write_them(trials: list[tuple[Any, Study]], trial_id: str, field: str,
                                           expected: tuple[float, str, str] | None) -> None:
    study = next(s for t, s in trials if _clean(t.findtext("TrialID")) == trial_id)
    age = getattr(study.eligibility, field)
    assert (None if age is None else (age.value, age.unit, age.text)) == expected


def test_values_read_per_registry(trials: list[tuple[Any, Study]]) -> None:
    by_id = {_clean(t.findtext("TrialID")): s for t, s in trials}
    assert {s.source.encoding for s in by_id.values()} == {"utf-8"}  # as the declaration names it
    assert by_id["EUCTR2021-000037-14-ES"].design.phases == ["PHASE3"]  # EU CTR's phase flags
    assert by_id["EUCTR2021-000037-14-ES"].eligibility.sex == "ALL"  # "<br>Female: yes<br>Male: yes<br>"
    assert by_id["KCT0000379"].design.phases == ["PHASE1", "PHASE2"]
    assert by_id["ChiCTR2100050713"].design.phases == []  # ChiCTR's "0" (an observational study) is not phase 0
    assert by_id["ChiCTR2100050713"].design.enrollment is None  # per-group sizes are not summed
    assert by_id["NCT06360289"].design.enrollment is not None and by_id["NCT06360289"].design.enrollment.count == 500
    assert by_id["NCT06360289"].status.start is not None and by_id["NCT06360289"].status.start.value == "2024-04-25"
    assert by_id["JPRN-jRCT2071210009"].countries[:3] == ["Brazil", "Japan", "Cyprus"]
    assert len(by_id["JPRN-jRCT2071210009"].countries) == len(set(by_id["JPRN-jRCT2071210009"].countries))
    chictr = by_id["ChiCTR2100050713"].eligibility.criteria
    assert [(s.category, s.heading, len(s.items)) for s in chictr] == [("inclusion", "Inclusion criteria:", 2),
                                                                       ("exclusion", "Exclusion criteria:", 13)]
    assert by_id["NCT04252885"].central_contacts[0].name == "Yueping Li, MD, Master"
    assert len(by_id["NCT04252885"].central_contacts) == 2


def test_what_is_not_used_is_listed_with_its_reason(trials: list[tuple[Any, Study]]) -> None:
    for trial, study in trials:
        reasons = {u.pointer.rsplit("/", 1)[-1]: u.reason for u in study.unmapped}
        assert "Internal_Number" not in [c.tag for c in trial] or "internal record number" in reasons["Internal_Number"]
        for entry in study.unmapped:
            assert entry.reason and entry.reason != "no rule in the field map uses it", entry
            assert entry.pointer is not None and entry.pointer.startswith("/Trials_downloaded_from_ICTRP/Trial[")


def test_provenance_points_at_the_source_element(trials: list[tuple[Any, Study]]) -> None:
    study = trials[0][1]
    assert study.provenance["/titles/brief"].pointer == "/Trials_downloaded_from_ICTRP/Trial[1]/Public_title"
    assert study.provenance["/countries/0"].pointer == "/Trials_downloaded_from_ICTRP/Trial[1]/Countries"


def test_coverage_lists_every_element_as_mapped_or_unmapped_with_a_reason(resources: Resources) -> None:
    report = coverage(EXPORTS, resources)
    assert report.records["ictrp-xml"].converted == len(REGISTRY_IDS)
    rows = {r.path: r for r in report.rows if r.format == "ictrp-xml"}
    paths = {f"/Trials_downloaded_from_ICTRP/Trial/{child.tag}{attribute}"
             for path in EXPORTS for trial in etree.parse(str(path)).getroot() for child in trial
             for attribute in ["", *(f"/@{name}" for name in child.attrib)]}
    assert set(rows) == paths
    for path, row in rows.items():
        unmapped = set(row.reasons) - {"empty"}
        assert row.mapped_values or unmapped, path
        assert "no rule in the field map uses it" not in row.reasons, path


def test_a_clinicaltrials_gov_trial_has_the_same_identity_as_from_the_api(tmp_path: Path) -> None:
    args = ["--to", "fhir-r4", "--bundle", "transaction"]
    assert runner.invoke(app, ["convert", str(EXPORTS[0]), "--out", str(tmp_path / "i"), *args]).exit_code == 0
    api = ICTRP / "NCT06360289-constructed-api-v2.json"
    assert runner.invoke(app, ["convert", str(api), "--out", str(tmp_path / "a"), *args]).exit_code == 0

    def study_entry(folder: Path) -> dict[str, Any]:
        bundle = json.loads((folder / "NCT06360289" / "fhir-r4" / "bundle.json").read_text())
        entry: dict[str, Any] = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "ResearchStudy")
        return entry

    ictrp, from_api = study_entry(tmp_path / "i"), study_entry(tmp_path / "a")
    assert ictrp["request"] == from_api["request"]
    assert ictrp["resource"]["id"] == from_api["resource"]["id"]
    assert ictrp["resource"]["identifier"][0] == from_api["resource"]["identifier"][0]


def test_convert_writes_every_target_for_every_trial(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", *map(str, EXPORTS), "--out", str(tmp_path), "--to",
                                 "fhir-r4,fhir-r5,sdtm"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["totals"]["studies_written"] == len(REGISTRY_IDS)
    assert all(p["severity"] in ("warning", "info") for f in report["files"] for p in f["problems"])
    folders = [p for p in tmp_path.iterdir() if (p / "study.json").exists()]
    assert len(folders) == len(REGISTRY_IDS)
    for folder in folders:
        assert (folder / "fhir-r4" / "bundle.json").exists() and (folder / "sdtm").is_dir()


@pytest.mark.parametrize(("content", "code"), [
    (b"<?xml version='1.0'?><Trials_downloaded_from_ICTRP><Trial><TrialID>NCT1</Trial>", "ictrp-xml-malformed"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><Trials_downloaded_from_ICTRP/>", "ictrp-xml-dtd"),
    (b"<?xml version='1.0'?><Trials_downloaded_from_ICTRP>\n</Trials_downloaded_from_ICTRP>", "ictrp-no-trials"),
    (b"<?xml version='1.0'?><other><Trials_downloaded_from_ICTRP/></other>", "ictrp-not-export"),
])
def test_bad_exports_get_one_problem_and_no_traceback(resources: Resources, content: bytes, code: str) -> None:
    outcomes = list(READER.read(SourceDocument("bad.xml", content, "0" * 64), ReaderConfig(resources=resources)))
    assert [p.code for o in outcomes for p in o.problems] == [code]
    assert all(o.study is None for o in outcomes)


def test_a_trial_without_trial_id_is_converted_with_a_warning(resources: Resources) -> None:
    content = (b"<Trials_downloaded_from_ICTRP><Trial><Public_title>A title</Public_title></Trial>"
               b"</Trials_downloaded_from_ICTRP>")
    [outcome] = READER.read(SourceDocument("x.xml", content, "0" * 64), ReaderConfig(resources=resources))
    assert outcome.study is not None and outcome.study.titles.brief == "A title"
    assert [p.code for p in outcome.study.problems] == ["ictrp-no-trial-id"]


def test_a_truncated_export_keeps_the_trials_before_the_damage(resources: Resources) -> None:
    content = (b"<Trials_downloaded_from_ICTRP><Trial><TrialID>NCT06360289</TrialID></Trial>"
               b"<Trial><TrialID>NCT0")
    outcomes = list(READER.read(SourceDocument("x.xml", content, "0" * 64), ReaderConfig(resources=resources)))
    assert [o.study.registry_id() for o in outcomes if o.study] == ["NCT06360289"]
    assert [(p.code, p.severity.value) for o in outcomes for p in o.problems] == [("ictrp-xml-malformed", "error")]


def test_an_element_beside_the_trials_is_said_not_read(resources: Resources, tmp_path: Path) -> None:
    content = (b"<Trials_downloaded_from_ICTRP>\n<Trial><TrialID>NCT06360289</TrialID></Trial>\n"
               b"<Disclaimer>Export terms</Disclaimer>\n</Trials_downloaded_from_ICTRP>")
    outcomes = list(READER.read(SourceDocument("x.xml", content, "0" * 64), ReaderConfig(resources=resources)))
    assert [o.study.registry_id() for o in outcomes if o.study] == ["NCT06360289"]
    [problem] = [p for o in outcomes for p in o.problems]
    assert (problem.code, problem.severity.value, problem.location.line) == ("ictrp-not-a-trial", "warning", 3)
    assert "<Disclaimer>" in problem.message
    (tmp_path / "export.xml").write_bytes(content)
    report = coverage([tmp_path / "export.xml"], resources)
    assert (report.records["ictrp-xml"].converted, report.records["ictrp-xml"].refused) == (1, 0)
    assert [p.code for p in report.problems] == ["ictrp-not-a-trial"]

