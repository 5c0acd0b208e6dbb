"""Blocks a scraper saved twice: found on text with all whitespace removed, so re-wrapped copies match.

Only a block repeated *back-to-back* counts (the page says the same thing twice in a row): criteria that
legitimately recur in two cohorts are separated by other text and stay. Whole repeated sections are found
separately, by the reader, from the section headings.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from converters.readers.registry_page.page import Line

_GRAM = 16  # characters compared first, to find candidate first copies quickly
_CHECKS_PER_LINE = 64  # candidate first copies examined per line: bounds the work on hostile input
_CHUNK = 4096


@dataclass(frozen=True)
class Repeat:
    """Lines `line..end_line` repeat lines `first_line..first_end_line` (whitespace ignored)."""

    first_line: int
    first_end_line: int
    line: int
    end_line: int
    rewrapped: bool
    times: int = 1  # how many copies follow the first one


def squeeze(text: str) -> str:
    """The text with every whitespace character removed (line breaks and spaces alike)."""
    return "".join(text.split())


def _equal(text: str, a: int, b: int, length: int) -> bool:
    """text[a:a+length] == text[b:b+length], compared in chunks so a mismatch costs little."""
    offset = 0
    while offset < length:
        size = min(_CHUNK if offset else 256, length - offset)
        if text[a + offset : a + offset + size] != text[b + offset : b + offset + size]:
            return False
        offset += size
    return True


def find_repeats(lines: list[Line], min_chars: int, window: int) -> list[Repeat]:
    """Back-to-back repeated blocks of at least `min_chars` (whitespace removed), first copy kept."""
    parts = [squeeze(line.text) for line in lines]
    starts: list[int] = []
    offset = 0
    for part in parts:
        starts.append(offset)
        offset += len(part)
    text = "".join(parts)
    total = len(text)
    by_gram: dict[str, list[int]] = {}
    repeats: list[Repeat] = []
    index = 0
    while index < len(lines):
        p = starts[index]
        found = _tandem_at(index, p, text, total, starts, by_gram, min_chars, window)
        gram = text[p : p + _GRAM]
        if gram:
            by_gram.setdefault(gram, []).append(index)
        if found is None:
            index += 1
            continue
        first, end = found
        second = lines[index : end + 1]
        original = lines[first:index]
        previous = repeats[-1] if repeats else None
        if previous is not None and original[0].no >= previous.line and original[0].no <= previous.end_line + 1 \
                and previous.end_line < second[0].no:
            # the block is repeated once more right after its previous copy: one finding, not one per copy
            repeats[-1] = Repeat(previous.first_line, previous.first_end_line, previous.line, second[-1].no,
                                 previous.rewrapped, previous.times + 1)
        else:
            repeats.append(Repeat(
                first_line=original[0].no, first_end_line=original[-1].no, line=second[0].no,
                end_line=second[-1].no,
                rewrapped=[line.text.strip() for line in original] != [line.text.strip() for line in second],
            ))
        index = end + 1
    return repeats


def _tandem_at(index: int, p: int, text: str, total: int, starts: list[int], by_gram: dict[str, list[int]],
               min_chars: int, window: int) -> tuple[int, int] | None:
    """(first line of the first copy, last line of the second copy) when line `index` starts a repeat."""
    gram = text[p : p + _GRAM]
    if len(gram) < _GRAM:
        return None
    checked = 0
    for candidate in reversed(by_gram.get(gram, ())):
        q = starts[candidate]
        length = p - q
        if length > window:
            break
        if length < min_chars or p + length > total:
            continue
        checked += 1
        if checked > _CHECKS_PER_LINE:
            break
        end_offset = p + length
        end = bisect_left(starts, end_offset)  # the second copy must end where a line ends
        if end < len(starts) and starts[end] != end_offset:
            continue
        if _equal(text, q, p, length):
            return candidate, end - 1
    return None
