"""Report text that looks damaged by an encoding loss (the checks are data: text-checks.yaml). Never repair."""

from __future__ import annotations

import re
from collections.abc import Iterable

from converters.problem_codes import page as codes
from converters.problems import Location, Problem
from converters.readers.registry_page.page import Line
from converters.readers.registry_page.rules import TextCheck

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_CONTEXT = 14  # characters shown on each side of a suspicious spot
_MAX_SNIPPETS = 6


def check_lines(lines: Iterable[Line], checks: tuple[TextCheck, ...], file: str) -> list[Problem]:
    """One warning per line and check, quoting the suspicious spots (a few, with their surroundings)."""
    problems: list[Problem] = []
    for line in lines:
        text = line.text
        folded = text.casefold()
        urls: list[tuple[int, int]] | None = None
        for check in checks:
            if not check.applies_to(folded):
                continue
            if urls is None:
                urls = [m.span() for m in _URL.finditer(text)] if ("://" in text or "www." in folded) else []
            spots = [m.span() for m in check.regex.finditer(text)
                     if not any(start <= m.start() < end for start, end in urls)]
            if not spots:
                continue
            snippets = [_snippet(text, a, b) for a, b in spots[:_MAX_SNIPPETS]]
            more = f" and {len(spots) - len(snippets)} more" if len(spots) > len(snippets) else ""
            problems.append(codes.ENCODING_LOSS(
                Location(file=file, line=line.no), explanation=check.explanation,
                snippets=", ".join(repr(s) for s in snippets) + more,
            ))
    return problems


def _snippet(text: str, start: int, end: int) -> str:
    left = max(0, start - _CONTEXT)
    right = min(len(text), end + _CONTEXT)
    return ("…" if left else "") + text[left:right].strip() + ("…" if right < len(text) else "")
