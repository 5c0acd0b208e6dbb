"""One registry of named conversions (converters/fieldmap/conversions.py), named by field maps and page layouts.

The schemas of both kinds of mapping file enumerate the names each may use; these tests keep the enums and the
registry in step, and show that a wrong name fails when the mapping is loaded (by the schema, and by the meaning
check when a map is given as data), never when a record is read.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from converters.fieldmap import ConversionContext, FieldMap, JsonAdapter
from converters.fieldmap.conversions import CONVERSIONS, FIELD_MAP, PAGE_LAYOUTS, conversion_names
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.readers.ctgov_v2.record import ENGINE_KINDS
from converters.readers.registry_page.rules import LAYOUTS_MAPPING, PageRules
from converters.resources import MappingError, Resources


@pytest.mark.parametrize(("schema", "kind", "pointer"), [
    ("mapping/field-map.schema.json", FIELD_MAP, ("$defs", "rule", "properties", "convert")),
    ("mapping/page-layouts.schema.json", PAGE_LAYOUTS, ("$defs", "convert")),
])
def test_each_schema_enumerates_exactly_the_conversions_of_its_kind(resources: Resources, schema: str, kind: str,
                                                                     pointer: tuple[str, ...]) -> None:
    node: Any = resources.schema(schema)
    for step in pointer:
        node = node[step]
    assert node["enum"] == conversion_names(kind)


def test_every_conversion_can_be_named_somewhere_and_names_are_one_spelling() -> None:
    assert all(c.kinds & {FIELD_MAP, PAGE_LAYOUTS} for c in CONVERSIONS.values())
    # the spellings the two readers once had for the same conversions are gone
    assert not {"bool", "int", "registry_id"} & CONVERSIONS.keys()


def test_the_page_layouts_name_only_registered_conversions(resources: Resources) -> None:
    used: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("convert"), str):
                used.add(node["convert"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(resources.mapping(LAYOUTS_MAPPING))
    assert used and used <= set(conversion_names(PAGE_LAYOUTS))


def _data_root(resources: Resources, tmp_path: Path) -> Path:
    """A data root whose mappings can be edited, over the shipped schemas."""
    shutil.copytree(resources.mappings_dir, tmp_path / "mappings")
    (tmp_path / "schemas").symlink_to(resources.schemas_dir)
    return tmp_path


def _rewrite(root: Path, name: str, edit: Any) -> None:
    path = root / "mappings" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("name", ["bool", "no_such", "age_range"])  # an old spelling, a typo, a page-only one
def test_a_wrong_conversion_name_in_a_field_map_fails_when_it_is_loaded(resources: Resources, tmp_path: Path,
                                                                        name: str) -> None:
    root = _data_root(resources, tmp_path)
    def edit(data: dict[str, Any]) -> None:
        next(rule for rule in data["rules"] if "convert" in rule)["convert"] = name

    _rewrite(root, "ctgov_v2/study.yaml", edit)
    with pytest.raises(MappingError, match=f"invalid: at /rules/[0-9]+/convert: '{name}' is not one of"):
        Resources(root=root).mapping("ctgov_v2/study.yaml")


@pytest.mark.parametrize("name", ["bool", "no_such", "geo_point"])  # an old spelling, a typo, a field-map-only one
def test_a_wrong_conversion_name_in_the_page_layouts_fails_when_they_are_loaded(resources: Resources, tmp_path: Path,
                                                                                name: str) -> None:
    root = _data_root(resources, tmp_path)

    def edit(data: dict[str, Any]) -> None:
        data["layouts"][0]["line_patterns"][0]["groups"] = {
            key: {**field, "convert": name} for key, field in data["layouts"][0]["line_patterns"][0]["groups"].items()
        }

    _rewrite(root, LAYOUTS_MAPPING, edit)
    with pytest.raises(MappingError, match=f"invalid: at /layouts/0/line_patterns/0/groups/[a-z_]+/convert: '{name}'"):
        PageRules.load(Resources(root=root))


def test_the_meaning_check_refuses_a_conversion_of_another_kind_given_as_data(resources: Resources) -> None:
    """A map handed over as data (not loaded through its schema) is still checked for meaning."""
    ctx = ConversionContext(Vocabulary(resources), IdentifierSystems(resources))
    rules = [{"from": "a", "to": "eligibility", "convert": "age_range"}]
    with pytest.raises(MappingError, match="not one a field map can use"):
        FieldMap({"paths": "json-pointer", "rules": rules}, "test", JsonAdapter(), ctx, ENGINE_KINDS)


def test_the_page_meaning_check_refuses_an_unregistered_conversion(resources: Resources, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Page layouts that bypass their schema (as data) still fail on a name the registry lacks."""
    data = copy.deepcopy(resources.mapping(LAYOUTS_MAPPING))
    data["layouts"][0]["line_patterns"][0]["groups"] = {
        key: {**field, "convert": "no_such"} for key, field in data["layouts"][0]["line_patterns"][0]["groups"].items()
    }
    original = Resources.mapping

    def mapping(self: Resources, name: str) -> dict[str, Any]:
        return data if name == LAYOUTS_MAPPING else original(self, name)

    monkeypatch.setattr(Resources, "mapping", mapping)
    with pytest.raises(MappingError, match="not a conversion a page field can use"):
        PageRules.load(Resources(root=resources.root))
