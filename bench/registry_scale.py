"""Registry-scale benchmark (issue 12): trialbridge over a large synthetic API v2 corpus, against floors and a peer.

    python bench/registry_scale.py --sizes 10000,100000 [--corpus DIR] [--json FILE]
        [--peer-dir CHECKOUT --peer-driver mitre-driver.mjs --peer-studies 49,758 --repeat 5]

Prints a table; `--json FILE` also writes every figure. A script, not a test: speed is measured, never asserted.
The corpus is the fixture records (fixtures/ctgov/v2/) copied with new NCT ids and perturbed content, cached by
its parameters. Every trialbridge figure is one whole process (start-up included), pinned to core 0 when
`taskset` exists, run through a small wrapper process so that wall time and peak RSS belong to that run alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "ctgov" / "v2"
GENERATOR_VERSION = 1  # bump when the records generated for a (seed, index) change, so caches are rebuilt
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTH_DATE = re.compile(r"\d{4}-\d{2}")
# Runs one command, prints its wall time, CPU time and the peak RSS of its process tree; a fresh wrapper per run makes
# RUSAGE_CHILDREN hold that run alone. Own start-up is outside the timed span.
WRAPPER = (
    "import json,resource,subprocess,sys,time\n"
    "t=time.perf_counter()\n"
    "p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE)\n"
    "w=time.perf_counter()-t\n"
    "u=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'rc':p.returncode,'wall_s':w,'max_rss_kb':u.ru_maxrss,'cpu_s':u.ru_utime+u.ru_stime,"
    "'stderr':p.stderr.decode(errors='replace')[-2000:]}))\n"
)


# ---------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Template:
    """One fixture record as text, with the NCT id that is replaced in every copy."""

    nct: str
    text: str


def load_templates(folder: Path) -> list[Template]:
    """The single-study API v2 files of the fixture folder (pages, arrays and others are skipped)."""
    templates = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        nct = record.get("protocolSection", {}).get("identificationModule", {}).get("nctId") if isinstance(
            record, dict) else None
        if isinstance(nct, str):
            templates.append(Template(nct, path.read_text(encoding="utf-8")))
    return templates


def new_nct(index: int) -> str:
    """A unique id per copy; the `NCT9` prefix is far above real registrations, so it never meets a real id."""
    return f"NCT9{index:07d}"


def shift_date(value: str, days: int) -> str:
    """Moves a full or year-month date, keeping its precision; other values stay as they are."""
    if FULL_DATE.fullmatch(value):
        return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
    if MONTH_DATE.fullmatch(value):
        months = int(value[:4]) * 12 + int(value[5:7]) - 1 + round(days / 30)
        return f"{months // 12:04d}-{months % 12 + 1:02d}"
    return value


def shift_status_dates(status: dict[str, Any], days: int) -> None:
    """One shift for every date of the status module, so their order (start before completion) is kept."""
    for key, value in status.items():
        if key.endswith("Date") and isinstance(value, str):
            status[key] = shift_date(value, days)
        elif key.endswith("DateStruct") and isinstance(value, dict) and isinstance(value.get("date"), str):
            value["date"] = shift_date(value["date"], days)


def vary(templates: list[Template], seed: int, index: int) -> dict[str, Any]:
    """Copy `index` of the corpus: depends on (seed, index) only, so any size's first N records are the same."""
    rng = random.Random(f"{seed}:{index}")
    template = templates[rng.randrange(len(templates))]
    record: dict[str, Any] = json.loads(template.text.replace(template.nct, new_nct(index)))
    protocol = record["protocolSection"]
    ident = protocol["identificationModule"]
    ident.setdefault("orgStudyIdInfo", {})["id"] = f"TB-BENCH-{seed}-{index:07d}"
    ident["briefTitle"] = f"{ident.get('briefTitle', 'Study')} (copy {index})"
    shift_status_dates(protocol.get("statusModule", {}), rng.randint(-730, 730))
    enrollment = protocol.get("designModule", {}).get("enrollmentInfo", {})
    if isinstance(enrollment.get("count"), int):
        enrollment["count"] = max(1, round(enrollment["count"] * rng.uniform(0.5, 1.5)))
    return record


def generate(templates: list[Template], seed: int, count: int) -> Iterator[tuple[str, str]]:
    """(nct, one-line JSON) for the first `count` copies."""
    for index in range(count):
        yield new_nct(index), json.dumps(vary(templates, seed, index), ensure_ascii=False, separators=(",", ":"))


