"""Field maps are data validated before use; mistakes in them fail at load time, not silently."""

from __future__ import annotations

from typing import Any

import pytest

from converters.fieldmap import ConversionContext, FieldMap, JsonAdapter
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.problems import Location
from converters.readers.ctgov_v2.record import ENGINE_KINDS
from converters.resources import MappingError, Resources


@pytest.mark.parametrize("name", ["ctgov_v2/study.yaml", "ctgov_xml/study.yaml"])
def test_mapping_files_validate_against_the_field_map_schema(resources: Resources, name: str) -> None:
    mapping = resources.mapping(name)
    assert mapping["kind"] == "field-map" and mapping["rules"]


def _map(resources: Resources, rules: list[dict[str, Any]]) -> FieldMap:
    ctx = ConversionContext(Vocabulary(resources), IdentifierSystems(resources))
    return FieldMap({"paths": "json-pointer", "rules": rules}, "test", JsonAdapter(), ctx, ENGINE_KINDS)


@pytest.mark.parametrize(("rules", "message"), [
    ([{"from": "a", "to": "titles.breif"}], "not in the model"),
    ([{"from": "a", "to": "titles.brief", "convert": "no_such"}], "unknown conversion"),
    ([{"from": "a", "to": "status.overall", "vocabulary": "NoSuch"}], "unknown vocabulary"),
    ([{"from": "a", "to": "titles.brief[]"}], "not a list"),
    ([{"from": "a", "to": "eligibility.criteria", "convert": "criteria"}], "needs the map's criteria_headings"),
    ([{"from": "a", "to": "arms[]", "set": {"colour": "red"}, "each": [{"from": "x", "to": "label"}]}],
     "not a field"),
])
def test_mistakes_fail_at_load_time(resources: Resources, rules: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        _map(resources, rules)


def test_the_schema_rejects_a_malformed_rule(resources: Resources, tmp_path: Any) -> None:
    (tmp_path / "mappings" / "x").mkdir(parents=True)
    (tmp_path / "schemas").symlink_to(resources.schemas_dir)
    (tmp_path / "mappings" / "x" / "bad.yaml").write_text(
        "id: x/bad\ntitle: t\nversion: '1'\nkind: field-map\ndescription: d\npaths: json-pointer\n"
        "rules:\n  - {from: a, to: 'Not A Field'}\n", encoding="utf-8")
    with pytest.raises(MappingError, match="invalid"):
        Resources(root=tmp_path).mapping("x/bad.yaml")


def test_objects_missing_a_required_field_are_not_created(resources: Resources) -> None:
    field_map = _map(resources, [{"from": "arms", "to": "arms[]", "each": [
        {"from": "label", "to": "label"}, {"from": "description", "to": "description"}]}])
    record = {"arms": [{"label": "A", "description": "first"}, {"description": "no label"}]}
    result = field_map.apply(record, "", lambda p: Location(path=p))
    assert result.data == {"arms": [{"label": "A", "description": "first"}]}
    assert [p.code for p in result.problems] == ["ctgov-incomplete-object"]
    entries = field_map.unmapped(record, "", result, {})
    assert [e.pointer for e in entries] == ["/arms/1"]
