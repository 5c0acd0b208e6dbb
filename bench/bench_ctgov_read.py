"""Records/s reading ClinicalTrials.gov API v2 JSON into the canonical model, on one core.

    python bench/bench_ctgov_read.py [--copies 20] [--repeat 5] [--form ndjson|array] [--freeze-gc]

The 59 fixture records (49 files and the 10 studies of the API page) are repeated `--copies` times into one
in-memory document of the chosen form and read with the `ctgov-v2-json` reader: JSON parsing, the schema check
(jsonschema-rs, then fastjsonschema for a record it refuses), the field map, the unmapped-leaf listing and
pydantic construction of each `Study` -- all of what `convert` does before writing. The reader's compiled
schemas and field map are built once, before timing, as in a run. Also printed: the rate without the one
1.5 MB record (NCT02513394, 437 sites), which is far larger than a typical study, and the time per phase
(best of `--repeat` rounds over the records, each phase on its own).

Python's cyclic garbage collector takes a good part of the time (10-15 % here): every record allocates
thousands of container objects (parsed JSON, model objects) that live until the record is done, and that
triggers collections. `--freeze-gc` calls `gc.freeze()` after start-up, as a command-line run could, to show
what that would give; by default the collector runs as it does in the product today.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from converters.fieldmap import MapResult, UnmappedEntry
from converters.loading import SourceDocument
from converters.model import SourceInfo
from converters.problems import Location
from converters.readers import ReaderConfig
from converters.readers.ctgov_v2 import READER
from converters.readers.ctgov_v2.record import build_study
from converters.resources import Resources

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "ctgov" / "v2"
LARGE = "NCT02513394"


def load_records(include_large: bool) -> list[dict[str, Any]]:
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("NCT*.json"))]
    records += json.loads((FIXTURES / "pages" / "page_condition_query_response.json").read_text())["studies"]
    if not include_large:
        records = [r for r in records if r["protocolSection"]["identificationModule"]["nctId"] != LARGE]
    return records


def make_document(records: list[dict[str, Any]], form: str) -> bytes:
    if form == "ndjson":
        return ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n").encode()
    return json.dumps(records, ensure_ascii=False).encode()


def time_reader(data: bytes, config: ReaderConfig, repeat: int) -> tuple[float, int]:
    doc = SourceDocument("bench.json", data, hashlib.sha256(data).hexdigest())
    best, count = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = sum(1 for outcome in READER.read(doc, config) if outcome.study is not None)
        best = min(best, time.perf_counter() - start)
    return best, count


def time_phases(records: list[dict[str, Any]], config: ReaderConfig, repeat: int) -> dict[str, float]:
    """Microseconds per record for each step, to see what dominates (best of `repeat` rounds per step)."""
    converter = READER.converter(config.resources)
    texts = [json.dumps(r) for r in records]
    where = lambda p: Location(path=p)  # noqa: E731
    out: dict[str, float] = {}

    def clock(name: str, fn: Any, items: list[Any]) -> list[Any]:
        results: list[Any] = []
        best = float("inf")
        for _ in range(repeat):
            gc.collect()
            start = time.perf_counter()
            results = [fn(item) for item in items]
            best = min(best, time.perf_counter() - start)
        out[name] = best / len(items) * 1e6
        return results

    clock("json.loads", json.loads, texts)
    clock("schema", converter.schema_failures, records)
    results = clock("field map", lambda r: converter.field_map.apply(r, "", where), records)
    entries = clock("unmapped listing",
                    lambda rr: converter.field_map.unmapped(rr[0], "", rr[1], {}, converter.is_known),
                    list(zip(records, results, strict=True)))
    source = SourceInfo(file="bench.json", format="ctgov-v2-json", sha256="0" * 64)

    def build(item: tuple[MapResult, list[UnmappedEntry]]) -> Any:
        result, unmapped = item
        copy = MapResult(dict(result.data), result.provenance, result.consumed, result.absent, result.rejected, [])
        return build_study(copy, unmapped, [], source)

    clock("Study (pydantic)", build, list(zip(results, entries, strict=True)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--form", choices=["ndjson", "array"], default="ndjson")
    parser.add_argument("--freeze-gc", action="store_true", help="gc.freeze() after start-up (not the default)")
    args = parser.parse_args()
    config = ReaderConfig(resources=Resources(), max_bytes=1 << 31, max_expanded_bytes=1 << 31)
    READER.converter(config.resources)  # compile once, outside the timing, as a run does
    if args.freeze_gc:
        gc.collect()
        gc.freeze()
    print(f"cpus={os.cpu_count()} (one core used) form={args.form} copies={args.copies} best of {args.repeat}"
          f"{' gc frozen after start-up' if args.freeze_gc else ''}")
    for label, include_large in (("all 59 fixture records", True), (f"without {LARGE} (1.5 MB)", False)):
        records = load_records(include_large)
        data = make_document(records * args.copies, args.form)
        sizes = [len(json.dumps(r)) for r in records]
        del records  # a run holds one record at a time: keep the collector's work what it is in a run
        gc.collect()
        seconds, count = time_reader(data, config, args.repeat)
        print(f"{label}: {count} records, {len(data) / 1e6:.1f} MB, {seconds:.2f} s -> "
              f"{count / seconds:,.0f} records/s, {len(data) / 1e6 / seconds:.1f} MB/s "
              f"(median record {statistics.median(sizes) / 1000:.0f} kB)")
    phases = time_phases(load_records(False), config, args.repeat)
    print("per record, without the large one: " + ", ".join(f"{k} {v:.0f} us" for k, v in phases.items()))


if __name__ == "__main__":
    main()
