"""Turn bytes into text honestly: UTF-8 first, then a detected encoding that is recorded, never a guess."""

from __future__ import annotations

from dataclasses import dataclass

from converters.problem_codes import core
from converters.problems import Location, Problem

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


def decode_text(data: bytes, file: str) -> DecodedText | Problem:
    """Decode a text document, or say in one problem why it cannot be decoded."""
    where = Location(file=file)
    if not data.strip():
        return core.INPUT_EMPTY(where)
    reason = binary_reason(data)
    if reason:
        return core.INPUT_BINARY(where, reason=reason)
    if data.startswith(b"\xef\xbb\xbf"):
        return DecodedText(data[3:].decode("utf-8", errors="strict"), "utf-8-sig")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * 1024 * 1024]).best()
    if best is None or not best.encoding:
        return core.INPUT_UNDECODABLE(where)
    encoding = str(best.encoding)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return core.INPUT_UNDECODABLE(where)
    if "\x00" in text:
        return core.INPUT_BINARY(where, reason="it decodes to text with NUL characters")
    return DecodedText(text, encoding, (core.INPUT_NOT_UTF8(where, encoding=encoding),))
