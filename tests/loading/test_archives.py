"""Archives are opened once, by detection, and each member goes back through detection as a document of its
own: a ZIP mixing API v2 JSON and legacy XML reads each member with its own reader, with the record names,
problem locations and source facts the outputs have always had."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from converters.coverage import coverage
from converters.loading import MemberProblem, SourceDocument, iter_member_documents
from converters.pipeline import ConvertContext, ConvertOptions, convert_document
from converters.readers import ArchiveReader, Reader, ReaderConfig, choose_reader, discover_readers
from converters.resources import Resources
from tests.readers_ctgov.helpers import V2_FILES, XML_FILES, document, make_zip, read, studies

JSON_FILE = V2_FILES[0]
XML_FILE = XML_FILES[0]


def _mixed() -> SourceDocument:
    return document(make_zip({f"ctg-studies/{JSON_FILE.name}": JSON_FILE.read_bytes(),
                              f"legacy/{XML_FILE.name}": XML_FILE.read_bytes()}), "download.zip")


def test_a_zip_of_json_and_xml_gives_both_studies_with_the_record_names_of_single_files(
        resources: Resources) -> None:
    archive = _mixed()
    name, outcomes = read(archive, resources)
    assert name == "ctgov-v2-json", "named after its first record member"
    assert [o.record for o in outcomes] == [JSON_FILE.stem, XML_FILE.stem], "records are named by NCT id"
    found = studies(outcomes)
    assert [(s.source.format, s.source.layout, s.source.record) for s in found] == [
        ("ctgov-v2-json", "zip", f"ctg-studies/{JSON_FILE.name}"), ("ctgov-xml", "zip", f"legacy/{XML_FILE.name}")]
    assert {(s.source.file, s.source.sha256) for s in found} == {("download.zip", archive.sha256)}
    _, single_json = read(document(JSON_FILE.read_bytes(), "download.zip"), resources)
    _, single_xml = read(document(XML_FILE.read_bytes(), "download.zip"), resources)
    for from_zip, single in zip(found, [*studies(single_json), *studies(single_xml)], strict=True):
        assert from_zip.provenance == single.provenance
        assert from_zip.model_dump(exclude={"source"}) == single.model_dump(exclude={"source"})


def test_the_pipeline_reports_the_archive_as_one_file(resources: Resources, tmp_path: Path) -> None:
    ctx = ConvertContext.build(ConvertOptions(out_dir=tmp_path), resources)
    result = convert_document(_mixed(), ctx)
    assert (result.file, result.format, result.layout) == ("download.zip", "ctgov-v2-json", "zip")
    assert [(r.record, r.output_dir) for r in result.records] == [(JSON_FILE.stem, JSON_FILE.stem),
                                                                   (XML_FILE.stem, XML_FILE.stem)]
    assert not result.problems


def test_members_are_routed_by_content_and_by_suffix_only_when_no_reader_is_sure(resources: Resources) -> None:
    archive = document(make_zip({"xml-named.json": XML_FILE.read_bytes(), "empty-list.json": b"[]",
                                 "empty.xml": b""}), "odd.zip")
    _, outcomes = read(archive, resources)
    [study] = studies(outcomes)
    assert study.source.format == "ctgov-xml" and study.source.record == "xml-named.json"
    problems = {o.record: [(p.code, p.severity.value) for p in o.problems] for o in outcomes if o.study is None}
    assert problems == {"empty-list.json": [("ctgov-no-studies", "warning")],
                        "empty.xml": [("ctgov-xml-malformed", "error")]}


def test_members_are_documents_named_after_the_archive() -> None:
    archive = _mixed()
    members = list(iter_member_documents(archive, (".json",), 10**6, 10**7))
    assert isinstance(members[1], MemberProblem) and members[1].problem.code == "ctgov-zip-member-skipped"
    assert members[1].problem.message == ("The ZIP member is not a study record (.xml file extension; records "
                                          "are .json); it is skipped.")
    first = members[0]
    assert isinstance(first, SourceDocument)
    assert (first.name, first.sha256, first.member) == ("download.zip", archive.sha256,
                                                        f"ctg-studies/{JSON_FILE.name}")
    assert first.data == JSON_FILE.read_bytes()


def test_skipped_members_name_the_suffixes_the_readers_declare(resources: Resources) -> None:
    _, outcomes = read(document(make_zip({"README.txt": b"x", JSON_FILE.name: JSON_FILE.read_bytes()})),
                       resources)
    [skipped] = [p for o in outcomes for p in o.problems]
    assert skipped.message == ("The ZIP member is not a study record (.txt file extension; records are .csv, "
                               ".json, .ndjson or .xml); it is skipped.")


def test_archive_format_names() -> None:
    readers = discover_readers()
    xml_later = document(make_zip({"README.txt": b"x", XML_FILE.name: XML_FILE.read_bytes()}))
    assert _name(xml_later, readers) == "ctgov-xml"
    full = make_zip({f"{p.stem}.json": p.read_bytes() for p in V2_FILES[:3]})
    assert _name(document(full[: len(full) // 2]), readers) == "ctgov-v2-json", "first local header"
    assert _name(document(make_zip({"README.txt": b"x"})), readers) == "zip"


def _name(doc: SourceDocument, readers: dict[str, Reader]) -> str:
    reader = choose_reader(doc, readers)
    assert isinstance(reader, ArchiveReader)
    return reader.name


def test_forced_format_names_the_archive_and_members_are_still_detected(resources: Resources) -> None:
    readers = discover_readers()
    forced = choose_reader(_mixed(), readers, "ctgov-xml")
    assert isinstance(forced, ArchiveReader) and forced.name == "ctgov-xml"
    outcomes = list(forced.read(_mixed(), ReaderConfig(resources=resources)))
    assert [s.source.format for s in studies(outcomes)] == ["ctgov-v2-json", "ctgov-xml"]
    # a format never found in archives gets the archive itself, and refuses it as binary
    v1 = choose_reader(_mixed(), readers, "ctgov-v1-json")
    assert v1 is not None and v1 is readers["ctgov-v1-json"]
    [outcome] = v1.read(_mixed(), ReaderConfig(resources=resources))
    assert [p.code for p in outcome.problems] == ["input-binary"]


def test_coverage_of_an_archive_is_the_coverage_of_its_members(resources: Resources, tmp_path: Path) -> None:
    archive = tmp_path / "download.zip"
    archive.write_bytes(_mixed().data)
    loose = tmp_path / "loose"
    loose.mkdir()
    for path in (JSON_FILE, XML_FILE):
        (loose / path.name).write_bytes(path.read_bytes())
    zipped, files = coverage([archive], resources), coverage([loose], resources)
    assert [r.to_dict() for r in zipped.rows] == [r.to_dict() for r in files.rows]
    assert zipped.to_dict()["records"] == files.to_dict()["records"]


def test_a_damaged_member_does_not_stop_the_others(resources: Resources) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bad.json", JSON_FILE.read_bytes())
        archive.writestr(XML_FILE.name, XML_FILE.read_bytes())
    data = bytearray(buffer.getvalue())
    data[60:70] = b"\xff" * 10
    doc = SourceDocument("x.zip", bytes(data), hashlib.sha256(bytes(data)).hexdigest())
    _, outcomes = read(doc, resources)
    assert [s.source.format for s in studies(outcomes)] == ["ctgov-xml"]
    assert [(o.record, o.problems[0].code) for o in outcomes if o.study is None] == [
        ("bad.json", "ctgov-zip-member-damaged")]
