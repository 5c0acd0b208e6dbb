"""The Dask engine writes what the local engine writes, byte for byte, on a real multi-process cluster; it keeps a
bounded number of units in flight and hands results over in input order; the CLI drives it."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from converters.cli import app
from converters.pipeline import (
    ConvertOptions,
    FileResult,
    RunReport,
    UnitResult,
    WorkUnit,
    convert,
    convert_on_dask,
    dask_engine,
)
from converters.pipeline.dask_engine import RunSpec, _relative_paths_ok
from converters.resources import Resources
from tests.conftest import FIXTURES, SEEDS

CTGOV = sorted((FIXTURES / "ctgov" / "v2").glob("*.json"))[:3]
PAGES = sorted(SEEDS.glob("*.txt"))[:2]
TARGETS = ("fhir-r4", "sdtm")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two worker processes of one thread on loopback, as `--engine dask` starts them."""
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                           host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Registry records and pages, studies given again (their folders' names depend on the order), a ZIP and an
    NDJSON file converted in windows of records (`_options`), and a path that does not exist."""
    folder = tmp_path_factory.mktemp("inputs")
    twice = folder / "again.json"
    shutil.copy(CTGOV[0], twice)
    with zipfile.ZipFile(folder / "download.zip", "w") as archive:
        for path in CTGOV[:2]:
            archive.write(path, f"studies/{path.name}")
    lines = [json.dumps(json.loads(path.read_text(encoding="utf-8"))) for path in CTGOV[:2]]
    (folder / "studies.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [*CTGOV, *PAGES, twice, folder / "download.zip", folder / "studies.ndjson", folder / "missing.json"]


def _tree(root: Path) -> dict[str, str]:
    """Every file under `root` (report.json included) by relative path, with its digest."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _options(out: Path, layout: str) -> ConvertOptions:
    return ConvertOptions(out_dir=out, targets=TARGETS, layout=layout, jobs=1, archive_window=1, ndjson_window=1)


@pytest.mark.parametrize(("layout", "in_flight"), [("per-study", None), ("bulk", 2)])
def test_dask_writes_the_bytes_of_one_local_job(layout: str, in_flight: int | None, client: Client,
                                                inputs: list[Path], resources: Resources, tmp_path: Path) -> None:
    """In both layouts; with a window of two units, fewer than the run has, the window slides and the order
    holds."""
    local = convert(inputs, _options(tmp_path / "local", layout), resources)
    options = _options(tmp_path / "dask", layout)
    on_dask = convert(inputs, options, resources, engine=dask_engine(options, resources, client, in_flight=in_flight))
    assert _tree(tmp_path / "dask") == _tree(tmp_path / "local")
    assert "report.json" in _tree(tmp_path / "dask")
    assert _totals(on_dask) == _totals(local)
    assert local.studies_written() >= len(CTGOV) + 6  # the records, a page, the studies given again


def test_convert_on_dask_is_convert_with_the_dask_engine(client: Client, resources: Resources,
                                                          tmp_path: Path) -> None:
    report = convert_on_dask([CTGOV[0]], _options(tmp_path, "per-study"), resources, client, keep_files=False)
    assert report.studies_written() == 1
    assert (tmp_path / "report.json").is_file()


def test_cli_converts_on_a_running_scheduler(client: Client, inputs: list[Path], resources: Resources,
                                             tmp_path: Path) -> None:
    address = str(client.scheduler_info()["address"])
    assert address.startswith("tcp://127.0.0.1:")
    args = [str(p) for p in inputs]
    common = ["--to", ",".join(TARGETS), "--layout", "bulk", "-q"]
    local = CliRunner().invoke(app, ["convert", *args, "--out", str(tmp_path / "local"), "-j", "1", *common])
    dask = CliRunner().invoke(app, ["convert", *args, "--out", str(tmp_path / "dask"), *common,
                                    "--engine", "dask", "--scheduler", address])
    assert dask.exit_code == local.exit_code, dask.output
    assert dask.output.replace(str(tmp_path / "dask"), "OUT") == local.output.replace(str(tmp_path / "local"), "OUT")
    assert _tree(tmp_path / "dask") == _tree(tmp_path / "local")


def test_engine_usage_errors_are_one_line(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["convert", str(SEEDS), "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:8786"])
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == ["error: --scheduler needs --engine dask"]


def test_an_unknown_engine_is_refused_with_the_choices(tmp_path: Path) -> None:
    """--engine takes one of its choices (shown in --help); anything else is a usage error before any work."""
    done = CliRunner().invoke(app, ["convert", str(SEEDS), "--out", str(tmp_path / "out"), "--engine", "spark"])
    assert done.exit_code == 2
    assert "'spark' is not one of 'local', 'dask'" in " ".join(done.stderr.replace("│", " ").split())
    assert not (tmp_path / "out").exists()


# --- the window and the order, with a stand-in client ---------------------------------------------------------

class _Future:
    def __init__(self, compute: Callable[[], Any], client: _FakeClient) -> None:
        self._compute, self._client = compute, client

    def result(self) -> Any:
        self._client.open -= 1
        return self._compute()


class _FakeClient:
    """Runs a task when its result is asked for; counts the tasks submitted and not yet taken."""

    def __init__(self) -> None:
        self.open = self.most_open = 0
        self.cancelled = 0

    def nthreads(self) -> dict[str, int]:
        return {"tcp://a": 1, "tcp://b": 1}

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> _Future:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        return _Future(lambda: _stand_in(*args), self)

    def cancel(self, futures: list[_Future]) -> None:
        self.cancelled += len(futures)


def _stand_in(unit: WorkUnit, spec: RunSpec) -> UnitResult:
    return UnitResult(unit.index, FileResult(file=str(unit.path)))


def test_units_in_flight_stay_bounded_and_in_order(tmp_path: Path, resources: Resources) -> None:
    fake = _FakeClient()
    taken: list[int] = []

    def units() -> Iterator[WorkUnit]:
        for index in range(100_000):
            taken.append(index)
            yield WorkUnit(index, tmp_path / f"{index}.json")

    engine = dask_engine(_options(tmp_path, "per-study"), resources, fake)  # type: ignore[arg-type]
    results = cast(Generator[UnitResult, None, None], engine(units()))
    assert [next(results).index for _ in range(10)] == list(range(10))
    assert fake.most_open == 6  # three per worker thread
    assert len(taken) <= 16  # the units are taken as the window slides, not all at once
    results.close()
    assert fake.cancelled == fake.open == 5  # what was still submitted is cancelled
    fake = _FakeClient()
    everything = dask_engine(_options(tmp_path, "per-study"), resources, fake)  # type: ignore[arg-type]
    assert [result.index for result in everything(units())] == list(range(100_000))
    assert (fake.most_open, fake.open, fake.cancelled) == (6, 0, 0)


def test_relative_paths_need_the_clients_working_directory(tmp_path: Path) -> None:
    here = Path.cwd().resolve()
    relative = RunSpec("t", ConvertOptions(out_dir=Path("out")), tmp_path, here)
    absolute = RunSpec("t", ConvertOptions(out_dir=tmp_path), tmp_path, tmp_path / "elsewhere")
    assert _relative_paths_ok(WorkUnit(0, Path("in.json")), relative)
    assert not _relative_paths_ok(WorkUnit(0, Path("in.json")), RunSpec("t", relative.options, tmp_path, tmp_path))
    assert _relative_paths_ok(WorkUnit(0, tmp_path / "in.json"), absolute)


def _totals(report: RunReport) -> tuple[int, int, int]:
    return report.studies_written(), report.record_count, len(report.problems)
