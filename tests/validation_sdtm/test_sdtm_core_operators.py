"""The CORE Check operators and Operations on small tables, including those no published TDM rule uses yet."""

from __future__ import annotations

from typing import Any

import pytest

from converters.targets.sdtm.core_rules.iso8601 import comparable_datetime, is_valid_date, is_valid_duration
from converters.targets.sdtm.core_rules.operations import (
    MissingDomainError,
    NeedsLibraryError,
    OperationContext,
    UnsupportedOperationError,
    apply_operations,
    match_datasets,
)
from converters.targets.sdtm.core_rules.operators import (
    MissingVariableError,
    RuleEvaluationError,
    UnsupportedOperatorError,
    evaluate_check,
)
from converters.targets.sdtm.tables import Frame, make_frame

TA = make_frame("TA", [
    {"DOMAIN": "TA", "ARMCD": "A", "ARM": "Arm A", "TAETORD": 1, "ETCD": "SCRN", "EPOCH": "SCREENING"},
    {"DOMAIN": "TA", "ARMCD": "A", "ARM": "Arm A", "TAETORD": 2, "ETCD": "TRT", "EPOCH": "TREATMENT"},
    {"DOMAIN": "TA", "ARMCD": "B", "ARM": "arm b", "TAETORD": 1, "ETCD": "SCRN", "EPOCH": None},
])
TE = make_frame("TE", [{"DOMAIN": "TE", "ETCD": "SCRN"}, {"DOMAIN": "TE", "ETCD": "TRT"}])
CTX = OperationContext({"TA": TA, "TE": TE}, frozenset({"TA", "TE"}), {"codelist_terms": "needs CT"})


def check(frame: Frame, node: dict[str, Any]) -> list[bool]:
    return evaluate_check(node, frame)


def leaf(name: str, operator: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "operator": operator, "value": value, **extra}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("ARMCD", "equal_to", "A"), [True, True, False]),
        (leaf("ARMCD", "not_equal_to", "A"), [False, False, True]),
        (leaf("EPOCH", "equal_to", ""), [False, False, False]),  # two nulls are not equal ...
        (leaf("EPOCH", "not_equal_to", ""), [True, True, False]),  # ... nor unequal
        (leaf("ARM", "equal_to_case_insensitive", "ARM B"), [False, False, True]),
        (leaf("ARMCD", "equal_to", "ETCD"), [False, False, False]),  # a value naming a column compares with it
        (leaf("ARMCD", "equal_to", "ETCD", value_is_literal=True), [False, False, False]),
        (leaf("EPOCH", "empty"), [False, False, True]),
        (leaf("EPOCH", "non_empty"), [True, True, False]),
        (leaf("ARM", "exists"), [True, True, True]),
        (leaf("TEDUR", "not_exists"), [True, True, True]),
        (leaf("ETCD", "matches_regex", "^S"), [True, False, True]),
        (leaf("ETCD", "not_matches_regex", "^S"), [False, True, False]),
        (leaf("TAETORD", "matches_regex", "^1$"), [True, False, True]),  # numbers are matched as text
        (leaf("ARM", "longer_than", 5), [False, False, False]),
        (leaf("ARM", "longer_than", 4), [True, True, True]),
        (leaf("ARM", "longer_than_or_equal_to", 5), [True, True, True]),
        (leaf("ARM", "shorter_than", 5), [False, False, False]),
        (leaf("ETCD", "longer_than", "ARMCD"), [True, True, True]),  # length of another variable
        (leaf("ARMCD", "is_contained_by", ["B", "C"]), [False, False, True]),
        (leaf("ARMCD", "is_not_contained_by", ["B", "C"]), [True, True, False]),
        (leaf("ARM", "is_contained_by_case_insensitive", ["ARM B"]), [False, False, True]),
        (leaf("ETCD", "prefix_is_contained_by", ["SC"], prefix=2), [True, False, True]),
        (leaf("ETCD", "suffix_is_not_contained_by", ["RN"], suffix=2), [False, True, False]),
        (leaf("ARM", "contains", "Arm"), [True, True, False]),
        (leaf("ARM", "does_not_contain", "Arm"), [False, False, True]),
        (leaf("ETCD", "starts_with", "SC"), [True, False, True]),
        (leaf("ETCD", "ends_with", "T"), [False, True, False]),
        (leaf("TAETORD", "greater_than_or_equal_to", 2), [False, True, False]),
        (leaf("TAETORD", "less_than", "2"), [True, False, True]),
        (leaf("TAETORD", "greater_than", "TAETORD"), [False, False, False]),
        (leaf("TAETORD", "is_not_unique_set", ["ARMCD"]), [False, False, False]),
        (leaf("ETCD", "is_not_unique_set", []), [True, False, True]),
        (leaf("ETCD", "is_unique_set", "EPOCH"), [True, True, True]),
        (leaf("ARMCD", "is_not_unique_relationship", "ARM"), [False, False, False]),
        (leaf("ETCD", "is_not_unique_relationship", "ARMCD"), [True, True, True]),
        (leaf("ARMCD", "contains_all", ["A", "B"]), [True, True, True]),
        (leaf("ARMCD", "not_contains_all", ["A", "C"]), [True, True, True]),
    ],
)
def test_operators(condition: dict[str, Any], expected: list[bool]) -> None:
    assert check(TA, {"all": [condition]}) == expected


