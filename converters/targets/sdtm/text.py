"""Text rules of SDTM character values: one line, at most 200 characters and 200 bytes, split or shortened.

SAS XPORT v5 stores at most 200 bytes per character value and pads with blanks, so a value must not rely on
trailing blanks or line breaks. `clean` turns every run of white space (line breaks included) into one space.
`split` cuts a long value into pieces for TSVAL, TSVAL1..n (SDTMIG v3.4 TS assumption 4 and section 4.5.3.2:
split between words); the pieces concatenated give the cleaned text back exactly, because each cut is made
just before a space, which then starts the next piece (SAS keeps leading blanks, it drops trailing ones).
`shorten` cuts a value at a word boundary and marks the cut, for variables that may not be split (IETEST).
"""

from __future__ import annotations

import re

LIMIT = 200
_SPACE_RUN = re.compile(r"\s+")


def clean(text: str) -> str:
    """One line: runs of white space become one space; no leading or trailing space."""
    return _SPACE_RUN.sub(" ", text).strip()


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def fits(text: str, limit: int = LIMIT) -> bool:
    """At most `limit` characters and `limit` UTF-8 bytes."""
    return len(text) <= limit and (text.isascii() or utf8_len(text) <= limit)


def _longest_prefix(text: str, limit: int) -> int:
    """Characters of `text` that fit in `limit` characters and `limit` UTF-8 bytes."""
    head = text[:limit]
    encoded = head.encode("utf-8")
    if len(encoded) <= limit:
        return len(head)
    return len(encoded[:limit].decode("utf-8", errors="ignore"))


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` characters/bytes, cut before a space where possible; ''.join gives `text`."""
    pieces: list[str] = []
    rest = text
    while not fits(rest, limit):
        end = _longest_prefix(rest, limit)
        cut = rest.rfind(" ", 1, end + 1) if end < len(rest) else end
        if cut <= 0:
            cut = end  # one word longer than the limit: cut inside it
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def shorten(text: str, marker: str, limit: int = LIMIT) -> str:
    """`text` if it fits; else its longest word-boundary prefix that fits with `marker` appended."""
    if fits(text, limit):
        return text
    room = _longest_prefix(text, limit - utf8_len(marker))
    cut = text.rfind(" ", 1, room + 1)
    if cut <= 0:
        cut = room
    return text[:cut].rstrip() + marker


def shorten_distinct(entries: list[tuple[str, str]], marker: str, limit: int = LIMIT) -> list[str]:
    """Each (key, text) `shorten`ed, with the values of different keys kept different: ETCD and ELEMENT (and
    ARMCD and ARM) must correspond one to one, yet two long texts can share their first 200 characters, and two
    texts can become one once white space is cleaned. The second and later of such values end with a number
    (`... (2)`, after the marker when cut); entries of one key share one value."""
    out: list[str] = []
    seen: dict[str, str] = {}  # value -> the key it stands for
    for key, text in entries:
        short = shorten(text, marker, limit)
        number = 1
        while seen.get(short, key) != key:
            number += 1
            suffix = f" ({number})"
            short = text + suffix if fits(text + suffix, limit) else shorten(text, marker + suffix, limit)
        seen[short] = key
        out.append(short)
    return out
