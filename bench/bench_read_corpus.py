"""CPU seconds to read a directory of ClinicalTrials.gov API v2 files into `Study` objects, in-process.

    python bench/bench_read_corpus.py DIR [--repeat 3] [--profile OUT]

Reads every `*.json` under DIR into memory first, then times (time.process_time, best of `--repeat`) the
`ctgov-v2-json` reader's `read` over them: decoding, JSON parsing, schema check, field map, unmapped listing and
the model -- everything `convert` does before writing. The converter is compiled before timing, as in a run.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import time
from pathlib import Path

from converters.loading import SourceDocument
from converters.readers import ReaderConfig
from converters.readers.ctgov_v2 import READER
from converters.resources import Resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one extra round here")
    args = parser.parse_args()
    config = ReaderConfig(resources=Resources(), max_bytes=1 << 31, max_expanded_bytes=1 << 31)
    READER.converter(config.resources)
    docs = []
    for path in sorted(args.directory.glob("*.json")):
        data = path.read_bytes()
        docs.append(SourceDocument(path.name, data, hashlib.sha256(data).hexdigest()))

    def one_round() -> int:
        return sum(1 for doc in docs for outcome in READER.read(doc, config) if outcome.study is not None)

    best, count = float("inf"), 0
    for _ in range(args.repeat):
        start = time.process_time()
        count = one_round()
        best = min(best, time.process_time() - start)
    print(f"{count} studies in {best:.3f} CPU s (best of {args.repeat}) -> {count / best:,.0f} studies/s")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(one_round)
        profiler.dump_stats(str(args.profile))


if __name__ == "__main__":
    main()