def test_all_any_not_combine_records() -> None:
    node = {"any": [leaf("ARMCD", "equal_to", "B"), {"not": {"all": [leaf("TAETORD", "equal_to", 1)]}}]}
    assert check(TA, node) == [False, True, True]


def test_a_missing_variable_stops_all_but_not_an_any_with_another_branch() -> None:
    with pytest.raises(MissingVariableError) as info:
        check(TA, {"all": [leaf("ARMCD", "equal_to", "A"), leaf("TEDUR", "empty")]})
    assert info.value.names == ("TEDUR",)
    assert check(TA, {"any": [leaf("TEDUR", "empty"), leaf("TEDUR", "not_exists")]}) == [True] * 3
    with pytest.raises(MissingVariableError):
        check(TA, {"any": [leaf("TEDUR", "empty"), leaf("TEENRL", "empty")]})


def test_double_dash_names_the_domain_variable() -> None:
    frame = make_frame("TS", [{"TSSEQ": 1}, {"TSSEQ": 1}])
    assert check(frame, {"all": [leaf("--SEQ", "is_not_unique_set", [])]}) == [True, True]


def test_unknown_operators_and_bad_patterns_are_not_silently_passed() -> None:
    with pytest.raises(UnsupportedOperatorError):
        check(TA, {"all": [leaf("ARMCD", "is_ordered_by", "ARM")]})
    with pytest.raises(RuleEvaluationError):
        check(TA, {"all": [leaf("ARMCD", "matches_regex", "([")]})
    with pytest.raises(RuleEvaluationError):
        check(TA, {"all": [leaf("ARMCD", "prefix_is_contained_by", ["A"])]})  # no prefix length


def test_date_comparisons() -> None:
    frame = make_frame("SV", [
        {"SVSTDTC": "2012-06-15", "SESTDTC": "2012-06-01T10:00", "SEENDTC": "2012-06"},
        {"SVSTDTC": "2012-05-31", "SESTDTC": "2012-06-01", "SEENDTC": ""},
        {"SVSTDTC": "2012---15", "SESTDTC": "2012-06-01", "SEENDTC": "2012-07-01"},
    ])
    assert check(frame, {"all": [leaf("SVSTDTC", "date_greater_than_or_equal_to", "SESTDTC")]}) == [True, False, False]
    assert check(frame, {"all": [leaf("SVSTDTC", "date_less_than_or_equal_to", "SEENDTC")]}) == [False, False, False]
    assert check(frame, {"all": [leaf("SVSTDTC", "date_equal_to", "SESTDTC", date_component="year")]}) == [
        True, True, False,
    ]