def corpus_manifest(layout: str, studies: int, per_file: int, seed: int, templates: list[Template]) -> dict[str, Any]:
    """What a cached corpus was built from; a cache is reused only when this matches exactly."""
    digest = hashlib.sha256("".join(t.text for t in templates).encode()).hexdigest()[:16]
    return {"layout": layout, "studies": studies, "per_file": per_file, "seed": seed,
            "generator": GENERATOR_VERSION, "templates": digest}


def write_records(folder: Path, layout: str, per_file: int, records: Iterator[tuple[str, str]]) -> None:
    """NDJSON files of `per_file` records (the form `trialbridge convert` reads), or one `<nct>.json` per study."""
    folder.mkdir(parents=True)
    if layout == "json":
        for nct, line in records:
            (folder / f"{nct}.json").write_text(line + "\n", encoding="utf-8")
        return
    batch: list[str] = []
    part = 0
    for _, line in records:
        batch.append(line)
        if len(batch) == per_file:
            (folder / f"part-{part:05d}.ndjson").write_text("\n".join(batch) + "\n", encoding="utf-8")
            batch, part = [], part + 1
    if batch:
        (folder / f"part-{part:05d}.ndjson").write_text("\n".join(batch) + "\n", encoding="utf-8")


def build_corpus(root: Path, layout: str, studies: int, per_file: int, seed: int, templates: list[Template]) -> Path:
    """The records folder, built once per parameter set under `root` and reused afterwards."""
    manifest = corpus_manifest(layout, studies, per_file, seed, templates)
    home = root / f"{layout}-n{studies}-p{per_file}-s{seed}"
    marker = home / "manifest.json"
    if marker.exists() and json.loads(marker.read_text()) == manifest:
        return home / "records"
    shutil.rmtree(home, ignore_errors=True)
    write_records(home / "records", layout, per_file, generate(templates, seed, studies))
    marker.write_text(json.dumps(manifest, indent=1))  # last, so an interrupted build is never reused
    return home / "records"


# ---------------------------------------------------------------- measuring processes


@dataclass(frozen=True)
class Run:
    """One whole process: wall seconds, peak RSS (MiB) and CPU seconds of its process tree, studies it wrote."""

    wall_s: float
    max_rss_mib: float
    studies: int
    cpu_s: float = 0.0


def pin_prefix() -> list[str]:
    """`taskset -c 0` where it exists: one core, the same one for every run."""
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def measure(command: list[str], pinned: bool) -> tuple[float, float, float]:
    """Wall s, peak RSS (MiB) and CPU s of `command`, through a fresh wrapper process; raises when it fails."""
    full = [sys.executable, "-c", WRAPPER, *(pin_prefix() if pinned else []), *command]
    result = json.loads(subprocess.run(full, check=True, capture_output=True, text=True, env=run_env()).stdout)
    if result["rc"] not in (0, 1):  # 1: problems found in records; anything else: the run did not finish
        raise RuntimeError(f"{command} exited {result['rc']}: {result['stderr']}")
    return float(result["wall_s"]), result["max_rss_kb"] / 1024, float(result["cpu_s"])


def run_env() -> dict[str, str]:
    """The environment of measured runs: bytecode allowed (an installed package has it; without it every run
    would compile the project's modules again) and no CI marker (`convert` behaves as for a user)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CI")}


def compile_bytecode() -> None:
    """Compile the project's modules once, as installing it does, so start-up is measured as users see it."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "converters")], check=False,
                   capture_output=True, env=run_env())


def trialbridge() -> list[str]:
    """The installed console script beside this interpreter (what a user runs), else the module."""
    script = Path(sys.executable).parent / "trialbridge"
    return [str(script)] if script.exists() else [sys.executable, "-m", "converters.cli"]


def studies_written(out: Path) -> int:
    """From trialbridge's own report, so a run that skipped records is seen."""
    report = out / "report.json"
    return int(json.loads(report.read_text())["totals"]["studies_written"]) if report.exists() else 0


def run_trialbridge(inputs: Path, out: Path, flags: list[str], pinned: bool = True) -> Run:
    """One `trialbridge convert` into a fresh `out`."""
    shutil.rmtree(out, ignore_errors=True)
    wall, rss, cpu = measure([*trialbridge(), "convert", str(inputs), "--out", str(out), "-q", *flags], pinned)
    return Run(wall, rss, studies_written(out), cpu)


