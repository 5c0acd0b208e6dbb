"""The FHIR writers' mapping data (`mappings/fhir/*.yaml`), loaded once per writer and looked up by name.

Python here only reads the tables; every URI, code and label comes from the mapping files, so a data steward
can change a mapping without touching code. That includes where each version writes a fact (`versions.yaml`):
the builders ask `FhirMaps.place` for the element instead of branching on the version for a rename.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from converters.model.enrollment import EnrollmentRule
from converters.model.vocabulary import IdentifierSystems, normalise_wording
from converters.resources import MappingError, Resources

FhirVersion = Literal["R4", "R5"]

CANONICAL = "fhir/canonical.yaml"
VALUE_MAPS = "fhir/value-maps.yaml"
VERSIONS = "fhir/versions.yaml"
COUNTRIES = "common/countries.yaml"  # shared with the SDTM writer, so both code the same countries


def country_alpha2(countries: dict[str, Any]) -> dict[str, str]:
    """Normalised wording (name, alpha-2 or alpha-3 code) -> ISO 3166-1 alpha-2, as the SDTM writer matches."""
    codes: dict[str, str] = {}
    for alpha3, body in countries["countries"].items():
        for wording in (alpha3, body["alpha2"], *body["names"]):
            key = normalise_wording(wording)
            if codes.setdefault(key, body["alpha2"]) != body["alpha2"]:
                raise MappingError(f"{COUNTRIES}: {wording!r} names both {codes[key]} and {body['alpha2']}")
    return codes


@dataclass(frozen=True)
class Place:
    """Where one FHIR version writes one fact (`versions.yaml`): the element at `path`, or, where the version
    has no such element (`absent`), the project `extension` that carries it, or the study's associated parties
    (`via`), or nothing."""

    section: str  # the resource or datatype the path starts at
    key: str
    path: str | None = None
    many: bool | None = None  # whether the element repeats, where a builder writes one or a list by it
    type: str | None = None  # the element's FHIR type, where a builder writes a different form by it
    value: Any = None  # a fixed value the builder writes
    absent: str | None = None
    extension: str | None = None
    via: str | None = None

    @property
    def steps(self) -> tuple[str, ...]:
        """The element's path below its section: ("comparisonGroup",), ("focus", "concept"), ("document", "url")."""
        if self.path is None:
            raise MappingError(f"{VERSIONS}: {self.section} {self.key} has no element in this version")
        return tuple(self.path.split(".")[1:])

    @property
    def element(self) -> str:
        """The first step: the section's element that holds the value ("focus" of "ResearchStudy.focus.concept")."""
        return self.steps[0]

    @property
    def name(self) -> str:
        """The last step: the element's own name."""
        return self.steps[-1]


def nest(steps: tuple[str, ...], value: Any) -> Any:
    """`value` wrapped in one object per step: nest(("concept",), c) == {"concept": c}; no steps: `value`."""
    for step in reversed(steps):
        value = {step: value}
    return value


def put(target: dict[str, Any], steps: tuple[str, ...], value: Any) -> None:
    """Set `value` at `steps` inside `target`, making (or reusing) the objects on the way."""
    for step in steps[:-1]:
        target = target.setdefault(step, {})
    target[steps[-1]] = value


def version_places(data: dict[str, Any], version: FhirVersion, extensions: Iterable[str] | None = None
                   ) -> dict[tuple[str, str], Place]:
    """The places of one version, by (section, key); each path must start at its section, and each extension
    named must be one of `extensions` (canonical.yaml), when given."""
    known = None if extensions is None else set(extensions)
    places: dict[tuple[str, str], Place] = {}
    for section, keys in data["places"].items():
        for key, versions in keys.items():
            entry = versions[version]
            for where in (entry.get("path"), entry.get("absent")):
                if where is not None and not where.startswith(f"{section}."):
                    raise MappingError(f"{VERSIONS}: {section} {key} {version}: {where} is not in {section}")
            named = entry.get("extension")
            if named is not None and known is not None and named not in known:
                raise MappingError(f"{VERSIONS}: {section} {key} {version}: no extension {named!r} in {CANONICAL}")
            places[section, key] = Place(section, key, **entry)
    return places


