"""define.xml comments a TI criterion whose text lost a comparison sign (TI has no variable for it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lxml import etree

from converters.model import CriteriaSection, Criterion, Eligibility, Study
from converters.model.comparators import ComparatorRules, mark_damaged_comparators
from converters.problems import Severity
from converters.resources import Resources
from converters.targets.base import WriterConfig, WriteResult
from converters.targets.sdtm import SdtmWriter

from .studies import randomized_study, seed_001_study

DEF = "{http://www.cdisc.org/ns/def/v2.1}"
ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
Write = Callable[[Study], tuple[Path, WriteResult]]


def _damaged(study: Study, resources: Resources) -> Study:
    criteria = [
        CriteriaSection(category="inclusion", items=[
            Criterion(text="Aged 18-65 years;"),
            Criterion(text="Nuclear antibody test positive, namely ANA titer 1:80;"),
        ]),
        CriteriaSection(category="exclusion", items=[Criterion(text="Prednisone = 100 mg/d for =14 days;")]),
    ]
    marked = study.model_copy(update={"eligibility": Eligibility(criteria=criteria)})
    return mark_damaged_comparators(marked, ComparatorRules.load(resources))


def _comments(define: etree._Element) -> dict[str, str]:
    return {c.get("OID"): "".join(c.itertext()).strip() for c in define.iter(f"{DEF}CommentDef")}


def test_the_damaged_criterion_is_commented_in_define_xml(write: Write, resources: Resources) -> None:
    folder, result = write(_damaged(seed_001_study(), resources))
    assert not [p for p in result.problems if p.severity in (Severity.ERROR, Severity.FATAL)]
    define = etree.parse(str(folder / "define.xml")).getroot()
    items = {i.get("OID"): i for i in define.iter(f"{ODM}ItemDef")}
    assert items["IT.TI.IETEST.INCL02"].get(f"{DEF}CommentOID") == "COM.TI.IETEST.INCL02"
    assert items["IT.TI.IETEST.EXCL01"].get(f"{DEF}CommentOID") == "COM.TI.IETEST.EXCL01"
    assert "IT.TI.IETEST.INCL01" not in items, "an honest, short criterion needs no value-level item"
    comments = _comments(define)
    assert set(comments) == {"COM.TI.IETEST.INCL02", "COM.TI.IETEST.EXCL01"}
    assert "damaged" in comments["COM.TI.IETEST.INCL02"] and "'ANA titer 1:80'" in comments["COM.TI.IETEST.INCL02"]
    assert "'= 100 mg/d', '=14 days'" in comments["COM.TI.IETEST.EXCL01"]
    ti = (folder / "csv" / "ti.csv").read_text(encoding="utf-8")
    assert "namely ANA titer 1:80;" in ti, "IETEST keeps the text as written"


def test_concatenated_define_keys_the_comment_by_study(resources: Resources, tmp_path: Path) -> None:
    writer = SdtmWriter(WriterConfig(resources=resources, options={"sdtm_layout": "concatenated"}))
    for study, folder in ((_damaged(seed_001_study(), resources), "a"), (randomized_study(), "b")):
        for payload in writer.write_study(study, tmp_path / folder).shared:
            writer.collect(payload, tmp_path)
    result = writer.finish(tmp_path).checked()
    assert not [p for p in result.problems if p.severity in (Severity.ERROR, Severity.FATAL)]
    define = etree.parse(str(tmp_path / "sdtm" / "define.xml")).getroot()
    assert set(_comments(define)) == {"COM.TI.IETEST.NCT06420154.INCL02", "COM.TI.IETEST.NCT06420154.EXCL01"}
