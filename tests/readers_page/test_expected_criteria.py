"""Each seed page's criteria tree equals its hand-labelled split (tests/readers_page/expected_criteria/).

The labels were written by reading the pages (see the README there); the reader must reproduce them: the
criteria in order, each with its exact text and marker under the right parent, the line each starts on, and a
`criteria-run-on` report exactly where a text holds several criteria that no rule can split safely.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
import yaml

from converters.model import Study
from converters.resources import Resources
from tests.conftest import SEEDS
from tests.readers_page.helpers import read_text

EXPECTED = Path(__file__).resolve().parent / "expected_criteria"
PAGES = sorted(SEEDS.glob("*.txt"))
RUN_ON = "criteria-run-on"

Row = tuple[str, bool, str | None, str]  # (place in the tree, heading?, marker, text)


def _expected(page: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXPECTED / f"{page.stem}.yaml").read_text(encoding="utf-8"))
    assert data["page"] == page.name
    return data


def _rows(items: list[dict[str, Any]], place: str) -> list[Row]:
    """The tree as one row per entry, each naming its place ("2/0/3": item 3 under 0 under 2)."""
    rows: list[Row] = []
    for index, item in enumerate(items):
        here = f"{place}/{index}" if place else str(index)
        rows.append((here, bool(item.get("heading", False)), item.get("marker"), item["text"]))
        rows.extend(_rows(item.get("children", []), here))
    return rows


def _entries(items: list[dict[str, Any]], pointer: str) -> list[tuple[str, dict[str, Any]]]:
    """(study.json pointer, labelled entry) for every entry of the tree."""
    found: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(items):
        here = f"{pointer}/{index}"
        found.append((here, item))
        found.extend(_entries(item.get("children", []), f"{here}/children"))
    return found


def _show(row: Row) -> str:
    place, heading, marker, text = row
    return f"{place:<10} {'#' if heading else ' '} {marker or '':<5} {text[:90]}"


@pytest.fixture(scope="module")
def studies(resources: Resources) -> dict[str, Study]:
    return {page.stem: read_text(page.read_text(encoding="utf-8"), resources, page.name) for page in PAGES}


def test_every_seed_page_is_labelled() -> None:
    assert sorted(p.stem for p in EXPECTED.glob("*.yaml")) == [p.stem for p in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_labels_are_exact_pieces_of_the_page(page: Path) -> None:
    """A check on the labels themselves: every text is on its line, every run-on part is in its text, in order."""
    lines = page.read_text(encoding="utf-8").split("\n")
    for section in _expected(page)["sections"]:
        assert section["heading"] in lines[section["line"] - 1]
        for _, entry in _entries(section["criteria"], ""):
            assert entry["text"] in lines[entry["line"] - 1], entry
            if "run_on" in entry:
                position = 0
                for part in entry["run_on"]:
                    found = entry["text"].find(part, position)
                    assert found >= 0 and not entry["text"][position:found].strip(), (part, entry["text"])
                    position = found + len(part)
                assert not entry["text"][position:].strip(), entry["text"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_criteria_tree_equals_the_hand_labelled_split(page: Path, studies: dict[str, Study]) -> None:
    study = studies[page.stem]
    produced = [s.model_dump(mode="json", exclude_none=True) for s in study.eligibility.criteria]
    expected = _expected(page)["sections"]
    assert [(s["category"], s.get("heading")) for s in produced] == [
        (s["category"], s["heading"]) for s in expected]
    for got, want in zip(produced, expected, strict=True):
        got_rows, want_rows = _rows(got["items"], ""), _rows(want["criteria"], "")
        if got_rows != want_rows:
            diff = difflib.unified_diff([_show(row) for row in want_rows], [_show(row) for row in got_rows],
                                        "hand-labelled", "reader", lineterm="", n=1)
            pytest.fail(f"{want['category']} criteria differ:\n" + "\n".join(diff))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_each_criterion_is_traced_to_the_line_it_starts_on(page: Path, studies: dict[str, Study]) -> None:
    study = studies[page.stem]
    for index, section in enumerate(_expected(page)["sections"]):
        base = f"/eligibility/criteria/{index}"
        assert study.provenance[f"{base}/heading"].line == section["line"]
        for pointer, entry in _entries(section["criteria"], f"{base}/items"):
            if entry["text"]:
                assert study.provenance[f"{pointer}/text"].line == entry["line"], pointer
            if "marker" in entry:
                assert study.provenance[f"{pointer}/marker"].line == entry.get("marker_line", entry["line"]), pointer


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_run_on_criteria_are_reported_at_their_lines(page: Path, studies: dict[str, Study]) -> None:
    expected = sorted(entry["line"] for section in _expected(page)["sections"]
                      for _, entry in _entries(section["criteria"], "") if "run_on" in entry)
    reported = sorted(p.location.line or 0 for p in studies[page.stem].problems if p.code == RUN_ON)
    assert reported == expected


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_criterion_text_stands_on_the_lines_it_is_traced_to(page: Path, studies: dict[str, Study]) -> None:
    """Provenance is exact: each line of a criterion's text is a piece of the page line it is traced to, in
    order, so `trialbridge inspect` shows where every split criterion came from."""
    study = studies[page.stem]
    lines = page.read_text(encoding="utf-8").split("\n")
    for index, section in enumerate(study.eligibility.criteria):
        items = [item.model_dump(mode="json") for item in section.items]
        for pointer, item in _entries(items, f"/eligibility/criteria/{index}/items"):
            if not item["text"]:
                continue
            where = study.provenance[f"{pointer}/text"]
            assert where.line is not None
            span = lines[where.line - 1 : (where.end_line or where.line)]
            pieces = item["text"].split("\n")
            assert len(pieces) <= len([line for line in span if line.strip()]), pointer
            assert pieces[0] in span[0] and all(piece in "\n".join(span) for piece in pieces), pointer
