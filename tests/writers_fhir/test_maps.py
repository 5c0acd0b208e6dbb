"""The FHIR mapping files: every code, URI and label the builders write comes from them."""

from __future__ import annotations

import copy

import pytest

from converters.model.vocabulary import normalise_wording
from converters.resources import MappingError, Resources
from converters.targets.fhir.maps import COUNTRIES, VALUE_MAPS, country_alpha2


def test_the_sdtm_and_fhir_writers_share_one_country_table(resources: Resources) -> None:
    from converters.targets.sdtm.spec import load_spec

    spec = load_spec(resources)
    table = resources.mapping(COUNTRIES)
    alpha2 = country_alpha2(table)
    alpha3_to_2 = {a3: body["alpha2"] for a3, body in table["countries"].items()}
    for name in ("China", "Korea, South", "Côte d'Ivoire", "Cote d'Ivoire", "United States", "GB", "DEU"):
        code = alpha2.get(normalise_wording(name))
        assert code is not None, name
        assert alpha3_to_2[spec.countries.alpha3(name) or ""] == code, name  # both writers: the same country


def test_a_wording_naming_two_countries_is_refused(resources: Resources) -> None:
    table = copy.deepcopy(resources.mapping(COUNTRIES))
    table["countries"]["FRA"]["names"].append("Germany")
    with pytest.raises(MappingError, match="Germany"):
        country_alpha2(table)


def test_labels_the_builders_write_are_mapping_data(resources: Resources) -> None:
    values = resources.mapping(VALUE_MAPS)
    # the schema makes these tables required, so a steward's edit cannot drop one the builders read
    for table in ("milestones", "title_types", "party_role_texts", "eligibility_characteristics",
                  "plan_definition", "overall_study_state"):
        assert values[table], table
    # every schedule step kind the schedule rules can produce has an epoch (the PlanDefinition action's code)
    rules = resources.mapping("common/schedule.yaml")
    kinds = {s["kind"] for s in rules["steps"]} | {rules["treatment"]["kind"], rules["follow_up"]["kind"]}
    assert kinds <= set(rules["epochs"])
