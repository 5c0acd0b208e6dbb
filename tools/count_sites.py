"""Count study sites in and Location resources out, for every record under the folders (or files) given.

`python tools/count_sites.py PATH... [--version R4|R5] [--per-record]`

For each record the readers recognise: the number of site entries in the source (`Study.sites`), the number of
distinct site identities the FHIR writer sees in them, and the number of Location resources the writer makes
(one per identity). A record where Locations < sites had site entries merged; `--per-record` lists those
records with the source paths of each merged Location (from the trace). Totals are printed per top-level
folder given. Nothing is written to disk; the inputs are read with the pipeline's own loading and reader choice.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters.loading import iter_input_files, load_document  # noqa: E402
from converters.problems import Problem  # noqa: E402
from converters.readers import ReaderConfig, choose_reader, discover_readers  # noqa: E402
from converters.resources import Resources  # noqa: E402
from converters.targets.fhir import FhirMaps, build_bundle  # noqa: E402


@dataclass
class Tally:
    files: int = 0
    records: int = 0
    records_with_sites: int = 0
    sites: int = 0
    locations: int = 0
    merged_records: list[tuple[str, int, int, list[list[str]]]] = field(default_factory=list)


def merged_sources(bundle: dict[str, object], trace: dict[str, object]) -> list[list[str]]:
    """For each Location made from more than one site entry, the `/sites/i` entries it came from."""
    entries = bundle["entry"]
    assert isinstance(entries, list)
    location_index = {i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "Location"}
    sites: dict[int, set[str]] = {}
    elements = trace["elements"]
    assert isinstance(elements, list)
    for element in elements:
        index = int(element["path"].split("/")[2])
        study_pointer: str = element["study"]
        if index in location_index and study_pointer.startswith("/sites/"):
            sites.setdefault(index, set()).add("/".join(study_pointer.split("/")[:3]))
    return [sorted(s, key=lambda p: int(p.rsplit("/", 1)[1])) for s in sites.values() if len(s) > 1]


def count(paths: list[Path], version: str) -> Tally:
    resources = Resources(root=ROOT)
    readers = discover_readers()
    maps = FhirMaps.load(resources, version)  # type: ignore[arg-type]
    config = ReaderConfig(resources=resources)
    tally = Tally()
    for path, problem in iter_input_files(paths):
        if problem is not None:
            continue
        doc = load_document(path, config.max_bytes)
        if isinstance(doc, Problem):
            continue
        reader = choose_reader(doc, readers)
        if reader is None:
            continue
        tally.files += 1
        for outcome in reader.read(doc, config):
            if outcome.study is None:
                continue
            tally.records += 1
            study = outcome.study
            built = build_bundle(study, maps, resources)
            locations = sum(1 for e in built.bundle["entry"] if e["resource"]["resourceType"] == "Location")
            n_sites = len(study.sites)
            tally.sites += n_sites
            tally.locations += locations
            tally.records_with_sites += n_sites > 0
            if locations < n_sites:
                label = f"{path}" + (f"#{outcome.record}" if outcome.record else "")
                tally.merged_records.append((label, n_sites, locations,
                                             merged_sources(built.bundle, built.trace)))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--version", choices=["R4", "R5"], default="R4")
    parser.add_argument("--per-record", action="store_true", help="list each record whose sites were merged")
    args = parser.parse_args()
    totals: Counter[str] = Counter()
    for path in args.paths:
        tally = count([path], args.version)
        print(f"{path}: files {tally.files}, records {tally.records} ({tally.records_with_sites} with sites), "
              f"source site entries {tally.sites}, Location resources {tally.locations}, "
              f"records with merged sites {len(tally.merged_records)}")
        if args.per_record:
            for label, n_sites, locations, groups in tally.merged_records:
                print(f"  {label}: {n_sites} site entries -> {locations} Locations")
                for group in groups:
                    print(f"    one Location from {', '.join(group)}")
        totals.update(records=tally.records, sites=tally.sites, locations=tally.locations,
                      merged=len(tally.merged_records))
    if len(args.paths) > 1:
        print(f"total: records {totals['records']}, source site entries {totals['sites']}, "
              f"Location resources {totals['locations']}, records with merged sites {totals['merged']}")


if __name__ == "__main__":
    main()
