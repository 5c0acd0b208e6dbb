"""Bad and hostile input: each case gives a clear one-line problem naming the record and where; good records in
the same file still convert; nothing is fetched from the network and nothing is written anywhere."""

from __future__ import annotations

import io
import json
import socket
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from converters.problems import Problem
from converters.readers.base import ReadOutcome
from converters.resources import Resources
from tests.readers_ctgov.helpers import V2_FILES, XML_FILES, document, make_zip, read, refused, studies

GOOD = json.loads(V2_FILES[0].read_text(encoding="utf-8"))
GOOD_ID = GOOD["protocolSection"]["identificationModule"]["nctId"]
GOOD_XML = XML_FILES[0].read_bytes()


@pytest.fixture(autouse=True)
def no_network_no_writes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Every test here runs with sockets disabled and in an empty working folder that must stay empty."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a reader tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.chdir(tmp_path)
    yield
    assert list(tmp_path.iterdir()) == [], "a reader wrote a file"


def _problems(outcomes: list[ReadOutcome]) -> list[Problem]:
    out: list[Problem] = []
    for outcome in outcomes:
        out += outcome.problems
        if outcome.study is not None:
            out += outcome.study.problems
    return out


def _one(outcomes: list[ReadOutcome], code: str) -> Problem:
    found = [p for p in _problems(outcomes) if p.code == code]
    assert found, f"no {code} among {[p.code for p in _problems(outcomes)]}"
    problem = found[0]
    line = problem.one_line()
    assert "\n" not in line and problem.message, line
    return problem


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- JSON ------------------------------------------------------------------------------------------------


