"""The SDTM writer's configuration, read once from `mappings/sdtm/*.yaml` into typed, checked objects.

Everything the writer needs that is not a value of the study lives in the mapping files: the controlled
terminology and the value maps into it (`ct.yaml`; the schedule's epoch table in `common/schedule.yaml` is
checked against its EPOCH codelist), the TS parameter table (`ts-parameters.yaml`), the dataset
and variable metadata (`variables.yaml`), fixed settings (`settings.yaml`) and country codes
(`common/countries.yaml`, shared with the FHIR writer). `load_spec` checks the files against each other
(every mapped value exists in its codelist, every TS parameter is a CT term) so that a steward's edit that
breaks a reference fails at start-up, not in the middle of a batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from converters.model.enrollment import EnrollmentRule
from converters.model.schedule import Epoch, schedule_epochs
from converters.model.vocabulary import IdentifierSystems, normalise_wording
from converters.resources import MappingError, Resources
from converters.targets.sdtm.tables import TDM_DOMAINS


@dataclass(frozen=True)
class Term:
    """One codelist term: submission value, NCI C-code (None for a sponsor extension) and decode."""

    value: str
    code: str | None
    decode: str | None


@dataclass(frozen=True)
class Codelist:
    key: str  # short name, e.g. TPHASE
    code: str  # NCI C-code of the codelist
    name: str
    extensible: bool
    terms: Mapping[str, Term]  # by submission value
    subset: bool = False

    def term_by_code(self, code: str) -> Term | None:
        return next((t for t in self.terms.values() if t.code == code), None)


@dataclass(frozen=True)
class Mapped:
    """Where a canonical value goes: a CT term, a sponsor extension, or a null flavour instead of a value."""

    term: Term | None = None
    extended: bool = False
    null_flavor: str | None = None


@dataclass(frozen=True)
class ValueMap:
    name: str
    codelist: str
    values: Mapping[str, Mapped]


@dataclass(frozen=True)
class CtPackage:
    name: str
    date: str
    publishing_set: str
    reference_name: str


@dataclass(frozen=True)
class Terminology:
    package: CtPackage
    codelists: Mapping[str, Codelist]
    value_maps: Mapping[str, ValueMap]

    def map_value(self, map_name: str, key: str) -> Mapped | None:
        """The target of a canonical value in a value map, or None when the map does not know it."""
        return self.value_maps[map_name].values.get(key)


@dataclass(frozen=True)
class NullFlavorRule:
    when: str
    flavor: str


@dataclass(frozen=True)
class TsParameter:
    code: str  # TSPARMCD
    name: str  # TSPARM, the CT term sharing the C-code of TSPARMCD
    source: str  # extractor name, or "none"
    value: str  # text | integer | date | duration | coded | country | registry_id | setting
    value_map: str | None
    required: str | None  # "always", a condition name, or None
    required_by: tuple[str, ...]
    null_flavor: str
    null_flavor_rules: tuple[NullFlavorRule, ...]


@dataclass(frozen=True)
class VariableSpec:
    name: str
    label: str
    type: str  # text | integer | float
    role: str
    core: str  # Req | Exp | Perm
    origin: str  # assigned | registry
    codelist: str | None = None
    external: str | None = None
    max_length: int | None = None
    split_label: str | None = None  # label template of the continuation variables, "{n}" = 1, 2, ...


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    label: str
    structure: str
    klass: str
    keys: tuple[str, ...]
    variables: tuple[VariableSpec, ...]

    def variable(self, name: str) -> VariableSpec | None:
        return next((v for v in self.variables if v.name == name), None)


CODE_VARIABLES = (("TA", "ARMCD"), ("TE", "ETCD"), ("TI", "IETESTCD"))
"""Codes the writer derives, which must fit the length variables.yaml gives them."""


@dataclass(frozen=True)
class ExternalCodelist:
    key: str
    name: str
    dictionary: str
    version: str
    href: str


@dataclass(frozen=True)
class Settings:
    sdtmig_version: str
    sdtm_version: str
    define_version: str
    dataset_json_version: str
    iso8601_name: str
    iso3166_name: str
    registry_names: Mapping[str, str]
    in_progress_statuses: frozenset[str]
    not_started_statuses: frozenset[str]
    comparator_arm_types: frozenset[str]
    unbounded_max_age_formats: frozenset[str]
    pediatric_below_years: float
    element_start: str
    element_start_with_timing: str
    element_end_next: str
    element_end_last: str
    visit_start: str
    visit_start_anchored: str
    criterion_prefix: Mapping[str, str]
    shortened_marker: str
    subcategory_separator: str
    digest_prefix: str
    originator: str
    source_system: str
    fallback_creation_datetime: str
    define_context: str
    define_originator: str
    archive_folder: str
    registry_origin: str
    external_codelists: Mapping[str, ExternalCodelist]
    damaged_comparator_comment: str  # define.xml comment of a criterion whose threshold lost its sign; {phrases}


@dataclass(frozen=True)
class CountryCodes:
    """Country names (normalised) and alpha-2 codes to ISO 3166-1 alpha-3."""

    by_name: Mapping[str, str]
    names: Mapping[str, str]  # alpha-3 -> ISO short name

    def alpha3(self, name: str) -> str | None:
        return self.by_name.get(normalise_wording(name))


@dataclass(frozen=True)
class SdtmSpec:
    terminology: Terminology
    parameters: tuple[TsParameter, ...]
    datasets: Mapping[str, DatasetSpec]
    settings: Settings
    countries: CountryCodes
    enrollment: EnrollmentRule  # PLANSUB vs ACTSUB for a count of unstated type (common/enrollment.yaml)

    def max_length(self, dataset: str, variable: str) -> int:
        """The length limit variables.yaml sets for a variable (`load_spec` checks the code variables have one)."""
        spec = self.datasets[dataset].variable(variable)
        if spec is None or spec.max_length is None:
            raise MappingError(f"sdtm/variables.yaml: {dataset}.{variable} has no max_length")
        return spec.max_length


# --- loading -----------------------------------------------------------------------------------------


def _terminology(data: Mapping[str, Any]) -> Terminology:
    package = CtPackage(**data["package"])
    codelists: dict[str, Codelist] = {}
    for key, body in data["codelists"].items():
        terms = {t["value"]: Term(t["value"], t["code"], t["decode"]) for t in body["terms"]}
        if len(terms) != len(body["terms"]):
            raise MappingError(f"sdtm/ct.yaml: codelist {key} lists a submission value twice")
        codelists[key] = Codelist(key, body["code"], body["name"], body["extensible"], terms,
                                  body.get("subset", False))
    maps: dict[str, ValueMap] = {}
    for name, body in data["value_maps"].items():
        codelist = codelists.get(body["codelist"])
        if codelist is None:
            raise MappingError(f"sdtm/ct.yaml: value map {name} names unknown codelist {body['codelist']}")
        values: dict[str, Mapped] = {}
        for key, target in body["values"].items():
            values[str(key)] = _mapped(name, codelist, target)
        maps[name] = ValueMap(name, codelist.key, values)
    return Terminology(package, codelists, maps)


def _mapped(map_name: str, codelist: Codelist, target: Any) -> Mapped:
    if isinstance(target, str):
        term = codelist.terms.get(target)
        if term is None:
            raise MappingError(f"sdtm/ct.yaml: value map {map_name}: {target!r} is not a term of {codelist.key}")
        return Mapped(term=term)
    if "extended" in target:
        if not codelist.extensible:
            raise MappingError(f"sdtm/ct.yaml: value map {map_name} extends non-extensible {codelist.key}")
        if target["extended"] in codelist.terms:
            raise MappingError(f"sdtm/ct.yaml: value map {map_name}: {target['extended']!r} is a CT term")
        return Mapped(term=Term(target["extended"], None, None), extended=True)
    return Mapped(null_flavor=target["null_flavor"])


def _parameters(data: Mapping[str, Any], ct: Terminology) -> tuple[TsParameter, ...]:
    codes = ct.codelists["TSPARMCD"]
    names = ct.codelists["TSPARM"]
    out: list[TsParameter] = []
    seen: set[str] = set()
    for p in data["parameters"]:
        code = p["code"]
        if code in seen:
            raise MappingError(f"sdtm/ts-parameters.yaml: parameter {code} listed twice")
        seen.add(code)
        term = codes.terms.get(code)
        if term is None or term.code is None:
            raise MappingError(f"sdtm/ts-parameters.yaml: {code} is not a TSPARMCD term of the CT")
        name = names.term_by_code(term.code)
        if name is None:
            raise MappingError(f"sdtm/ts-parameters.yaml: no TSPARM term shares {term.code} with {code}")
        value_map = p.get("value_map")
        if value_map is not None and value_map not in ct.value_maps:
            raise MappingError(f"sdtm/ts-parameters.yaml: {code} names unknown value map {value_map}")
        out.append(TsParameter(
            code=code, name=name.value, source=p["source"], value=p["value"], value_map=value_map,
            required=p.get("required"), required_by=tuple(p.get("required_by", ())),
            null_flavor=p.get("null_flavor", "NI"),
            null_flavor_rules=tuple(NullFlavorRule(r["when"], r["flavor"]) for r in p.get("null_flavor_rules", ())),
        ))
    return tuple(out)


def _datasets(data: Mapping[str, Any], ct: Terminology, externals: Mapping[str, Any]) -> dict[str, DatasetSpec]:
    out: dict[str, DatasetSpec] = {}
    for name, body in data["datasets"].items():
        variables = []
        for v in body["variables"]:
            if v.get("codelist") and v["codelist"] not in ct.codelists:
                raise MappingError(f"sdtm/variables.yaml: {name}.{v['name']} names unknown codelist {v['codelist']}")
            if v.get("external") and v["external"] not in externals:
                raise MappingError(f"sdtm/variables.yaml: {name}.{v['name']} names unknown dictionary {v['external']}")
            split = v.get("split")
            variables.append(VariableSpec(
                name=v["name"], label=v["label"], type=v["type"], role=v["role"], core=v["core"],
                origin=v["origin"], codelist=v.get("codelist"), external=v.get("external"),
                max_length=v.get("max_length"),
                split_label=split["label"] if split else None,
            ))
        names = {v.name for v in variables}
        missing = [k for k in body["keys"] if k not in names]
        if missing:
            raise MappingError(f"sdtm/variables.yaml: {name} keys {missing} are not variables")
        out[name] = DatasetSpec(name, body["label"], body["structure"], body["class"], tuple(body["keys"]),
                                tuple(variables))
    return out


def _settings(data: Mapping[str, Any]) -> Settings:
    std = data["standards"]
    te = data["trial_elements"]
    ti = data["trial_inclusion"]
    dj = data["dataset_json"]
    dx = data["define_xml"]
    externals = {k: ExternalCodelist(k, v["name"], v["dictionary"], v["version"], v["href"])
                 for k, v in dx["external_codelists"].items()}
    return Settings(
        sdtmig_version=std["sdtmig"], sdtm_version=std["sdtm"], define_version=std["define_xml"],
        dataset_json_version=std["dataset_json"],
        iso8601_name=data["reference_names"]["iso8601"], iso3166_name=data["reference_names"]["iso3166"],
        registry_names=dict(data["registry_names"]),
        in_progress_statuses=frozenset(data["in_progress_statuses"]),
        not_started_statuses=frozenset(data["not_started_statuses"]),
        comparator_arm_types=frozenset(data["comparator_arm_types"]),
        unbounded_max_age_formats=frozenset(data["formats_absent_maximum_age_is_unbounded"]),
        pediatric_below_years=float(data["pediatric_below_years"]),
        element_start=te["start_rule"], element_start_with_timing=te["start_rule_with_timing"],
        element_end_next=te["end_rule_next"], element_end_last=te["end_rule_last"],
        visit_start=data["trial_visits"]["start_rule"],
        visit_start_anchored=data["trial_visits"]["start_rule_anchored"],
        criterion_prefix=dict(ti["code_prefix"]), shortened_marker=ti["shortened_marker"],
        subcategory_separator=ti["subcategory_separator"], digest_prefix=data["study_id"]["digest_prefix"],
        originator=dj["originator"], source_system=dj["source_system"],
        fallback_creation_datetime=dj["fallback_creation_datetime"],
        define_context=dx["context"], define_originator=dx["originator"], archive_folder=dx["archive_folder"],
        registry_origin=dx["registry_origin"],
        external_codelists=externals, damaged_comparator_comment=dx["damaged_comparator_comment"],
    )


def _countries(data: Mapping[str, Any]) -> CountryCodes:
    by_name: dict[str, str] = {}
    names: dict[str, str] = {}
    for alpha3, body in data["countries"].items():
        names[alpha3] = body["names"][0]
        for wording in (alpha3, body["alpha2"], *body["names"]):
            key = normalise_wording(wording)
            if by_name.get(key, alpha3) != alpha3:
                raise MappingError(f"common/countries.yaml: {wording!r} names both {by_name[key]} and {alpha3}")
            by_name[key] = alpha3
    return CountryCodes(by_name, names)


def _check_epochs(epochs: Mapping[str, Epoch], codelist: Codelist) -> None:
    """The schedule's epoch table (TA EPOCH, shared with the FHIR PlanDefinition) uses EPOCH terms as CDISC has them."""
    for kind, epoch in epochs.items():
        term = codelist.terms.get(epoch.value)
        if term is None or (term.code, term.decode) != (epoch.code, epoch.decode):
            raise MappingError(f"common/schedule.yaml: epoch of {kind} ({epoch.value} {epoch.code} {epoch.decode!r})"
                               f" is not a term of {codelist.key} in sdtm/ct.yaml")


