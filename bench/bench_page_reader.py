"""Time the registry-page reader alone: `python bench/bench_page_reader.py [PAGE...] [--repeat 50]`.

Prints, per page, the best and median time of one read (decode + layout + all rules + building the Study),
then the time to read all pages once, and the one-off cost of compiling the mapping rules.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from pathlib import Path

from converters.loading import SourceDocument
from converters.readers.base import ReaderConfig
from converters.readers.registry_page import RegistryPageReader, line_coverage
from converters.resources import Resources

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", type=Path, default=sorted((ROOT / "fixtures" / "seeds").glob("*.txt")))
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    resources = Resources()
    reader = RegistryPageReader()
    start = time.perf_counter()
    reader.rules(resources)
    compile_s = time.perf_counter() - start
    config = ReaderConfig(resources=resources)
    docs = []
    for page in args.pages:
        data = page.read_bytes()
        docs.append(SourceDocument(page.name, data, hashlib.sha256(data).hexdigest()))
    print(f"cpus={os.cpu_count()} pages={len(docs)} repeat={args.repeat} "
          f"rules compiled once in {compile_s * 1000:.1f} ms")
    totals: list[float] = []
    per_page: dict[str, list[float]] = {doc.name: [] for doc in docs}
    for _ in range(args.repeat):
        round_start = time.perf_counter()
        for doc in docs:
            t0 = time.perf_counter()
            outcomes = list(reader.read(doc, config))
            per_page[doc.name].append(time.perf_counter() - t0)
            assert outcomes and outcomes[0].study is not None
        totals.append(time.perf_counter() - round_start)
    for doc in docs:
        study = next(iter(reader.read(doc, config))).study
        assert study is not None
        used, total = line_coverage(study)
        times = per_page[doc.name]
        print(f"{doc.name}: layout={study.source.layout} lines mapped={used}/{total} "
              f"best={min(times) * 1000:.2f} ms median={statistics.median(times) * 1000:.2f} ms")
    best, median = min(totals), statistics.median(totals)
    print(f"all {len(docs)} pages: best={best * 1000:.2f} ms median={median * 1000:.2f} ms "
          f"pages/s(best)={len(docs) / best:.0f}")


if __name__ == "__main__":
    main()