def test_malformed_json_single_file(resources: Resources) -> None:
    text = json.dumps(GOOD, indent=2)
    broken = text[: len(text) // 2]  # cut in the middle
    name, outcomes = read(document(broken.encode(), "cut.json"), resources)
    assert name == "ctgov-v2-json" and not studies(outcomes)
    problem = _one(outcomes, "ctgov-json-malformed")
    assert problem.severity.value == "fatal" and problem.location.line and problem.location.file == "cut.json"


def test_malformed_record_in_an_array_keeps_the_records_before(resources: Resources) -> None:
    data = b"[" + _json(GOOD) + b",\n{\"protocolSection\": {\"identificationModule\": }}, " + _json(GOOD) + b"]"
    _, outcomes = read(document(data), resources)
    assert [s.registry_id() for s in studies(outcomes)] == [GOOD_ID], "records before the break convert"
    problem = _one(outcomes, "ctgov-json-malformed")
    assert problem.location.record == "#2" and problem.location.line == 2 and problem.severity.value == "error"


def test_ndjson_bad_line_only_refuses_that_line(resources: Resources) -> None:
    lines = [json.dumps(GOOD), '{"protocolSection": [1, 2', json.dumps(GOOD)]
    _, outcomes = read(document("\n".join(lines).encode()), resources)
    assert len(studies(outcomes)) == 2
    problem = _one(outcomes, "ctgov-json-malformed")
    assert problem.location.record == "#2" and problem.location.line == 2


@pytest.mark.parametrize("where", ["single", "array", "ndjson"])
def test_json_nested_100000_levels(resources: Resources, where: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    if where == "single":
        data = ('{"protocolSection": ' + deep + "}").encode()
    elif where == "array":
        data = b"[" + _json(GOOD) + b", " + deep.encode() + b", " + _json(GOOD) + b"]"
    else:
        data = (json.dumps(GOOD) + "\n" + deep + "\n" + json.dumps(GOOD) + "\n").encode()
    name, outcomes = read(document(data), resources)
    assert name == "ctgov-v2-json"
    problem = _one(outcomes, "ctgov-json-too-deep")
    if where == "single":
        assert not studies(outcomes) and problem.severity.value == "fatal"
    else:
        assert len(studies(outcomes)) == 2, "the records around it still convert"
        assert problem.location.record == "#2"


@pytest.mark.parametrize("where", ["single", "array"])
def test_number_with_100000_digits(resources: Resources, where: str) -> None:
    record = json.dumps(GOOD).replace('"protocolSection"', '"n": ' + "7" * 100_000 + ', "protocolSection"', 1)
    data = record if where == "single" else "[" + json.dumps(GOOD) + "," + record + "," + json.dumps(GOOD) + "]"
    _, outcomes = read(document(data.encode()), resources)
    problem = _one(outcomes, "ctgov-json-number-too-long")
    assert "4300" in problem.message
    assert len(studies(outcomes)) == (0 if where == "single" else 2)


def test_value_failing_the_schema_is_left_out_and_the_record_read(resources: Resources) -> None:
    record = json.loads(json.dumps(GOOD))
    record["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "lots"
    record["protocolSection"]["identificationModule"]["briefTitle"] = 42
    _, outcomes = read(document(_json(record)), resources)
    [study] = studies(outcomes)
    warnings = [p for p in study.problems if p.code == "ctgov-schema-invalid"]
    assert {p.location.path for p in warnings} == {"/protocolSection/designModule/enrollmentInfo/count",
                                                   "/protocolSection/identificationModule/briefTitle"}
    assert all(p.location.record == GOOD_ID for p in warnings)
    assert study.titles.brief is None and study.design.enrollment is None, "nothing guessed"
    reasons = {u.pointer: u.reason or "" for u in study.unmapped}
    assert reasons["/protocolSection/identificationModule/briefTitle"].startswith("fails the source schema")


def test_unknown_enum_value_is_a_problem_with_its_path(resources: Resources) -> None:
    record = json.loads(json.dumps(GOOD))
    record["protocolSection"]["statusModule"]["overallStatus"] = "ALMOST_DONE"
    record["protocolSection"]["designModule"]["phases"] = ["PHASE1", "PHASE9"]
    _, outcomes = read(document(_json(record)), resources)
    [study] = studies(outcomes)
    unknown = {p.location.path: p for p in study.problems if p.code == "ctgov-unknown-value"}
    assert set(unknown) == {"/protocolSection/statusModule/overallStatus", "/protocolSection/designModule/phases/1"}
    assert study.status.overall is None and study.status.overall_text == "ALMOST_DONE", "kept as written"
    assert study.design.phases == ["PHASE1"], "the known phase is kept, the unknown one not guessed"
    assert any(u.pointer == "/protocolSection/designModule/phases/1" for u in study.unmapped)


def test_structural_schema_failure_refuses_the_record(resources: Resources) -> None:
    bad = {"protocolSection": {"identificationModule": "NCT00000000"}}
    _, outcomes = read(document(_json([GOOD, bad, GOOD])), resources)
    assert len(studies(outcomes)) == 2
    problem = _one(outcomes, "ctgov-schema-refused")
    assert problem.location.record == "#2" and problem.location.path == "/protocolSection/identificationModule"


def test_mixed_good_and_bad_records_in_one_file(resources: Resources) -> None:
    classic = {"Study": {"ProtocolSection": {"IdentificationModule": {"NCTId": "NCT04780763"}}}}
    records = [GOOD, 42, {"hello": "world"}, classic, {"protocolSection": []}, GOOD]
    _, outcomes = read(document(_json(records)), resources)
    assert len(studies(outcomes)) == 2
    codes = {o.record: o.problems[0].code for o in refused(outcomes)}
    assert codes == {"#2": "ctgov-not-a-study", "#3": "ctgov-not-a-study", "#4": "ctgov-v1-retired",
                     "#5": "ctgov-schema-refused"}


def test_empty_file(resources: Resources) -> None:
    _, outcomes = read(document(b"   \n", "empty.json"), resources)
    assert not studies(outcomes)


def test_record_limit(resources: Resources) -> None:
    _, outcomes = read(document(_json([GOOD] * 5)), resources, max_records=2)
    assert len(studies(outcomes)) == 2
    _one(outcomes, "ctgov-too-many-records")


# --- XML -------------------------------------------------------------------------------------------------

BODY = b"<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info><brief_title>&e;</brief_title></clinical_study>"


@pytest.mark.parametrize("dtd", [
    b'<!DOCTYPE clinical_study [<!ENTITY e "internal">]>',
    b'<!DOCTYPE clinical_study [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE clinical_study [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>',
    b'<!DOCTYPE clinical_study SYSTEM "http://127.0.0.1:9/public.dtd">',
    b'<!DOCTYPE clinical_study [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
], ids=["internal-entity", "xxe-file", "xxe-http", "external-dtd", "parameter-entity"])
def test_xml_with_a_dtd_is_refused(resources: Resources, dtd: bytes) -> None:
    data = b'<?xml version="1.0"?>\n' + dtd + b"\n" + BODY
    name, outcomes = read(document(data, "evil.xml"), resources)
    assert name == "ctgov-xml" and not studies(outcomes)
    problem = _one(outcomes, "ctgov-xml-dtd")
    assert problem.severity.value == "fatal" and problem.location.file == "evil.xml"
    assert "root:" not in repr(outcomes), "no file content leaked"


def test_billion_laughs_is_refused_quickly(resources: Resources) -> None:
    entities = [b'<!ENTITY lol0 "lol">'] + [
        b"<!ENTITY lol%d \"%s\">" % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, 10)]
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE clinical_study [' + b"\n".join(entities) + b"]>\n"
            + BODY.replace(b"&e;", b"&lol9;"))
    _, outcomes = read(document(data, "lol.xml"), resources)
    assert not studies(outcomes)
    _one(outcomes, "ctgov-xml-dtd")


def test_dtd_hidden_inside_a_zip_member(resources: Resources) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE clinical_study [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + BODY
    archive = make_zip({"NCT1.xml": GOOD_XML, "NCT2.xml": evil})
    _, outcomes = read(document(archive), resources)
    assert len(studies(outcomes)) == 1
    problem = _one(outcomes, "ctgov-xml-dtd")
    assert problem.location.record == "NCT2.xml" and problem.severity.value == "error"


def test_malformed_xml_and_wrong_root(resources: Resources) -> None:
    _, outcomes = read(document(GOOD_XML[: len(GOOD_XML) // 2], "cut.xml"), resources)
    assert _one(outcomes, "ctgov-xml-malformed").location.line
    _, outcomes = read(document(b"<?xml version='1.0'?><clinical_studies><clinical_study/></clinical_studies>"),
                       resources)
    _one(outcomes, "ctgov-xml-not-study")


def test_xml_unknown_display_value(resources: Resources) -> None:
    data = GOOD_XML.replace(b"<overall_status>Recruiting</overall_status>",
                            b"<overall_status>Sort of recruiting</overall_status>")
    assert data != GOOD_XML
    _, outcomes = read(document(data), resources)
    [study] = studies(outcomes)
    problem = _one(outcomes, "ctgov-unknown-value")
    assert problem.location.path == "/clinical_study/overall_status"
    assert study.status.overall is None and study.status.overall_text == "Sort of recruiting"
    assert any(p.code == "ctgov-xml-schema-invalid" and p.location.line for p in study.problems)


def test_xml_text_beside_child_elements_is_listed_not_dropped(resources: Resources) -> None:
    data = (b"<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info><brief_title>T</brief_title>"
            b"<brief_summary>Stray words<textblock>Summary</textblock></brief_summary></clinical_study>")
    _, outcomes = read(document(data, "mixed.xml"), resources)
    [study] = studies(outcomes)
    assert study.brief_summary == "Summary"
    assert [(u.pointer, u.text) for u in study.unmapped] == [("/clinical_study/brief_summary/text()", "Stray words")]
    assert any(p.code == "ctgov-xml-schema-invalid" for p in study.problems)


# --- ZIP -------------------------------------------------------------------------------------------------


def test_zip_bomb_over_the_expanded_limit(resources: Resources) -> None:
    archive = make_zip({"a.json": _json(GOOD), "bomb.json": b" " * (3 * 1024 * 1024), "b.json": _json(GOOD)})
    assert len(archive) < 100_000, "a small archive"
    _, outcomes = read(document(archive), resources, max_expanded_bytes=2 * 1024 * 1024)
    assert len(studies(outcomes)) == 2
    problem = _one(outcomes, "ctgov-zip-too-large")
    assert problem.location.record == "bomb.json"


def test_zip_bomb_by_compression_ratio(resources: Resources) -> None:
    archive = make_zip({"bomb.json": b"0" * (20 * 1024 * 1024), "a.json": _json(GOOD)})
    _, outcomes = read(document(archive), resources)
    assert len(studies(outcomes)) == 1
    assert "compression ratio" in _one(outcomes, "ctgov-zip-too-large").message


def test_zip_member_larger_than_its_header_says(resources: Resources) -> None:
    archive = bytearray(make_zip({"liar.json": _json(GOOD) * 3, "a.json": _json(GOOD)}))
    central = archive.index(b"PK\x01\x02")  # first central directory entry: liar.json
    struct.pack_into("<I", archive, central + 24, 100)  # declared uncompressed size: 100 bytes
    local = 0
    struct.pack_into("<I", archive, local + 22, 100)
    _, outcomes = read(document(bytes(archive)), resources)
    assert len(studies(outcomes)) == 1, "the honest member still converts"
    bad = [o for o in refused(outcomes) if o.record == "liar.json"]
    assert bad and bad[0].problems[0].code in {"ctgov-zip-too-large", "ctgov-zip-member-damaged"}


@pytest.mark.parametrize("name", ["../../x.json", "/etc/x.json", "a/../../x.json", "C:\\x.json"])
def test_zip_member_path_traversal(resources: Resources, name: str) -> None:
    archive = make_zip({"ok.json": _json(GOOD), name: _json(GOOD)})
    _, outcomes = read(document(archive), resources)
    assert len(studies(outcomes)) == 1
    problem = _one(outcomes, "ctgov-zip-unsafe-path")
    assert problem.location.record == name


def test_truncated_zip(resources: Resources) -> None:
    archive = make_zip({f"{p.stem}.json": p.read_bytes() for p in V2_FILES[:3]})
    name, outcomes = read(document(archive[: len(archive) * 2 // 3], "cut.zip"), resources)
    assert name == "ctgov-v2-json", "recognised from its first member even without a central directory"
    problem = _one(outcomes, "ctgov-zip-damaged")
    assert problem.severity.value == "fatal" and problem.location.file == "cut.zip"


def test_damaged_member_data(resources: Resources) -> None:
    archive = bytearray(make_zip({"bad.json": _json(GOOD), "good.json": _json(GOOD)}))
    archive[60:70] = b"\xff" * 10  # inside bad.json's compressed data
    _, outcomes = read(document(bytes(archive)), resources)
    assert len(studies(outcomes)) == 1
    assert _one(outcomes, "ctgov-zip-member-damaged").location.record == "bad.json"


def test_encrypted_member_flag(resources: Resources) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("secret.json")
        archive.writestr(info, _json(GOOD))
    data = bytearray(buffer.getvalue())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 0x1)
    struct.pack_into("<H", data, 6, 0x1)
    _, outcomes = read(document(bytes(data)), resources)
    assert not studies(outcomes)
    assert "encrypted" in _one(outcomes, "ctgov-zip-member-damaged").message