@dataclass(frozen=True)
class FhirMaps:
    """Everything the builders look up, for one FHIR version."""

    version: FhirVersion
    canonical: dict[str, Any]
    values: dict[str, Any]
    country_codes: dict[str, str]
    country_system: str
    registries: IdentifierSystems
    enrollment: EnrollmentRule  # planned vs actual for a count of unstated type (shared with the SDTM writer)
    places: dict[tuple[str, str], Place]  # where this version writes each fact (versions.yaml)

    @classmethod
    def load(cls, resources: Resources, version: FhirVersion) -> FhirMaps:
        canonical = resources.mapping(CANONICAL)
        return cls(version=version, canonical=canonical, values=resources.mapping(VALUE_MAPS),
                   country_codes=country_alpha2(resources.mapping(COUNTRIES)),
                   country_system=canonical["country_system"], registries=IdentifierSystems(resources),
                   enrollment=EnrollmentRule.load(resources),
                   places=version_places(resources.mapping(VERSIONS), version, canonical["extensions"]))

    @property
    def r4(self) -> bool:
        """For the differences of meaning only (status, enrolment); a renamed or moved element is a `place`."""
        return self.version == "R4"

    def place(self, section: str, key: str) -> Place:
        """Where this version writes a fact: `place("ResearchStudy", "arm")` is `arm` in R4, `comparisonGroup` in R5."""
        found = self.places.get((section, key))
        if found is None:
            raise MappingError(f"{VERSIONS} has no place {section} {key}")
        return found

    def extension(self, name: str) -> str:
        url: str = self.canonical["extensions"][name]
        return url

    def hl7_extension(self, name: str) -> str:
        """The URL of an HL7 core extension (data-absent-reason)."""
        url: str = self.canonical["hl7_extensions"][name]
        return url

    def hl7_system(self, name: str) -> str:
        url: str = self.canonical["hl7_code_systems"][self.version][name]
        return url

    def has_hl7_system(self, name: str) -> bool:
        """Whether this version has the HL7 code system (R4 has none for arm types)."""
        return name in self.canonical["hl7_code_systems"][self.version]

    def project_system(self, name: str) -> str:
        url: str = self.canonical["project_code_systems"][name]
        return url

    def identifier_system(self, name: str) -> str:
        url: str = self.canonical["identifier_systems"][name]
        return url

    def ctgov_system(self, enum: str) -> str:
        template: str = self.canonical["ctgov_enum_system"]
        return template.format(enum=enum)

    def display(self, enum: str, value: str) -> str | None:
        """The label ClinicalTrials.gov shows for an enum value, if the mapping knows it."""
        label: str | None = self.values["displays"].get(enum, {}).get(value)
        return label

    def ctgov_coding(self, enum: str, value: str) -> dict[str, str]:
        """A coding that keeps a ClinicalTrials.gov enum token as it is (HL7's CT.gov example does the same)."""
        coding = {"system": self.ctgov_system(enum), "code": value}
        label = self.display(enum, value)
        if label:
            coding["display"] = label
        return coding

    def value(self, table: str, key: str) -> Any:
        return self.values[table].get(key)

    def country_code(self, name: str) -> str | None:
        return self.country_codes.get(normalise_wording(name))

    def source_code_system(self, name: str) -> str | None:
        """The URI for a code system a source names ("MeSH"); a URI given by the source is kept."""
        if name.startswith(("http://", "https://", "urn:")):
            return name
        uri: str | None = self.canonical["source_code_systems"].get(name.strip().casefold())
        return uri

    def record_url(self, registry: str | None, identifier: str) -> str | None:
        template: str | None = self.canonical["record_urls"].get(registry or "")
        return template.format(id=identifier) if template else None

    def source_record_url(self, reader_format: str, identifier: str | None) -> str | None:
        template: str | None = self.canonical["source_record_urls"].get(reader_format)
        return template.format(id=identifier) if template and identifier else None
