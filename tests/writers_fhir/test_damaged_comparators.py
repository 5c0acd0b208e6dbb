"""A criterion whose text lost a comparison sign carries the `damaged-comparator` extension on its characteristic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from converters.model import CriteriaSection, Criterion, Eligibility, Study
from converters.model.comparators import ComparatorRules, mark_damaged_comparators
from converters.resources import Resources
from converters.targets.fhir import BuiltBundle

from .helpers import extensions, resources_of, sub
from .studies import cell_therapy_study

Build = Callable[..., BuiltBundle]
URL = "https://trialbridge.dev/fhir/StructureDefinition/damaged-comparator"


def _damaged_study(resources: Resources) -> Study:
    criteria = [
        CriteriaSection(category="inclusion", heading="Inclusion Criteria", items=[
            Criterion(text="Aged 18-65 years old;", marker="1."),
            Criterion(text="Lupus nephritis", heading=True, children=[
                Criterion(text="Positive ANA titer 1:80; SELENA-SLEDAI score = 6 points;", marker="2."),
            ]),
        ]),
        CriteriaSection(category="exclusion", heading="Exclusion Criteria", items=[
            Criterion(text="History of =grade 2 bleeding;", marker="1."),
        ]),
    ]
    study = cell_therapy_study().model_copy(update={"eligibility": Eligibility(criteria=criteria)})
    return mark_damaged_comparators(study, ComparatorRules.load(resources))


def _criteria(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    (group,) = resources_of(bundle, "Group")
    return [c for c in group["characteristic"] if extensions(c, "eligibility-criterion")]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_the_characteristic_of_a_damaged_criterion_is_flagged(build: Build, resources: Resources,
                                                              version: str) -> None:
    built = build(_damaged_study(resources), version)
    honest, damaged, excluded = _criteria(built.bundle)
    assert extensions(honest, "damaged-comparator") == []
    flags = extensions(damaged, "damaged-comparator")
    assert [f["url"] for f in flags] == [URL, URL]
    assert [(sub(f, "phrase"), sub(f, "damage"), sub(f, "offset")) for f in flags] == [
        (["ANA titer 1:80"], ["missing"], [9]), (["SELENA-SLEDAI score = 6 points"], ["equals"], [25])]
    assert sub(extensions(damaged, "eligibility-criterion")[0], "text") == [
        "Positive ANA titer 1:80; SELENA-SLEDAI score = 6 points;"], "the text is kept as written"
    assert "valueBoolean" in damaged, "no threshold is coded from a damaged text"
    assert [sub(f, "phrase") for f in extensions(excluded, "damaged-comparator")] == [["=grade 2"]]


def test_the_flag_is_traced_to_the_mark_and_to_the_criterion(build: Build, resources: Resources) -> None:
    built = build(_damaged_study(resources), "R4")
    traced = {e["study"] for e in built.trace["elements"] if e["fhirpath"].endswith(".extension[1]")}
    assert "/eligibility/criteria/0/items/1/children/0/damaged_comparators/0" in traced
    assert "/eligibility/criteria/0/items/1/children/0/text" in traced


def test_the_extension_url_is_a_project_canonical(resources: Resources) -> None:
    canonical = resources.mapping("fhir/canonical.yaml")
    assert canonical["extensions"]["damaged-comparator"] == URL
