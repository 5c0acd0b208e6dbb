"""The encodings tried when a file is not UTF-8, and the plausibility score that picks one.

The table is data (mappings/common/encodings.yaml); docs/decoding.md states the rule in words. Each candidate
that decodes the whole file strictly is scored by the share of the non-ASCII characters of its reading that its
script's text uses, in a place the script writes them; the best score wins (on a tie, the candidate listed
first), and a best score under the threshold means the file is refused rather than guessed at.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from converters.resources import MappingError, Resources

ENCODINGS_MAPPING = "common/encodings.yaml"

_FIRST_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class Script:
    """What a script's text looks like: the characters that count, and the stretches where they do not."""

    name: str
    counted: re.Pattern[str]  # one character the script's text uses (its common words, its punctuation)
    doubtful: tuple[re.Pattern[str], ...]  # stretches where the script does not write such characters


@dataclass(frozen=True)
class Candidate:
    encoding: str  # the codec, and the name recorded in the study's source information
    script: Script


@dataclass(frozen=True)
class Reading:
    """A candidate's strict decoding of a whole file, and how plausible its text is (0..1)."""

    encoding: str
    text: str
    score: float


@dataclass(frozen=True)
class Ranking:
    """The candidates that decoded a file, best first (a tie keeps the table's order), the best one's reading,
    and the runner-up: the best-scoring other candidate that does not read the file as the best does (one that
    scores within the margin is decoded again and compared; one further behind is taken to differ)."""

    scores: tuple[tuple[str, float], ...]
    best: Reading | None
    runner_up: tuple[str, float] | None = None

    def ambiguous(self, margin: float) -> bool:
        """Whether a different reading scores within `margin` of the best: then the choice would be a guess."""
        return self.best is not None and self.runner_up is not None and not leads(self.best.score,
                                                                                  self.runner_up[1], margin)


@dataclass(frozen=True)
class EncodingTable:
    """The candidates in the order tried, the least score a reading needs, the lead it needs over a candidate
    that reads the file differently, and how much text is scored."""

    candidates: tuple[Candidate, ...]
    threshold: float
    margin: float
    sample_characters: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EncodingTable:
        """The table of a validated `text-encodings` mapping; a codec or pattern Python lacks is a mapping error."""
        sets = {name: tuple(_code_points(item) for item in items) for name, items in data["character_sets"].items()}
        scripts = {name: _script(name, spec, sets) for name, spec in data["scripts"].items()}
        candidates = []
        for item in data["candidates"]:
            if item["script"] not in scripts:
                raise MappingError(f"{ENCODINGS_MAPPING}: candidate {item['encoding']} names no known script")
            candidates.append(Candidate(_known_codec(item["encoding"]), scripts[item["script"]]))
        return cls(tuple(candidates), float(data["threshold"]), float(data["margin"]), int(data["sample_characters"]))


def encoding_table(resources: Resources) -> EncodingTable:
    """The table of these resources' data folder, built once per `Resources` (its common sets take a moment)."""
    return resources.derived(ENCODINGS_MAPPING,
                             lambda loaded: EncodingTable.from_mapping(loaded.mapping(ENCODINGS_MAPPING)))


def rank_encodings(data: bytes, table: EncodingTable) -> Ranking:
    """Every candidate that decodes all of `data` strictly, scored, and the best one's rival (see `Ranking`).

    Only the best reading's text is kept; a candidate close enough to be a rival is decoded again to compare."""
    scores: list[tuple[str, float]] = []
    best: Reading | None = None
    for candidate in table.candidates:
        try:
            text = data.decode(candidate.encoding)
        except UnicodeDecodeError:
            continue
        score = plausibility(text, candidate.script, table.sample_characters)
        scores.append((candidate.encoding, score))
        if best is None or score > best.score:
            best = Reading(candidate.encoding, text, score)
    ranked = tuple(sorted(scores, key=lambda item: -item[1]))
    return Ranking(ranked, best, _runner_up(data, ranked, best, table.margin))


def leads(best: float, other: float, margin: float) -> bool:
    """Whether score `best` is ahead of `other` by at least `margin` (to nine decimals, so 1.0 leads 0.9 by 0.1)."""
    return round(best - other, 9) >= margin


