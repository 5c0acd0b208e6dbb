"""`trialbridge convert --to sdtm` end to end on the seed pages (fixtures/seeds), through the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.pipeline import ConvertOptions, convert
from converters.problems import Severity
from converters.resources import Resources
from tests.conftest import SEEDS

DATA_FILES = {f"{fmt}/{d}.{fmt}" for fmt in ("csv", "json", "xpt") for d in ("ts", "ta", "te", "tv", "ti")}


@pytest.mark.parametrize("layout", ["per-study", "concatenated"])
def test_convert_writes_all_domains_in_all_formats(resources: Resources, tmp_path: Path, layout: str) -> None:
    assert len(sorted(SEEDS.glob("*.txt"))) == 5, "the five seed pages belong in fixtures/seeds"
    options = ConvertOptions(out_dir=tmp_path, targets=("sdtm",), writer_options={"sdtm_layout": layout})
    report = convert([SEEDS], options, resources)
    assert report.studies_written() == 5, [p.one_line() for f in report.files for p in f.all_problems()]
    folders = [tmp_path / "sdtm"] if layout == "concatenated" else sorted(
        p.parent for p in tmp_path.glob("*/sdtm/define.xml"))
    if layout == "per-study":
        assert len(folders) == report.studies_written()
    for folder in folders:
        written = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert written == DATA_FILES | {"define.xml"}
    problems = [p for f in report.files for p in f.all_problems()] + report.problems
    sdtm_errors = [p for p in problems if p.code.startswith("sdtm") and p.severity in (Severity.ERROR,
                                                                                       Severity.FATAL)]
    assert sdtm_errors == [], [p.one_line() for p in sdtm_errors]
