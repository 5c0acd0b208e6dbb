"""define.xml streamed (`define_xml.stream_define`) and checked while parsed (`define_file_error`): the same bytes
as the tree rendered whole, the same verdict and message as the tree checked whole, and nothing held per study."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Collection, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from converters.resources import Resources
from converters.targets.base import WriterConfig
from converters.targets.sdtm import SdtmWriter, define_xml
from converters.targets.sdtm.checks import OutputValidators
from converters.targets.sdtm.concat import ConcatState, ConcatStudy
from converters.targets.sdtm.define_xml import DefineFacts, DefineHeader, IetestFact
from converters.targets.sdtm.metadata import describe_all
from converters.targets.sdtm.spec import SdtmSpec

from .studies import observational_study, randomized_study, seed_001_study
from .test_concat_stream import _renamed

_AWKWARD = "a < b & c > d \"quoted\" 'single' é ≥ 5\r\n\ttab"


def _header(study_ids: tuple[str, ...]) -> DefineHeader:
    several = len(study_ids) > 1
    return DefineHeader(
        file_oid="STDY.X.DEFINE", creation_datetime="2024-01-02T03:04:05", study_oid="STDY.X",
        study_name="TRIALBRIDGE CONCATENATED" if several else study_ids[0],
        study_description="Studies: " if several else f"One study {_AWKWARD}", protocol_name="P",
        metadata_version_oid="MDV.X", source_version="0", archive_format="xpt",
        study_ids=study_ids if several else (),
    )


def _concat_facts(resources: Resources, spec: SdtmSpec, folder: Path, count: int) -> tuple[DefineFacts, ConcatState]:
    writer = SdtmWriter(WriterConfig(resources=resources, options={"sdtm_layout": "concatenated"}))
    bases = [writer.tables_for(s) for s in (randomized_study(), seed_001_study(), observational_study())]
    state = ConcatState.open(folder)
    for i in range(count):
        package = _renamed(bases[i % 3], f"NCT{(i * 7919) % 100000:08d}")
        state.add(ConcatStudy.of(package, describe_all(package.tables, spec)))
    return state.define_facts(state.datasets(spec)), state


def _both(facts: DefineFacts, spec: SdtmSpec, header: DefineHeader) -> tuple[bytes, bytes]:
    whole = define_xml.render_define(define_xml.build_define(facts, spec, header))
    streamed = io.BytesIO()
    define_xml.stream_define(streamed, facts, spec, header)
    return whole, streamed.getvalue()


@pytest.mark.parametrize("batch", [1, 3, 256])
def test_streamed_define_is_the_tree_rendered(resources: Resources, spec: SdtmSpec, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    monkeypatch.setattr(define_xml, "_BATCH", batch)
    facts, state = _concat_facts(resources, spec, tmp_path, 7)
    assert len(facts.ietest) > 3  # several batches of criteria
    ids = tuple(e.study_id for e in state.kept())
    whole, streamed = _both(facts, spec, _header(ids))
    assert streamed == whole
    # text that needs escaping, in the study ids and in the criteria (full text and damaged phrases)
    awkward = [IetestFact(f"{_AWKWARD}{n}", f"IN{n:02d}", 10 + n, f"{_AWKWARD} {n}", (_AWKWARD,) if n % 2 else None)
               for n in range(5)]
    facts = replace(facts, ietest=awkward)
    whole, streamed = _both(facts, spec, _header((*ids, _AWKWARD, "NCT&<>" * 300)))
    assert streamed == whole
    assert b"&amp;" in streamed and b"&#13;" in streamed


def test_streamed_define_of_one_study_and_of_none_described(resources: Resources, spec: SdtmSpec,
                                                            tmp_path: Path) -> None:
    facts, _ = _concat_facts(resources, spec, tmp_path, 1)
    for case in (facts, replace(facts, ietest=[]), replace(facts, ts_values={})):
        whole, streamed = _both(case, spec, _header(("NCT00000000",)))
        assert streamed == whole


class _Criteria(Collection[IetestFact]):
    """`count` criteria made as they are read (as the spool gives them), none held."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[IetestFact]:
        for n in range(self.count):
            yield IetestFact(f"NCT{n:08d}", "IN01", 180, f"criterion {n} " + "x" * 300, ("≥ 5",) if n % 7 else None)

    def __contains__(self, item: object) -> bool:
        return False


def _define_peak(facts: DefineFacts, spec: SdtmSpec, count: int, path: Path) -> int:
    ids = tuple(f"NCT{n:08d}" for n in range(count))
    facts = replace(facts, ietest=_Criteria(count))
    tracemalloc.start()
    try:
        with path.open("wb") as handle:
            define_xml.stream_define(handle, facts, spec, _header(ids))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_define_generation_holds_nothing_per_study(resources: Resources, spec: SdtmSpec, tmp_path: Path) -> None:
    facts, _ = _concat_facts(resources, spec, tmp_path, 3)
    small = _define_peak(facts, spec, 1000, tmp_path / "small.xml")
    large = _define_peak(facts, spec, 4000, tmp_path / "large.xml")
    assert (tmp_path / "large.xml").stat().st_size > 3.5 * (tmp_path / "small.xml").stat().st_size
    # rendering the document whole would hold its bytes: about 1.5 KB a criterion here, 4.5 MB more at 4000
    assert large - small < 200_000, (small, large)


def test_define_checked_while_parsed(resources: Resources, spec: SdtmSpec, tmp_path: Path) -> None:
    facts, state = _concat_facts(resources, spec, tmp_path, 7)
    ids = tuple(e.study_id for e in state.kept())
    good = tmp_path / "define.xml"
    with good.open("wb") as handle:
        define_xml.stream_define(handle, facts, spec, _header(ids))
    validators = OutputValidators(resources)
    assert validators.define_file_error(good) is None
    content = good.read_bytes()
    last = content.rindex(b'<ItemDef OID="')
    first = content.index(b'<ItemDef OID="')
    duplicate = content[first:content.index(b'"', first + 14) + 1]  # an OID seen long before, again at the end
    bad_cases = {
        "duplicate OID": content[:last] + duplicate + content[content.index(b'"', last + 14) + 1:],
        "enumeration": content.replace(b'Comparator="EQ"', b'Comparator="XX"', 1),
        "not well-formed": content[:-40],
    }
    writer = SdtmWriter(WriterConfig(resources=resources))
    for name, bad in bad_cases.items():
        path = tmp_path / "bad.xml"
        path.write_bytes(bad)
        assert validators.define_file_error(path) is not None, name
        # the problem reported is the one the whole-tree check gives (the failing file is read whole)
        streamed = writer._check_define_file(path, "sdtm/define.xml")
        assert streamed == writer._check_define(bad, path.name, "sdtm/define.xml"), name
        assert len(streamed) == 1 and streamed[0].code == "sdtm-write-output-invalid", name
