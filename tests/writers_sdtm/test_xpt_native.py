"""The XPORT files trialbridge writes itself are byte for byte those pyreadstat (ReadStat) writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from converters.targets.sdtm import codecs
from converters.targets.sdtm.metadata import Column, Dataset, _length

COLUMNS = (
    Column(name="STUDYID", label="Study Identifier", type="text", role="Identifier", core="Req", origin="Assigned"),
    Column(name="VISITDY", label="Planned Study Day", type="integer", role="Timing", core="Perm", origin="Assigned"),
    Column(name="TVSTRL", label="Étiquette", type="text", role="Rule", core="Perm", origin="Assigned"),
)
ROWS = [("A", -7, "x"), ("B", 0.1, None), ("C", None, None), ("D", 1e-5, "é"), ("E", 1e20, "ü€"),
        ("F", -0.5, "z"), ("G", 3.14159265358979, "q"), ("a" * 10, 123456789012, "a")]


def dataset(rows: list[tuple[object, ...]]) -> Dataset:
    columns = tuple(dataclasses.replace(c, length=_length(c.type, [r[i] for r in rows]))  # type: ignore[misc]
                    for i, c in enumerate(COLUMNS))
    return Dataset("TV", "Trial Visits", "One record per visit", "Trial Design", columns, tuple(rows))  # type: ignore[arg-type]


@pytest.mark.parametrize("rows", [ROWS, [], [("A", None, None)]], ids=["values", "no-rows", "missing"])
def test_native_xpt_equals_pyreadstat(rows: list[tuple[object, ...]], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    table = dataset(rows)
    assert codecs._native_xpt_fits(table)
    codecs.write_xpt(table, tmp_path / "native.xpt", "2024-05-17T00:00:00")
    monkeypatch.setattr(codecs, "_native_xpt_fits", lambda _: False)
    codecs.write_xpt(table, tmp_path / "readstat.xpt", "2024-05-17T00:00:00")
    assert (tmp_path / "native.xpt").read_bytes() == (tmp_path / "readstat.xpt").read_bytes()
