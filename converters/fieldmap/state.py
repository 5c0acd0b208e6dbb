"""What running a field map on one record keeps track of, and the small helpers every compiled rule shares.

`State` is the bookkeeping of one record (or of one object being built), `Env` what one `apply` call is given,
`MapResult` what it returns; the rest writes into the target dict by fixed paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from converters.fieldmap.conversions import Parts, Rejected
from converters.model import TextFormat
from converters.problems import Location, Problem, ProblemKind


@dataclass(frozen=True)
class EngineKinds:
    """The problem kinds the engine reports, supplied by the reader's catalogue (codes carry its prefix)."""

    unknown_value: ProblemKind  # params: value, path, vocabulary
    bad_value: ProblemKind  # params: path, reason
    dropped_object: ProblemKind  # params: path, target, missing


class State:
    """Bookkeeping of one record, or of one object being built (merged into its parent's when kept)."""

    __slots__ = ("absent", "consumed", "problems", "provenance", "rejected")

    def __init__(self) -> None:
        self.provenance: dict[str, str] = {}
        self.consumed: set[str] = set()
        self.absent: dict[str, str] = {}  # read, and meaning "nothing to record": why
        self.rejected: dict[str, str] = {}
        self.problems: list[Problem] = []

    def merge(self, other: State) -> None:
        self.provenance.update(other.provenance)
        self.consumed.update(other.consumed)
        if other.absent:
            self.absent.update(other.absent)
        if other.rejected:
            self.rejected.update(other.rejected)
        if other.problems:
            self.problems.extend(other.problems)


@dataclass
class MapResult:
    """What a field map made of one record: the Study's fields as data, plus the bookkeeping."""

    data: dict[str, Any]
    provenance: dict[str, str]
    consumed: set[str]
    absent: dict[str, str]
    rejected: dict[str, str]
    problems: list[Problem]
    text_formats: dict[str, TextFormat] = field(default_factory=dict)  # target pointer -> format (not plain)

    def used(self, pointer: str) -> bool:
        """Whether a source leaf was used: mapped, or read as meaning "nothing" (and not rejected elsewhere)."""
        return pointer in self.consumed or (pointer in self.absent and pointer not in self.rejected)


SAME = "same"  # what a placer returns when the field already holds the same value


@dataclass(slots=True)
class Env:
    """Per `apply` call: where problems point and which source pointers the schema check rejected."""

    location: Callable[[str], Location]
    invalid: dict[str, str]


Runner = Callable[[Any, str, dict[str, Any], str, State, Env], None]  # (node, pointer, out, out_ptr, state, env)
Finish = Callable[[Any, list[str], str, dict[str, Any], str, State, Env], None]
Placer = Callable[[Any, str, dict[str, Any], str, State], bool | str]
Gather = Callable[[Any, str], tuple[Parts, list[str]] | Rejected]
STRUCTURE = Rejected("expected a single value, found a structure")
NOTHING_RECORDED = "read; it states nothing the model records"


def container_getter(steps: tuple[str, ...]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`container_at(out, steps)` specialised for a fixed path (creates missing dicts on the way)."""
    if not steps:
        return lambda out: out
    if len(steps) == 1:
        (only,) = steps

        def one(out: dict[str, Any]) -> dict[str, Any]:
            nxt = out.get(only)
            if nxt is None:
                nxt = out[only] = {}
            return nxt

        return one
    return lambda out: container_at(out, steps)


def peeker(steps: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """`value_at(out, steps)` specialised for a fixed path."""
    if len(steps) == 1:
        (only,) = steps
        return lambda out: out.get(only)
    return lambda out: value_at(out, steps)


def value_at(out: dict[str, Any], steps: tuple[str, ...]) -> Any:
    """The value at a target path, or None, without creating anything."""
    current: Any = out
    for step in steps:
        if not isinstance(current, dict) or step not in current:
            return None
        current = current[step]
    return current


def container_at(out: dict[str, Any], steps: tuple[str, ...]) -> dict[str, Any]:
    """The dict at a target path, created (with the dicts above it) when missing."""
    current = out
    for step in steps:
        nxt = current.get(step)
        if nxt is None:
            nxt = {}
            current[step] = nxt
        current = nxt
    return current


def reject(state: State, pointers: list[str], reason: str, where: str, env: Env, kind: ProblemKind) -> None:
    """The values at `pointers` are refused for `reason`: listed unmapped with it, and one problem reported."""
    for ptr in pointers:
        state.rejected.setdefault(ptr, reason)
    state.problems.append(kind(env.location(where), path=where, reason=reason))


def is_invalid(pointer: str, invalid: dict[str, str]) -> bool:
    """Whether the source schema check rejected this pointer or a container above it."""
    if pointer in invalid:
        return True
    return any(pointer.startswith(bad + "/") for bad in invalid)
