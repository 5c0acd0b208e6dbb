"""The conventions users expect of a command line (issue 14): `python -m converters`, shell completion, logging
through the standard module, `--version`, `NO_COLOR`, and one JSON shape (`--json`, `--json-file`) on every
command that reports."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from converters import __version__, cli
from converters.cli import app
from tests.conftest import ROOT, SEEDS

runner = CliRunner()
GOOD_PAGE = SEEDS / "003_6601ee6bc5388ce6.txt"
# an SGR sequence that sets a colour: 30-39 / 40-49 / 90-97 / 100-107, or 38;/48; (256 colours, true colour)
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def _module(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m converters ARGS` in a fresh interpreter, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "converters", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_python_m_converters_is_the_same_command_line() -> None:
    done = _module("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"trialbridge {__version__}\n", "")
    done = _module("--help")
    assert done.returncode == 0 and "Usage: trialbridge [OPTIONS] COMMAND" in done.stdout
    for command in ("convert", "inspect", "validate", "coverage", "formats", "problems"):
        assert f"│ {command} " in done.stdout, command
    done = _module("problems", "input-empty")
    assert done.returncode == 0 and done.stdout.startswith("input-empty (fatal): Empty file")


def test_version_prints_the_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"trialbridge {__version__}\n")


def test_shell_completion_is_on() -> None:
    done = _module("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert done.returncode == 0
    assert "_TRIALBRIDGE_COMPLETE=complete_bash" in done.stdout and "complete -o default -F" in done.stdout
    assert "--install-completion" in _module("--help").stdout

    def complete(words: str) -> list[str]:
        env = {"_TRIALBRIDGE_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split(" ")) - 1)}
        return _module(env=env).stdout.split()

    assert complete("trialbridge co") == ["convert", "coverage"]
    assert complete("trialbridge convert --bundle ") == ["collection", "transaction"]
    assert complete("trialbridge convert --from ctgov-x") == ["ctgov-xml"]


def test_verbose_and_log_level_log_through_the_logging_module_on_stderr(tmp_path: Path) -> None:
    args = ("convert", str(GOOD_PAGE), "--out", str(tmp_path / "out"), "-j", "1", "-q")
    quiet = _module(*args)
    assert quiet.stderr == ""
    info = _module("-v", *args)
    assert info.stdout == quiet.stdout
    assert [line.split(":")[0] for line in info.stderr.splitlines()] == ["INFO converters.cli"] * 2
    assert info.stderr.startswith(f"INFO converters.cli: converting {GOOD_PAGE} into {tmp_path / 'out'} "
                                  "(targets: study; layout: per-study; jobs: 1; engine: local)")
    debug = _module("--log-level", "DEBUG", *args)
    assert f"DEBUG converters.cli: {GOOD_PAGE}: format registry-page, layout ctgov-mirror, encoding utf-8, " \
           "records: 1, folders: NCT06710717" in debug.stderr.splitlines()
    assert _module("-vv", *args).stderr.count("DEBUG ") == 1
    assert _module("--log-level", "error", "-vv", *args).stderr == "", "--log-level wins over -v"
    refused = _module("--log-level", "loud", "formats")
    assert refused.returncode == 2 and "'loud' is not one of" in refused.stderr


def test_log_levels_follow_the_options() -> None:
    assert [cli.log_level(v, None) for v in (0, 1, 2, 3)] == [None, "INFO", "DEBUG", "DEBUG"]
    assert cli.log_level(2, "warning") == "WARNING"


def test_no_color_is_respected(tmp_path: Path) -> None:
    """FORCE_COLOR makes rich colour even into a pipe; NO_COLOR then takes the colours out (bold may stay: it is
    not a colour, as no-color.org says)."""
    args = ("convert", str(GOOD_PAGE), "--out", str(tmp_path / "out"))
    coloured = _module(*args, env={"FORCE_COLOR": "1", "CI": "1"})
    assert COLOUR.search(coloured.stdout), "the check can fail: colours are there without NO_COLOR"
    plain = _module(*args, env={"FORCE_COLOR": "1", "CI": "1", "NO_COLOR": "1"})
    assert plain.returncode == coloured.returncode == 0
    assert not COLOUR.search(plain.stdout) and not COLOUR.search(plain.stderr)
    assert "✓ " in plain.stdout
    assert not COLOUR.search(_module("convert", "--help", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout)


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    """Each command that reports, on an input it reports on."""
    out = tmp_path / "out"
    runner.invoke(app, ["convert", str(GOOD_PAGE), "--out", str(out)])
    return {
        "convert": ["convert", str(GOOD_PAGE), "--out", str(tmp_path / "again")],
        "validate": ["validate", str(out / "NCT06710717" / "study.json"), "-j", "1"],
        "coverage": ["coverage", str(SEEDS.parent / "ctgov" / "v2" / "NCT00576225.json"), "-j", "1"],
        "inspect": ["inspect", str(GOOD_PAGE)],
        "formats": ["formats"],
        "problems": ["problems", "input-empty"],
    }


@pytest.mark.parametrize("command", ["convert", "validate", "coverage", "inspect", "formats", "problems"])
def test_every_command_that_reports_gives_one_json_shape(tmp_path: Path, command: str) -> None:
    args = _commands(tmp_path)[command]
    result = runner.invoke(app, [*args, "--json"])
    document = json.loads(result.stdout)  # stdout holds the JSON document and nothing else
    assert list(document)[:3] == ["tool", "command", "exit_code"]
    assert document["tool"] == {"name": "trialbridge", "version": __version__}
    assert (document["command"], document["exit_code"]) == (command, result.exit_code)
    written = tmp_path / "doc.json"
    text = runner.invoke(app, [*args, "--json-file", str(written)])
    assert text.exit_code == result.exit_code
    assert json.loads(written.read_text(encoding="utf-8")) == document
    assert not text.stdout.lstrip().startswith("{"), "with --json-file the text report stays on stdout"


def test_json_of_convert_is_report_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(GOOD_PAGE), "--out", str(tmp_path), "--json"])
    assert result.stdout == (tmp_path / "report.json").read_text(encoding="utf-8")


def test_json_of_a_refused_input_says_why_and_fatal_lines_stay_on_stderr(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    for args in (["inspect", str(empty)], ["convert", str(empty), "--out", str(tmp_path / "out")]):
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 2
        document = json.loads(result.stdout)
        problems = document["problems"] if args[0] == "inspect" else document["files"][0]["problems"]
        assert [p["code"] for p in problems] == ["input-empty"]
        assert "fatal input-empty" in result.stderr


def test_json_file_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["formats", "--json-file", str(tmp_path / "no" / "such" / "dir.json")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot write --json-file") and len(result.stderr.splitlines()) == 1


def _choices(alias: object) -> tuple[str, ...]:
    args = get_args(alias)
    assert args, alias
    return tuple(str(a) for a in args)


def test_the_command_lines_choices_are_the_librarys() -> None:
    from converters.pipeline import ENGINES, LAYOUTS
    from converters.targets.fhir.writer import BUNDLE_TYPES
    from converters.targets.sdtm.writer import LAYOUTS as SDTM_LAYOUTS

    assert _choices(cli.BundleType) == BUNDLE_TYPES
    assert _choices(cli.LayoutName) == LAYOUTS
    assert _choices(cli.EngineName) == ENGINES
    assert _choices(cli.SdtmLayout) == SDTM_LAYOUTS
    levels = logging.getLevelNamesMapping()
    assert [levels[level.upper()] for level in _choices(cli.LogLevel)] == [10, 20, 30, 40, 50]
