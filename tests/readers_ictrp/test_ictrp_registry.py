"""The registry exchange XML reader over real trials: 10 ReBEC trials (fixtures/ictrp/rebec-ictrp-2011-10-14-cut.xml,
the first ten of ReBEC's 2011 export, byte for byte, which follow who_ictrp.dtd), the 2009 ISRCTN record in the older
variant (ICTRPTrials-2009-isrctn.xml) and ChiCTR's own XML (ChiCTR2000034346.xml). Expected values are computed
here from the XML with lxml and the documented cleaning, not with the reader's own functions."""

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
from converters.readers import ReaderConfig, choose_reader, discover_readers
from converters.readers.ictrp_registry import READER
from converters.resources import Resources
from tests.conftest import FIXTURES

ICTRP = FIXTURES / "ictrp"
REBEC = ICTRP / "rebec-ictrp-2011-10-14-cut.xml"
ISRCTN_2009 = ICTRP / "ICTRPTrials-2009-isrctn.xml"
CHICTR_OWN = ICTRP / "ChiCTR2000034346.xml"
runner = CliRunner()


def _read(path: Path, resources: Resources) -> list[tuple[Any, Study]]:
    data = path.read_bytes()
    outcomes = list(READER.read(SourceDocument(path.name, data, "0" * 64), ReaderConfig(resources=resources)))
    trials = list(etree.fromstring(data))
    assert len(outcomes) == len(trials)
    out = []
    for trial, outcome in zip(trials, outcomes, strict=True):
        assert outcome.study is not None, outcome.problems
        out.append((trial, outcome.study))
    return out


@pytest.fixture(scope="module")
def rebec(resources: Resources) -> list[tuple[Any, Study]]:
    return _read(REBEC, resources)


def _clean(text: str | None) -> str:
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")]
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines).strip()


def _texts(trial: Any, path: str) -> list[str]:
    return [_clean(e.text) for e in trial.iterfind(path) if _clean(e.text)]


def test_detected_from_content(resources: Resources) -> None:
    readers = discover_readers()
    for path in (REBEC, ISRCTN_2009, CHICTR_OWN):
        doc = SourceDocument(path.name, path.read_bytes(), "0" * 64)
        reader = choose_reader(doc, readers)
        assert reader is not None and reader.name == "ictrp-registry-xml", path.name


def test_every_trial_is_under_its_own_registry_and_follows_the_dtd(rebec: list[tuple[Any, Study]]) -> None:
    assert len(rebec) == 10
    for trial, study in rebec:
        trial_id = _clean(trial.findtext("main/trial_id"))
        assert re.fullmatch(r"RBR-[0-9a-z]{6}", trial_id)
        assert [(i.registry, i.value) for i in study.identifiers if i.kind.value == "registry"] == [
            ("rebec", trial_id)]
        assert ("utn", _clean(trial.findtext("main/utrn"))) in [(i.registry, i.value) for i in study.identifiers]
        assert not [p for p in study.problems if p.code == "ictrp-dtd-invalid"], trial_id


