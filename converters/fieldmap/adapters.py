"""How the field-map engine walks a source tree: JSON data, or an lxml element tree (XML).

An adapter finds the nodes at a fixed path under a node (with their pointers: RFC 6901 JSON pointers, or XPaths),
reads a scalar, and lists a node's children for the unmapped listing and coverage counts.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

MISSING: Any = object()  # a sentinel for "no such member" (a member may hold None)

Found = list[tuple[Any, str]]  # nodes with their pointers
Find = Callable[[Any, str], Found]  # (node, its pointer) -> the nodes at a fixed path under it


class Adapter(typing.Protocol):
    """How the engine walks one kind of source tree (JSON data, or an XML element tree)."""

    def path(self, steps: tuple[str, ...]) -> Find:
        """A finder for the nodes at `steps` under a node (every element of a list or repeated element)."""
        ...

    def scalar(self, node: Any) -> tuple[bool, Any]: ...

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]: ...


def escape(key: str) -> str:
    """A member name as a JSON pointer step (RFC 6901: `~` and `/` escaped)."""
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


class JsonAdapter:
    """JSON data (dict / list / scalars); pointers are RFC 6901 JSON pointers, generic paths use `*`."""

    def path(self, steps: tuple[str, ...]) -> Find:
        return _json_path(steps)

    def scalar(self, node: Any) -> tuple[bool, Any]:
        return (type(node) not in (dict, list)), node

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]:
        """Direct children as (child, pointer, generic path, is_leaf)."""
        if type(node) is dict:
            for key, value in node.items():
                step = escape(key)
                yield value, f"{pointer}/{step}", f"{generic}/{step}", type(value) not in (dict, list)
        elif type(node) is list:
            for index, value in enumerate(node):
                yield value, f"{pointer}/{index}", f"{generic}/*", type(value) not in (dict, list)


@dataclass(frozen=True, slots=True)
class XmlValue:
    """A text value that is not an element of its own: an attribute's value, or the text of an element that
    also has child elements (mixed content, which public.xsd does not allow; listed, never dropped)."""

    value: str


class XmlAdapter:
    """lxml elements; pointers are XPaths (`/clinical_study/location[3]/facility/name`, `.../@type`).

    A repeated element gets a 1-based index (`location[3]`); an element that occurs once does not. Generic
    paths leave the indexes out. Comments and processing instructions are not data and are skipped; text
    beside child elements is a leaf of its own (`.../text()`).
    """

    def path(self, steps: tuple[str, ...]) -> Find:
        return lambda node, pointer: self._resolve(node, pointer, steps)

    @staticmethod
    def _resolve(node: Any, pointer: str, steps: tuple[str, ...]) -> Found:
        items: Found = [(node, pointer)]
        for step in steps:
            following: Found = []
            for element, ptr in items:
                if isinstance(element, XmlValue):
                    continue
                if step.startswith("@"):
                    value = element.get(step[1:])
                    if value is not None:
                        following.append((XmlValue(value), f"{ptr}/{step}"))
                    continue
                found = element.findall(step)
                if len(found) == 1:
                    following.append((found[0], f"{ptr}/{step}"))
                else:
                    following.extend((e, f"{ptr}/{step}[{i}]") for i, e in enumerate(found, start=1))
            items = following
        return items

    def scalar(self, node: Any) -> tuple[bool, Any]:
        if isinstance(node, XmlValue):
            return True, node.value
        if any(isinstance(child.tag, str) for child in node):
            return False, None
        return True, _element_text(node)

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]:
        if isinstance(node, XmlValue):
            return
        for name, value in sorted(node.attrib.items()):
            yield XmlValue(value), f"{pointer}/@{name}", f"{generic}/@{name}", True
        elements = []
        mixed = bool(node.text) and not node.text.isspace()  # text beside the child elements
        for child in node:
            if isinstance(child.tag, str):
                elements.append(child)
            if not mixed and child.tail and not child.tail.isspace():
                mixed = True
        if mixed:
            yield XmlValue(_element_text(node)), f"{pointer}/text()", f"{generic}/text()", True
        counts: dict[str, int] = {}
        for child in elements:
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        for child in elements:
            tag = child.tag
            seen[tag] = seen.get(tag, 0) + 1
            step = f"{tag}[{seen[tag]}]" if counts[tag] > 1 else tag
            child_ptr, child_generic = f"{pointer}/{step}", f"{generic}/{tag}"
            if any(isinstance(c.tag, str) for c in child):
                yield child, child_ptr, child_generic, False  # its attributes come when it is walked
                continue
            yield child, child_ptr, child_generic, True  # the element's text
            for name, value in sorted(child.attrib.items()):
                yield XmlValue(value), f"{child_ptr}/@{name}", f"{child_generic}/@{name}", True


def _element_text(element: Any) -> str:
    """An element's own text, joining the pieces a comment inside it would split."""
    pieces = [element.text or ""]
    pieces.extend(child.tail or "" for child in element)
    return "".join(pieces)


def leaf_text(adapter: Adapter, node: Any) -> str:
    """The value of a leaf as text, for listing it as unmapped."""
    ok, value = adapter.scalar(node)
    if not ok:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _json_path(steps: tuple[str, ...]) -> Find:
    """`JsonAdapter.path`: a chain of `_json_member` steps (lists met on the way are entered)."""
    if not steps:
        return lambda node, pointer: [(node, pointer)]
    first = _json_member(steps[0])
    if len(steps) == 1:
        return first
    rest = _json_path(steps[1:])

    def walk(node: Any, pointer: str) -> Found:
        found = first(node, pointer)
        if len(found) == 1:
            return rest(*found[0])
        out: Found = []
        for item, item_ptr in found:
            out.extend(rest(item, item_ptr))
        return out

    return walk


def _json_member(step: str) -> Find:
    """The value of member `step` of an object (each element, when it is a list); nothing on anything else."""
    sep = "/" + escape(step)

    def member(node: Any, pointer: str) -> Found:
        if type(node) is not dict:
            return []
        child = node.get(step, MISSING)
        if child is MISSING:
            return []
        ptr = pointer + sep
        if type(child) is list:
            return [(v, f"{ptr}/{i}") for i, v in enumerate(child)]
        return [(child, ptr)]

    return member


def iter_leaves(adapter: Adapter, record: Any, pointer: str, generic: str) -> Iterator[tuple[str, str]]:
    """Every leaf of a record as (pointer, generic path), for coverage counts."""
    stack = [(record, pointer, generic)]
    while stack:
        node, ptr, gen = stack.pop()
        for child, child_ptr, child_generic, is_leaf in adapter.walk(node, ptr, gen):
            if is_leaf:
                yield child_ptr, child_generic
            else:
                stack.append((child, child_ptr, child_generic))
