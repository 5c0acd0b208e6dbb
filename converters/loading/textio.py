"""Turn bytes into text honestly: a byte order mark, then UTF-8, then the most plausible of the encodings
registries use (recorded), and never a guess (docs/decoding.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from converters.loading.encodings import EncodingTable, encoding_table, rank_encodings
from converters.problem_codes import core
from converters.problems import Location, Problem
from converters.resources import Resources

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
    (b"HEADER RECORD*******LIBRARY", "SAS transport file"),
)


# The Unicode steps, tried first and in this order: a byte order mark names its encoding (recorded under this name).
_BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_MARKS = tuple(mark for mark, _ in _BYTE_ORDER_MARKS)

# Every byte but the control characters text does not use (tab, line feed, form feed, carriage return, escape).
_NOT_CONTROL = bytes(b for b in range(256) if b >= 32 or b in (9, 10, 12, 13, 27))


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    problems: tuple[Problem, ...] = ()


def binary_reason(data: bytes) -> str | None:
    """Why these bytes are not text, or None if they may be text.

    UTF-16/32 text has NUL bytes too, so a BOM (or a regular NUL pattern) is checked before calling a file
    binary; such files go on to detection.
    """
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            return what
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return None
    sample = data[:8192]
    if b"\x00" in sample:
        if _looks_like_utf16(sample):
            return None
        return "it contains NUL bytes"
    controls = len(sample.translate(None, _NOT_CONTROL))  # the control bytes that remain
    if sample and controls / len(sample) > 0.10:
        return "over 10% of its bytes are control characters"
    return None


def _looks_like_utf16(sample: bytes) -> bool:
    """A BOM-less UTF-16 text has NULs on every other byte for ASCII content."""
    even = sample[0::2]
    odd = sample[1::2]
    return even.count(0) > 0.4 * len(even) or odd.count(0) > 0.4 * len(odd)


def decode_text(data: bytes, file: str, resources: Resources) -> DecodedText | Problem:
    """Decode a text document, or say in one problem why it cannot be decoded.

    UTF-8 is the common case and costs one strict decode; the encodings table of `resources` is loaded only for
    a file that is not UTF-8."""
    where = Location(file=file)
    if not data.strip():
        return core.INPUT_EMPTY(where)
    reason = binary_reason(data)
    if reason:
        return core.INPUT_BINARY(where, reason=reason)
    if data.startswith(_MARKS):  # one test on the UTF-8 path; which mark only when there is one
        mark, encoding = next((mark, encoding) for mark, encoding in _BYTE_ORDER_MARKS if data.startswith(mark))
        return _decode_marked(data, mark, encoding, where)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    return decode_plausible(data, encoding_table(resources), where)


def _decode_marked(data: bytes, mark: bytes, encoding: str, where: Location) -> DecodedText | Problem:
    """The text after a byte order mark, strictly in the encoding it names."""
    try:
        text = data[len(mark):].decode(encoding.removesuffix("-sig"))
    except UnicodeDecodeError as exc:
        return core.INPUT_UNDECODABLE(where, reason=f"it starts with the byte order mark of {encoding}, but byte "
                                                    f"{exc.start + len(mark)} is not {encoding}")
    if "\x00" in text:
        return core.INPUT_BINARY(where, reason="it decodes to text with NUL characters")
    if encoding == "utf-8-sig":
        return DecodedText(text, encoding)
    return DecodedText(text, encoding, (core.INPUT_NOT_UTF8(where, encoding=encoding,
                                                            how="its byte order mark says so"),))


def decode_plausible(data: bytes, table: EncodingTable, where: Location) -> DecodedText | Problem:
    """The most plausible reading of `data` among the table's candidates, if plausible enough and alone."""
    ranking = rank_encodings(data, table)
    best = ranking.best
    if best is None:
        return core.INPUT_UNDECODABLE(where, reason="none of the encodings tried decodes it")
    if "\x00" in best.text:
        return core.INPUT_BINARY(where, reason="it decodes to text with NUL characters")
    if best.score < table.threshold:
        return core.INPUT_ENCODING_DOUBTFUL(where, why=f"the best, {best.encoding}, scores {shown_score(best.score)} "
                                                       f"(at least {table.threshold} is needed)")
    runner_up = ranking.runner_up
    if runner_up is not None and ranking.ambiguous(table.margin):
        return core.INPUT_ENCODING_DOUBTFUL(where, why=f"{best.encoding} and {runner_up[0]} read it as different "
                                                       f"texts, scoring {shown_score(best.score)} and "
                                                       f"{shown_score(runner_up[1])} (the best must lead by "
                                                       f"{table.margin})")
    how = f"the most plausible of the encodings tried: score {shown_score(best.score)}"
    if runner_up is not None:
        how += f", next {runner_up[0]} at {shown_score(runner_up[1])}"
    return DecodedText(best.text, best.encoding, (core.INPUT_NOT_UTF8(where, encoding=best.encoding, how=how),))


def shown_score(score: float) -> str:
    """A score as reports show it: two decimals, rounded down, so a score under the threshold never shows as it."""
    return f"{math.floor(score * 100) / 100:.2f}"
