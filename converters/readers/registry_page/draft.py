"""The study under construction: plain JSON-like data plus provenance, turned into a `Study` at the end.

Building plain dicts (addressed by dotted paths) keeps every parser small and lets provenance be recorded at
the exact JSON pointer each value will have in `study.json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from converters.model import ProvenanceMap, SourceLocation, json_pointer
from converters.problem_codes import page as codes
from converters.problems import Location, Problem

Span = tuple[int, int]  # first and last line, 1-based, inclusive


def path_parts(path: str) -> list[str]:
    return [part for part in path.split(".") if part]


@dataclass
class Draft:
    """Values, provenance and problems collected while reading one page."""

    file: str
    data: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Span] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _first: dict[str, Span] = field(default_factory=dict)

    # --- problems -------------------------------------------------------------------------------------

    def report(self, problem: Problem) -> None:
        self.problems.append(problem)

    def where(self, span: Span | None = None) -> Location:
        if span is None:
            return Location(file=self.file)
        return Location(file=self.file, line=span[0], end_line=span[1] if span[1] != span[0] else None)

    # --- values ---------------------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        node: Any = self.data
        for part in path_parts(path):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def has(self, path: str) -> bool:
        value = self.get(path)
        return value is not None and value != [] and value != {}

    def assign(self, path: str, value: Any, span: Span, label: str | None = None) -> bool:
        """Set a single-valued field; a second, different statement keeps the first and is reported."""
        parts = path_parts(path)
        parent = self.container(parts[:-1])
        pointer = json_pointer(*parts)
        if parts[-1] in parent and parent[parts[-1]] is not None:
            if parent[parts[-1]] != value:
                first = self._first.get(pointer, span)
                self.report(codes.FIELD_REPEATED(self.where(span), field=label or path, value=_brief(value),
                                                 first_line=first[0]))
                return False
            return False
        parent[parts[-1]] = value
        self._first[pointer] = span
        self.record(pointer, value, span)
        return True

    def append(self, path: str, value: Any, span: Span) -> int:
        """Append to a list field; returns the index of the new item."""
        parts = path_parts(path)
        parent = self.container(parts[:-1])
        items = parent.setdefault(parts[-1], [])
        items.append(value)
        index = len(items) - 1
        self.record(json_pointer(*parts, index), value, span)
        return index

    def record(self, pointer: str, value: Any, span: Span) -> None:
        """Provenance for a value and, when it is an object or list, for each of its leaves."""
        if isinstance(value, dict):
            for key, item in value.items():
                if item is not None and item != [] and item != {}:
                    self.record(pointer + json_pointer(key), item, span)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.record(f"{pointer}/{index}", item, span)
        else:
            self.provenance[pointer] = span

    def note(self, pointer: str, span: Span) -> None:
        """Provenance for an object as a whole (e.g. a table row spread over several lines)."""
        self.provenance[pointer] = span

    def container(self, parts: list[str]) -> dict[str, Any]:
        """The object at a path of object keys, created (or replacing a non-object) where missing."""
        node = self.data
        for part in parts:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        return node

    def covered_lines(self) -> set[int]:
        lines: set[int] = set()
        for start, end in self.provenance.values():
            lines.update(range(start, end + 1))
        return lines

    def provenance_map(self) -> dict[str, SourceLocation]:
        collected = ProvenanceMap()
        for pointer, (start, end) in self.provenance.items():
            collected.lines(pointer, start, end)
        return collected.as_dict()


def _brief(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
