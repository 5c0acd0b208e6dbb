"""Read the JSON forms registries hand out, one record at a time, whatever the records are.

Forms (recognised from content, not the file name):
- `single`: one record object (ClinicalTrials.gov `GET /studies/{nctId}`, or one file of a bulk ZIP);
- `array`: an array of records (the ClinicalTrials.gov website's "Download -> JSON");
- `page`: an API page, an object holding the records in one array beside paging members; the reader says
  which (`PageShape`; ClinicalTrials.gov: `{"studies": [...], "nextPageToken": ..., "totalCount": ...}`);
- `ndjson`: one record object per line.

Streaming without a new dependency: the standard library's C scanner (`json.JSONDecoder.raw_decode`) parses
one value at a given offset and says where it ended, so the elements of a large array or page are parsed one
by one and only one record's Python objects exist at a time (the raw text, which the caller already holds,
is the only whole-file copy). ijson would add a C dependency for no gain here.

Bad input never raises: each failure becomes a `RecordError` naming the record index and line. After a record
that is too deep or holds an over-long number, the scanner skips to the record's end (bracket matching that
ignores string contents) and goes on; after a syntax error it cannot know where the next record starts, so
the file ends there (records already read are kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from converters.loading.document import LineWindow

JsonForm = Literal["single", "array", "page", "ndjson"]

_WS = re.compile(r"[ \t\n\r]*")
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_DECODER = json.JSONDecoder()
# A run of 19 ASCII digits: an integer orjson might not hold exactly (it reads it as a float). Found by mapping
# every byte of the UTF-8 text to "0" (an ASCII digit) or " " and looking for the run with `in`: ten times faster
# than a regex scan, which took more time than orjson's parse. Only ASCII digits matter: JSON numbers are written
# in them, and other digits sit in strings, which orjson reads exactly.
_DIGIT_BYTES = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS = b"0" * 19
RECURSION_LIMIT_HINT = 1000  # Python's default recursion limit, where the JSON scanner stops


@dataclass(frozen=True)
class RecordError:
    """Why one record (or the whole text) could not be parsed."""

    kind: Literal["malformed", "too-deep", "number-too-long"]
    line: int
    column: int
    reason: str
    fatal_for_file: bool  # True when reading cannot go on after it


@dataclass(frozen=True)
class RawRecord:
    index: int  # 0-based position in the file
    line: int  # 1-based line where the record starts
    value: Any | RecordError


@dataclass(frozen=True)
class PageShape:
    """How a format's API page looks: an object whose first member is one of `keys`, holding the records in
    the array under `records_key`."""

    records_key: str
    keys: frozenset[str]


@dataclass
class Envelope:
    """The members of an API page other than its records (paging tokens, counts, anything else); under the
    records key, the number of records read."""

    fields: dict[str, Any]


class _Lines:
    """Line numbers for offsets, computed incrementally (offsets only grow while streaming)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1

    def at(self, pos: int) -> int:
        if pos < self._pos:
            return self._text.count("\n", 0, pos) + 1
        self._line += self._text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _column(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1) + 1


def _decode(text: str, pos: int, lines: _Lines) -> tuple[Any, int] | RecordError:
    """One JSON value at `pos`, or the error; never raises."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        return RecordError("malformed", exc.lineno, exc.colno, exc.msg, True)
    except RecursionError:
        return RecordError("too-deep", lines.at(pos), _column(text, pos),
                           "nested too deeply", False)
    except ValueError as exc:  # int(str) over sys.get_int_max_str_digits()
        return RecordError("number-too-long", lines.at(pos), _column(text, pos), str(exc), False)


def _value_end(text: str, pos: int) -> int | None:
    """Where the array/object starting at `pos` ends, by bracket matching (strings skipped); None if never."""
    if pos >= len(text) or text[pos] not in "[{":
        match = re.compile(r"[,\]}\s]").search(text, pos)  # a scalar: up to the next delimiter
        return match.start() if match else len(text)
    depth = 0
    for token in _TOKENS.finditer(text, pos):
        char = token.group()
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def detect_form(text: str, page: PageShape | None = None) -> JsonForm | RecordError:
    """Which JSON form the text is (cheap: looks at the first key or the first line only); `page` is the
    format's API page, if it has one."""
    pos = _skip(text, 0)
    if pos >= len(text):
        return RecordError("malformed", 1, 1, "no JSON value", True)
    if text[pos] == "[":
        return "array"
    if text[pos] != "{":
        return "single"  # a lone scalar: read as one (non-study) record
    first_key = _first_key(text, pos)
    if page is not None and first_key in page.keys:
        return "page"
    newline = text.find("\n", pos)
    if newline != -1 and text[pos:newline].rstrip().endswith("}") and _skip(text, newline) < len(text):
        decoded = _decode(text[pos:newline], 0, _Lines(text))  # the first line only: one record
        if not isinstance(decoded, RecordError) and _skip(text[pos:newline], decoded[1]) >= newline - pos:
            return "ndjson"  # a whole object on the first line, and more after it
    return "single"


def _first_key(text: str, pos: int) -> str | None:
    key_pos = _skip(text, pos + 1)
    if key_pos < len(text) and text[key_pos] == '"':
        try:
            key, _ = _DECODER.raw_decode(text, key_pos)
        except ValueError:
            return None
        return key if isinstance(key, str) else None
    return None