def _runner_up(data: bytes, ranked: tuple[tuple[str, float], ...], best: Reading | None,
               margin: float) -> tuple[str, float] | None:
    """The first candidate after the best that reads `data` differently (compared only within `margin`)."""
    if best is None:
        return None
    for encoding, score in ranked:
        if encoding == best.encoding:
            continue
        if leads(best.score, score, margin) or data.decode(encoding) != best.text:
            return encoding, score
    return None


def plausibility(text: str, script: Script, sample_characters: int) -> float:
    """The share of the non-ASCII characters of `text` that `script` counts, outside its doubtful stretches.

    ASCII is left out (every candidate reads it alike). The sample is `sample_characters` characters from the
    first non-ASCII one; a text with none scores 0 (a file UTF-8 does not decode always has one)."""
    first = _FIRST_NON_ASCII.search(text)
    if first is None:
        return 0.0
    sample = text[first.start():first.start() + sample_characters]
    foreign = len(sample) - len(sample.encode("ascii", "ignore"))
    doubtful = sum(_count(script.counted, sample[start:end]) for start, end in _doubtful_spans(sample, script))
    return (_count(script.counted, sample) - doubtful) / foreign


def _count(pattern: re.Pattern[str], text: str) -> int:
    """How many characters of `text` the one-character `pattern` matches (at C speed, without a list)."""
    return len(text) - len(pattern.sub("", text))


def _doubtful_spans(text: str, script: Script) -> list[tuple[int, int]]:
    """The stretches any doubtful pattern matches, merged so that no character is left out twice."""
    spans = sorted(match.span() for pattern in script.doubtful for match in pattern.finditer(text))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _script(name: str, spec: Mapping[str, Any], sets: Mapping[str, tuple[tuple[int, int], ...]]) -> Script:
    """A script's counted characters and doubtful patterns, from its mapping entry."""
    words = _ranges(spec["words"], sets, name)
    common = words if "common_in" not in spec else _common_ranges(words, spec["common_in"])
    counted = re.compile(f"[{_class(common)}{_class(_ranges(spec['characters'], sets, name))}]")
    doubtful = [rf"[^\x00-\x7f]{{{spec['longest_run'] + 1},}}"] if "longest_run" in spec else []
    if spec.get("spaced_words", True) is False:
        word = f"[{_class(words)}]"
        doubtful.append(f"{word}(?= {word})|(?<={word} ){word}")
    try:
        return Script(name, counted, tuple(re.compile(pattern) for pattern in [*doubtful, *spec.get("doubtful", [])]))
    except re.error as exc:
        raise MappingError(f"{ENCODINGS_MAPPING}: a doubtful pattern of script {name} is invalid: {exc}") from exc


def _ranges(names: Sequence[str], sets: Mapping[str, tuple[tuple[int, int], ...]],
            script: str) -> tuple[tuple[int, int], ...]:
    missing = [name for name in names if name not in sets]
    if missing:
        raise MappingError(f"{ENCODINGS_MAPPING}: script {script} names unknown character sets {missing}")
    return tuple(span for name in names for span in sets[name])


def _code_points(item: str) -> tuple[int, int]:
    """`U+00C0-U+00D6` or `U+00A7` as an inclusive range of code points."""
    first, _, last = item.partition("-")
    return int(first[2:], 16), int((last or first)[2:], 16)


def _known_codec(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise MappingError(f"{ENCODINGS_MAPPING}: Python has no codec named {name!r}") from exc
    return name


def _common_ranges(spans: Iterable[tuple[int, int]], common_in: Mapping[str, str]) -> tuple[tuple[int, int], ...]:
    """The code points of `spans` that the codec of `common_in` encodes in two bytes, the first in its
    `first_bytes` (a national standard's first level: its common characters), as ranges."""
    codec = _known_codec(common_in["codec"])
    low, _, high = common_in["first_bytes"].partition("-")
    first = range(int(low, 16), int(high, 16) + 1)
    points = [point for start, end in spans for point in range(start, end + 1)
              if _two_bytes_first_in(chr(point), codec, first)]
    ranges: list[tuple[int, int]] = []
    for point in points:
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return tuple(ranges)


def _two_bytes_first_in(char: str, codec: str, first: range) -> bool:
    try:
        encoded = char.encode(codec)
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and encoded[0] in first


def _class(spans: Iterable[tuple[int, int]]) -> str:
    """A regular-expression character class body for these ranges of code points."""
    return "".join(re.escape(chr(start)) if start == end else f"{re.escape(chr(start))}-{re.escape(chr(end))}"
                   for start, end in spans)