def load_spec(resources: Resources) -> SdtmSpec:
    """Read and cross-check the SDTM mapping files (raises `MappingError` on an inconsistent edit)."""
    ct = _terminology(resources.mapping("sdtm/ct.yaml"))
    settings = _settings(resources.mapping("sdtm/settings.yaml"))
    registries = {r.key: r.name for r in IdentifierSystems(resources).registries}
    settings = replace(settings, registry_names={**registries, **settings.registry_names})
    parameters = _parameters(resources.mapping("sdtm/ts-parameters.yaml"), ct)
    datasets = _datasets(resources.mapping("sdtm/variables.yaml"), ct, settings.external_codelists)
    countries = _countries(resources.mapping("common/countries.yaml"))
    for required in TDM_DOMAINS:
        if required not in datasets:
            raise MappingError(f"sdtm/variables.yaml: dataset {required} is missing")
    if "inclusion_category" not in ct.value_maps:
        raise MappingError("sdtm/ct.yaml: value map inclusion_category is missing")
    _check_epochs(schedule_epochs(resources), ct.codelists["EPOCH"])
    spec = SdtmSpec(ct, parameters, datasets, settings, countries, EnrollmentRule.load(resources))
    for dataset, variable in CODE_VARIABLES:
        spec.max_length(dataset, variable)
    return spec