def convert_flags() -> set[str]:
    """Which of the lead's new options this checkout's `convert` has (`--layout`, `--jobs`)."""
    text = subprocess.run([*trialbridge(), "convert", "--help"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}).stdout
    return {flag for flag in ("--layout", "--jobs") if re.search(rf"(?<![\w-]){flag}\b", text)}


def configurations(flags: set[str]) -> dict[str, list[str]]:
    """The measured commands' options; the full pipeline falls back to concatenated SDTM without `--layout`."""
    bulk = ["--layout", "bulk"] if "--layout" in flags else []
    configs: dict[str, list[str]] = {"read->model": []} | ({"read->model bulk": bulk} if bulk else {})
    return configs | {"read->fhir-r4 no-validate": ["--to", "fhir-r4", "--no-validate"],
                      "full fhir-r4,sdtm validated": ["--to", "fhir-r4,sdtm", *(bulk or ["--sdtm-layout",
                                                                                        "concatenated"])]}


def tree_digest(folder: Path) -> str:
    """One hash over every file's relative path and bytes: equal digests mean byte-identical trees."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# ---------------------------------------------------------------- floors (in-process, one core)


def on_one_core() -> set[int]:
    """Pins this process to core 0 and returns the previous set, for the in-process floors."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    return before


def orjson_floor(corpus: Path) -> float | None:
    """Studies/s of `orjson.loads` on every corpus line: the least any reader must spend. None without orjson."""
    try:
        import orjson
    except ImportError:
        return None
    lines = [line for path in sorted(corpus.glob("*.ndjson")) for line in path.read_bytes().splitlines() if line]
    orjson.loads(lines[0])  # warm-up
    start = time.process_time()  # CPU time: the floors, like the CPU rates, hold on a loaded machine
    for line in lines:
        orjson.loads(line)
    return len(lines) / (time.process_time() - start)


def fhir_resources_floor(fhir_out: Path, sample: int) -> tuple[float, str] | None:
    """Studies/s of fhir.resources parsing (pydantic models) trialbridge's R4 bundles, and the FHIR version used.

    fhir.resources 7+ (pydantic 2) ships R5 by default plus R4B (4.3.0) and STU3, no R4 4.0.1 (only its
    pydantic-1 releases had that); the R4 bundles are parsed with the R4B models, whose ResearchStudy, Group,
    PlanDefinition, Organization and Location accept them unchanged.
    """
    try:
        from fhir.resources import R4B
        from fhir.resources.R4B.bundle import Bundle
    except ImportError:
        return None
    texts = [path.read_bytes() for path in sorted(fhir_out.glob("*/fhir-r4/bundle.json"))[:sample]]
    for text in texts:  # an untimed first pass: fhir.resources builds its model classes on first use
        Bundle.model_validate_json(text)
    start = time.process_time()
    for text in texts:
        Bundle.model_validate_json(text)
    return len(texts) / (time.process_time() - start), f"R4B {R4B.__fhir_version__}"


# ---------------------------------------------------------------- the benchmark


def rate_row(size: int, name: str, run: Run, startup: Run, floors: dict[str, float]) -> dict[str, Any]:
    """Whole-process and steady studies/s of one run (also per CPU second: robust to a loaded machine), and how
    many times faster each floor is."""
    whole = run.studies / run.wall_s
    steady = run.studies / max(run.wall_s - startup.wall_s, 1e-9)
    steady_cpu = run.studies / max(run.cpu_s - startup.cpu_s, 1e-9)
    return {"size": size, "config": name, "studies": run.studies, "wall_s": run.wall_s, "startup_s": startup.wall_s,
            "max_rss_mib": run.max_rss_mib, "startup_rss_mib": startup.max_rss_mib, "whole_rate": whole,
            "cpu_s": run.cpu_s, "startup_cpu_s": startup.cpu_s,
            "steady_cpu_rate": steady_cpu,
            "steady_rate": steady, **{f"{k}_over_steady": v / steady_cpu for k, v in floors.items()}}


