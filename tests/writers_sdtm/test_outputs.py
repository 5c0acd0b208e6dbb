"""Every fixture study: all five domains in all four formats, each valid and each saying the same thing.

Checked per study: the Dataset-JSON files against the official Dataset-JSON 1.1 schema (jsonschema, draft
2019-09), define.xml against the Define-XML 2.1 XSD (lxml), the XPT files read back identically with pyreadstat,
the CSV and JSON rows equal to the tables, define.xml describing exactly the columns written, and the CDISC CORE
rules that run (via the writer's own run of converters.targets.sdtm.core_rules) finding nothing but the one documented
case: CORE-000505 on SSTDTC of a study that has not started (TSVALNF NAV; see docs/sdtm-mapping.md), reported as
a warning (sdtm-study-not-started), or on a start date the source does not state (NI), also a warning
(sdtm-write-required-value-absent); the policy is mappings/sdtm/finding-severity.yaml.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pyreadstat
import pytest
from lxml import etree

from converters.model import Study
from converters.problems import Severity
from converters.resources import Resources
from converters.targets.base import WriteResult
from converters.targets.sdtm.build import build_study_tables
from converters.targets.sdtm.metadata import Dataset, describe_all
from converters.targets.sdtm.spec import SdtmSpec

from .fixture_studies import ROOT, all_studies

STUDIES = all_studies(Resources(root=ROOT))
DOMAINS = ("ts", "ta", "te", "tv", "ti")
ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
Write = Callable[[Study], tuple[Path, WriteResult]]


@pytest.fixture(scope="module")
def dataset_json_validator(resources: Resources) -> jsonschema.Draft201909Validator:
    schema = resources.schema("cdisc/dataset-json-1.1/dataset.schema.json")
    return jsonschema.Draft201909Validator(schema)


@pytest.fixture(scope="module")
def define_schema(resources: Resources) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    xsd = resources.schemas_dir / "cdisc/define-xml-2.1/cdisc-define-2.1/define2-1-0.xsd"
    return etree.XMLSchema(etree.parse(str(xsd), parser))


def datasets_of(study: Study, spec: SdtmSpec, resources: Resources) -> dict[str, Dataset]:
    from converters.model.schedule import derive_schedule

    package = build_study_tables(study, derive_schedule(study, resources), spec)
    return {d.name: d for d in describe_all(package.tables, spec)}


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@pytest.fixture(params=STUDIES, ids=[label for label, _ in STUDIES])
def written(request: pytest.FixtureRequest, write: Write, spec: SdtmSpec,
            resources: Resources) -> tuple[Path, WriteResult, dict[str, Dataset]]:
    _, study = request.param
    folder, result = write(study)
    return folder, result, datasets_of(study, spec, resources)


def test_all_domains_in_all_formats(written: tuple[Path, WriteResult, dict[str, Dataset]]) -> None:
    folder, result, _ = written
    expected = {folder / fmt / f"{d}.{fmt}" for fmt in ("csv", "json", "xpt") for d in DOMAINS}
    expected.add(folder / "define.xml")
    assert set(result.files) == expected
    assert all(p.is_file() for p in expected)


def test_no_writer_errors_and_only_the_documented_rule_finding(
        written: tuple[Path, WriteResult, dict[str, Dataset]]) -> None:
    _, result, datasets = written
    bad = [p for p in result.problems if p.severity in (Severity.ERROR, Severity.FATAL)]
    ts = datasets["TS"].records()
    sstdtc = next(r for r in ts if r["TSPARMCD"] == "SSTDTC")
    assert bad == [], [p.one_line() for p in bad]
    absent = [p for p in result.problems if p.code in ("sdtm-write-required-value-absent", "sdtm-study-not-started")]
    if sstdtc["TSVAL"] is None:
        # the source states no actual start date: the rule still runs and fires, reported as a warning, which says
        # the study has not started when the record is NAV (the start date is anticipated)
        assert sstdtc["TSVALNF"] is not None
        expected = "sdtm-study-not-started" if sstdtc["TSVALNF"] == "NAV" else "sdtm-write-required-value-absent"
        assert [(p.code, p.message.split(" ", 1)[0]) for p in absent] == [(expected, "CORE-000505")]
        assert all(p.severity is Severity.WARNING for p in absent)
    else:
        assert absent == []
    summary = [p for p in result.problems if p.code == "sdtm-core-rules-summary"]
    assert len(summary) == 1 and " ran (" in summary[0].message


def test_dataset_json_is_valid_and_holds_the_tables(
        written: tuple[Path, WriteResult, dict[str, Dataset]],
        dataset_json_validator: jsonschema.Draft201909Validator) -> None:
    folder, _, datasets = written
    for name, dataset in datasets.items():
        doc = json.loads((folder / "json" / f"{name.lower()}.json").read_text(encoding="utf-8"))
        errors = [e.message for e in dataset_json_validator.iter_errors(doc)]
        assert not errors, (name, errors[:3])
        assert doc["records"] == len(doc["rows"]) == len(dataset.rows)
        assert [c["name"] for c in doc["columns"]] == [c.name for c in dataset.columns]
        assert [tuple(r) for r in doc["rows"]] == list(dataset.rows)
        assert doc["itemGroupOID"] == f"IG.{name}" and doc["metaDataRef"] == "../define.xml"


def test_xpt_reads_back_identically(written: tuple[Path, WriteResult, dict[str, Dataset]]) -> None:
    folder, _, datasets = written
    for name, dataset in datasets.items():
        frame, meta = pyreadstat.read_xport(str(folder / "xpt" / f"{name.lower()}.xpt"))
        assert meta.table_name == name and meta.file_label == dataset.label
        assert meta.column_names == [c.name for c in dataset.columns]
        assert meta.column_labels == [c.label for c in dataset.columns]
        assert all(len(n) <= 8 for n in meta.column_names)
        assert all(len(label or "") <= 40 for label in meta.column_labels)
        assert all(w <= 200 for w in meta.variable_storage_width.values())
        assert len(frame) == len(dataset.rows)
        for i, column in enumerate(dataset.columns):
            back = frame[column.name].tolist()
            if column.type == "text":
                assert back == [as_text(r[i]) for r in dataset.rows], (name, column.name)
                assert meta.variable_storage_width[column.name] == column.length
            else:
                assert [None if v != v else v for v in back] == [
                    None if r[i] is None else float(str(r[i])) for r in dataset.rows], (name, column.name)


def test_csv_reads_back_identically(written: tuple[Path, WriteResult, dict[str, Dataset]]) -> None:
    folder, _, datasets = written
    for name, dataset in datasets.items():
        with (folder / "csv" / f"{name.lower()}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == [c.name for c in dataset.columns]
        assert rows[1:] == [[as_text(v) for v in row] for row in dataset.rows]


def test_define_is_valid_and_describes_what_was_written(
        written: tuple[Path, WriteResult, dict[str, Dataset]], define_schema: etree.XMLSchema) -> None:
    folder, _, datasets = written
    doc = etree.parse(str(folder / "define.xml"))
    assert define_schema.validate(doc), define_schema.error_log.last_error
    root = doc.getroot()
    item_defs = {i.get("OID"): i for i in root.iter(f"{ODM}ItemDef")}
    codelists = {c.get("OID"): c for c in root.iter(f"{ODM}CodeList")}
    for group in root.iter(f"{ODM}ItemGroupDef"):
        dataset = datasets[group.get("Name")]
        refs = group.findall(f"{ODM}ItemRef")
        assert [item_defs[r.get("ItemOID")].get("Name") for r in refs] == [c.name for c in dataset.columns]
        assert group.find(f"{DEF}Class").get("Name") == "TRIAL DESIGN"
        for ref, column in zip(refs, dataset.columns, strict=True):
            item = item_defs[ref.get("ItemOID")]
            assert ref.get("Mandatory") == ("Yes" if column.core == "Req" else "No")
            if column.type == "text":
                assert item.get("Length") == str(column.length)
            cl_ref = item.find(f"{ODM}CodeListRef")
            if cl_ref is not None and cl_ref.get("CodeListOID") in codelists:
                codelist = codelists[cl_ref.get("CodeListOID")]
                if codelist.find(f"{ODM}ExternalCodeList") is None:
                    allowed = {i.get("CodedValue") for i in codelist if i.get("CodedValue")}
                    index = [c.name for c in dataset.columns].index(column.name)
                    used = {r[index] for r in dataset.rows if r[index] is not None}
                    assert used <= allowed, (dataset.name, column.name, used - allowed)


def test_same_study_same_bytes(write: Write, tmp_path: Path) -> None:
    _, study = STUDIES[0]
    first, _ = write(study)
    contents = {p.relative_to(first): p.read_bytes() for p in sorted(first.rglob("*")) if p.is_file()}
    again, _ = write(study)
    assert {p.relative_to(again): p.read_bytes() for p in sorted(again.rglob("*")) if p.is_file()} == contents
