"""Every download form is recognised from content and read record by record, with the same studies."""

from __future__ import annotations

import json

import pytest

from converters.model import study_to_dict
from converters.readers.base import ReadOutcome
from converters.resources import Resources
from tests.readers_ctgov.helpers import (
    PAGE_FILE,
    V1_FILES,
    V2_FILES,
    XML_FILES,
    document,
    file_document,
    make_zip,
    read,
    refused,
    studies,
)

SAMPLE = V2_FILES[:6]


def _ids(outcomes: list[ReadOutcome]) -> list[str | None]:
    return [s.registry_id() for s in studies(outcomes)]


def _content(outcomes: list[ReadOutcome]) -> list[dict[str, object]]:
    """Study content without the source information (which names the form and record)."""
    out = []
    for study in studies(outcomes):
        data = study_to_dict(study)
        data.pop("source")
        data["problems"] = [(p.code, p.location.path) for p in study.problems]  # locations name the file
        out.append(data)
    return out


@pytest.fixture(scope="module")
def singles(resources: Resources) -> list[ReadOutcome]:
    outcomes: list[ReadOutcome] = []
    for path in SAMPLE:
        name, got = read(file_document(path), resources)
        assert name == "ctgov-v2-json"
        outcomes += got
    return outcomes


def test_single_study(singles: list[ReadOutcome]) -> None:
    assert _ids(singles) == [p.stem for p in SAMPLE]
    assert all(o.record is None for o in singles), "a single-record file names no record"
    assert {s.source.layout for s in studies(singles)} == {"single-study"}


def test_download_json_array(resources: Resources, singles: list[ReadOutcome]) -> None:
    array = "[" + ",\n".join(p.read_text(encoding="utf-8") for p in SAMPLE) + "]"
    name, outcomes = read(document(array.encode(), "ctg-studies.json"), resources)
    assert name == "ctgov-v2-json"
    assert _ids(outcomes) == [p.stem for p in SAMPLE]
    assert [s.source.record for s in studies(outcomes)] == [f"#{i}" for i in range(1, len(SAMPLE) + 1)]
    assert _content(outcomes) == _content(singles), "the same studies whatever the form"


def test_ndjson(resources: Resources, singles: list[ReadOutcome]) -> None:
    lines = "\n".join(json.dumps(json.loads(p.read_text(encoding="utf-8"))) for p in SAMPLE) + "\n"
    name, outcomes = read(document(lines.encode(), "studies.ndjson"), resources)
    assert name == "ctgov-v2-json"
    assert {s.source.layout for s in studies(outcomes)} == {"ndjson"}
    assert _content(outcomes) == _content(singles)


def test_api_page(resources: Resources) -> None:
    page = json.loads(PAGE_FILE.read_text(encoding="utf-8"))
    name, outcomes = read(file_document(PAGE_FILE), resources)
    assert name == "ctgov-v2-json"
    assert _ids(outcomes) == [s["protocolSection"]["identificationModule"]["nctId"] for s in page["studies"]]
    info = [p for o in outcomes if o.study is None for p in o.problems]
    assert [p.code for p in info] == ["ctgov-page-field"], "the next-page token is reported, not an error"
    assert not refused(outcomes)


def test_api_page_with_the_token_first_and_an_empty_page(resources: Resources) -> None:
    page = json.loads(PAGE_FILE.read_text(encoding="utf-8"))
    reordered = json.dumps({"totalCount": 10, "nextPageToken": "abc", "studies": page["studies"][:2]})
    _, outcomes = read(document(reordered.encode()), resources)
    assert len(studies(outcomes)) == 2
    _, empty = read(document(b'{"studies": []}'), resources)
    assert [p.code for o in empty for p in o.problems] == ["ctgov-no-studies"]


def test_zip_of_json_records(resources: Resources, singles: list[ReadOutcome]) -> None:
    archive = make_zip({f"ctg-studies/{p.name}": p.read_bytes() for p in SAMPLE})
    name, outcomes = read(document(archive, "ctg-studies.json.zip"), resources)
    assert name == "ctgov-v2-json"
    assert [s.source.record for s in studies(outcomes)] == [f"ctg-studies/{p.name}" for p in SAMPLE]
    assert _content(outcomes) == _content(singles)


def test_zip_of_xml_and_mixed_zip(resources: Resources) -> None:
    xml_only = make_zip({p.name: p.read_bytes() for p in XML_FILES[:3]})
    name, outcomes = read(document(xml_only, "search_result.zip"), resources)
    assert name == "ctgov-xml"
    assert _ids(outcomes) == [p.stem for p in XML_FILES[:3]]
    mixed = make_zip({SAMPLE[0].name: SAMPLE[0].read_bytes(), XML_FILES[0].name: XML_FILES[0].read_bytes(),
                      "README.txt": b"downloaded from ClinicalTrials.gov"})
    name, outcomes = read(document(mixed, "mixed.zip"), resources)
    assert name == "ctgov-v2-json"
    assert sorted(s.source.format for s in studies(outcomes)) == ["ctgov-v2-json", "ctgov-xml"]
    assert [p.code for o in outcomes if o.study is None for p in o.problems] == ["ctgov-zip-member-skipped"]


def test_legacy_xml_single(resources: Resources) -> None:
    name, outcomes = read(file_document(XML_FILES[0]), resources)
    assert name == "ctgov-xml" and _ids(outcomes) == [XML_FILES[0].stem]


@pytest.mark.parametrize("path", V1_FILES, ids=[p.name for p in V1_FILES])
def test_classic_api_is_refused_as_retired(resources: Resources, path: object) -> None:
    name, outcomes = read(file_document(path), resources)  # type: ignore[arg-type]
    assert name == "ctgov-v1-json"
    assert len(outcomes) == 1 and outcomes[0].study is None
    problem = outcomes[0].problems[0]
    assert problem.code == "ctgov-v1-retired" and problem.severity.value == "fatal"
    assert "retired" in problem.message and "api/v2" in problem.message


def test_classic_record_inside_a_v2_array_refuses_only_that_record(resources: Resources) -> None:
    classic = json.loads(V1_FILES[0].read_text(encoding="utf-8"))["FullStudiesResponse"]["FullStudies"][0]
    good = json.loads(SAMPLE[0].read_text(encoding="utf-8"))
    _, outcomes = read(document(json.dumps([good, classic, good]).encode()), resources)
    assert len(studies(outcomes)) == 2
    [bad] = refused(outcomes)
    assert bad.record == "#2" and bad.problems[0].code == "ctgov-v1-retired"
    assert bad.problems[0].severity.value == "error", "one record refused, not the whole file"


def test_bom_and_whitespace_do_not_matter(resources: Resources) -> None:
    data = b"\xef\xbb\xbf\n  " + SAMPLE[0].read_bytes()
    name, outcomes = read(document(data), resources)
    assert name == "ctgov-v2-json" and _ids(outcomes) == [SAMPLE[0].stem]