def measure_size(size: int, corpus: Path, configs: dict[str, list[str]], work: Path) -> list[tuple[str, Run, Run]]:
    """Each configuration once over the corpus; its start-up is the best of three runs over an empty folder."""
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    runs: list[tuple[str, Run, Run]] = []
    for name, flags in configs.items():
        startup = min((run_trialbridge(empty, work / "out-empty", flags) for _ in range(3)), key=lambda r: r.wall_s)
        run = run_trialbridge(corpus, work / f"out-{size}-{len(runs)}", flags)
        if run.studies != size:
            print(f"! {name}: {run.studies} of {size} studies written", file=sys.stderr)
        runs.append((name, run, startup))
        print(f"  {size:>7} {name:<30} {run.wall_s:8.1f} s  {run.max_rss_mib:7.0f} MiB", file=sys.stderr)
    return runs


def jobs_speedup(corpus: Path, flags: list[str], work: Path) -> dict[str, Any]:
    """`--jobs 1` against `--jobs 2`, unpinned, into the same path, and whether the two trees are byte-identical."""
    out = work / "out-jobs"
    one = run_trialbridge(corpus, out, [*flags, "--jobs", "1"], pinned=False)
    first = tree_digest(out)
    two = run_trialbridge(corpus, out, [*flags, "--jobs", "2"], pinned=False)
    return {"jobs1_s": one.wall_s, "jobs2_s": two.wall_s, "speedup": one.wall_s / two.wall_s,
            "jobs1_rss_mib": one.max_rss_mib, "jobs2_rss_mib": two.max_rss_mib,
            "byte_identical": first == tree_digest(out)}


def peer_run(peer_dir: Path, driver: Path, records: Path, out: Path) -> Run:
    """The peer's one-shot whole process (driver SECONDS=0): load, read, convert, write each study, exit."""
    shutil.rmtree(out, ignore_errors=True)
    wall, rss, cpu = measure(["node", str(driver), str(peer_dir), str(records), str(out), "0"], pinned=True)
    return Run(wall, rss, len(list(out.glob("*.json"))), cpu)


def compare_peer(args: argparse.Namespace, templates: list[Template], work: Path) -> list[dict[str, Any]]:
    """Peer and `trialbridge --to fhir-r4 --no-validate` alternating on the same one-study files; medians."""
    rows = []
    for count in args.peer_studies:
        records = build_corpus(args.corpus, "json", count, 0, args.seed, templates)
        peer: list[Run] = []
        ours: list[Run] = []
        for _ in range(args.repeat):
            peer.append(peer_run(args.peer_dir, args.peer_driver, records, work / "out-peer"))
            ours.append(run_trialbridge(records, work / "out-tb-peer", ["--to", "fhir-r4", "--no-validate"]))
        peer_s, ours_s = statistics.median(r.wall_s for r in peer), statistics.median(r.wall_s for r in ours)
        rows.append({"studies": count, "peer_median_s": peer_s, "trialbridge_median_s": ours_s,
                     "ratio": ours_s / peer_s, "peer_written": peer[-1].studies,
                     "trialbridge_written": ours[-1].studies,
                     "peer_rss_mib": peer[-1].max_rss_mib, "trialbridge_rss_mib": ours[-1].max_rss_mib,
                     "peer_cpu_s": statistics.median(r.cpu_s for r in peer),
                     "trialbridge_cpu_s": statistics.median(r.cpu_s for r in ours),
                     "peer_runs_s": [r.wall_s for r in peer], "trialbridge_runs_s": [r.wall_s for r in ours]})
        print(f"  peer {count}: {peer_s:.2f} s vs trialbridge {ours_s:.2f} s", file=sys.stderr)
    return rows