def test_operations_add_columns() -> None:
    ops: list[dict[str, Any]] = [
        {"id": "$te_etcd", "operator": "distinct", "domain": "TE", "name": "ETCD"},
        {"id": "$arms", "operator": "record_count", "filter": {"ETCD": "SCRN"}},
        {"id": "$per_arm", "operator": "record_count", "group": ["ARMCD"]},
        {"id": "$epochs", "operator": "distinct", "name": "EPOCH", "group": ["ARMCD"]},
        {"id": "$custom", "operator": "domain_is_custom"},
    ]
    frame = apply_operations(TA, ops, CTX)
    assert [row["$te_etcd"] for row in frame.rows] == [frozenset({"SCRN", "TRT"})] * 3
    assert [row["$arms"] for row in frame.rows] == [2, 2, 2]
    assert [row["$per_arm"] for row in frame.rows] == [2, 2, 1]
    assert frame.rows[2]["$epochs"] == frozenset({""})
    assert [row["$custom"] for row in frame.rows] == [False] * 3
    node = {"all": [leaf("ETCD", "is_not_contained_by", "$te_etcd"), leaf("$per_arm", "equal_to", 1)]}
    assert evaluate_check(node, frame) == [False, False, False]


def test_operations_that_cannot_run_say_why() -> None:
    with pytest.raises(MissingDomainError):
        apply_operations(TA, [{"id": "$x", "operator": "distinct", "domain": "TV", "name": "ARMCD"}], CTX)
    with pytest.raises(MissingVariableError):
        apply_operations(TA, [{"id": "$x", "operator": "distinct", "domain": "TE", "name": "ELEMENT"}], CTX)
    with pytest.raises(NeedsLibraryError):
        apply_operations(make_frame("XX", [{"A": 1}]), [{"id": "$c", "operator": "domain_is_custom"}], CTX)
    with pytest.raises(UnsupportedOperationError, match="needs CT"):
        apply_operations(TA, [{"id": "$x", "operator": "codelist_terms"}], CTX)


def test_match_datasets_joins_on_keys_and_keeps_row_numbers() -> None:
    visits = make_frame("TV", [{"VISITNUM": 1, "VISITDY": -7, "VISIT": "SCREENING"}, {"VISITNUM": 2, "VISITDY": 1}])
    other = make_frame("XX", [{"VISITNUM": 9, "VISITDY": 3}, {"VISITNUM": 2, "VISITDY": 2, "VISIT": "DAY 1"}])
    ctx = OperationContext({"TV": visits, "XX": other}, frozenset(), {})
    joined = match_datasets(other, [{"Name": "TV", "Keys": ["VISITNUM"]}], ["TV.VISITDY"], ctx)
    assert joined.rows == ({"VISITNUM": 2, "VISITDY": 2, "VISIT": "DAY 1", "TV.VISITDY": 1, "VISIT.TV": "",
                            "$row": 2},)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("2012", True), ("2012-06-15T10:30:15.5+05:00", True), ("2012-02-30", False), ("2012---15", True),
     ("2012-01/2012-02", True), ("June 2012", False), ("", False), (None, False), ("2012-06-15T25:00", False)],
)
def test_iso8601_dates(value: object, valid: bool) -> None:
    assert is_valid_date(value) is valid


@pytest.mark.parametrize(
    ("value", "valid", "valid_if_negative_allowed"),
    [("P18Y", True, True), ("P26W", True, True), ("PT36H", True, True), ("P1.5D", True, True),
     ("P1.5DT2H", False, False), ("-P3D", False, True), ("P", False, False), ("PT", False, False),
     ("P1W2D", False, False), ("50 years", False, False)],
)
def test_iso8601_durations(value: str, valid: bool, valid_if_negative_allowed: bool) -> None:
    assert is_valid_duration(value, negative_allowed=False) is valid
    assert is_valid_duration(value, negative_allowed=True) is valid_if_negative_allowed


def test_comparable_datetimes_use_utc_and_first_values_for_missing_parts() -> None:
    early, late = comparable_datetime("2012-06-15T10:00+02:00"), comparable_datetime("2012-06-15T09:00Z")
    assert early is not None and late is not None and early < late
    assert comparable_datetime("2012-06") == comparable_datetime("2012-06-01T00:00:00Z")
    assert comparable_datetime("2012-06--") is None
