"""Count the damaged comparators the readers find, per input file, and list them.

    python tools/count_damaged_comparators.py fixtures/seeds fixtures/ctgov          # counts and every phrase
    python tools/count_damaged_comparators.py /work/shared/data/ctgov/v2 --sample 20 --seed 1

Every file under the paths is read by the reader that recognises it (as `convert` does); each study's
`criteria-comparator-damaged` problems are counted and each damaged phrase is printed with its location and
the criterion text around it, so a person can judge precision. `--sample N` prints N of the phrases drawn at
random (reproducibly with `--seed`) instead of all of them. Nothing here runs when trialbridge runs.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from converters.loading import SourceDocument, iter_input_files
from converters.model import Criterion, Study
from converters.readers import ReaderConfig, choose_reader, discover_readers
from converters.resources import Resources

CODE = "criteria-comparator-damaged"
_CONTEXT = 50


@dataclass(frozen=True)
class Finding:
    file: str
    record: str | None
    where: str  # line (pages) or source path (records)
    phrase: str
    damage: str
    context: str


def studies(paths: list[Path], resources: Resources) -> Iterator[tuple[str, Study]]:
    readers = discover_readers()
    config = ReaderConfig(resources=resources)
    for path, missing in iter_input_files(paths):
        if missing or "openapi" in path.parts:
            continue
        data = path.read_bytes()
        doc = SourceDocument(str(path), data, hashlib.sha256(data).hexdigest())
        reader = choose_reader(doc, readers)
        if reader is None:
            continue
        for outcome in reader.read(doc, config):
            if outcome.study is not None:
                yield str(path), outcome.study


def findings(file: str, study: Study) -> list[Finding]:
    """One finding per damaged phrase, in criteria order, located by the study's problem about it."""
    problems = [p for p in study.problems if p.code == CODE]
    out = []
    for s, section in enumerate(study.eligibility.criteria):
        for pointer, item in _items(section.items, f"/eligibility/criteria/{s}/items"):
            for mark in item.damaged_comparators:
                said = f"at {pointer}/text states {mark.phrase!r}"
                (location,) = [p.location for p in problems if said in p.message][:1]
                where = f"line {location.line}" if location.line is not None else (location.path or "-")
                left, right = max(0, mark.start - _CONTEXT), min(len(item.text), mark.end + _CONTEXT)
                context = "…" * bool(left) + item.text[left:right].replace("\n", " ") + "…" * (right < len(item.text))
                out.append(Finding(file, study.registry_id() or study.source.record, where, mark.phrase,
                                   mark.damage, context))
    assert len(out) == len(problems), "every mark is reported once"
    return out


def _items(items: list[Criterion], base: str) -> Iterator[tuple[str, Criterion]]:
    for i, item in enumerate(items):
        yield f"{base}/{i}", item
        yield from _items(item.children, f"{base}/{i}/children")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--sample", type=int, default=None, help="print this many phrases drawn at random")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    resources = Resources()
    found: list[Finding] = []
    per_file: dict[str, tuple[int, int]] = {}
    for file, study in studies(args.paths, resources):
        mine = findings(file, study)
        count, records = per_file.get(file, (0, 0))
        per_file[file] = (count + len(mine), records + 1)
        found += mine
    for file, (count, records) in per_file.items():
        if count:
            print(f"{count:4d}  {file}" + (f"  ({records} studies)" if records > 1 else ""))
    studies_read = sum(r for _, r in per_file.values())
    with_damage = len({(f.file, f.record) for f in found})
    print(f"total: {len(found)} damaged comparators in {with_damage} of {studies_read} studies "
          f"({len(per_file)} files)")
    shown = found if args.sample is None else random.Random(args.seed).sample(found, min(args.sample, len(found)))
    for f in shown:
        record = f" [{f.record}]" if f.record else ""
        print(f"- {Path(f.file).name}{record} {f.where}: {f.phrase!r} ({f.damage})  «{f.context}»")


if __name__ == "__main__":
    main()
