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


def shorten_distinct(texts: list[str], marker: str, limit: int = LIMIT) -> list[str]:
    """Each text `shorten`ed, with different texts kept different: two long values that share their first 200
    characters would otherwise become one (ETCD and ELEMENT must correspond one to one), so the second and later
    of them end with a number after the marker (`... [...] (2)`). Equal texts stay equal."""
    out: list[str] = []
    seen: dict[str, str] = {}  # shortened -> the text it stands for
    for text in texts:
        short = shorten(text, marker, limit)
        number = 1
        while seen.get(short, text) != text:
            number += 1
            short = shorten(text, f"{marker} ({number})", limit)
        seen[short] = text
        out.append(short)
    return out
