"""The compiled field-map engine on shapes the fixture records do not have.

The engine runs most rules through fast paths (rules sharing a source prefix descend together, a scalar to a
field in one closure, the unmapped listing in one walk) and hands anything unusual to its general path; these
tests pin what the general semantics say for the unusual cases, and compare the unmapped listing with a plain
re-statement of its definition on every fixture record and on seeded mutations of them.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import pytest

from converters.fieldmap import (
    ConversionContext,
    FieldMap,
    JsonAdapter,
    MapResult,
    UnmappedEntry,
    leaf_text,
)
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.problems import Location
from converters.readers.ctgov_v2.record import ENGINE_KINDS, V2RecordConverter
from converters.resources import Resources
from tests.readers_ctgov.helpers import random_slot, v2_records


def where(pointer: str) -> Location:
    return Location(path=pointer)


def _map(resources: Resources, rules: list[dict[str, Any]]) -> FieldMap:
    ctx = ConversionContext(Vocabulary(resources), IdentifierSystems(resources))
    return FieldMap({"paths": "json-pointer", "rules": rules}, "test", JsonAdapter(), ctx, ENGINE_KINDS)


STATUS_RULES = [
    {"from": "p/s/overall", "to": "status.overall", "vocabulary": "Status", "unknown_to": "status.overall_text"},
    {"from": "p/s/why", "to": "status.why_stopped"},
    {"from": "p/s/delayed", "to": "status.delayed_posting", "convert": "boolean"},
]


def test_an_object_given_as_a_list_is_read_from_its_first_element(resources: Resources) -> None:
    field_map = _map(resources, STATUS_RULES)
    record = {"p": {"s": [{"overall": "RECRUITING", "why": "first"}, {"overall": "COMPLETED", "why": "second"}]}}
    result = field_map.apply(record, "", where)
    assert result.data == {"status": {"overall": "RECRUITING", "why_stopped": "first"}}
    assert result.provenance == {"/status/overall": "/p/s/0/overall", "/status/why_stopped": "/p/s/0/why"}
    entries = field_map.unmapped(record, "", result, {})
    assert [e.pointer for e in entries] == ["/p/s/1"]


def test_a_list_of_values_for_a_single_field_gives_its_first(resources: Resources) -> None:
    field_map = _map(resources, STATUS_RULES)
    record = {"p": {"s": {"why": ["one", "two"], "delayed": [True]}}}
    result = field_map.apply(record, "", where)
    assert result.data == {"status": {"why_stopped": "one", "delayed_posting": True}}
    assert [e.pointer for e in field_map.unmapped(record, "", result, {})] == ["/p/s/why/1"]


@pytest.mark.parametrize("value", ["text", 3, None, True])
def test_a_scalar_where_an_object_is_expected_finds_nothing(resources: Resources, value: Any) -> None:
    field_map = _map(resources, STATUS_RULES)
    record = {"p": {"s": value}}
    result = field_map.apply(record, "", where)
    assert result.data == {} and not result.problems
    assert [(e.pointer, e.reason) for e in field_map.unmapped(record, "", result, {})] == [
        ("/p", "no rule in the field map uses it")]


def test_values_are_rejected_wordings_mapped_and_unknown_wordings_kept(resources: Resources) -> None:
    field_map = _map(resources, STATUS_RULES)
    record = {"p": {"s": {"overall": "Active, not recruiting", "why": {"not": "text"}, "delayed": "yes"}}}
    result = field_map.apply(record, "", where)
    assert result.data == {"status": {"overall": "ACTIVE_NOT_RECRUITING"}}
    assert set(result.rejected) == {"/p/s/why", "/p/s/delayed"}
    assert [p.code for p in result.problems] == ["ctgov-bad-value", "ctgov-bad-value"]
    unknown = field_map.apply({"p": {"s": {"overall": "Paused for lunch"}}}, "", where)
    assert unknown.data == {"status": {"overall_text": "Paused for lunch"}}
    assert [p.code for p in unknown.problems] == ["ctgov-unknown-value"]


def test_a_second_rule_for_a_filled_field_agrees_or_is_refused(resources: Resources) -> None:
    field_map = _map(resources, [{"from": "a", "to": "titles.brief"}, {"from": "b", "to": "titles.brief"}])
    same = field_map.apply({"a": "T", "b": "T"}, "", where)
    assert same.data == {"titles": {"brief": "T"}} and "/b" in same.absent and "/b" not in same.consumed
    other = field_map.apply({"a": "T", "b": "U"}, "", where)
    assert other.data == {"titles": {"brief": "T"}} and other.rejected == {
        "/b": "titles.brief was already filled from another field"}


def test_values_the_schema_check_refused_are_not_used(resources: Resources) -> None:
    field_map = _map(resources, [*STATUS_RULES, {"from": "p/c", "to": "conditions[]"}])
    record = {"p": {"s": {"overall": "RECRUITING", "why": "w"}, "c": ["x", "y"]}}
    invalid = {"/p/s/why": "bad", "/p/c/1": "bad"}
    result = field_map.apply(record, "", where, invalid)
    assert result.data == {"status": {"overall": "RECRUITING"}, "conditions": ["x"]}
    reasons = {e.pointer: e.reason for e in field_map.unmapped(record, "", result, invalid)}
    assert reasons == {"/p/s/why": "fails the source schema: bad", "/p/c/1": "fails the source schema: bad"}


@pytest.mark.parametrize("used", [{"/a", "/a/b"}, {"", "/c"}, {"/a/b", "/d/e"}])
def test_the_unmapped_listing_holds_for_any_set_of_used_pointers(resources: Resources, used: set[str]) -> None:
    # the one-walk listing meets every used pointer the engine can produce; for any other set (a used container
    # with used values under it, the record itself) it falls back to the listing by ancestors
    field_map = _map(resources, [{"from": "a/b", "to": "titles.official"}, {"from": "c", "to": "titles.acronym"}])
    record = {"a": {"b": "B", "x": "X"}, "c": "C", "d": {"e": 1}}
    result = MapResult({}, {}, used, {}, {}, [])
    assert field_map.unmapped(record, "", result, {}) == _reference_unmapped(field_map, record, result, {}, None)


def test_a_refused_value_is_listed_with_its_reason_not_inside_an_unused_container(resources: Resources) -> None:
    field_map = _map(resources, STATUS_RULES)
    record = {"p": {"s": {"delayed": "yes", "other": "x"}}}
    result = field_map.apply(record, "", where)
    assert [p.code for p in result.problems] == ["ctgov-bad-value"] and result.data == {}
    reasons = {e.pointer: e.reason for e in field_map.unmapped(record, "", result, {})}
    assert reasons == {"/p/s/delayed": "expected true or false, found str 'yes'",
                       "/p/s/other": "no rule in the field map uses it"}


def test_an_object_dropped_for_a_missing_field_is_listed_with_that_reason(resources: Resources) -> None:
    field_map = _map(resources, [{"from": "arms", "to": "arms[]", "each": [
        {"from": "label", "to": "label"}, {"from": "description", "to": "description"}]}])
    record = {"arms": [{"label": "A"}, {"description": "no label"}]}
    result = field_map.apply(record, "", where)
    entries = field_map.unmapped(record, "", result, {})
    assert [(e.pointer, e.reason) for e in entries] == [("/arms/1", "no label for arms")]


# --- the unmapped listing against its definition, on real records ----------------------------------------


def _reference_unmapped(field_map: FieldMap, record: Any, result: MapResult, invalid: dict[str, str],
                        known: Callable[[str], bool] | None) -> list[UnmappedEntry]:
    """Every leaf not used; a container is entered when a used pointer lies under it, a refused one lies under it
    (and it is not refused itself) or a path under it has its own reason, and is otherwise one entry (the
    definition in FieldMap.unmapped, written plainly)."""
    adapter = JsonAdapter()
    used = result.consumed | set(result.absent)
    deeper = {prefix.rsplit("/", 1)[0] for prefix, _ in field_map.unmapped_reasons}
    deeper |= {d[:i] for d in deeper for i in range(1, len(d)) if d[i] == "/"}
    entries: list[UnmappedEntry] = []

    def visit(node: Any, ptr: str, generic: str) -> None:
        for child, child_ptr, child_generic, is_leaf in adapter.walk(node, ptr, generic):
            if child_ptr in result.consumed:
                continue
            if child_ptr in result.absent and child_ptr not in result.rejected:
                entries.append(UnmappedEntry(child_ptr, child_generic, leaf_text(adapter, child),
                                             result.absent[child_ptr], is_leaf))
                continue
            touched = any(p.startswith(child_ptr + "/") for p in used) or (
                child_ptr not in result.rejected and any(p.startswith(child_ptr + "/") for p in result.rejected))
            if not is_leaf and (touched or child_generic in deeper):
                visit(child, child_ptr, child_generic)
                continue
            entries.append(UnmappedEntry(
                child_ptr, child_generic, leaf_text(adapter, child) if is_leaf else None,
                field_map.reason_for(child_ptr, child_generic, result.rejected, invalid, known), is_leaf))

    visit(record, "", "")
    return entries


def _shaken(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy with a few values replaced, dropped, or wrapped in a list."""
    out = copy.deepcopy(record)
    for _ in range(rng.randint(1, 5)):
        slot = random_slot(out, rng, 0.75)
        if slot is None:
            continue
        node, key = slot
        child = node[key]
        choice = rng.random()
        if choice < 0.3 and isinstance(node, dict):
            del node[key]
        elif choice < 0.6:
            node[key] = [child, copy.deepcopy(child)]
        else:
            node[key] = rng.choice(["", "N/A", "x", 7, None, {"k": "v"}, []])
    return out


RECORDS = v2_records()


@pytest.fixture(scope="module")
def converter(resources: Resources) -> V2RecordConverter:
    return V2RecordConverter(resources)


@pytest.mark.parametrize("seed", range(6))
def test_unmapped_listing_matches_its_definition(converter: V2RecordConverter, seed: int) -> None:
    rng = random.Random(seed)
    records = RECORDS if seed == 0 else [_shaken(r, rng) for r in rng.sample(RECORDS, 12)]
    for record in records:
        result, invalid, _ = converter.map_record(record, where)
        if result is None:
            continue
        expected = _reference_unmapped(converter.field_map, record, result, invalid, converter.is_known)
        assert converter.field_map.unmapped(record, "", result, invalid, converter.is_known) == expected
