"""The concatenated layout streamed (converters/targets/sdtm/concat.py): the same files and problems as the whole
merged package written at once, and a collected state that does not grow with the tables."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from converters.resources import Resources
from converters.targets.base import WriterConfig
from converters.targets.sdtm import SdtmWriter
from converters.targets.sdtm.concat import ConcatStudy
from converters.targets.sdtm.metadata import describe_all
from converters.targets.sdtm.tables import StudyTables, merge_packages

from .studies import observational_study, randomized_study, seed_001_study


def _renamed(package: StudyTables, study_id: str) -> StudyTables:
    """A study's tables under another STUDYID (to make many distinct studies from a few)."""
    old = package.study_ids[0]
    tables = {d: [{**r, "STUDYID": study_id} for r in rows] for d, rows in package.tables.items()}
    return replace(package, study_ids=(study_id,), tables=tables, sources=(f"{study_id}.json",),
                   ti_full_texts={(study_id, c): t for (_, c), t in package.ti_full_texts.items()},
                   ti_damaged={(study_id, c): p for (_, c), p in package.ti_damaged.items()},
                   title=f"{package.title} ({old})")


def _packages(writer: SdtmWriter, count: int) -> list[StudyTables]:
    """`count` distinct studies (ids in no sorted order), then one duplicate of the first."""
    bases = [writer.tables_for(s) for s in (randomized_study(), seed_001_study(), observational_study())]
    made = [_renamed(bases[i % 3], f"NCT{(i * 7919) % 100000:08d}") for i in range(count)]
    return [*made, made[0]]


def _payload(writer: SdtmWriter, package: StudyTables) -> ConcatStudy:
    return ConcatStudy.of(package, describe_all(package.tables, writer.spec))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("text_number", [False, True], ids=["native-xpt", "pyreadstat-xpt"])
def test_streamed_package_is_the_merged_package_written_whole(resources: Resources, tmp_path: Path,
                                                              text_number: bool) -> None:
    writer = SdtmWriter(WriterConfig(resources=resources, options={"sdtm_layout": "concatenated"}))
    packages = _packages(writer, 7)
    if text_number:  # a number as text in a numeric variable: ts.xpt goes through pyreadstat, whole
        ts = packages[3].tables["TS"]
        ts[0] = {**ts[0], "TSSEQ": str(ts[0]["TSSEQ"])}
        assert not _payload(writer, packages[3]).numbers_fit["TS"]
    for package in packages:
        writer.collect(_payload(writer, package), tmp_path / "streamed")
    streamed = writer.finish(tmp_path / "streamed").checked()

    kept = {p.study_ids[0]: p for p in reversed(packages)}
    whole = writer.write_package(merge_packages(sorted(kept.values(), key=lambda p: p.study_ids[0])),
                                 tmp_path / "whole" / "sdtm", tmp_path / "whole").checked()
    assert _tree(tmp_path / "streamed") == _tree(tmp_path / "whole")
    assert streamed.problems[0].code == "sdtm-write-duplicate-study"
    assert streamed.problems[1:] == whole.problems
    assert sum(p.code == "sdtm-core-rules-summary" for p in whole.problems) == 7


def _peak_while_concatenating(resources: Resources, folder: Path, count: int) -> int:
    """Peak traced memory over collecting `count` studies and writing the concatenated package."""
    writer = SdtmWriter(WriterConfig(resources=resources, options={"sdtm_layout": "concatenated"}))
    bases = _packages(writer, 3)[:3]
    tracemalloc.start()
    try:
        for i in range(count):  # each study's part made, collected and dropped, as the committing process does
            package = _renamed(bases[i % 3], f"NCT{(i * 7919) % 100000:08d}")
            writer.collect(_payload(writer, package), folder)
        writer.finish(folder)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_collected_state_stays_flat_as_studies_grow(resources: Resources, tmp_path: Path) -> None:
    small = _peak_while_concatenating(resources, tmp_path / "small", 40)
    large = _peak_while_concatenating(resources, tmp_path / "large", 160)
    # holding the tables (as before) cost about 130 KB per study here (5.4 MB at 40 studies, 21 MB at 160).
    # define.xml is streamed now (test_define_stream.py); what still grows is the spool index (one entry a study)
    # and the merged facts: a few KB a study at most
    per_study = (large - small) / 120
    assert per_study < 4096, (small, large)
    assert large < 2 * small, (small, large)
