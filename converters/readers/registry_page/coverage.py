"""The share of a page's non-blank lines that the study used (shown by `convert` and `inspect`)."""

from __future__ import annotations

from converters.model import Study
from converters.model.provenance import text_line_usage


def line_coverage(study: Study) -> tuple[int, int]:
    """(lines mapped, non-blank lines) for a study read from a text page.

    A line is mapped when it lies in the provenance span of a value and was not set aside (boilerplate,
    navigation, headings, repeats, markup, placeholders): the reader lists every other non-blank line in
    `Study.unmapped`, so mapped = non-blank lines - non-blank lines listed as unmapped. Returns (0, 0) for a
    study that did not come from a text page.
    """
    usage = text_line_usage(study)
    return usage if usage is not None else (0, 0)
