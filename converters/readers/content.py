"""What a document that no reader took holds, said in a few words: the reason a steward reads for "not a study".

Only JSON and XML are described here (every reader of them claims its own records by their shape, so what is left
is not a study record: a package manifest, `[1,2,3]`, an XML schema lying beside the records). Plain text is the
page reader's to explain (`Refusals`): only it knows what a study page shows.
"""

from __future__ import annotations

import json
import re

# The root element's start tag, after the prolog: declaration, processing instructions, comments, a doctype.
_XML_ROOT = re.compile(r"(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*<(?P<name>[A-Za-z_][\w.:-]*)",
                       re.DOTALL)
_KEYS_SHOWN = 5


def structure_of(text: str) -> str | None:
    """'a JSON array of 3 numbers', 'a JSON object with keys name, version', 'an XML document with root element
    <xs:schema>', ...; None for text that is neither JSON nor XML."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith(("{", "[")):
        return _json_structure(head)
    if head.startswith("<"):
        m = _XML_ROOT.match(head)
        return f"an XML document with root element <{m['name']}>" if m else None
    return None


def _json_structure(text: str) -> str | None:
    try:
        value = json.loads(text)
    except RecursionError:
        return "JSON nested too deep to read"
    except ValueError as exc:
        if text.startswith("["):
            return None  # a Markdown link ('[Skip to content](...)') starts so too: text, not JSON
        return f"text that starts like JSON but does not parse ({getattr(exc, 'msg', exc)} at line " \
               f"{getattr(exc, 'lineno', '?')})"
    if isinstance(value, dict):
        if not value:
            return "an empty JSON object"
        keys = [str(key) for key in value][:_KEYS_SHOWN]
        more = ", ..." if len(value) > _KEYS_SHOWN else ""
        return f"a JSON object with key{'s' if len(value) > 1 else ''} {', '.join(keys)}{more}"
    if isinstance(value, list):
        if not value:
            return "an empty JSON array"
        return f"a JSON array of {len(value)} {_kinds(value, len(value))}"
    return None


def _kinds(values: list[object], count: int) -> str:
    """What a JSON array holds: 'numbers', 'strings', 'objects', ... or 'values of several kinds'."""
    names = {bool: "boolean", int: "number", float: "number", str: "string", dict: "object", list: "array"}
    kinds = {names.get(type(value), "null") for value in values}
    if len(kinds) > 1:
        return "values of several kinds"
    noun = kinds.pop()
    return noun if count == 1 else f"{noun}s"
