"""FHIR's narrative rules for `Narrative.div` (the `htmlChecks()` of invariants txt-1 and txt-2).

`htmlChecks()` is not a FHIRPath function any engine in Python provides, so the two rules are written here,
following the FHIR specification (R4 narrative.html#xhtml, unchanged in R5): the content is an XHTML
`div` in the XHTML namespace; it holds only the basic HTML formatting elements and attributes (HTML 4.0
chapters 7-11 and 15, `<a>` with `name`/`href`, images, `style` attributes), never head, body, scripts,
forms, frames, objects, links or event attributes (txt-1); and it has some non-whitespace content (txt-2).
The element and attribute lists are the ones the HL7 Java validator applies for these rules.

Every resource has a narrative, so this runs thousands of times per run: `narrative_problems` first reads the
div with one bare expat pass (no tree, no DTD allowed) that can only say "both rules are met"; anything else
(malformed XML, a DOCTYPE, a disallowed element or attribute, no text) is decided again by the tree-building
functions below, so every reason reported is theirs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

XHTML_NS = "http://www.w3.org/1999/xhtml"
_XML_NS = "http://www.w3.org/XML/1998/namespace"

ALLOWED_ELEMENTS = frozenset(
    {
        "p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em", "i", "strong",
        "small", "big", "tt", "dfn", "q", "var", "abbr", "acronym", "cite", "blockquote", "hr",
        "address", "bdo", "kbd", "sub", "sup", "ul", "ol", "li", "dl", "dt", "dd", "pre", "table",
        "caption", "colgroup", "col", "thead", "tr", "tfoot", "tbody", "th", "td", "code", "samp",
        "img", "map", "area",
    }
)
ALLOWED_ATTRIBUTES = frozenset(
    {
        "title", "style", "class", "id", "lang", "dir", "accesskey", "tabindex",
        "span", "width", "align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope",
        "rowspan", "colspan",
    }
)
ELEMENT_ATTRIBUTES = {
    "a": frozenset({"name", "href"}),
    "img": frozenset({"src", "alt", "height", "width"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "table": frozenset({"summary", "width", "border", "frame", "rules", "cellspacing", "cellpadding"}),
    "ol": frozenset({"start", "type"}),
    "ul": frozenset({"type"}),
    "li": frozenset({"value"}),
    "area": frozenset({"shape", "coords", "href", "alt", "nohref"}),
    "map": frozenset({"name"}),
    "bdo": frozenset({"dir"}),
}


def parse_div(text: str) -> ET.Element | str:
    """The parsed `div`, or a sentence saying why it is not well-formed XHTML."""
    try:
        root: ET.Element = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return root
    except (ET.ParseError, DefusedXmlException) as exc:
        return f"the narrative is not well-formed XML ({exc})"


def structure_problem(text: str) -> str | None:
    """Why the narrative breaks txt-1 (allowed XHTML only), or None when it is fine."""
    root = parse_div(text)
    if isinstance(root, str):
        return root
    if root.tag != f"{{{XHTML_NS}}}div":
        return f"the root element is {root.tag}, not an XHTML div (xmlns=\"{XHTML_NS}\")"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        namespace, _, local = element.tag[1:].partition("}") if element.tag.startswith("{") else ("", "", "")
        if namespace != XHTML_NS:
            return f"element {element.tag} is not in the XHTML namespace"
        if local not in ALLOWED_ELEMENTS:
            return f"element <{local}> is not allowed in a narrative"
        allowed = ELEMENT_ATTRIBUTES.get(local, frozenset())
        for attribute in element.attrib:
            name = attribute
            if attribute.startswith("{"):
                attr_ns, _, name = attribute[1:].partition("}")
                if attr_ns == _XML_NS and name == "lang":
                    continue
                return f"attribute {attribute} on <{local}> is not allowed in a narrative"
            if name not in ALLOWED_ATTRIBUTES and name not in allowed:
                return f"attribute {name} on <{local}> is not allowed in a narrative"
    return None


def content_problem(text: str) -> str | None:
    """Why the narrative breaks txt-2 (some non-whitespace content), or None when it is fine."""
    root = parse_div(text)
    if isinstance(root, str):
        return root
    if "".join(root.itertext()).strip():
        return None
    if any(el.tag == f"{{{XHTML_NS}}}img" for el in root.iter()):
        return None
    return "the narrative has no text"


class _Doctype(Exception):
    """A DOCTYPE: the defused parser refuses it; its own message is wanted."""


@dataclass(slots=True)
class _Scan:
    """What one expat pass over a div found: a reason to look again, some text, an img."""

    doubtful: bool = False
    has_text: bool = False
    has_img: bool = False
    first: bool = True

    def start(self, name: str, attributes: list[str]) -> None:
        namespace, sep, local = name.partition("}")
        if not sep or namespace != XHTML_NS or local not in ALLOWED_ELEMENTS or (self.first and local != "div"):
            self.doubtful = True
        self.first = False
        if local == "img":
            self.has_img = True
        allowed = ELEMENT_ATTRIBUTES.get(local, frozenset())
        for attribute in attributes[::2]:  # ordered_attributes: name, value, name, value, ...
            attr_ns, attr_sep, attr_local = attribute.partition("}")
            if attr_sep:
                if attr_ns != _XML_NS or attr_local != "lang":
                    self.doubtful = True
            elif attribute not in ALLOWED_ATTRIBUTES and attribute not in allowed:
                self.doubtful = True

    def text(self, data: str) -> None:
        if not self.has_text and data.strip():
            self.has_text = True

    @staticmethod
    def doctype(*_: object) -> None:
        raise _Doctype


_PLAIN_OPEN = f'<div xmlns="{XHTML_NS}">'
#: After that start tag: text, and tags of allowed elements without attributes (`<p>`, `</p>`, `<br/>`) only.
_PLAIN_BODY = re.compile(
    r"(?:[^<]++|</?(?:" + "|".join(sorted(ALLOWED_ELEMENTS, key=len, reverse=True)) + r")/?>)*+"
)
#: Literal non-whitespace text right after a tag (before any entity reference; str.strip's white space).
_PLAIN_TEXT = re.compile(r">[^<&]*?[^\s<&]")


def _plain_markup_fine(text: str) -> bool:
    """True only for a div as writers emit it, and then only when `_scanned_fine` would say so, without a
    Python call per element: the exact XHTML div start tag, then only allowed elements without attributes
    (no prefixes, comments, CDATA or DOCTYPE), some literal text or an img, and well-formed (expat, with
    no handlers, decides that). Anything else is left to `_scanned_fine`."""
    if not text.startswith(_PLAIN_OPEN) or _PLAIN_BODY.fullmatch(text, len(_PLAIN_OPEN)) is None:
        return False
    if _PLAIN_TEXT.search(text) is None and "<img" not in text:
        return False
    try:
        expat.ParserCreate(None, "}").Parse(text, True)
    except expat.ExpatError:
        return False
    return True


def _plainly_fine(text: str) -> bool:
    """True only when the div is well-formed and meets both rules, as `_scanned_fine` reads it; the plain markup
    writers emit is recognised first, without a Python call per element."""
    return _plain_markup_fine(text) or _scanned_fine(text)


def _scanned_fine(text: str) -> bool:
    """True only when the div is well-formed (as the tree parser reads it: same expat, namespaces split on "}"),
    has no DOCTYPE, only allowed XHTML elements and attributes, and some text or an image."""
    scan = _Scan()
    parser = expat.ParserCreate(None, "}")
    parser.ordered_attributes = True
    parser.StartElementHandler = scan.start
    parser.CharacterDataHandler = scan.text
    parser.StartDoctypeDeclHandler = scan.doctype
    try:
        parser.Parse(text, True)
    except (expat.ExpatError, _Doctype):
        return False
    return not scan.doubtful and (scan.has_text or scan.has_img)


@lru_cache(maxsize=64)
def narrative_problems(text: str) -> tuple[str | None, str | None]:
    """(txt-1 reason, txt-2 reason) for a div, each None when met.

    Cached per process (a few recent divs: txt-1 and txt-2 are evaluated one after the other on the same div);
    the answer depends on the text alone."""
    if _plainly_fine(text):
        return None, None
    return structure_problem(text), content_problem(text)
