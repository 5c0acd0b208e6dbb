"""The progress bar: records, rate and time left for a person at a terminal; nothing in CI or in a pipe."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from converters.pipeline import ConvertOptions, convert
from converters.progress import progress_bar, shows_progress
from converters.resources import Resources

V2 = Path(__file__).resolve().parents[2] / "fixtures" / "ctgov" / "v2"


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120), out


def test_a_run_on_a_terminal_shows_records_done(tmp_path: Path, resources: Resources,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    console, out = _terminal()
    inputs = sorted(V2.glob("*.json"))[:3]
    with progress_bar(console) as progress:
        assert progress is not None
        convert(inputs, ConvertOptions(out_dir=tmp_path / "o"), resources, progress=progress)
        assert progress.records == 3
    assert "3 records" in out.getvalue()


def test_no_bar_in_ci_or_when_output_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert shows_progress(_terminal()[0])
    assert not shows_progress(Console(file=io.StringIO()))
    monkeypatch.setenv("CI", "true")
    assert not shows_progress(_terminal()[0])
    with progress_bar(_terminal()[0]) as progress:
        assert progress is None


def test_the_bar_says_what_it_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """`validate` counts files, not records: its bar must not claim to be converting records."""
    monkeypatch.delenv("CI", raising=False)
    console, out = _terminal()
    with progress_bar(console, label="validating", unit="files") as progress:
        assert progress is not None
        progress.start(2, 10)
        progress.advance(5, 1)
        progress.bar.refresh()
    text = out.getvalue()
    assert "validating" in text and "1 files" in text
    assert "converting" not in text and "records" not in text