def test_each_mapped_element_matches_the_source(rebec: list[tuple[Any, Study]]) -> None:
    for trial, study in rebec:
        text = trial.findtext
        tid = _clean(text("main/trial_id"))
        assert study.titles.brief == (_clean(text("main/public_title")) or None), tid
        assert study.titles.official == (_clean(text("main/scientific_title")) or None), tid
        acronyms = [a for a in (_clean(text("main/acronym")), _clean(text("main/scientific_acronym"))) if a]
        assert study.titles.acronym == (acronyms[0] if acronyms else None), tid
        assert study.sponsors.lead is not None and study.sponsors.lead.name == _clean(text("main/primary_sponsor"))
        assert study.countries == list(dict.fromkeys(_texts(trial, "countries/country2"))), tid
        assert [o.measure for o in study.outcomes if o.kind.value == "primary"] == _texts(
            trial, "primary_outcome/prim_outcome"), tid
        assert [o.measure for o in study.outcomes if o.kind.value == "secondary"] == _texts(
            trial, "secondary_outcome/sec_outcome"), tid
        assert [o.name for o in study.sponsors.collaborators] == _texts(trial, "secondary_sponsor/sponsor_name")
        assert study.sponsors.support_sources == _texts(trial, "source_support/source_name"), tid
        day, month, year = _clean(text("main/date_registration")).split("/")
        assert study.status.first_submitted is not None
        assert study.status.first_submitted.value == f"{year}-{month}-{day}", tid
        start, kind = _clean(text("main/date_enrolment")), _clean(text("main/type_enrolment"))
        if start:
            assert study.status.start is not None and study.status.start.text == start, tid
            assert study.status.start.type == {"actual": "ACTUAL", "anticipated": "ESTIMATED"}[kind], tid
        secondary = [(i.value, i.domain) for i in study.identifiers if i.kind.value == "secondary" and i.domain]
        expected = [(_clean(s.findtext("sec_id")), _clean(s.findtext("issuing_authority")))
                    for s in trial.iterfind("secondary_ids/secondary_id") if _clean(s.findtext("sec_id"))]
        assert secondary == expected, tid
        names = [" ".join(p for p in (_clean(c.findtext(k)) for k in ("firstname", "middlename", "lastname")) if p)
                 for c in trial.iterfind("contacts/contact")]
        assert [c.name for c in study.central_contacts] == names, tid
        assert [c.role for c in study.central_contacts] == _texts(trial, "contacts/contact/type"), tid
        # the fields say which criteria they are: ReBEC writes no headings
        assert [s.category for s in study.eligibility.criteria] == ["inclusion", "exclusion"], tid
        words = " ".join((study.eligibility.criteria_text or "").split())
        for part in ("criteria/inclusion_criteria", "criteria/exclusion_criteria"):
            assert " ".join(_clean(text(part)).split()) in words, (tid, part)


def test_ages_and_sexes_in_rebecs_codes(rebec: list[tuple[Any, Study]]) -> None:
    for trial, study in rebec:
        for element, age in (("agemin", study.eligibility.minimum_age), ("agemax", study.eligibility.maximum_age)):
            written = _clean(trial.findtext(f"criteria/{element}"))
            m = re.fullmatch(r"(\d+)([YMWDH])", written)
            if element == "agemax" and written == "0Y":  # a maximum of 0 years bounds no one: no limit
                assert age is None
            elif m:  # value and unit code
                unit = {"Y": "YEARS", "M": "MONTHS", "W": "WEEKS", "D": "DAYS", "H": "HOURS"}[m[2]]
                assert age is not None and (age.value, age.unit, age.text) == (float(m[1]), unit, written)
            else:  # no unit: ReBEC's "no limit", which a value other than 0 contradicts (reported)
                assert age is None, (written, age)
                problems = [p.code for p in study.problems if p.location.path and p.location.path.endswith(element)]
                assert problems == ([] if written in ("", "0") else ["ictrp-bad-value"]), (written, problems)
        sex = _clean(trial.findtext("criteria/gender"))
        assert study.eligibility.sex == {"-": "ALL", "F": "FEMALE", "M": "MALE"}[sex]


def test_the_2009_variant_is_read_by_its_own_names(resources: Resources) -> None:
    [(_, study)] = _read(ISRCTN_2009, resources)
    assert [(i.registry, i.value, i.kind.value) for i in study.identifiers] == [
        ("isrctn", "ISRCTN86750102", "registry"), (None, "HTA 06/303/20", "secondary"),
        (None, "HTA 09/102/01", "secondary"), ("slctr", "SLCTR/2007/008", "secondary"),
        ("nct", "NCT00375258", "secondary")]
    assert study.titles.acronym == "CRASH2" and study.titles.brief is not None
    assert study.titles.brief.startswith("CRASH2 Trial, a large randomised")
    assert study.status.start is not None and (study.status.start.value, study.status.start.text) == (
        "2007-04-01", "Apr  1 2007")
    assert study.status.last_update_posted is not None and study.status.last_update_posted.value == "2009-11-03"
    assert study.status.overall_text == "Ongoing/Recruiting"
    assert study.countries == ["International"]
    assert study.sponsors.collaborators == []  # "N/A"
    assert [c.email for c in study.central_contacts] == ["ian.roberts@lshtm.ac.uk"]
    assert [o.kind.value for o in study.outcomes] == ["primary", "secondary"]
    assert any(p.code == "ictrp-dtd-invalid" for p in study.problems)  # the 2009 names are not DTD 1.0's


