"""Facts a page states outside its layout's fields, read after the sections by documented rules.

Both rules only fill a field the page's own fields left empty, and both report what they did: the overall status
a recruiting site implies (ClinicalTrials.gov's definition), and an age limit stated once as a line of its own.
"""

from __future__ import annotations

from converters.model import json_pointer
from converters.problem_codes import page as codes
from converters.readers.registry_page.boundaries import CriteriaBoundaries
from converters.readers.registry_page.context import ReadContext
from converters.readers.registry_page.convert import Values
from converters.readers.registry_page.page import Line
from converters.readers.registry_page.rules import FieldRule

_AGE_STATEMENT = FieldRule(target="eligibility", convert="age_range", label="age statement")
_AGE_FIELDS = ("eligibility.minimum_age", "eligibility.maximum_age")


def overall_status_from_sites(ctx: ReadContext) -> None:
    """No overall status stated, but a site whose status implies one (`overall_status_from_site_status`): the
    study gets that status, traced to the site's status line, and a note says so."""
    draft = ctx.draft
    if draft.has("status.overall") or draft.has("status.overall_text"):
        return
    implied = ctx.rules.overall_status_from_site_status
    for index, site in enumerate(draft.get("sites") or []):
        status = implied.get(site.get("status") or "")
        span = draft.provenance.get(json_pointer("sites", index, "status"))
        if status is None or span is None:
            continue
        draft.assign("status.overall", status, span, "overall status")
        draft.report(codes.STATUS_FROM_SITES(draft.where(span), facility=site.get("facility") or f"#{index + 1}",
                                             site_status=site["status"], status=status))
        return


def sole_age_statement(ctx: ReadContext, lines: list[Line]) -> None:
    """No age field stated, and exactly one line of the page mentions an age, in the form 'Age: ≥5 years old;':
    the limit(s) it states are read from it (the line keeps its place, usually as a criterion)."""
    if any(ctx.draft.has(path) for path in _AGE_FIELDS):
        return
    rules = ctx.rules.age_statement
    stating = [line for line in lines if rules.mentions_age(line.stripped)]
    if len(stating) != 1:
        return
    line = stating[0]
    m = rules.line.match(_without_marker(line.stripped, ctx.rules.criteria.boundaries))
    if m is None:
        return
    result = ctx.converter.convert(_AGE_STATEMENT, m["value"])
    if not isinstance(result, Values):
        return
    ctx.apply(_AGE_STATEMENT, m["value"], (line.no, line.no))
    limits = " and ".join(path.rsplit(".", 1)[1].replace("_", " ") for path, _value in result.items)
    ctx.draft.report(codes.AGE_FROM_STATEMENT(ctx.draft.where((line.no, line.no)), text=line.stripped,
                                              limits=limits))


def _without_marker(text: str, boundaries: CriteriaBoundaries) -> str:
    """The text after its list marker or bullet ("2. Aged 18-65 years;", "- Age: ≥5 years"), if it has one."""
    marker = boundaries.leading(text)
    if marker is not None:
        return text[marker.end:].lstrip()
    bullet = boundaries.bullet.match(text)
    return text[bullet.end():].lstrip() if bullet else text
