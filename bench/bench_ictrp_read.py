"""Records per CPU second to read WHO ICTRP files (any of the three formats) into `Study` objects, in-process.

    python bench/bench_ictrp_read.py FILE... [--repeat 3]

For each file: detection picks the reader, one warm-up read compiles its field map, then the best of `--repeat`
reads (`time.process_time`) is reported as records/s: decoding, parsing, the field map, the unmapped listing and
the model, everything `convert` does before writing. A script, not a test: speed is measured, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from converters.loading import SourceDocument
from converters.readers import ReaderConfig, choose_reader, discover_readers
from converters.resources import Resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = ReaderConfig(resources=Resources())
    readers = discover_readers()
    for path in args.files:
        data = path.read_bytes()
        doc = SourceDocument(path.name, data, hashlib.sha256(data).hexdigest())
        reader = choose_reader(doc, readers)
        if reader is None:
            print(f"{path.name}: no reader")
            continue
        list(reader.read(doc, config))  # warm-up: compiles the field map
        best, outcomes = float("inf"), []
        for _ in range(args.repeat):
            start = time.process_time()
            outcomes = list(reader.read(doc, config))
            best = min(best, time.process_time() - start)
        studies = sum(1 for o in outcomes if o.study is not None)
        print(f"{path.name}: {reader.name} {studies} studies, {len(outcomes) - studies} other outcomes, "
              f"{best:.3f} CPU s -> {studies / best:,.0f} records/s")


if __name__ == "__main__":
    main()
