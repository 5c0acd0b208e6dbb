"""Cheap provenance: one dict per study from a JSON pointer in study.json to a source location."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from converters.model.study import SourceLocation, Study


def json_pointer(*parts: str | int) -> str:
    """Build an RFC 6901 JSON pointer from path parts (`json_pointer("arms", 0, "label")`)."""
    out = []
    for part in parts:
        text = str(part).replace("~", "~0").replace("/", "~1")
        out.append(text)
    return "/" + "/".join(out)


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 pointer in parsed JSON (or in a model, field by field), or None when the path
    does not exist."""
    node = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, BaseModel):
            node = getattr(node, part, None)
        else:
            return None
    return node


class ProvenanceMap:
    """Collects `pointer -> location` entries while a reader builds a study.

    Readers call `lines(...)` for text pages and `pointer(...)` for structured records; the final dict goes
    into `Study.provenance`. A plain dict of small objects keeps this to a few hundred bytes per study.
    """

    def __init__(self) -> None:
        self._entries: dict[str, SourceLocation] = {}

    def lines(self, target: str, line: int, end_line: int | None = None) -> None:
        """Record that the value at `target` came from lines `line`..`end_line` (1-based, inclusive)."""
        end = end_line if end_line is not None and end_line != line else None
        self._entries[target] = SourceLocation(line=line, end_line=end)

    def pointer(self, target: str, source_pointer: str) -> None:
        """Record that the value at `target` came from `source_pointer` (JSON pointer or XPath)."""
        self._entries[target] = SourceLocation(pointer=source_pointer)

    def as_dict(self) -> dict[str, SourceLocation]:
        """Entries sorted by target pointer, so output is deterministic."""
        return dict(sorted(self._entries.items()))


class PointerLocations:
    """`SourceLocation(pointer=...)` objects by source pointer, made once and shared by the studies a reader builds.

    A study of a structured record has hundreds of provenance entries, and validating a fresh model for each
    was a third of building the study; the pointers themselves are the same few thousand field paths
    (`/protocolSection/.../locations/3/city`) in every record of a format, real or synthetic, so each is made
    once. Shared safely because a `SourceLocation` is never changed after it is made (writers only read it,
    `model_copy` makes a new one). Owned by a reader's converter (one per run); bounded by `limit` entries,
    emptied when full (a record with more distinct pointers than that only costs its own)."""

    def __init__(self, limit: int = 1 << 16) -> None:
        self._made: dict[str, SourceLocation] = {}
        self._limit = limit

    def of(self, pointers: dict[str, str]) -> dict[str, SourceLocation]:
        """Target pointer -> location, for target -> source pointer, sorted by target (deterministic output)."""
        made = self._made
        if len(made) > self._limit:
            made.clear()
        out: dict[str, SourceLocation] = {}
        for target in sorted(pointers):  # sorting the keys alone is twice as fast as sorting the items
            source = pointers[target]
            location = made.get(source)
            if location is None:
                location = made[source] = SourceLocation(pointer=source)
            out[target] = location
        return out


def text_line_usage(study: Study) -> tuple[int, int] | None:
    """(lines used, non-blank lines) for a study read from a text page, or None for other sources.

    A text reader lists every non-blank line it did not use in `Study.unmapped` (boilerplate, headings,
    repeats included) and records the page's non-blank line count in `SourceInfo.content_lines`, so
    used = non-blank lines - non-blank lines listed as unmapped. (Counting the lines under provenance spans
    instead would overstate it: one value's span, e.g. the whole criteria text, can cover repeated lines.)
    """
    total = study.source.content_lines
    if total is None:
        return None
    unused = 0
    for span in study.unmapped:
        if span.line is None:
            continue
        if span.text is not None:
            unused += sum(1 for line in span.text.split("\n") if line.strip())
        else:
            unused += (span.end_line or span.line) - span.line + 1
    return max(0, total - unused), total
