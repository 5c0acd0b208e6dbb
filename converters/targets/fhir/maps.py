"""The FHIR writers' mapping data (`mappings/fhir/*.yaml`), loaded once per writer and looked up by name.

Python here only reads the tables; every URI, code and label comes from the mapping files, so a data steward
can change a mapping without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from converters.model.enrollment import EnrollmentRule
from converters.model.vocabulary import IdentifierSystems, normalise_wording
from converters.resources import MappingError, Resources

FhirVersion = Literal["R4", "R5"]

CANONICAL = "fhir/canonical.yaml"
VALUE_MAPS = "fhir/value-maps.yaml"
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
class FhirMaps:
    """Everything the builders look up, for one FHIR version."""

    version: FhirVersion
    canonical: dict[str, Any]
    values: dict[str, Any]
    country_codes: dict[str, str]
    country_system: str
    registries: IdentifierSystems
    enrollment: EnrollmentRule  # planned vs actual for a count of unstated type (shared with the SDTM writer)

    @classmethod
    def load(cls, resources: Resources, version: FhirVersion) -> FhirMaps:
        canonical = resources.mapping(CANONICAL)
        return cls(version=version, canonical=canonical, values=resources.mapping(VALUE_MAPS),
                   country_codes=country_alpha2(resources.mapping(COUNTRIES)),
                   country_system=canonical["country_system"], registries=IdentifierSystems(resources),
                   enrollment=EnrollmentRule.load(resources))

    @property
    def r4(self) -> bool:
        return self.version == "R4"

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