def print_report(result: dict[str, Any]) -> None:
    """The readable table of every figure."""
    print(f"\ncpus={os.cpu_count()} pinned={bool(pin_prefix())} new options={result['convert_flags'] or 'none'}"
          f"  full pipeline layout: {result['full_layout']}")
    for name, value in result["floors"].items():
        print(f"floor {name:<28} {value:10.1f} studies per CPU second (in-process, one core)")
    for note in result["notes"]:
        print(f"note: {note}")
    head = (f"{'size':>7} {'configuration':<28} {'wall s':>8} {'start s':>7} {'whole/s':>8} {'steady/s':>8} "
            f"{'RSS MiB':>8} {'CPU s':>7} {'steady/CPU-s':>12}")
    ratios = [k for k in result["rows"][0] if k.endswith("_over_steady")] if result["rows"] else []
    print("\n" + head + "".join(f" {k.removesuffix('_over_steady') + ' x':>14}" for k in ratios))
    for row in result["rows"]:
        print(f"{row['size']:>7} {row['config']:<28} {row['wall_s']:8.1f} {row['startup_s']:7.2f} "
              f"{row['whole_rate']:8.1f} {row['steady_rate']:8.1f} {row['max_rss_mib']:8.0f} {row['cpu_s']:7.1f} "
              f"{row['steady_cpu_rate']:12.1f}"
              + "".join(f" {row[k]:14.1f}" for k in ratios))
    if ratios:
        print("(floor x: how many times faster the floor is than trialbridge's steady rate per CPU second)")
    if result["jobs"]:
        j = result["jobs"]
        print(f"\n--jobs 1 {j['jobs1_s']:.1f} s, --jobs 2 {j['jobs2_s']:.1f} s: speed-up {j['speedup']:.2f}, "
              f"outputs byte-identical: {j['byte_identical']}")
    for row in result["peer"]:
        print(f"\npeer vs trialbridge --to fhir-r4 --no-validate, {row['studies']} studies, one core, median of "
              f"{len(row['peer_runs_s'])}: peer {row['peer_median_s']:.2f} s, trialbridge "
              f"{row['trialbridge_median_s']:.2f} s, ratio {row['ratio']:.1f} (CPU s {row['peer_cpu_s']:.2f} vs "
              f"{row['trialbridge_cpu_s']:.2f}) "
              f"(written {row['peer_written']} / {row['trialbridge_written']})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; sizes and peer counts are comma-separated integers."""
    ints = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=ints, default=[10000, 100000], help="corpus sizes (studies)")
    parser.add_argument("--per-file", type=int, default=1000, help="records per NDJSON file")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--corpus", type=Path, default=Path.home() / ".cache" / "trialbridge-bench",
                        help="where corpora are cached")
    parser.add_argument("--fhir-sample", type=int, default=200, help="bundles parsed by fhir.resources")
    parser.add_argument("--peer-dir", type=Path, help="the peer's built checkout (see bench/README.md)")
    parser.add_argument("--peer-driver", type=Path, help="mitre-driver.mjs")
    parser.add_argument("--peer-studies", type=ints, default=[758])
    parser.add_argument("--repeat", type=int, default=5, help="alternating peer/trialbridge runs")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Corpus, trialbridge runs per size, floors, jobs, peer; then the table and the JSON."""
    args = parse_args(argv)
    compile_bytecode()
    templates = load_templates(FIXTURES)
    flags = convert_flags()
    configs = configurations(flags)
    notes = [] if "--layout" in flags else ["no --layout: full pipeline uses --sdtm-layout concatenated"]
    rows: list[dict[str, Any]] = []
    floors: dict[str, float] = {}
    jobs: dict[str, Any] = {}
    peer: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tb-scale-") as tmp:
        work = Path(tmp)
        for position, size in enumerate(sorted(args.sizes)):
            corpus = build_corpus(args.corpus, "ndjson", size, args.per_file, args.seed, templates)
            runs = measure_size(size, corpus, configs, work)
            if position == 0:  # floors on the smallest corpus: its records are the first ones of every size
                before = on_one_core()
                orjson_rate = orjson_floor(corpus)
                fhir = fhir_resources_floor(work / f"out-{size}-{list(configs).index('read->fhir-r4 no-validate')}",
                                            args.fhir_sample)
                os.sched_setaffinity(0, before)
                floors |= {"orjson.loads": orjson_rate} if orjson_rate else {}
                notes += [] if orjson_rate else ["orjson not installed: its floor skipped"]
                floors |= {f"fhir.resources {fhir[1]}": fhir[0]} if fhir else {}
                notes += [] if fhir else ["fhir.resources not installed: its floor skipped"]
                if "--jobs" in flags:
                    jobs = jobs_speedup(corpus, configs["full fhir-r4,sdtm validated"], work)
                else:
                    notes.append("no --jobs: the 1 -> 2 jobs speed-up is not measured")
            rows += [rate_row(size, name, run, startup, floors) for name, run, startup in runs]
            for stale in work.glob(f"out-{size}-*"):
                shutil.rmtree(stale)
        if args.peer_dir and args.peer_driver:
            peer = compare_peer(args, templates, work)
    result = {"convert_flags": sorted(flags), "full_layout": "bulk" if "--layout" in flags else "concatenated",
              "floors": floors, "rows": rows, "jobs": jobs, "peer": peer, "notes": notes,
              "cpus": os.cpu_count(), "sizes": sorted(args.sizes), "seed": args.seed}
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
