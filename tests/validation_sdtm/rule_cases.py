"""Clean and deliberately broken Trial Design tables, shared by the rule tests and the engine cross-check.

The clean tables are the official SDTM-MSG v2.0 examples (CDISCPILOT01, as published with Dataset-JSON 1.1;
see fixtures/cdisc/tdm-examples/README.md), completed with the variables some rules read and the example
lacks (TS.TSVAL1, TE.TEDUR, TV.ARM, TI.IESCAT, all empty or consistent), so that those rules run instead of
being skipped. Each broken case changes the clean tables in one way and says which records of which rules must
then fail; the expectation is computed from the data (row numbers are found by content), never typed in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from converters.targets.sdtm.folders import load_tdm_folder
from converters.targets.sdtm.tables import TdmTables, Value

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cdisc" / "tdm-examples"
MSG_V2 = FIXTURES / "msg-v2"

Expected = dict[str, set[tuple[str, int | None]]]


@dataclass(frozen=True)
class Case:
    """A named change to clean tables and the rule failures it must cause (rule id -> {(domain, row)})."""

    name: str
    base: str
    change: Callable[[TdmTables], Expected]

    def build(self) -> tuple[TdmTables, Expected]:
        tables = clean_variant(self.base)
        expected = self.change(tables)
        return tables, expected


# --- helpers -------------------------------------------------------------------------------------------------


def row_of(tables: TdmTables, domain: str, **where: object) -> int:
    """The 1-based row number of the only record matching `where`."""
    hits = [i for i, r in enumerate(tables[domain], start=1) if all(r.get(k) == v for k, v in where.items())]
    if len(hits) != 1:
        raise LookupError(f"{domain} rows matching {where}: {hits}")
    return hits[0]


def rows_of(tables: TdmTables, domain: str, **where: object) -> list[int]:
    return [i for i, r in enumerate(tables[domain], start=1) if all(r.get(k) == v for k, v in where.items())]


def put(tables: TdmTables, domain: str, row: int, **values: Value) -> int:
    tables[domain][row - 1].update(values)
    return row


def add_column_after(rows: list[dict[str, Value]], after: str, name: str, values: Sequence[Value]) -> None:
    """Insert a variable right after another, keeping the variable order of each row."""
    for row, value in zip(rows, values, strict=True):
        items = list(row.items())
        at = [k for k, _ in items].index(after) + 1
        items.insert(at, (name, value))
        row.clear()
        row.update(items)


# --- clean tables ----------------------------------------------------------------------------------------------


@cache
def _example() -> TdmTables:
    tables, problems = load_tdm_folder(MSG_V2)
    assert not problems, problems
    return tables


def complete(tables: TdmTables) -> None:
    """Add the variables some rules need and the MSG v2 example leaves out, without breaking anything."""
    add_column_after(tables["TS"], "TSVAL", "TSVAL1", [None] * len(tables["TS"]))
    add_column_after(tables["TE"], "TEENRL", "TEDUR", [None] * len(tables["TE"]))
    arm_of = {r["ARMCD"]: r["ARM"] for r in tables["TA"]}
    add_column_after(tables["TV"], "ARMCD", "ARM", [arm_of.get(r["ARMCD"]) for r in tables["TV"]])
    add_column_after(tables["TI"], "IECAT", "IESCAT", [None] * len(tables["TI"]))


def add_visit_days(tables: TdmTables) -> None:
    """TV gets planned study days; TE gets a VISITNUM/VISITDY pair per element agreeing with TV.

    Only CORE-000249 (VISITDY outside TV must equal TV.VISITDY) reads these; no Trial Design dataset but TV
    carries VISITDY in a real submission, so this variant exists to show that the rule runs and passes.
    """
    days = {1: -14, 2: -1, 3: 1, 4: 15, 5: 29, 7: 43, 8: 57, 9: 85, 10: 113, 11: 141, 12: 169, 13: 183}
    tv = tables["TV"]
    add_column_after(tv, "VISIT", "VISITDY", [days.get(int(str(r["VISITNUM"]))) for r in tv])
    visits = [1, 3, 4, 5, 7]
    te = tables["TE"]
    add_column_after(te, "ELEMENT", "VISITNUM", [str(v) for v in visits])
    add_column_after(te, "VISITNUM", "VISITDY", [str(days[v]) for v in visits])


def complete_with_visit_days(tables: TdmTables) -> None:
    complete(tables)
    add_visit_days(tables)


CLEAN_VARIANTS: Mapping[str, Callable[[TdmTables], None]] = {
    "msg-v2": complete,
    "msg-v2-visit-days": complete_with_visit_days,
}


def clean_variant(name: str) -> TdmTables:
    tables = copy.deepcopy(_example())
    CLEAN_VARIANTS[name](tables)
    return tables


# --- broken cases ------------------------------------------------------------------------------------------------


def _armcd_too_long_in_ta(t: TdmTables) -> Expected:
    rows = rows_of(t, "TA", ARMCD="PLACEBO")
    for r in rows:
        put(t, "TA", r, ARMCD="PLACEBO_ARM_CODE_LONG")  # 21 characters
    return {"CORE-000010": {("TA", r) for r in rows}}


def _no_element_end(t: TdmTables) -> Expected:
    row = put(t, "TE", row_of(t, "TE", ETCD="PLACEBO"), TEENRL=None)
    return {"CORE-000027": {("TE", row)}}


def _null_flavor_with_value(t: TdmTables) -> Expected:
    row = put(t, "TS", row_of(t, "TS", TSPARMCD="AGEMIN"), TSVALNF="NI")
    return {"CORE-000041": {("TS", row)}}


def _element_names_not_one_to_one(t: TdmTables) -> Expected:
    low = row_of(t, "TE", ETCD="LOW")
    titrate = put(t, "TE", row_of(t, "TE", ETCD="TITRATE"), ELEMENT=t["TE"][low - 1]["ELEMENT"])
    return {"CORE-000132": {("TE", low), ("TE", titrate)}}


def _etcd_too_long(t: TdmTables) -> Expected:
    ta = put(t, "TA", row_of(t, "TA", ETCD="HIGH"), ETCD="HIGHDOSE1")
    te = put(t, "TE", row_of(t, "TE", ETCD="HIGH"), ETCD="HIGHDOSE1")
    return {"CORE-000143": {("TA", ta), ("TE", te)}}


def _element_order_repeated(t: TdmTables) -> Expected:
    second = row_of(t, "TA", ARMCD="ZAN_HIGH", TAETORD="2")
    third = put(t, "TA", row_of(t, "TA", ARMCD="ZAN_HIGH", TAETORD="3"), TAETORD="2")
    return {"CORE-000144": {("TA", second), ("TA", third)}}


def _parameter_code_too_long(t: TdmTables) -> Expected:
    row = put(t, "TS", row_of(t, "TS", TSPARMCD="TITLE"), TSPARMCD="TITLETEXT")
    return {"CORE-000147": {("TS", row)}}


def _parameter_name_too_long(t: TdmTables) -> Expected:
    row = put(t, "TS", row_of(t, "TS", TSPARMCD="SPONSOR"), TSPARM="Clinical Study Sponsor of the Trial and Agent")
    return {"CORE-000148": {("TS", row)}}


def _continuation_without_value(t: TdmTables) -> Expected:
    row = put(t, "TS", row_of(t, "TS", TSPARMCD="AGEMAX"), TSVAL1="P99Y")
    return {"CORE-000151": {("TS", row)}}


def _value_codes_not_one_to_one(t: TdmTables) -> Expected:
    yes_code = t["TS"][row_of(t, "TS", TSPARMCD="RANDOM") - 1]["TSVALCD"]
    put(t, "TS", row_of(t, "TS", TSPARMCD="ADDON"), TSVALCD=yes_code)  # "N" now coded as "Y" is
    n_rows = [i for i, r in enumerate(t["TS"], 1) if r["TSVAL"] == "N" and r["TSVALCD"]]
    code_rows = rows_of(t, "TS", TSVALCD=yes_code)
    return {"CORE-000152": {("TS", r) for r in n_rows + code_rows}}


def _sequence_repeated(t: TdmTables) -> Expected:
    first, second = rows_of(t, "TS", TSPARMCD="OBJPRIM")
    put(t, "TS", second, TSSEQ="1")
    return {"CORE-000154": {("TS", first), ("TS", second)}}


def _visit_arm_code_unknown(t: TdmTables) -> Expected:
    row = put(t, "TV", 1, ARMCD="PLACEBO2", ARM="Placebo")
    return {"CORE-000155": {("TV", row)}}


def _visit_arm_unknown(t: TdmTables) -> Expected:
    row = put(t, "TV", 1, ARMCD="PLACEBO", ARM="Placebo arm")
    return {"CORE-000156": {("TV", row)}}


def _visit_arm_code_too_long(t: TdmTables) -> Expected:
    expected = _armcd_too_long_in_ta(t)
    row = put(t, "TV", 1, ARMCD="PLACEBO_ARM_CODE_LONG", ARM="Placebo")
    return {**expected, "CORE-000157": {("TV", row)}}


def _element_not_in_te(t: TdmTables) -> Expected:
    t["TE"] = [r for r in t["TE"] if r["ETCD"] != "TITRATE"]
    return {"CORE-000173": {("TA", r) for r in rows_of(t, "TA", ETCD="TITRATE")}}


def _parameter_names_not_one_to_one(t: TdmTables) -> Expected:
    first, second = rows_of(t, "TS", TSPARMCD="OBJPRIM")
    put(t, "TS", second, TSPARM="Trial Primary Objectives")
    return {"CORE-000179": {("TS", first), ("TS", second)}}


def _visit_day_disagrees(t: TdmTables) -> Expected:
    row = put(t, "TE", row_of(t, "TE", ETCD="PLACEBO"), VISITDY="2")
    return {"CORE-000249": {("TE", row)}}


def _age_not_a_duration(t: TdmTables) -> Expected:
    row = put(t, "TS", row_of(t, "TS", TSPARMCD="AGEMAX"), TSVAL="65 years", TSVALNF=None)
    return {"CORE-000294": {("TS", row)}}


def _arm_names_not_one_to_one(t: TdmTables) -> Expected:
    first, second = rows_of(t, "TA", ARMCD="PLACEBO")
    put(t, "TA", second, ARM="Placebo Arm")
    return {"CORE-000318": {("TA", first), ("TA", second)}}


def _start_date_invalid(t: TdmTables) -> Expected:
    row = put(t, "TS", row_of(t, "TS", TSPARMCD="SSTDTC"), TSVAL="2012-13-06")
    return {"CORE-000505": {("TS", row)}}


def _element_order_not_integer(t: TdmTables) -> Expected:
    row = put(t, "TA", row_of(t, "TA", ARMCD="ZAN_LOW", TAETORD="1"), TAETORD="1.5")
    return {"CORE-000534": {("TA", row)}}


def _criterion_code_starts_with_digit(t: TdmTables) -> Expected:
    row = put(t, "TI", row_of(t, "TI", IETESTCD="INCL01", TIVERS="ORIGINAL"), IETESTCD="1NCL01")
    return {"CORE-000541": {("TI", row)}}


def _no_element_end_and_no_tedur_variable(t: TdmTables) -> Expected:
    for r in t["TE"]:
        del r["TEDUR"]
    return _no_element_end(t)


def _element_repeated(t: TdmTables) -> Expected:
    t["TE"].append(dict(t["TE"][-1]))
    last = len(t["TE"])
    return {"CORE-000580": {("TE", last - 1), ("TE", last)}}


def _age_and_age_text(t: TdmTables) -> Expected:
    template = t["TS"][row_of(t, "TS", TSPARMCD="SPONSOR") - 1]
    t["TS"].append({**template, "TSPARMCD": "AGE", "TSPARM": "Age", "TSVAL": "65"})
    t["TS"].append({**template, "TSPARMCD": "AGETXT", "TSPARM": "Age Text", "TSVAL": "50-80"})
    return {"CORE-000736": {("TS", len(t["TS"]) - 1), ("TS", len(t["TS"]))}}


def _subcategory_without_category(t: TdmTables) -> Expected:
    row = put(t, "TI", row_of(t, "TI", IETESTCD="INCL02", TIVERS="ORIGINAL"), IECAT=None, IESCAT="COHORT A")
    return {"CORE-000785": {("TI", row)}}


def _category_variable_dropped(t: TdmTables) -> Expected:
    for r in t["TI"]:
        del r["IECAT"]
    return {"CORE-000786": {("TI", None)}}


BROKEN_CASES: tuple[Case, ...] = (
    Case("ta-armcd-over-20", "msg-v2", _armcd_too_long_in_ta),
    Case("te-no-end-rule-nor-duration", "msg-v2", _no_element_end),
    Case("te-no-end-rule-and-no-tedur-variable", "msg-v2", _no_element_end_and_no_tedur_variable),
    Case("ts-null-flavor-beside-value", "msg-v2", _null_flavor_with_value),
    Case("te-element-shared-by-two-codes", "msg-v2", _element_names_not_one_to_one),
    Case("ta-te-etcd-over-8", "msg-v2", _etcd_too_long),
    Case("ta-element-order-repeated", "msg-v2", _element_order_repeated),
    Case("ts-parmcd-over-8", "msg-v2", _parameter_code_too_long),
    Case("ts-parm-over-40", "msg-v2", _parameter_name_too_long),
    Case("ts-tsval1-without-tsval", "msg-v2", _continuation_without_value),
    Case("ts-value-code-not-one-to-one", "msg-v2", _value_codes_not_one_to_one),
    Case("ts-seq-repeated-in-parameter", "msg-v2", _sequence_repeated),
    Case("tv-armcd-not-in-ta", "msg-v2", _visit_arm_code_unknown),
    Case("tv-arm-not-in-ta", "msg-v2", _visit_arm_unknown),
    Case("tv-armcd-over-20", "msg-v2", _visit_arm_code_too_long),
    Case("ta-element-not-in-te", "msg-v2", _element_not_in_te),
    Case("ts-parm-not-one-to-one", "msg-v2", _parameter_names_not_one_to_one),
    Case("te-visit-day-disagrees-with-tv", "msg-v2-visit-days", _visit_day_disagrees),
    Case("ts-agemax-not-iso-duration", "msg-v2", _age_not_a_duration),
    Case("ta-arm-not-one-to-one", "msg-v2", _arm_names_not_one_to_one),
    Case("ts-sstdtc-invalid-date", "msg-v2", _start_date_invalid),
    Case("ta-taetord-not-integer", "msg-v2", _element_order_not_integer),
    Case("ti-ietestcd-starts-with-digit", "msg-v2", _criterion_code_starts_with_digit),
    Case("te-element-repeated", "msg-v2", _element_repeated),
    Case("ts-age-and-agetxt", "msg-v2", _age_and_age_text),
    Case("ti-iescat-without-iecat", "msg-v2", _subcategory_without_category),
    Case("ti-iecat-variable-missing", "msg-v2", _category_variable_dropped),
)


def cases_for(rule_id: str) -> Iterator[Case]:
    """Broken cases that make `rule_id` fail (built lazily: the expectation needs the tables)."""
    for case in BROKEN_CASES:
        _, expected = case.build()
        if rule_id in expected:
            yield case
