"""Time whole `convert` runs: `python bench/bench_convert.py [INPUT...] [--to fhir-r4] [--repeat 5]`."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from converters.pipeline import ConvertOptions, convert
from converters.resources import Resources

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("inputs", nargs="*", type=Path, default=[ROOT / "fixtures" / "seeds"])
    parser.add_argument("--to", default="study")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    resources = Resources()
    targets = tuple(t for t in args.to.split(",") if t)
    times, studies = [], 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            report = convert(args.inputs, ConvertOptions(out_dir=Path(tmp), targets=targets), resources)
            times.append(time.perf_counter() - start)
            studies = report.studies_written()
    best, median = min(times), statistics.median(times)
    print(f"cpus={os.cpu_count()} inputs={[str(p) for p in args.inputs]} targets={targets}")
    print(f"studies={studies} runs={args.repeat} best={best:.3f}s median={median:.3f}s "
          f"studies/s(best)={studies / best:.1f}")


if __name__ == "__main__":
    main()
