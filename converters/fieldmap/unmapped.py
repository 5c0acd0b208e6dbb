"""The unmapped listing: every source leaf a field map did not use, with the reason, whole untouched subtrees as
one entry each (so a results section is one line, not thousands).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from converters.fieldmap.adapters import Adapter, JsonAdapter, escape, leaf_text
from converters.fieldmap.spec import Rule
from converters.fieldmap.state import MapResult

NOT_IN_SCHEMA = "not defined by the source format's schema"
_CONTAINERS = (dict, list)


@dataclass(frozen=True, slots=True)
class UnmappedEntry:
    pointer: str
    generic: str
    text: str | None
    reason: str
    is_leaf: bool


class UnmappedListing:
    """Lists what a field map left unused in a record; built once per FieldMap."""

    def __init__(self, adapter: Adapter, rules: tuple[Rule, ...], root: str,
                 unmapped_reasons: tuple[tuple[str, str], ...]) -> None:
        self.adapter = adapter
        self.unmapped_reasons = unmapped_reasons
        # containers holding a path with its own unmapped reason are always listed leaf by leaf
        deeper = {prefix.rsplit("/", 1)[0] for prefix, _ in unmapped_reasons}
        self._deeper = frozenset(_ancestors(deeper) | deeper)
        self._reach = json_reach(rules, root) if isinstance(adapter, JsonAdapter) else None

    def entries(self, record: Any, pointer: str, result: MapResult, invalid: dict[str, str],
                 known: Callable[[str], bool] | None = None, generic: str | None = None) -> list[UnmappedEntry]:
        """Every source leaf the map did not use, whole untouched subtrees as one entry each.

        A container is entered when something under it was used (its pointer is an ancestor of a consumed or
        absent one), when a value under it was refused (so that value is listed with its own reason; a refused
        container is one entry with its reason) or when a path under it has its own unmapped reason; otherwise
        it is one entry. For JSON
        the walk finds that out itself, entering only containers where a rule can reach (`self._reach`), and
        checks at the end that it met every used pointer; when it did not (a pointer the walk cannot meet),
        the listing is made from the ancestors of the used pointers instead, as it always was. `generic`: the
        record's generic path, when its pointer has an index (the third trial of a file, `.../Trial[3]`)."""
        root = pointer if generic is None else generic
        if self._reach is not None:
            entries = self._json_entries(record, pointer, root, result, invalid, known)
            if entries is not None:
                return entries
        consumed, absent, rejected = result.consumed, result.absent, result.rejected
        touched = _ancestors(itertools.chain(consumed, absent)) | _holding(rejected)
        deeper = self._deeper
        entries = []
        adapter = self.adapter

        def visit(node: Any, ptr: str, generic: str) -> None:
            for child, child_ptr, child_generic, is_leaf in adapter.walk(node, ptr, generic):
                if child_ptr in consumed:
                    continue
                if child_ptr in absent and child_ptr not in rejected:
                    # read, and it means "nothing" (e.g. an age of N/A): listed, with what it means
                    entries.append(UnmappedEntry(child_ptr, child_generic, leaf_text(adapter, child),
                                                 absent[child_ptr], is_leaf))
                    continue
                if not is_leaf and (child_ptr in touched or child_generic in deeper):
                    visit(child, child_ptr, child_generic)
                    continue
                reason = self.reason_for(child_ptr, child_generic, rejected, invalid, known)
                text = leaf_text(adapter, child) if is_leaf else None
                entries.append(UnmappedEntry(child_ptr, child_generic, text, reason, is_leaf))

        visit(record, pointer, root)
        return entries

    def _json_entries(self, record: Any, pointer: str, root: str, result: MapResult, invalid: dict[str, str],
                       known: Callable[[str], bool] | None) -> list[UnmappedEntry] | None:
        """`entries` for JSON in one walk, or None when the walk did not meet every used pointer."""
        consumed, absent, rejected = result.consumed, result.absent, result.rejected
        reach = self._reach
        assert reach is not None
        deeper = self._deeper
        holding = _holding(rejected)
        entries: list[UnmappedEntry] = []
        adapter = self.adapter

        def listed(child: Any, child_ptr: str, child_generic: str) -> int:
            """A child no rule consumed: listed, or entered; how many used pointers were met under it."""
            met = 0
            if child_ptr in absent:
                met = 1
                if child_ptr not in rejected:
                    # read, and it means "nothing" (e.g. an age of N/A): listed, with what it means
                    entries.append(UnmappedEntry(child_ptr, child_generic, leaf_text(adapter, child),
                                                 absent[child_ptr], type(child) not in _CONTAINERS))
                    return met
            is_leaf = type(child) not in _CONTAINERS
            if not is_leaf:
                if child_generic in reach:  # entered to see whether anything under it was used
                    mark = len(entries)
                    inside = visit(child, child_ptr, child_generic)
                    if inside or child_generic in deeper or child_ptr in holding:
                        return met + inside
                    del entries[mark:]  # nothing used or refused under it: one entry for the whole
                elif child_generic in deeper or child_ptr in holding:
                    return met + visit(child, child_ptr, child_generic)
            reason = self.reason_for(child_ptr, child_generic, rejected, invalid, known)
            text = leaf_text(adapter, child) if is_leaf else None
            entries.append(UnmappedEntry(child_ptr, child_generic, text, reason, is_leaf))
            return met

        def visit(node: Any, ptr: str, generic: str) -> int:
            met = 0
            if type(node) is dict:
                for key, value in node.items():
                    step = key if "~" not in key and "/" not in key else escape(key)
                    child_ptr = ptr + "/" + step
                    if child_ptr in consumed:
                        met += 1
                    else:
                        met += listed(value, child_ptr, generic + "/" + step)
            elif type(node) is list:
                for index, value in enumerate(node):
                    child_ptr = f"{ptr}/{index}"
                    if child_ptr in consumed:
                        met += 1
                    else:
                        met += listed(value, child_ptr, generic + "/*")
            return met

        met = visit(record, pointer, root)
        used = len(consumed) + sum(1 for ptr in absent if ptr not in consumed)
        return entries if met == used else None

    def reason_for(self, ptr: str, generic: str, rejected: dict[str, str], invalid: dict[str, str],
                   known: Callable[[str], bool] | None) -> str:
        """Why the source value at `ptr` is not used."""
        if ptr in rejected:
            return rejected[ptr]
        for bad_ptr, message in invalid.items():
            if ptr == bad_ptr or ptr.startswith(bad_ptr + "/"):
                return f"fails the source schema: {message}"
        for prefix, reason in self.unmapped_reasons:
            if generic == prefix or generic.startswith(prefix + "/"):
                return reason
        if known is not None and not known(generic):
            return NOT_IN_SCHEMA
        return "no rule in the field map uses it"



