"""Shared helpers for the ClinicalTrials.gov reader tests: fixture paths, documents, reading, JSON pointers."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

from converters.loading import SourceDocument
from converters.model import Study
from converters.model.criteria_markdown import CriteriaHeadings
from converters.readers import ReaderConfig, ReadOutcome, choose_reader, discover_readers
from converters.resources import Resources
from tests.conftest import FIXTURES

CTGOV = FIXTURES / "ctgov"
V2_FILES = sorted((CTGOV / "v2").glob("NCT*.json"))
PAGE_FILE = CTGOV / "v2" / "pages" / "page_condition_query_response.json"
V1_FILES = sorted((CTGOV / "v1").glob("*.json"))
XML_FILES = sorted((CTGOV / "xml").glob("NCT*.xml"))
# the criteria section headings as ClinicalTrials.gov words them (the field map's data)
CTGOV_HEADINGS = CriteriaHeadings.from_mapping(Resources().mapping("ctgov_v2/study.yaml")["criteria_headings"])


def document(data: bytes, name: str = "input") -> SourceDocument:
    return SourceDocument(name=name, data=data, sha256=hashlib.sha256(data).hexdigest())


def file_document(path: Path) -> SourceDocument:
    return document(path.read_bytes(), path.name)


def read(doc: SourceDocument, resources: Resources, **limits: Any) -> tuple[str | None, list[ReadOutcome]]:
    """(reader name chosen from content, outcomes), as the pipeline would read the document."""
    reader = choose_reader(doc, discover_readers())
    if reader is None:
        return None, []
    return reader.name, list(reader.read(doc, ReaderConfig(resources=resources, **limits)))


def studies(outcomes: list[ReadOutcome]) -> list[Study]:
    return [o.study for o in outcomes if o.study is not None]


def refused(outcomes: list[ReadOutcome]) -> list[ReadOutcome]:
    return [o for o in outcomes if o.study is None and any(p.severity.value in ("error", "fatal")
                                                            for p in o.problems)]


def v2_records() -> list[dict[str, Any]]:
    """Every API v2 fixture record: the 49 files and the 10 studies of the page."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in V2_FILES]
    records += json.loads(PAGE_FILE.read_text(encoding="utf-8"))["studies"]
    return records


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def resolve_pointer(data: Any, pointer: str) -> Any:
    """Follow an RFC 6901 JSON pointer; KeyError/IndexError when it does not resolve."""
    if pointer == "":
        return data
    for raw in pointer.lstrip("/").split("/"):
        step = raw.replace("~1", "/").replace("~0", "~")
        data = data[int(step)] if isinstance(data, list) else data[step]
    return data


def json_leaves(data: Any, pointer: str = "") -> list[tuple[str, Any]]:
    """Every scalar leaf of JSON data with its pointer."""
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            out += json_leaves(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
        return out
    if isinstance(data, list):
        out = []
        for index, value in enumerate(data):
            out += json_leaves(value, f"{pointer}/{index}")
        return out
    return [(pointer, data)]


def covered(pointer: str, prefixes: set[str]) -> bool:
    """Whether a pointer equals one of the prefixes or lies under one (XPath or JSON pointer)."""
    if pointer in prefixes:
        return True
    cut = pointer.rfind("/")
    while cut > 0:
        if pointer[:cut] in prefixes:
            return True
        cut = pointer.rfind("/", 0, cut)
    return False


def random_slot(data: Any, rng: random.Random, go_deeper: float) -> tuple[Any, Any] | None:
    """A random (container, key) in JSON data, for mutation tests: from the root, a non-empty child container
    is entered with probability `go_deeper`; None when an empty container is met."""
    node = data
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return None
        key = rng.choice(keys)
        child = node[key]
        if isinstance(child, dict | list) and child and rng.random() < go_deeper:
            node = child
            continue
        return node, key
