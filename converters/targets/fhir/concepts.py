"""CodeableConcepts and typed texts the ResearchStudy builders share (research_study and its study_* siblings)."""

from __future__ import annotations

from typing import Any

from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.maps import Place

Concept = dict[str, Any]


def concept(text: str | None, *codings: dict[str, str]) -> Concept:
    """A CodeableConcept with the codings given (none = text only)."""
    out: Concept = {}
    if codings:
        out["coding"] = list(codings)
    if text:
        out["text"] = text.strip()
    return out


def ctgov_concept(ctx: BuildContext, enum: str, value: str, *first: dict[str, str]) -> Concept:
    """HL7 codings (if any) first, then the CT.gov token, with the CT.gov label as text."""
    return concept(ctx.maps.display(enum, value) or value, *first, ctx.maps.ctgov_coding(enum, value))


def hl7_coding(ctx: BuildContext, system: str, code: str) -> dict[str, str]:
    return {"system": ctx.maps.hl7_system(system), "code": code}


def typed_text(ctx: BuildContext, where: Place, pointer: str, plain: str) -> str:
    """The study text at `pointer` for an element of the type `where` gives: a `markdown` element takes the
    source's CommonMark (ctx.markdown), a `string` the plain text, trimmed."""
    return ctx.markdown(pointer, plain) if where.type == "markdown" else plain.strip()
