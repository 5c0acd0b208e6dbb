"""Where criteria text may be split: list markers and the signs of criteria run together, compiled from
`mappings/registry_page/criteria-boundaries.yaml`.

This module only finds candidates; whether a marker really starts a criterion depends on the lists in
progress, which the tree builder (`criteria.py`) knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

BOUNDARIES_MAPPING = "registry_page/criteria-boundaries.yaml"

_SPACE_UPPER = re.compile(r"[ \t]+[A-Z]")
_ROMAN = {"i": 1, "v": 5, "x": 10}
ROMAN_MAX = 39  # "(xxxix)"; longer runs of i, v and x are words, not numerals


@dataclass(frozen=True)
class Reading:
    """One way to read a marker: the list it would belong to (`key`) and its place in that list."""

    key: str  # "dot", "paren", "wrap" (numbers), "<style>-latin", "<style>-roman", "dotted"
    number: tuple[int, ...]


@dataclass(frozen=True)
class Marker:
    """A list marker found in a text, with every way it can be read ("(i)" is roman 1 or the letter i)."""

    start: int
    end: int
    text: str
    style: str  # "wrap", "dotted", "dot", "paren"
    readings: tuple[Reading, ...]

    @property
    def arabic(self) -> bool:
        return self.readings[0].key in ("dot", "paren", "wrap")


@dataclass(frozen=True)
class MarkerStyle:
    style: str
    pattern: re.Pattern[str]
    after: str  # characters after which an inline marker may start an item
    after_space: bool  # whether a space alone before it is enough


@dataclass(frozen=True)
class RunOnSignal:
    """A sign that a text holds several criteria; reported, never used to split."""

    id: str
    pattern: re.Pattern[str]
    explanation: str
    unnumbered_only: bool = False
    min_chars: int = 0
    not_after_words: frozenset[str] = frozenset()
    outside_parentheses: bool = False

    def found(self, text: str, numbered: bool) -> bool:
        if (self.unnumbered_only and numbered) or len(text) < self.min_chars:
            return False
        for m in self.pattern.finditer(_blank_parentheses(text) if self.outside_parentheses else text):
            word = m.groupdict().get("word")
            if word is None or word not in self.not_after_words:
                return True
        return False


@dataclass(frozen=True)
class CriteriaBoundaries:
    """The compiled boundary rules."""

    styles: tuple[MarkerStyle, ...]
    split_after: str
    bullet: re.Pattern[str]
    bullets: frozenset[str]
    signals: tuple[RunOnSignal, ...]

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> CriteriaBoundaries:
        bullets = sorted(data["bullets"], key=len, reverse=True)
        signals = data["run_on"]["signals"]
        return cls(
            styles=tuple(MarkerStyle(m["style"], re.compile(m["pattern"]), m["after"], m["after_space"])
                         for m in data["markers"]),
            split_after=data["split_after"],
            bullet=re.compile(rf"^(?P<bullet>{'|'.join(re.escape(b) for b in bullets)})(?=\s|$)"),
            bullets=frozenset(bullets),
            signals=tuple(
                RunOnSignal(s["id"], re.compile(s["pattern"]), s["explanation"], s.get("unnumbered_only", False),
                            s.get("min_chars", 0), frozenset(s.get("not_after_words", ())),
                            s.get("outside_parentheses", False))
                for s in signals
            ),
        )

    # --- markers ---------------------------------------------------------------------------------------

    def markers(self, text: str) -> list[Marker]:
        """Every marker in the text, left to right; where two overlap, the earlier (then the first style) wins."""
        found: list[tuple[int, int, Marker]] = []
        for order, style in enumerate(self.styles):
            for m in style.pattern.finditer(text):
                marker = _marker(style.style, m)
                if marker is not None:
                    found.append((marker.start, order, marker))
        found.sort(key=lambda item: (item[0], item[1]))
        kept: list[Marker] = []
        for _, _, marker in found:
            if not kept or marker.start >= kept[-1].end:
                kept.append(marker)
        return kept

    def leading(self, text: str) -> Marker | None:
        """The marker that starts the text, if any."""
        for style in self.styles:
            m = style.pattern.match(text)
            marker = _marker(style.style, m) if m else None
            if marker is not None:
                return marker
        return None

    def boundary_ok(self, text: str, marker: Marker) -> bool:
        """An inline marker needs punctuation before it ("...; 2. Next"), or a space for the styles that allow
        it ("(1)", "1.2."); a number after ")" needs a space too ("(2019) 2. Next", not "2019)2.")."""
        style = next(s for s in self.styles if s.style == marker.style)
        i = marker.start - 1
        while i >= 0 and text[i].isspace():
            i -= 1
        if i < 0:
            return True
        spaced = i < marker.start - 1
        if style.after_space and spaced:
            return True
        return text[i] in style.after or (text[i] == ")" and spaced)

    def is_bullet(self, marker: str | None) -> bool:
        return marker is not None and marker in self.bullets

    # --- run-ons ---------------------------------------------------------------------------------------

    def run_on_signals(self, text: str, numbered: bool) -> list[str]:
        """The ids of the signals of several criteria found in one criterion's text."""
        return [signal.id for signal in self.signals if signal.found(text, numbered)]


def _marker(style: str, m: re.Match[str]) -> Marker | None:
    value = m["value"]
    if style == "dotted":
        groups = m.groupdict()
        following = m.string[m.end() : m.end() + 1]
        if groups.get("dot_end") is None and not _SPACE_UPPER.match(m.string, m.end()):
            return None  # "1.5 mg" is a number; "1.1 Refractory lupus" is a heading
        if groups.get("dot_end") is not None and following.isdigit():
            return None
        return Marker(m.start(), m.end(), m.group(0), style, (Reading("dotted", tuple(map(int, value.split(".")))),))
    readings = _readings(style, value)
    if not readings:
        return None
    return Marker(m.start(), m.end(), m.group(0), style, readings)


def _readings(style: str, value: str) -> tuple[Reading, ...]:
    """A number; a letter (its place in the alphabet) and, for i, v and x, a roman numeral; or a roman numeral.
    Capitals make lists of their own ("A) ... B)" is not continued by "c)")."""
    if value.isdigit():
        return (Reading(style, (int(value),)),)
    case = "-upper" if value.isupper() else ""
    readings = []
    if len(value) == 1:
        readings.append(Reading(f"{style}-latin{case}", (ord(value.lower()) - ord("a") + 1,)))
    roman = roman_value(value.lower())
    if roman is not None:
        readings.append(Reading(f"{style}-roman{case}", (roman,)))
    return tuple(readings)


def _blank_parentheses(text: str) -> str:
    """The text with everything inside parentheses (nested too) turned into spaces, same length."""
    depth, out = 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        out.append(" " if depth > 0 else ch)
        if ch == ")" and depth > 0:
            depth -= 1
    return "".join(out)


def roman_value(text: str) -> int | None:
    """The value of a lowercase roman numeral of i, v and x written the standard way, else None."""
    if not text or any(ch not in _ROMAN for ch in text):
        return None
    total = 0
    for i, ch in enumerate(text):
        value = _ROMAN[ch]
        if i + 1 < len(text) and _ROMAN[text[i + 1]] > value:
            total -= value
        else:
            total += value
    return total if 0 < total <= ROMAN_MAX and to_roman(total) == text else None


def to_roman(number: int) -> str:
    """A number from 1 to 39 as a lowercase roman numeral."""
    tens, units = divmod(number, 10)
    ones = ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"]
    return "x" * tens + ones[units]