def iter_records(text: str, form: JsonForm, envelope: Envelope | None = None,
                 page: PageShape | None = None, window: LineWindow | None = None) -> Iterator[RawRecord]:
    """The records of a text in the given form, one at a time (`page`: as for `detect_form`; `window`: where
    the text's lines sit in a larger NDJSON file)."""
    lines = _Lines(text)
    if form == "single":
        yield from _single(text, lines)
    elif form == "ndjson":
        yield from _ndjson(text, window or LineWindow(1, 0))
    elif form == "array":
        yield from _top_array(text, lines)
    else:
        if page is None:
            raise ValueError("the page form needs the format's PageShape")
        yield from _page(text, lines, envelope if envelope is not None else Envelope({}), page.records_key)


def _fast_whole(text: str) -> Any:
    """The value of a whole text by orjson (several times faster), or `_SLOW` for the standard scanner to read.

    orjson reads what the standard scanner reads, to the same values, except where it fails (lone surrogates,
    NaN, depth, infinities: the scanner then gives the outcome and its message) and for integers of 19 digits
    or more, which it turns into floats: a text with such a run of digits anywhere goes to the scanner."""
    try:
        if _LONG_DIGITS in text.encode("utf-8").translate(_DIGIT_BYTES):
            return _SLOW
    except UnicodeEncodeError:  # a lone surrogate, which orjson refuses: the scanner reads the text
        return _SLOW
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _SLOW


_SLOW = object()


def _single(text: str, lines: _Lines) -> Iterator[RawRecord]:
    fast = _fast_whole(text)
    if fast is not _SLOW:
        yield RawRecord(0, 1, fast)
        return
    pos = _skip(text, 0)
    decoded = _decode(text, pos, lines)
    if isinstance(decoded, RecordError):
        yield RawRecord(0, lines.at(pos), decoded)
        return
    value, end = decoded
    end = _skip(text, end)
    if end < len(text):
        line = lines.at(end)
        yield RawRecord(0, 1, RecordError("malformed", line, _column(text, end),
                                          "extra data after the JSON value", True))
        return
    yield RawRecord(0, 1, value)


def _ndjson(text: str, window: LineWindow) -> Iterator[RawRecord]:
    index = window.first_index
    for number, line in enumerate(text.split("\n"), start=window.first_line):
        if not line.strip():
            continue
        lines = _Lines(line)
        decoded = _decode(line, _skip(line, 0), lines)
        if isinstance(decoded, RecordError):
            yield RawRecord(index, number, RecordError(decoded.kind, number, decoded.column,
                                                       decoded.reason, False))
        else:
            value, end = decoded
            if _skip(line, end) < len(line.rstrip("\r")):
                yield RawRecord(index, number, RecordError("malformed", number, _column(line, end) ,
                                                           "extra data after the JSON value", False))
            else:
                yield RawRecord(index, number, value)
        index += 1


def _array(text: str, pos: int, lines: _Lines,
           first_index: int) -> Generator[RawRecord, None, tuple[int, int] | None]:
    """Elements of the array starting at `pos` (which holds '['); returns (end offset, next index), or
    None when the array cannot be read to its end."""
    pos = _skip(text, pos + 1)
    index = first_index
    if pos < len(text) and text[pos] == "]":
        return pos + 1, index
    while True:
        line = lines.at(pos)
        decoded = _decode(text, pos, lines)
        if isinstance(decoded, RecordError):
            yield RawRecord(index, line, decoded)
            if decoded.fatal_for_file:
                return None
            end = _value_end(text, pos)
            if end is None:
                return None
        else:
            value, end = decoded
            yield RawRecord(index, line, value)
        index += 1
        pos = _skip(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            return pos + 1, index
        yield RawRecord(index, lines.at(pos), RecordError(
            "malformed", lines.at(pos), _column(text, pos), "expected ',' or ']' between records", True))
        return None


def _top_array(text: str, lines: _Lines) -> Iterator[RawRecord]:
    result = yield from _array(text, _skip(text, 0), lines, 0)
    if result is not None:
        end, index = result
        end = _skip(text, end)
        if end < len(text):
            yield RawRecord(index, lines.at(end), RecordError(
                "malformed", lines.at(end), _column(text, end), "extra data after the array", True))


def _page(text: str, lines: _Lines, envelope: Envelope, records_key: str) -> Iterator[RawRecord]:
    """An API page object: stream the records under `records_key`, keep the other members in `envelope`."""
    pos = _skip(text, _skip(text, 0) + 1)
    index = 0
    while pos < len(text) and text[pos] != "}":
        key = _decode(text, pos, lines)
        if isinstance(key, RecordError) or not isinstance(key[0], str):
            yield RawRecord(index, lines.at(pos), key if isinstance(key, RecordError) else RecordError(
                "malformed", lines.at(pos), _column(text, pos), "expected a member name", True))
            return
        name, pos = key
        pos = _skip(text, pos)
        if pos >= len(text) or text[pos] != ":":
            yield RawRecord(index, lines.at(pos), RecordError(
                "malformed", lines.at(pos), _column(text, pos), "expected ':'", True))
            return
        pos = _skip(text, pos + 1)
        if name == records_key and pos < len(text) and text[pos] == "[":
            result = yield from _array(text, pos, lines, index)
            if result is None:
                return
            pos, index = result
            envelope.fields[records_key] = index
        else:
            value = _decode(text, pos, lines)
            if isinstance(value, RecordError):
                yield RawRecord(index, lines.at(pos), value)
                return
            envelope.fields[name], pos = value
        pos = _skip(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif pos >= len(text) or text[pos] != "}":
            yield RawRecord(index, lines.at(pos), RecordError(
                "malformed", lines.at(pos), _column(text, pos), "expected ',' or '}'", True))
            return
    if pos >= len(text):
        yield RawRecord(index, lines.at(pos), RecordError(
            "malformed", lines.at(pos), 1, "the page object is not closed", True))