def _holding(rejected: dict[str, str]) -> set[str]:
    """Containers with a refused value under them that were not refused whole themselves."""
    return _ancestors(rejected) - rejected.keys() if rejected else set()


def _ancestors(pointers: Iterable[str]) -> set[str]:
    """Every proper prefix (container pointer) of the given pointers."""
    out: set[str] = set()
    for ptr in pointers:
        cut = ptr.rfind("/")
        while cut > 0:
            prefix = ptr[:cut]
            if prefix in out:
                break
            out.add(prefix)
            cut = prefix.rfind("/")
    return out


def json_reach(rules: tuple[Rule, ...], root: str) -> frozenset[str]:
    """Generic paths (`/a/*/b`) of the JSON containers under which a rule can find a value: every step of a
    source path may meet a list (whose elements the engine then enters), so each may be followed by `*`."""
    leaves: set[str] = set()

    def follow(bases: set[str], steps: tuple[str, ...]) -> set[str]:
        for step in steps:
            sep = "/" + escape(step)
            bases = {base + sep for base in bases} | {base + sep + "/*" for base in bases}
        return bases

    def visit(rules: tuple[Rule, ...], bases: set[str]) -> None:
        for rule in rules:
            found = follow(bases, rule.source)
            if rule.each is not None:
                visit(rule.each, found)
                continue
            leaves.update(found)
            for _, steps in rule.parts:
                leaves.update(follow(found, steps))

    visit(rules, {root})
    return frozenset(_ancestors(leaves))
