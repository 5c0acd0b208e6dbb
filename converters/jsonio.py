"""The one JSON encoder of every file trialbridge writes: the same bytes as before, made by orjson.

Every JSON output (study.json, FHIR bundles and traces, report.json, ...) has one fixed layout: what
`json.dumps(obj, ensure_ascii=False, indent=2) + "\\n"` gives, encoded as UTF-8. The standard library's indented
encoder is pure Python (a quarter of a FHIR run's time); orjson writes the same layout in Rust, about 30x faster.

orjson's bytes equal the standard library's for everything but a few values, which go to the standard library
instead, so the bytes never depend on which encoder ran:
- what orjson refuses: integers beyond 64 bits, non-string keys, lone surrogates, nesting past 254 levels, types
  neither encoder knows (the standard library then raises its usual error);
- floats below 1e-4 (Python writes `1e-05`, orjson `0.00001`): found by their spelling in orjson's output;
- NaN and infinities (Python writes `NaN`, orjson `null`): looked for only when the output has a `null`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATACLASS \
    | orjson.OPT_PASSTHROUGH_DATETIME
_LINE = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
# In orjson's indented output every line ends with a scalar value, a bracket or a string's closing quote (a string
# cannot hold a raw newline), each with an optional comma: so a line ending in one of these is such a value.
# Each pattern starts with a literal, which the regex engine finds quickly.
# orjson's spellings of a float below 1e-4 that Python spells otherwise ("1e-7" for 1e-07, "0.00001" for 1e-05;
# the second also finds "10.00001", which Python spells alike: that only costs a slower encoding)
_SMALL_FLOATS = (re.compile(rb"e-\d,?\n"), re.compile(rb"0\.0000\d*,?\n"))
_NULL = re.compile(rb"null,?\n")


def dumps(obj: Any) -> bytes:
    """`obj` as an indented JSON file: 2-space indent, UTF-8, key order kept, trailing newline."""
    try:
        out: bytes = orjson.dumps(obj, option=_INDENTED)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _stdlib_indented(obj)
    if any(p.search(out) for p in _SMALL_FLOATS) or (_NULL.search(out) and _has_non_finite_float(obj)):
        return _stdlib_indented(obj)
    return out


def dumps_floatless(obj: Any) -> bytes:
    """`dumps` for a document that holds no float by construction (its scalars are str, int, bool or None by
    type, e.g. a FHIR trace): orjson's bytes equal the standard library's for every such value, so the scans of
    the output for floats are skipped (they cost more than the encoding on a large trace). What orjson refuses
    still goes to the standard library."""
    try:
        out: bytes = orjson.dumps(obj, option=_INDENTED)
    except TypeError:
        return _stdlib_indented(obj)
    return out


def dumps_text(obj: Any) -> str:
    """`dumps` as text, for printing to the console."""
    return dumps(obj).decode("utf-8")


def dumps_line(obj: Any) -> bytes:
    """`obj` as one compact line without a newline (orjson's own format), for NDJSON streams.

    Floats keep orjson's spelling here, and NaN and infinities become null (JSON has no such values); what orjson
    refuses is written by the standard library in the same compact layout.
    """
    try:
        line: bytes = orjson.dumps(obj, option=_LINE)
    except TypeError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return line


def dumps_inline(obj: Any) -> str:
    """`obj` on one line with a space after each `,` and `:` (the standard library's C encoder, already fast):
    the layout of each metadata attribute, column and row of a Dataset-JSON file."""
    return json.dumps(obj, ensure_ascii=False)


def _stdlib_indented(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _has_non_finite_float(obj: Any) -> bool:
    """Whether a NaN or an infinity is anywhere in `obj` (dicts, lists and tuples are walked)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
