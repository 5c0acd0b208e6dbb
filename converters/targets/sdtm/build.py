"""One study's five Trial Design tables, and a package of them (one study, or many keyed by STUDYID).

`build_study_tables` runs the TS, TI and TA/TE/TV builders on one study and its schedule. `merge_packages`
concatenates several studies' tables in STUDYID order for the concatenated layout. The table model is the
one the CORE rule runner reads (`TdmTables`: domain -> rows of variable -> value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from converters.model import IdentifierKind, PartialDate, Study
from converters.model.schedule import Schedule
from converters.model.text import plain_text_view
from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.targets.sdtm.design import build_design
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.tables import TDM_DOMAINS, Row
from converters.targets.sdtm.ti import build_ti
from converters.targets.sdtm.ts import build_ts


@dataclass
class StudyTables:
    """Everything the format writers need about one study (or, merged, about several)."""

    study_ids: tuple[str, ...]
    tables: dict[str, list[Row]]
    ts_value_kinds: dict[str, tuple[str, str | None]]  # TSPARMCD -> (value kind, codelist)
    ti_full_texts: dict[tuple[str, str], str]  # (STUDYID, IETESTCD) -> full criterion text
    title: str | None
    last_update: str | None  # ISO 8601 date-time derived from the source's last-update date
    sources: tuple[str, ...]
    problems: list[Problem] = field(default_factory=list)
    # (STUDYID, IETESTCD) -> phrases whose comparison sign was lost; define.xml comments the criterion
    ti_damaged: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


def study_identifier(study: Study, spec: SdtmSpec) -> tuple[str, Problem | None]:
    """STUDYID: the registry id, else the sponsor's study id, else a stable id from the source digest, which
    is not the study's and so is reported."""
    for kind in (IdentifierKind.REGISTRY, IdentifierKind.SPONSOR):
        for ident in study.identifiers:
            if ident.kind is kind and ident.value.strip():
                return ident.value.strip(), None
    derived = f"{spec.settings.digest_prefix}{study.source.sha256[:12].upper()}"
    return derived, codes.SDTM_STUDY_ID_DERIVED(Location(file=study.source.file, path="/identifiers"),
                                                study_id=derived)


def _as_datetime(date: PartialDate) -> str:
    parts = date.value.split("-")
    year, month, day = parts[0], parts[1] if len(parts) > 1 else "01", parts[2] if len(parts) > 2 else "01"
    return f"{year}-{month}-{day}T00:00:00"


def last_update_datetime(study: Study) -> str | None:
    """The source's last update (posted, else submitted) at midnight; a partial date is padded with 01."""
    status = study.status
    for date in (status.last_update_posted, status.last_update_submitted):
        if date is not None:
            return _as_datetime(date)
    return None


def build_study_tables(study: Study, schedule: Schedule, spec: SdtmSpec) -> StudyTables:
    """The tables of one study; every SDTM value is plain text, so Markdown texts are read as plain text first
    (the schedule should be derived from the same plain text: `SdtmWriter.tables_for`)."""
    study = plain_text_view(study)
    study_id, derived = study_identifier(study, spec)
    problems = [derived] if derived else []
    file = study.source.file
    ts = build_ts(study, study_id, spec, file)
    ti = build_ti(study, study_id, spec, file)
    design = build_design(study, schedule, study_id, spec, file)
    tables = {"TS": ts.rows, "TA": design.ta, "TE": design.te, "TV": design.tv, "TI": ti.rows}
    return StudyTables(
        study_ids=(study_id,), tables=tables, ts_value_kinds=ts.value_kinds,
        ti_full_texts={(study_id, code): text for code, text in ti.full_texts.items()},
        title=study.titles.brief or study.titles.official, last_update=last_update_datetime(study),
        sources=(file,), problems=[*problems, *ts.problems, *ti.problems, *design.problems],
        ti_damaged={(study_id, code): phrases for code, phrases in ti.damaged.items()},
    )


def merge_packages(packages: Sequence[StudyTables]) -> StudyTables:
    """Several studies' tables as one package, in the order given (callers sort by STUDYID)."""
    if len(packages) == 1:
        return packages[0]
    tables: dict[str, list[Row]] = {d: [] for d in TDM_DOMAINS}
    kinds: dict[str, tuple[str, str | None]] = {}
    texts: dict[tuple[str, str], str] = {}
    damaged: dict[tuple[str, str], tuple[str, ...]] = {}
    updates = [p.last_update for p in packages if p.last_update]
    for p in packages:
        for domain in TDM_DOMAINS:
            tables[domain].extend(p.tables[domain])
        for code, kind in p.ts_value_kinds.items():
            kinds.setdefault(code, kind)
        texts.update(p.ti_full_texts)
        damaged.update(p.ti_damaged)
    return StudyTables(
        study_ids=tuple(i for p in packages for i in p.study_ids), tables=tables, ts_value_kinds=kinds,
        ti_full_texts=texts, title=None, last_update=max(updates) if updates else None,
        sources=tuple(s for p in packages for s in p.sources), problems=[], ti_damaged=damaged,
    )
