"""Parse untrusted XML safely: no DTD, no entities, no network, no huge trees.

Any XML reader goes through here, so the defences live in one place:
- a document whose prolog declares a DOCTYPE is refused before parsing (registry XML has no DTD; DTDs are
  how entity attacks work: external entities reading local files or the network, "billion laughs");
- the parser runs with entity resolution, DTD loading and network access off and huge-tree support off, so
  even a DTD that slipped past the first check is never acted on (and is refused after parsing).

Refusals are values (`XmlRefusal`) that the reader turns into its own problem codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree

_PROLOG_ITEM = re.compile(rb"\s*(<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DOCTYPE = re.compile(rb"\s*<!DOCTYPE", re.IGNORECASE)
_ENTITY_WINDOW = 64 * 1024  # where an ENTITY declaration is looked for, to name it in the refusal


@dataclass(frozen=True)
class XmlRefusal:
    """Why a document was not parsed: it declares a DTD, or it is not well-formed XML."""

    kind: Literal["dtd", "malformed"]
    line: int | None = None  # malformed: where the parser stopped
    reason: str = ""  # malformed: the parser's message, first line only
    entities: bool = False  # dtd: the prolog declares ENTITY definitions


def secure_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities, loads a DTD or touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False, remove_pis=True)


def has_doctype(data: bytes) -> bool:
    """True when the prolog (before the root element) declares a DOCTYPE; scanned before parsing."""
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        match = _PROLOG_ITEM.match(data, pos)
        if not match:
            break
        pos = match.end()
    return _DOCTYPE.match(data, pos) is not None


def parse_untrusted(data: bytes) -> Any | XmlRefusal:
    """The root element of a well-formed document without a DTD, or why it was refused."""
    if has_doctype(data):
        return XmlRefusal("dtd", entities=b"<!ENTITY" in data[:_ENTITY_WINDOW])
    try:
        root = etree.fromstring(data, secure_parser())
    except etree.XMLSyntaxError as exc:
        return XmlRefusal("malformed", line=exc.lineno or 1, reason=short_message(exc.msg or str(exc)))
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        return XmlRefusal("dtd")
    return root


def short_message(text: str) -> str:
    """A parser or schema message as one line of at most 200 characters."""
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line if len(line) <= 200 else line[:197] + "..."