def test_chictrs_own_xml_is_read_as_the_newer_form(resources: Resources) -> None:
    [(_, study)] = _read(CHICTR_OWN, resources)
    assert [(i.registry, i.value) for i in study.identifiers] == [("chictr", "ChiCTR2000034346")]
    assert study.status.overall == "COMPLETED" and study.status.start is not None
    assert [(e.status, e.committee) for e in study.ethics_reviews] == [("Approved", "Jun rong Liu")]
    assert [c.role for c in study.central_contacts] == ["Scientific", "Public"]
    assert study.eligibility.sex == "ALL"
    assert study.provenance["/titles/brief"].pointer == "/trials/Triall[1]/main/public_title"


def test_coverage_lists_every_element_as_mapped_or_unmapped_with_a_reason(resources: Resources) -> None:
    report = coverage([REBEC, ISRCTN_2009, CHICTR_OWN], resources)
    assert (report.records["ictrp-registry-xml"].converted, report.records["ictrp-registry-xml"].refused) == (12, 0)
    rows = [r for r in report.rows if r.format == "ictrp-registry-xml"]
    assert len(rows) > 60
    for row in rows:
        assert "no rule in the field map uses it" not in row.reasons, row.path


def test_convert_writes_every_target(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(REBEC), str(ISRCTN_2009), str(CHICTR_OWN), "--out", str(tmp_path),
                                 "--to", "fhir-r4,fhir-r5,sdtm"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["totals"]["studies_written"] == 12


TRIAL = "<trial><main><trial_id>RBR-3vmkt2</trial_id><public_title>T</public_title></main></trial>"


def test_a_trial_breaking_the_dtd_is_read_with_warnings(resources: Resources) -> None:
    [outcome] = READER.read(SourceDocument("x.xml", f"<trials>{TRIAL}</trials>".encode(), "0" * 64),
                            ReaderConfig(resources=resources))
    assert outcome.study is not None and outcome.study.titles.brief == "T"
    codes = [p.code for p in outcome.study.problems]
    assert codes and set(codes) == {"ictrp-dtd-invalid"}


@pytest.mark.parametrize(("content", "codes"), [
    (f'<!DOCTYPE trials SYSTEM "who_ictrp.dtd"><trials>{TRIAL}</trials>', None),  # names the DTD: accepted
    (f'<!DOCTYPE trials [<!ENTITY x "y">]><trials>{TRIAL}</trials>', ["ictrp-xml-dtd"]),
    ("<trials><trial>", ["ictrp-xml-malformed"]),
    ("<trials>\n</trials>", ["ictrp-no-trials"]),
    (f"<other>{TRIAL}</other>", ["ictrp-not-export"]),
])
def test_documents_refused_or_accepted(resources: Resources, content: str, codes: list[str] | None) -> None:
    outcomes = list(READER.read(SourceDocument("x.xml", content.encode(), "0" * 64),
                                ReaderConfig(resources=resources)))
    if codes is None:
        assert [o.study.titles.brief for o in outcomes if o.study] == ["T"]
    else:
        assert [p.code for o in outcomes for p in o.problems] == codes and all(o.study is None for o in outcomes)


def test_a_truncated_file_keeps_the_trials_before_the_damage(resources: Resources) -> None:
    outcomes = list(READER.read(SourceDocument("x.xml", f"<trials>{TRIAL}<trial><main>".encode(), "0" * 64),
                                ReaderConfig(resources=resources)))
    assert [o.study.titles.brief for o in outcomes if o.study] == ["T"]
    assert [(p.code, p.severity.value) for o in outcomes for p in o.problems] == [("ictrp-xml-malformed", "error")]
