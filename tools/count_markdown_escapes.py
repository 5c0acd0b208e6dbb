"""Count the CommonMark escapes left in the plain-text outputs of a `trialbridge convert` folder.

    python tools/count_markdown_escapes.py OUT_DIR [--list]

Prints one line per kind of output (FHIR string, FHIR narrative, SDTM CSV, Dataset-JSON, XPT, Define-XML) with
the escapes left in it, then the total; `--list` also prints each one with its file and place. Exit status 1
when any is left.

What counts, precisely:
- an *escape* is a backslash followed by an ASCII punctuation character (`\\>`, `\\^`, `\\.`), as CommonMark
  defines it; only those that were escapes in the study's Markdown source texts count: the study's
  `study.json` says which of its texts the source wrote in CommonMark (`source.text_formats`; for an older
  study.json without it, the formats the current mappings declare for its source format and page layout), and
  a backslash sequence no Markdown text of the study has is a legitimate character of a plain source;
- only *plain-text* outputs are searched: every FHIR element whose type in the official definitions is not
  `markdown` (a `markdown` element may and should carry escapes), narrative XHTML by its text, every SDTM value
  in every format, and every text and attribute value of define.xml;
- values are read as their format defines them (JSON parsed, CSV parsed, XPT decoded, XML parsed), so the
  escapes of the file formats themselves (JSON's `\\"`) are never counted.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeXml
import pyreadstat

from converters.fieldmap import TEXT_KEEPING_CONVERSIONS
from converters.model import TextFormat
from converters.model.text import text_format_at
from converters.resources import Resources
from converters.targets.fhir.validator.definitions import Definitions, Kind, NodeSpec, load_table

ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")  # CommonMark: a backslash before any ASCII punctuation character
KINDS = ("fhir-string", "fhir-narrative", "sdtm-csv", "sdtm-json", "sdtm-xpt", "define-xml")
_RECORD_FIELDS = ("schema_version", "source", "provenance", "unmapped", "problems")


@dataclass
class Counts:
    by_kind: Counter[str] = field(default_factory=Counter)
    found: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind, file, place, escape

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


# --- which escapes came from Markdown source text ------------------------------------------------------


def declared_formats(resources: Resources) -> tuple[dict[str, set[str]], set[str]]:
    """What the mappings declare Markdown: per source format, the generic study pointers (`/arms/description`)
    of ClinicalTrials.gov API v2 fields; and the page layouts whose pages are Markdown."""
    fields: set[str] = set()

    def visit(rules: list[dict[str, Any]], target: str) -> None:
        for rule in rules:
            to = target + "/" + str(rule["to"]).removesuffix("[]").replace(".", "/")
            if "each" in rule:
                visit(rule["each"], to)
            elif rule.get("text_format") == "markdown" and rule.get("convert", "text") in TEXT_KEEPING_CONVERSIONS:
                fields.add(to)

    visit(resources.mapping("ctgov_v2/study.yaml")["rules"], "")
    layouts = {layout["id"] for layout in resources.mapping("registry_page/layouts.yaml")["layouts"]
               if layout.get("text_format") == "markdown"}
    return {"ctgov-v2-json": fields}, layouts


def _strings(node: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield pointer, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{pointer}/{index}")


def source_escapes(study: dict[str, Any], declared: tuple[dict[str, set[str]], set[str]]) -> set[str]:
    """The escapes of the study's Markdown source texts."""
    source = study.get("source", {})
    formats = {k: TextFormat(v) for k, v in source.get("text_formats", {}).items()}
    fields, layouts = declared
    markdown_fields = fields.get(source.get("format", ""), set())
    whole_page = "text_formats" not in source and source.get("layout") in layouts
    out: set[str] = set()
    for name, value in study.items():
        if name in _RECORD_FIELDS:
            continue
        for pointer, text in _strings(value, "/" + name):
            if "text_formats" in source:
                markdown = text_format_at(formats, pointer) is TextFormat.MARKDOWN
            else:  # a study.json from before text formats were recorded
                markdown = whole_page or re.sub(r"/\d+(?=/|$)", "", pointer) in markdown_fields
            if markdown:
                out.update(ESCAPE.findall(text))
    return out


# --- plain-text values of each output --------------------------------------------------------------------


