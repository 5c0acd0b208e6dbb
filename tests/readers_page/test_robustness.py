"""Bad input never raises: arbitrary text and bytes, page-like shuffles of real lines, huge and hostile lines.

Every result is either a study (valid against the schema, provenance pointing at its values, every non-blank
line used or listed as unmapped) or the problems that stopped it; never an exception or a reader bug.
"""

from __future__ import annotations

import hashlib
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.model import Study, study_to_dict
from converters.readers.registry_page import READER, line_coverage, read_page
from converters.resources import Resources
from converters.targets.study.schema import StudySchemaValidator
from tests.conftest import ROOT, SEEDS
from tests.readers_page.helpers import mapped_lines_from_text, read_bytes, resolve

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEED_LINES = sorted({line for page in sorted(SEEDS.glob("*.txt"))
                     for line in page.read_text(encoding="utf-8").split("\n")})
TOKENS = ["1.", "2.", "1)", "(1)", "1.1.", "2.1.SS", "<!-- -->", "\\-", "- ", "|", "---|---|", ":", " = 6",
          "IL-2?IL", "Inclusion Criteria:", "Exclusion Criteria", "NCT01234567", "2024-05", "January 2026", ""]


@cache
def _resources() -> Resources:
    return Resources(root=ROOT)


@cache
def _validator() -> StudySchemaValidator:
    return StudySchemaValidator(_resources())


def _read(text: str) -> Study:
    rules, converter = READER.rules(_resources())
    return read_page(text, file="fuzz.txt", encoding="utf-8", sha256="0" * 64, rules=rules, converter=converter)


def _check_study(study: Study, text: str) -> None:
    document = study_to_dict(study)
    assert not _validator().validate(document), "a study the reader makes always fits the schema"
    for pointer in study.provenance:
        resolve(document, pointer)
    assert line_coverage(study) == mapped_lines_from_text(study, text)
    assert all(p.code != "reader-failed" for p in study.problems)


@SETTINGS
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text: str) -> None:
    _check_study(_read(text), text)


@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(SEED_LINES), st.sampled_from(TOKENS), st.text(max_size=60)),
                max_size=60).map("\n".join))
def test_page_like_text_never_raises(text: str) -> None:
    _check_study(_read(text), text)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(TOKENS), st.sampled_from(SEED_LINES[:200])), max_size=40)
       .map(lambda pairs: " ".join(f"{a} {b}" for a, b in pairs)))
def test_one_line_full_of_markers_never_raises(line: str) -> None:
    text = f"Eligibility Criteria\nInclusion Criteria\n{line}\nBasic Information\nStudy Design\nNCT ID: NCT01234567"
    _check_study(_read(text), text)


@SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_give_a_study_or_problems(data: bytes) -> None:
    study, problems = read_bytes(data, _resources())
    if study is None:
        assert problems and all(p.severity.value == "fatal" for p in problems)
        assert all(p.code != "reader-failed" for p in problems)
    else:
        assert not problems
        assert all(p.code != "reader-failed" for p in study.problems)


def test_one_megabyte_single_line() -> None:
    unit = "1. ANC ≥1.5×10^9/L; 2) score = 6 | IL-2?IL-6 (1) x 1.1. Heading: "
    line = unit * (1_000_000 // len(unit))
    for text in (line, "Eligibility Criteria\nInclusion Criteria\n" + line + "\nStudy Design\nBasic Information"
                 "\nNCT ID: NCT01234567\nStudy Groups"):
        study = _read(text)
        assert study.source.content_lines == len([x for x in text.split("\n") if x.strip()])
        assert line_coverage(study)[1] >= 1


def test_control_characters_and_odd_line_ends() -> None:
    text = ("NCT ID: NCT01234567\r\nBasic\x0bInformation\x0c\n\x1c\x1d\nStudy Design\r\n\x00x\u2028y\n"
            "Eligibility Criteria")
    _check_study(_read(text), text)
    study, problems = read_bytes(text.encode("utf-8"), _resources())
    assert study is None and problems[0].code == "input-binary"  # NUL bytes: not a text page


def test_many_lines_and_many_repeats() -> None:
    block = "\n".join(f"Criterion number {i} about lupus nephritis and its treatment with steroids" for i in range(40))
    text = ("Eligibility Criteria\nInclusion Criteria\n" + "\n".join([block] * 60)
            + "\nStudy Design\nBasic Information\nNCT ID: NCT01234567")
    study = _read(text)
    repeats = [p for p in study.problems if p.code == "page-duplicate-block"]
    assert repeats, "a block repeated back-to-back is found"
    _check_study(study, text)


def test_other_encodings_are_decoded_and_recorded() -> None:
    page = (SEEDS / "003_6601ee6bc5388ce6.txt").read_text(encoding="utf-8")
    study, _ = read_bytes(page.encode("utf-16"), _resources())
    assert study is not None and study.source.encoding not in ("utf-8", "utf_8")
    assert study.registry_id() == "NCT06710717"
    assert "input-not-utf8" in [p.code for p in study.problems]
    assert hashlib.sha256(page.encode("utf-16")).hexdigest() == study.source.sha256


def _labelled_pages() -> st.SearchStrategy[str]:
    """Pages of a known layout whose sections hold every label of the mapping, with arbitrary values."""
    rules, _ = READER.rules(_resources())
    parts = []
    for layout in rules.layouts:
        for section in layout.sections:
            labels = [label for rule in section.matcher.fields for label in rule.labels]
            heading = section.headings[0]
            value = st.one_of(st.text(max_size=30), st.sampled_from(SEED_LINES[:300]), st.sampled_from(TOKENS))
            line = st.one_of(
                st.builds(lambda lb, v: f"{lb}: {v}", st.sampled_from(labels), value) if labels else value,
                st.builds(lambda lb, v: f"{lb}\n{v}", st.sampled_from(labels), value) if labels else value,
                value,
            )
            parts.append(st.lists(line, max_size=6).map(lambda ls, h=heading: "\n".join([h, *ls])))
        signatures = "\n".join(sorted(layout.signatures))
        parts.append(st.just(signatures))
    return st.lists(st.sampled_from(parts).flatmap(lambda s: s), min_size=1, max_size=25).map("\n".join)


@SETTINGS
@given(_labelled_pages())
def test_every_label_with_any_value_never_raises(text: str) -> None:
    _check_study(_read(text), text)
