"""mappings/fhir/versions.yaml: where R4 and R5 write each fact, checked against the official definitions.

Every `path` must be an element of that version (walked the way the validator walks an instance: by JSON
property through each element's type or backbone), with the cardinality (`many`), type and fixed value the
entry states; every `absent` element must really be missing from that version. A typo in the data fails here
before it writes an element the validator would reject.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import jsonschema
import pytest

from converters.resources import MappingError, Resources
from converters.targets.fhir import FhirMaps, build_bundle
from converters.targets.fhir.maps import VERSIONS, Place, nest, put, version_places
from converters.targets.fhir.validator.definitions import Child, Definitions, Kind, load_table

from .helpers import research_study
from .studies import cell_therapy_study

VERSIONS_SCHEMA = "mapping/fhir-versions.schema.json"


@pytest.fixture(scope="module")
def definitions() -> dict[str, Definitions]:
    return {label: Definitions(load_table(label)) for label in ("R4", "R5")}


def element_at(defs: Definitions, path: str) -> Child | None:
    """The definition of the element at `Type.a.b` (JSON property names), or None when there is none."""
    type_name, *steps = path.split(".")
    spec = defs.spec(type_name)
    found: Child | None = None
    for step in steps:
        found = spec.children.get(step) if spec is not None else None
        if found is None:
            return None
        spec = defs.spec(found.node) if found.node else None
    return found


def place_problems(defs: Definitions, version: str, section: str, key: str, entry: dict[str, Any],
                   extensions: set[str]) -> list[str]:
    """What in one entry of versions.yaml disagrees with the official definitions of `version`."""
    where = f"{section} {key} {version}"
    problems = []
    if "path" in entry:
        child = element_at(defs, entry["path"])
        if child is None:
            return [f"{where}: {entry['path']} is not an element of FHIR {defs.version}"]
        if "many" in entry and entry["many"] != child.many:
            problems.append(f"{where}: {entry['path']} repeats: {child.many}, the mapping says {entry['many']}")
        if "type" in entry and entry["type"] != child.type_code:
            problems.append(f"{where}: {entry['path']} is {child.type_code}, the mapping says {entry['type']}")
        if "value" in entry:
            problems += _value_problems(defs, where, child, entry["value"])
    else:
        if element_at(defs, entry["absent"]) is not None:
            problems.append(f"{where}: {entry['absent']} is an element of FHIR {defs.version}; it is not absent")
        if "extension" in entry and entry["extension"] not in extensions:
            problems.append(f"{where}: no extension {entry['extension']!r} in canonical.yaml")
    return problems


def _value_problems(defs: Definitions, where: str, child: Child, value: Any) -> list[str]:
    primitive = defs.primitive(child.type_code) if child.kind is Kind.PRIMITIVE else None
    if primitive is None:
        return [f"{where}: a fixed value for {child.element}, which is not a primitive"]
    json_type = {"boolean": bool, "integer": int, "string": str}.get(primitive.json, str)
    if type(value) is not json_type:
        return [f"{where}: {value!r} is not a {child.type_code}"]
    if child.binding is not None and not child.binding.gaps and value not in child.binding.all_codes:
        return [f"{where}: {value!r} is not in the required value set {child.binding.url}"]
    return []


def all_problems(data: dict[str, Any], definitions: dict[str, Definitions], extensions: set[str]) -> list[str]:
    return [problem
            for section, keys in data["places"].items()
            for key, versions in keys.items()
            for version, entry in versions.items()
            for problem in place_problems(definitions[version], version, section, key, entry, extensions)]


def test_every_place_is_an_element_of_its_version(resources: Resources, definitions: dict[str, Definitions]) -> None:
    data = resources.mapping(VERSIONS)
    extensions = set(resources.mapping("fhir/canonical.yaml")["extensions"])
    assert all_problems(data, definitions, extensions) == []


@pytest.mark.parametrize(("version", "key", "change", "expected"), [
    ("R5", "arm", {"path": "ResearchStudy.comparisonGroups"}, "is not an element of FHIR 5.0.0"),
    ("R4", "arm", {"path": "ResearchStudy.comparisonGroup"}, "is not an element of FHIR 4.0.1"),
    ("R5", "outcome-type", {"path": "ResearchStudy.outcomeMeasure.type", "many": False}, "repeats: True"),
    ("R4", "arm-description", {"path": "ResearchStudy.arm.description", "type": "markdown"}, "is string"),
    ("R4", "other-title", {"absent": "ResearchStudy.title", "extension": "other-title"}, "it is not absent"),
    ("R4", "milestone", {"absent": "ResearchStudy.progressStatus", "extension": "milestones"}, "no extension"),
])
def test_a_typo_in_the_data_is_caught(resources: Resources, definitions: dict[str, Definitions], version: str,
                                      key: str, change: dict[str, Any], expected: str) -> None:
    data = copy.deepcopy(resources.mapping(VERSIONS))
    data["places"]["ResearchStudy"][key][version] = change
    extensions = set(resources.mapping("fhir/canonical.yaml")["extensions"])
    problems = all_problems(data, definitions, extensions)
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_fixed_value_is_checked_against_its_type_and_binding(resources: Resources,
                                                               definitions: dict[str, Definitions]) -> None:
    data = copy.deepcopy(resources.mapping(VERSIONS))
    data["places"]["Group"]["definitional"]["R5"]["value"] = "notional"
    data["places"]["Group"]["definitional"]["R4"]["value"] = "false"
    problems = all_problems(data, definitions, set(resources.mapping("fhir/canonical.yaml")["extensions"]))
    assert len(problems) == 2
    assert "'false' is not a boolean" in problems[0]
    assert "not in the required value set http://hl7.org/fhir/ValueSet/group-membership-basis" in problems[1]


def test_the_schema_allows_each_key_only_the_forms_its_builder_writes(resources: Resources) -> None:
    schema = resources.schema(VERSIONS_SCHEMA)
    data = copy.deepcopy(resources.mapping(VERSIONS))
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    # `design` has no fallback: a version without the element would lose the design facts silently
    data["places"]["ResearchStudy"]["design"]["R4"] = {"absent": "ResearchStudy.category", "extension": "x"}
    # an unknown key is a typo, not a new place
    data["places"]["ResearchStudy"]["arms"] = data["places"]["ResearchStudy"]["arm"]
    # an absent element carried by both an extension and the associated parties is ambiguous
    data["places"]["ResearchStudy"]["lead-sponsor"]["R5"]["extension"] = "associated-party"
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    where = {"/".join(str(p) for p in e.absolute_path) for e in errors}
    assert where == {"places/ResearchStudy", "places/ResearchStudy/design/R4", "places/ResearchStudy/lead-sponsor/R5"}


def test_a_path_outside_its_section_is_refused(resources: Resources) -> None:
    data = copy.deepcopy(resources.mapping(VERSIONS))
    data["places"]["RelatedArtifact"]["url"]["R5"] = {"path": "Attachment.url"}
    with pytest.raises(MappingError, match=r"Attachment\.url is not in RelatedArtifact"):
        version_places(data, "R5")


def test_an_unknown_extension_is_refused(resources: Resources) -> None:
    data = copy.deepcopy(resources.mapping(VERSIONS))
    data["places"]["ResearchStudy"]["other-title"]["R4"]["extension"] = "other-titles"
    extensions = resources.mapping("fhir/canonical.yaml")["extensions"]
    with pytest.raises(MappingError, match="no extension 'other-titles'"):
        version_places(data, "R4", extensions)
    assert version_places(data, "R5", extensions)  # R5 names no extension for it


def test_places_give_the_element_names_the_builders_write(fhir_maps: dict[str, FhirMaps]) -> None:
    r4, r5 = fhir_maps["R4"], fhir_maps["R5"]
    assert (r4.place("ResearchStudy", "arm").element, r5.place("ResearchStudy", "arm").element) == \
        ("arm", "comparisonGroup")
    assert r5.place("ResearchStudy", "focus").steps == ("focus", "concept")
    assert r5.place("RelatedArtifact", "url").steps == ("document", "url")
    assert r4.place("ResearchStudy", "other-title").extension == "other-title"
    assert r5.place("ResearchStudy", "lead-sponsor").via == "associated-party"
    with pytest.raises(MappingError, match="no element in this version"):
        _ = r4.place("ResearchStudy", "arm-link-id").name
    with pytest.raises(MappingError, match="no place"):
        r4.place("ResearchStudy", "arms")


def test_nest_and_put() -> None:
    assert nest((), 1) == 1
    assert nest(("a", "b"), 1) == {"a": {"b": 1}}
    target: dict[str, Any] = {"x": 0, "document": {"title": "t"}}
    put(target, ("document", "url"), "u")
    put(target, ("url",), "v")
    assert target == {"x": 0, "document": {"title": "t", "url": "u"}, "url": "v"}


def test_the_builders_write_where_the_data_says(resources: Resources, fhir_maps: dict[str, FhirMaps]) -> None:
    """The element names come from the data, not from code: a place changed in the data moves the element."""
    r4 = fhir_maps["R4"]
    places = dict(r4.places)
    places["ResearchStudy", "country"] = Place("ResearchStudy", "country", path="ResearchStudy.region", many=True)
    moved = dataclasses.replace(r4, places=places)
    study = cell_therapy_study()
    body = research_study(build_bundle(study, moved, resources).bundle)
    assert "region" in body and "location" not in body
    assert research_study(build_bundle(study, r4, resources).bundle)["location"] == body["region"]
