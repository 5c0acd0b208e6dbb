"""Generated narrative (`text`, status `generated`) as XHTML that FHIR's narrative rules accept.

Only elements FHIR allows in narrative are used (div, p, b, table, tbody, tr, th, td, ul, li), no attributes
but the XHTML namespace, every text escaped, and characters XML 1.0 forbids removed, so that any source text
(angle brackets, ampersands, control characters) yields well-formed, safe XHTML.
"""

from __future__ import annotations

import html
import re

XHTML_NS = "http://www.w3.org/1999/xhtml"
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# What `escape` changes: the characters html.escape replaces and those XML forbids (most texts have none).
_TO_ESCAPE = re.compile("[&<>\"'\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

Row = tuple[str, list[str]]


def escape(text: str) -> str:
    """Text safe inside an XHTML element (the text itself when nothing in it needs escaping: one scan)."""
    if not _TO_ESCAPE.search(text):
        return text
    return html.escape(_XML_FORBIDDEN.sub("", text), quote=True)


def _cell(values: list[str]) -> str:
    if len(values) == 1:
        return escape(values[0])
    return "<ul>" + "".join(f"<li>{escape(v)}</li>" for v in values) + "</ul>"


def narrative(heading: str, rows: list[Row], lists: list[tuple[str, list[str]]] | None = None) -> dict[str, str]:
    """A `text` element: a heading, a two-column table of the rows that have values, then titled lists."""
    parts = [f'<div xmlns="{XHTML_NS}">', f"<p><b>{escape(heading)}</b></p>"]
    body = [f"<tr><th>{escape(label)}</th><td>{_cell(values)}</td></tr>" for label, values in rows if values]
    if body:
        parts.append("<table><tbody>" + "".join(body) + "</tbody></table>")
    for title, items in lists or []:
        if items:
            parts.append(f"<p><b>{escape(title)}</b></p><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items)
                         + "</ul>")
    parts.append("</div>")
    return {"status": "generated", "div": "".join(parts)}
