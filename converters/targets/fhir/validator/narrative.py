"""FHIR's narrative rules for `Narrative.div` (the `htmlChecks()` of invariants txt-1 and txt-2).

`htmlChecks()` is not a FHIRPath function any engine in Python provides, so the two rules are written here,
following the FHIR specification (R4 narrative.html#xhtml, unchanged in R5): the content is an XHTML
`div` in the XHTML namespace; it holds only the basic HTML formatting elements and attributes (HTML 4.0
chapters 7-11 and 15, `<a>` with `name`/`href`, images, `style` attributes), never head, body, scripts,
forms, frames, objects, links or event attributes (txt-1); and it has some non-whitespace content (txt-2).
The element and attribute lists are the ones the HL7 Java validator applies for these rules.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

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
