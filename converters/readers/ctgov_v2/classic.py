"""Recognise the retired ClinicalTrials.gov classic API (v1) so its records are refused, not half-read.

Classic responses are `{"FullStudiesResponse": {"APIVrs": ..., "FullStudies": [{"Rank", "Study":
{"ProtocolSection": ...}}]}}` or `{"StudyFieldsResponse": {..., "StudyFields": [...]}}`, with PascalCase
field names and text dates. A bare classic study (`{"Study": {"ProtocolSection": ...}}` or
`{"ProtocolSection": ...}`) is recognised too, e.g. inside an API v2 array or NDJSON file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from converters.problem_codes import ctgov
from converters.problems import Location, Problem

SNIFF_MARKERS = (b'"FullStudiesResponse"', b'"StudyFieldsResponse"')


@dataclass(frozen=True)
class ClassicShape:
    shape: str  # e.g. "FullStudiesResponse"
    version: str | None  # APIVrs when given
    nct_ids: tuple[str, ...]


def classic_shape(value: Any) -> ClassicShape | None:
    """The classic-API shape of a parsed JSON value, or None when it is not one."""
    if not isinstance(value, dict):
        return None
    for key in ("FullStudiesResponse", "StudyFieldsResponse"):
        body = value.get(key)
        if isinstance(body, dict):
            version = body.get("APIVrs")
            return ClassicShape(key, str(version) if version is not None else None, _ids(body))
    study = value.get("Study", value)
    if isinstance(study, dict) and isinstance(study.get("ProtocolSection"), dict):
        return ClassicShape("classic API study record", None, _ids({"FullStudies": [{"Study": study}]}))
    return None


def _ids(body: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for entry in body.get("FullStudies") or []:
        try:
            nct = entry["Study"]["ProtocolSection"]["IdentificationModule"]["NCTId"]
        except (KeyError, TypeError):
            continue
        if isinstance(nct, str):
            found.append(nct)
    for entry in body.get("StudyFields") or []:
        ids = entry.get("NCTId") if isinstance(entry, dict) else None
        if isinstance(ids, list):
            found.extend(i for i in ids if isinstance(i, str))
    return tuple(found)


def classic_problem(shape: ClassicShape, location: Location) -> Problem:
    """The one problem that refuses a classic-API document or record."""
    detail = f"APIVrs {shape.version}" if shape.version else "PascalCase fields such as ProtocolSection"
    if shape.nct_ids:
        detail += f"; studies {', '.join(shape.nct_ids[:5])}" + (" ..." if len(shape.nct_ids) > 5 else "")
    if len(shape.nct_ids) == 1:
        hint = f"/{shape.nct_ids[0]}"
    elif shape.nct_ids:
        hint = "?filter.ids=" + ",".join(shape.nct_ids[:20])
    else:
        hint = ""
    return ctgov.V1_RETIRED(location, shape=shape.shape, detail=detail, hint=hint)
