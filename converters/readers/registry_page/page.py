"""A page as numbered lines, and the ledger of which lines were used and why the others were not."""

from __future__ import annotations

from dataclasses import dataclass, field

from converters.model import UnmappedSpan
from converters.model.vocabulary import normalise_wording

# Reasons given for lines that carry no study data (shown by `trialbridge inspect`).
REASON_BOILERPLATE = "boilerplate"
REASON_NAVIGATION = "navigation"
REASON_HEADING = "section heading"
REASON_EMPTY_SECTION = "empty section"
REASON_TABLE_HEADER = "table header"
REASON_PLACEHOLDER = "placeholder (no value)"
REASON_MARKUP = "markup"


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line of the page: its 1-based number, its text as written and its matching form."""

    no: int
    text: str  # as written, trailing whitespace and CR removed
    norm: str  # normalise_wording(text): for matching labels and headings

    @property
    def stripped(self) -> str:
        return self.text.strip()


def split_lines(text: str) -> list[str]:
    """The page's lines as an editor numbers them (`\\n` ends a line; a final newline adds no line)."""
    raw = text.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    return [line.rstrip("\r") for line in raw]


def is_blank(text: str) -> bool:
    return not text.strip()


@dataclass
class Page:
    """The decoded page: all lines (for spans) and the non-blank ones (for reading)."""

    raw: list[str]
    lines: list[Line]

    @classmethod
    def from_text(cls, text: str) -> Page:
        raw = split_lines(text)
        lines = [Line(i, t.rstrip(), normalise_wording(t)) for i, t in enumerate(raw, start=1) if not is_blank(t)]
        return cls(raw, lines)

    def span_text(self, line: int, end_line: int) -> str:
        return "\n".join(self.raw[line - 1 : end_line])


@dataclass
class Ledger:
    """Why lines were not used: lines with a reason are never counted as mapped, even inside a value's span."""

    reasons: dict[int, str] = field(default_factory=dict)

    def skip(self, line: int, reason: str) -> None:
        """Mark a line as carrying no study data (first reason wins)."""
        self.reasons.setdefault(line, reason)

    def unmapped_spans(self, page: Page, covered: set[int]) -> list[UnmappedSpan]:
        """Every non-blank line not covered by provenance, or skipped with a reason, as spans.

        Neighbouring lines with the same reason (blank lines between them allowed) form one span.
        """
        spans: list[UnmappedSpan] = []
        current: tuple[int, int, str | None] | None = None
        for line in page.lines:
            reason = self.reasons.get(line.no)
            if reason is None and line.no in covered:
                if current is not None:
                    spans.append(_span(page, current))
                    current = None
                continue
            if current is not None and current[2] == reason and _only_blank_between(page, current[1], line.no):
                current = (current[0], line.no, reason)
            else:
                if current is not None:
                    spans.append(_span(page, current))
                current = (line.no, line.no, reason)
        if current is not None:
            spans.append(_span(page, current))
        return spans


def _only_blank_between(page: Page, last: int, nxt: int) -> bool:
    return all(is_blank(page.raw[i - 1]) for i in range(last + 1, nxt))


def _span(page: Page, run: tuple[int, int, str | None]) -> UnmappedSpan:
    start, end, reason = run
    return UnmappedSpan(
        line=start, end_line=end if end != start else None, text=page.span_text(start, end), reason=reason
    )
