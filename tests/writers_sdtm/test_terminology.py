"""Controlled terminology: every term, code and codelist the writer uses exists in the shipped CT subset.

The subset is fixtures/cdisc/ct/sdtm-ct-tdm-subset.csv (NCI EVS SDTM CT 2025-03-28, copied from shared data).
Checked twice: the mapping file itself (mappings/sdtm/ct.yaml), and every coded value actually written by the
writer for every fixture study (TS TSVALCD, EPOCH, IECAT, DOMAIN, TSPARMCD/TSPARM, TSVCDREF).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pytest

from converters.resources import Resources
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.writer import tables_only

from .fixture_studies import all_studies

CT_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "cdisc" / "ct"


def _rows(name: str) -> list[dict[str, str]]:
    lines = (CT_DIR / name).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#"), "the subset files start with a # note naming the package"
    return list(csv.DictReader(lines[1:]))


@cache
def subset() -> dict[str, dict[str, dict[str, str]]]:
    """codelist C-code -> submission value -> row."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for row in _rows("sdtm-ct-tdm-subset.csv"):
        out.setdefault(row["codelist_code"], {})[row["submission_value"]] = row
    return out


def test_package_date_is_the_subsets(spec: SdtmSpec) -> None:
    note = (CT_DIR / "sdtm-ct-tdm-subset.csv").read_text(encoding="utf-8").splitlines()[0]
    assert f"package {spec.terminology.package.date}" in note
    assert spec.terminology.package.reference_name == "CDISC CT"
    assert "CDISC CT" in subset()["C66788"], "TSVCDREF for CDISC values is a DICTNAM term"


def test_every_mapped_codelist_and_term_is_in_the_subset(spec: SdtmSpec) -> None:
    for key, codelist in spec.terminology.codelists.items():
        terms = subset().get(codelist.code)
        assert terms, f"codelist {key} ({codelist.code}) is not in the shipped subset"
        some = next(iter(terms.values()))
        assert some["codelist_submission_value"] == key
        assert some["codelist_extensible"] == ("Yes" if codelist.extensible else "No")
        for value, term in codelist.terms.items():
            row = terms.get(value)
            assert row is not None, f"{key}: {value!r} is not a term of {codelist.code}"
            assert (row["code"], row["preferred_term"]) == (term.code, term.decode), f"{key}: {value}"
        if not codelist.subset:
            assert set(codelist.terms) == set(terms), f"{key}: ct.yaml misses or adds terms"


def test_ts_parameters_pair_code_and_name_as_the_ct_does(spec: SdtmSpec) -> None:
    pairs = {(r["tsparmcd"], r["tsparm"]) for r in _rows("ts-parameters.csv")}
    for p in spec.parameters:
        assert (p.code, p.name) in pairs, p.code
        assert len(p.code) <= 8 and len(p.name) <= 40


def test_value_maps_point_into_their_codelists(spec: SdtmSpec) -> None:
    for value_map in spec.terminology.value_maps.values():
        codelist = spec.terminology.codelists[value_map.codelist]
        for key, mapped in value_map.values.items():
            if mapped.term is not None and not mapped.extended:
                assert subset()[codelist.code][mapped.term.value]["code"] == mapped.term.code, key
            if mapped.extended:
                assert codelist.extensible and mapped.term is not None
                assert mapped.term.value not in subset()[codelist.code], f"{key}: extension is a CT term"


def _written(resources: Resources, spec: SdtmSpec) -> list[tuple[str, dict[str, list[dict[str, object]]]]]:
    from converters.model.schedule import derive_schedule

    out = []
    for label, study in all_studies(resources):
        tables = tables_only(study, derive_schedule(study, resources), spec)
        out.append((label, {k: [dict(r) for r in v] for k, v in tables.items()}))
    return out


def test_every_code_written_exists_in_the_subset(resources: Resources, spec: SdtmSpec) -> None:
    by_name = {cl.key: subset()[cl.code] for cl in spec.terminology.codelists.values()}
    all_codes = {(row["code"], value) for terms in subset().values() for value, row in terms.items()}
    checked = 0
    for label, tables in _written(resources, spec):
        for row in tables["TS"]:
            assert row["TSPARMCD"] in by_name["TSPARMCD"], label
            assert row["TSPARM"] in by_name["TSPARM"], label
            if row.get("TSVCDREF") == "CDISC CT":
                assert (row["TSVALCD"], row["TSVAL"]) in all_codes, f"{label}: {row}"
                assert row["TSVCDVER"] == spec.terminology.package.date
                checked += 1
            if row.get("TSVCDREF") is not None:
                ref = str(row["TSVCDREF"])
                extensions = {spec.settings.iso8601_name, *spec.settings.registry_names.values()}
                assert ref in by_name["DICTNAM"] or ref in extensions, ref
        for domain, rows in tables.items():
            for row in rows:
                assert row["DOMAIN"] in by_name["DOMAIN"]
                if domain == "TA":
                    assert row["EPOCH"] in by_name["EPOCH"], label
                if domain == "TI":
                    assert row["IECAT"] in by_name["IECAT"], label
    assert checked > 10


@pytest.mark.parametrize("null_flavor_map", ["phase", "allocation"])
def test_na_is_a_null_flavour_not_the_shared_c48660_code(spec: SdtmSpec, null_flavor_map: str) -> None:
    """TPHASE NOT APPLICABLE and NY NA share C48660; writing both would break TSVAL/TSVALCD one-to-one."""
    mapped = spec.terminology.map_value(null_flavor_map, "NA")
    assert mapped is not None and mapped.null_flavor == "NA"