def _fhir_values(defs: Definitions, node: Any, spec: NodeSpec, place: str) -> Iterator[tuple[str, str, str]]:
    """(type code, place, value) of every primitive string under a FHIR JSON object."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        child = spec.children.get(key)
        if child is None:
            continue
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            where = f"{place}.{key}" + (f"[{index}]" if isinstance(value, list) else "")
            if child.kind is Kind.PRIMITIVE:
                if isinstance(item, str):
                    yield child.type_code, where, item
            elif child.kind is Kind.RESOURCE:
                inner = defs.spec(str(item.get("resourceType", ""))) if isinstance(item, dict) else None
                if inner is not None:
                    yield from _fhir_values(defs, item, inner, where)
            elif child.node is not None:
                inner = defs.spec(child.node)
                if inner is not None:
                    yield from _fhir_values(defs, item, inner, where)


def fhir_texts(defs: Definitions, path: Path) -> Iterator[tuple[str, str, str]]:
    """(kind, place, text) of every plain-text value of a bundle; `markdown` elements are left out."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    spec = defs.spec(str(bundle.get("resourceType", "")))
    if spec is None:
        return
    for type_code, place, value in _fhir_values(defs, bundle, spec, str(bundle.get("resourceType"))):
        if type_code == "markdown":
            continue
        if type_code == "xhtml":
            yield "fhir-narrative", place, "".join(SafeXml.fromstring(value).itertext())
        else:
            yield "fhir-string", place, value


def sdtm_texts(folder: Path) -> Iterator[tuple[str, str, str, str]]:
    """(kind, file, place, text) of every value of the SDTM tables in every format, and of define.xml."""
    for path in sorted((folder / "csv").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for n, row in enumerate(csv.DictReader(handle), start=1):
                for column, value in row.items():
                    yield "sdtm-csv", str(path), f"row {n} {column}", value or ""
    for path in sorted((folder / "json").glob("*.json")):
        dataset = json.loads(path.read_text(encoding="utf-8"))
        for n, row in enumerate(dataset.get("rows", []), start=1):
            for index, value in enumerate(row):
                if isinstance(value, str):
                    yield "sdtm-json", str(path), f"row {n} column {index + 1}", value
    for path in sorted((folder / "xpt").glob("*.xpt")):
        frame, _ = pyreadstat.read_xport(str(path))
        for column in frame.columns:
            for n, value in enumerate(frame[column], start=1):
                if isinstance(value, str):
                    yield "sdtm-xpt", str(path), f"row {n} {column}", value
    define = folder / "define.xml"
    if define.is_file():
        for element in SafeXml.parse(define).iter():
            for place, text in (("text", element.text), ("tail", element.tail), *element.attrib.items()):
                if text:
                    yield "define-xml", str(define), f"{element.tag} {place}", text


# --- counting --------------------------------------------------------------------------------------------


def count_escapes(out_dir: Path, resources: Resources) -> Counts:
    """The escapes of Markdown source text left in the plain-text outputs of every study under `out_dir`."""
    declared = declared_formats(resources)
    definitions: dict[str, Definitions] = {}
    counts = Counts()
    for study_file in sorted(out_dir.rglob("study.json")):
        folder = study_file.parent
        escapes = source_escapes(json.loads(study_file.read_text(encoding="utf-8")), declared)
        if not escapes:
            continue
        texts: list[tuple[str, str, str, str]] = []
        for version in ("r4", "r5"):
            bundle = folder / f"fhir-{version}" / "bundle.json"
            if bundle.is_file():
                defs = definitions.setdefault(version, Definitions(load_table(version.upper())))
                texts += [(kind, str(bundle), place, text) for kind, place, text in fhir_texts(defs, bundle)]
        if (folder / "sdtm").is_dir():
            texts += list(sdtm_texts(folder / "sdtm"))
        for kind, file, place, text in texts:
            for escape in ESCAPE.findall(text):
                if escape in escapes:
                    counts.by_kind[kind] += 1
                    counts.found.append((kind, file, place, escape))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="a folder written by `trialbridge convert`")
    parser.add_argument("--list", action="store_true", help="print every escape found, with where")
    args = parser.parse_args(argv)
    counts = count_escapes(args.out_dir, Resources())
    if args.list:
        for kind, file, place, escape in counts.found:
            print(f"{kind}\t{file}\t{place}\t{escape}")
    for kind in KINDS:
        print(f"{kind}: {counts.by_kind.get(kind, 0)}")
    print(f"total: {counts.total}")
    return 1 if counts.total else 0


if __name__ == "__main__":
    sys.exit(main())
