"""A status wording glued to the value before it ('ChinaActive - Recruiting'), split off only when exact.

Scrapers that drop the markup between two page elements run their texts together: the country of a site and
its status badge become one word. Such a line is split only where a capitalised word starts straight after a
letter, digit or closing bracket (the glue point) and the whole rest of the line is exactly a wording of the
status vocabulary. Any other tail ('ChinaNot recruiting', 'ChinaActive - Ongoing') is left as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

MAX_GLUED_CHARS = 200  # a line this long is prose, never a value with a status glued to it
_CLOSING = ")]"


@dataclass(frozen=True)
class GluedStatus:
    """A line read as a value and the status glued to its end (`prefix` is '' when the line is only a status)."""

    prefix: str
    wording: str
    status: str


def glue_points(text: str) -> Iterator[int]:
    """Where a capitalised word starts with no separator before it: 'China|Active', 'USA|Recruiting',
    'China|RECRUITING'; never inside a run of capitals ('US|A') nor after a space or punctuation."""
    for index in range(1, len(text)):
        if text[index].isupper() and _ends_word(text, index):
            yield index


def _ends_word(text: str, index: int) -> bool:
    """Whether the character before `index` ends a word that the capital at `index` does not continue."""
    before = text[index - 1]
    if before.islower() or before.isdigit() or before in _CLOSING:
        return True
    # in a run of capitals, the last one starts the next word when a small letter follows it ('USA|Active')
    return before.isupper() and index + 1 < len(text) and text[index + 1].islower()


def split_glued_status(text: str, lookup: Callable[[str], str | None]) -> GluedStatus | None:
    """The status a line ends with, when the line is a status wording or a value glued to one, else None.

    `lookup` gives the coded value of an exact wording (None for any other text). The earliest glue point whose
    tail is a wording wins, so the longest wording is taken ('Active - Recruiting', not 'Recruiting').
    """
    line = text.strip()
    if not line or len(line) > MAX_GLUED_CHARS:
        return None
    whole = lookup(line)
    if whole is not None:
        return GluedStatus("", line, whole)
    for index in glue_points(line):
        status = lookup(line[index:])
        if status is not None:
            return GluedStatus(line[:index].strip(), line[index:].strip(), status)
    return None
