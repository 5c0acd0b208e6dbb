"""One study's five Trial Design tables, built from the canonical study (a `tables.StudyTables` package).

`build_study_tables` runs the TS, TI and TA/TE/TV builders on one study and its schedule; the table model they
fill, and `merge_packages` for the concatenated layout, are in `tables`.
"""

from __future__ import annotations

from converters.model import IdentifierKind, PartialDate, Study
from converters.model.schedule import Schedule
from converters.model.text import plain_text_view
from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.targets.sdtm.design import build_design
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.tables import StudyTables
from converters.targets.sdtm.ti import build_ti
from converters.targets.sdtm.ts import build_ts


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
