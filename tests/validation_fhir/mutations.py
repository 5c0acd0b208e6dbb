"""The mutation set: one defect put into a valid resource, and the problem (code + FHIRPath) it must raise.

Each mutation starts from a fixture under `fixtures/fhir/examples/` that validates clean, changes one
thing, and names the problem code and the FHIRPath of the element the validator must report. The kinds
follow issue 6 (a wrong code, a missing required element, a broken reference, a bad date, an unknown
element, an invariant violation), plus JSON-shape defects. `bench/bench_fhir_validate.py --mutations`
prints the catch rate over this set; the tests require every mutation to be caught.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir" / "examples"

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def _parent(obj: Any, path: str) -> tuple[Any, str | int]:
    steps = _steps(path)
    for step in steps[:-1]:
        obj = obj[step]
    return obj, steps[-1]


def put(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the value at a dotted path (`period.start`, `arm[0].name`)."""

    def change(obj: dict[str, Any]) -> None:
        parent, key = _parent(obj, path)
        parent[key] = copy.deepcopy(value)

    return change


def drop(path: str) -> Callable[[dict[str, Any]], None]:
    """Remove the element at a dotted path."""

    def change(obj: dict[str, Any]) -> None:
        parent, key = _parent(obj, path)
        del parent[key]

    return change


def both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        for step in changes:
            step(obj)

    return change


@dataclass(frozen=True)
class Mutation:
    id: str
    kind: str  # wrong-code | missing-required | broken-reference | bad-date | unknown-element | invariant | json-shape
    version: str
    fixture: str  # relative to fixtures/fhir/examples
    change: Callable[[dict[str, Any]], None]
    code: str
    path: str

    def original(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((EXAMPLES / self.fixture).read_text(encoding="utf-8"))
        return data

    def apply(self) -> dict[str, Any]:
        mutated = copy.deepcopy(self.original())
        self.change(mutated)
        return mutated


R4_RS = "r4/handwritten/ResearchStudy-nct01234567.json"
R4_GROUP = "r4/handwritten/Group-eligibility.json"
R4_PD = "r4/handwritten/PlanDefinition-protocol.json"
R4_ORG = "r4/handwritten/Organization-sponsor.json"
R4_PRACT = "r4/handwritten/Practitioner-pi.json"
R4_COLL = "r4/handwritten/Bundle-collection.json"
R4_TRANS = "r4/handwritten/Bundle-transaction.json"
R5_RS = "r5/handwritten/ResearchStudy-nct01234567.json"
R5_GROUP = "r5/handwritten/Group-eligibility.json"
R5_EV = "r5/handwritten/EvidenceVariable-eligibility.json"
R5_PD = "r5/handwritten/PlanDefinition-protocol.json"
R5_COLL = "r5/handwritten/Bundle-collection.json"
R5_TRANS = "r5/handwritten/Bundle-transaction.json"
R5_CTGOV = "r5/official/ResearchStudy-example-ctgov-study-record.json"

E0_RS = "Bundle.entry[0].resource.ofType(ResearchStudy)"
# the fullUrls of the hand-written transactions, without their last two digits
URN = "urn:uuid:0b8a5e0a-4f3e-5c7e-9d3a-1a2b3c4d5e"
CONTAINED_ORG = {"resourceType": "Organization", "id": "org1", "name": "Contained Org"}
SCRIPT_DIV = '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><script>alert(1)</script></div>'

MUTATIONS: tuple[Mutation, ...] = (
    # --- R4: wrong codes (required bindings) ---
    Mutation("r4-status-recruiting", "wrong-code", "R4", R4_RS, put("status", "recruiting"),
             "fhir-binding", "ResearchStudy.status"),
    Mutation("r4-group-type", "wrong-code", "R4", R4_GROUP, put("type", "herd"), "fhir-binding", "Group.type"),
    Mutation("r4-narrative-status", "wrong-code", "R4", R4_RS, put("text.status", "draft"),
             "fhir-binding", "ResearchStudy.text.status"),
    Mutation("r4-identifier-use", "wrong-code", "R4", R4_RS, put("identifier[0].use", "primary"),
             "fhir-binding", "ResearchStudy.identifier[0].use"),
    Mutation("r4-telecom-system", "wrong-code", "R4", R4_RS, put("contact[0].telecom[0].system", "mail"),
             "fhir-binding", "ResearchStudy.contact[0].telecom[0].system"),
    Mutation("r4-artifact-type", "wrong-code", "R4", R4_RS, put("relatedArtifact[0].type", "source"),
             "fhir-binding", "ResearchStudy.relatedArtifact[0].type"),
    Mutation("r4-duration-comparator", "wrong-code", "R4", R4_PD, put("action[1].timingDuration.comparator", "~"),
             "fhir-binding", "PlanDefinition.action[1].timing.ofType(Duration).comparator"),
    Mutation("r4-bundle-entry-status", "wrong-code", "R4", R4_COLL, put("entry[0].resource.status", "bogus"),
             "fhir-binding", f"{E0_RS}.status"),
    Mutation("r4-bundle-type", "wrong-code", "R4", R4_COLL, put("type", "library"), "fhir-binding", "Bundle.type"),
    # --- R4: missing required elements ---
    Mutation("r4-no-status", "missing-required", "R4", R4_RS, drop("status"), "fhir-cardinality",
             "ResearchStudy.status"),
    Mutation("r4-arm-no-name", "missing-required", "R4", R4_RS, drop("arm[0].name"), "fhir-cardinality",
             "ResearchStudy.arm[0].name"),
    Mutation("r4-group-no-actual", "missing-required", "R4", R4_GROUP, drop("actual"), "fhir-cardinality",
             "Group.actual"),
    Mutation("r4-characteristic-no-exclude", "missing-required", "R4", R4_GROUP, drop("characteristic[0].exclude"),
             "fhir-cardinality", "Group.characteristic[0].exclude"),
    Mutation("r4-characteristic-no-value", "missing-required", "R4", R4_GROUP, drop("characteristic[0].valueRange"),
             "fhir-cardinality", "Group.characteristic[0].value"),
    Mutation("r4-plan-no-status", "missing-required", "R4", R4_PD, drop("status"), "fhir-cardinality",
             "PlanDefinition.status"),
    Mutation("r4-extension-no-url", "missing-required", "R4", R4_RS, drop("extension[0].url"), "fhir-cardinality",
             "ResearchStudy.extension[0].url"),
    Mutation("r4-related-action-no-id", "missing-required", "R4", R4_PD, drop("action[1].relatedAction[0].actionId"),
             "fhir-cardinality", "PlanDefinition.action[1].relatedAction[0].actionId"),
    Mutation("r4-bundle-no-type", "missing-required", "R4", R4_COLL, drop("type"), "fhir-cardinality",
             "Bundle.type"),
    # --- R4: broken references ---
    Mutation("r4-collection-sponsor-missing", "broken-reference", "R4", R4_COLL,
             put("entry[0].resource.sponsor.reference", "Organization/missing"), "fhir-reference-unresolved",
             f"{E0_RS}.sponsor.reference"),
    Mutation("r4-collection-site-fullurl", "broken-reference", "R4", R4_COLL,
             put("entry[3].fullUrl", "https://elsewhere.example.org/fhir/Location/site-boston"),
             "fhir-reference-unresolved", f"{E0_RS}.site[0].reference"),
    Mutation("r4-collection-sponsor-wrong-type", "broken-reference", "R4", R4_COLL,
             put("entry[0].resource.sponsor.reference", "Location/site-boston"), "fhir-reference-target",
             f"{E0_RS}.sponsor.reference"),
    Mutation("r4-transaction-urn-missing", "broken-reference", "R4", R4_TRANS,
             put("entry[0].resource.principalInvestigator.reference", "urn:uuid:0b8a5e0a-4f3e-5c7e-9d3a-000000000000"),
             "fhir-reference-unresolved", f"{E0_RS}.principalInvestigator.reference"),
    Mutation("r4-transaction-conditional-missing", "broken-reference", "R4", R4_TRANS,
             put("entry[0].resource.sponsor.reference", "Organization?identifier=https://trialbridge.example.org/sponsor|other"),
             "fhir-reference-unresolved", f"{E0_RS}.sponsor.reference"),
    Mutation("r4-transaction-urn-wrong-type", "broken-reference", "R4", R4_TRANS,
             put("entry[0].resource.enrollment[0].reference", "urn:uuid:0b8a5e0a-4f3e-5c7e-9d3a-1a2b3c4d5e04"),
             "fhir-reference-target", f"{E0_RS}.enrollment[0].reference"),
    Mutation("r4-collection-conditional", "broken-reference", "R4", R4_COLL,
             put("entry[0].resource.sponsor.reference", "Organization?identifier=https://trialbridge.example.org/sponsor|example-pharma"),
             "fhir-reference-unresolved", f"{E0_RS}.sponsor.reference"),
    Mutation("r4-contained-missing", "broken-reference", "R4", R4_RS, put("sponsor.reference", "#org1"),
             "fhir-invariant", "ResearchStudy.sponsor"),
    # --- R4: bad dates ---
    Mutation("r4-start-month-13", "bad-date", "R4", R4_RS, put("period.start", "2020-13-45"), "fhir-format",
             "ResearchStudy.period.start"),
    Mutation("r4-end-feb-30", "bad-date", "R4", R4_RS, put("period.end", "2021-02-30"), "fhir-format",
             "ResearchStudy.period.end"),
    Mutation("r4-slashes", "bad-date", "R4", R4_PRACT, put("birthDate", "1970/01/01"), "fhir-format",
             "Practitioner.birthDate"),
    Mutation("r4-instant-without-time", "bad-date", "R4", R4_RS, put("meta", {"lastUpdated": "2020-01-01"}),
             "fhir-format", "ResearchStudy.meta.lastUpdated"),
    Mutation("r4-time-without-zone", "bad-date", "R4", R4_RS, put("period.start", "2021-03-01T10:00:00"),
             "fhir-format", "ResearchStudy.period.start"),
    # --- R4: unknown elements ---
    Mutation("r4-r5-recruitment", "unknown-element", "R4", R4_RS, put("recruitment", {"targetNumber": 60}),
             "fhir-unknown-element", "ResearchStudy.recruitment"),
    Mutation("r4-arm-linkid", "unknown-element", "R4", R4_RS, put("arm[0].linkId", "dl1"), "fhir-unknown-element",
             "ResearchStudy.arm[0].linkId"),
    Mutation("r4-typo", "unknown-element", "R4", R4_RS, put("tittle", "A typo"), "fhir-unknown-element",
             "ResearchStudy.tittle"),
    Mutation("r4-group-membership", "unknown-element", "R4", R4_GROUP, put("membership", "definitional"),
             "fhir-unknown-element", "Group.membership"),
    Mutation("r4-entry-unknown", "unknown-element", "R4", R4_COLL, put("entry[1].resource.colour", "blue"),
             "fhir-unknown-element", "Bundle.entry[1].resource.ofType(Organization).colour"),
    Mutation("r4-primitive-companion-unknown", "unknown-element", "R4", R4_RS,
             put("_status", {"extension": [{"url": "http://example.org/x", "valueString": "y"}], "colour": "blue"}),
             "fhir-unknown-element", "ResearchStudy.status.colour"),
    # --- R4: invariants ---
    Mutation("r4-per-1", "invariant", "R4", R4_RS, put("period", {"start": "2024-01-01", "end": "2023-06-30"}),
             "fhir-invariant", "ResearchStudy.period"),
    Mutation("r4-grp-1", "invariant", "R4", R4_GROUP,
             put("member", [{"entity": {"reference": "Patient/p1"}}]), "fhir-invariant", "Group"),
    Mutation("r4-ext-1", "invariant", "R4", R4_RS,
             put("extension[0].extension", [{"url": "part", "valueString": "x"}]), "fhir-invariant",
             "ResearchStudy.extension[0]"),
    Mutation("r4-ele-1", "invariant", "R4", R4_RS, put("period", {}), "fhir-invariant", "ResearchStudy.period"),
    Mutation("r4-org-1", "invariant", "R4", R4_ORG, both(drop("name"), drop("identifier")), "fhir-invariant",
             "Organization"),
    Mutation("r4-txt-1", "invariant", "R4", R4_RS, put("text.div", SCRIPT_DIV), "fhir-invariant",
             "ResearchStudy.text.div"),
    Mutation("r4-txt-2", "invariant", "R4", R4_RS,
             put("text.div", '<div xmlns="http://www.w3.org/1999/xhtml"> </div>'), "fhir-invariant",
             "ResearchStudy.text.div"),
    Mutation("r4-dom-3", "invariant", "R4", R4_RS, put("contained", [CONTAINED_ORG]), "fhir-invariant",
             "ResearchStudy"),
    Mutation("r4-dom-2", "invariant", "R4", R4_RS,
             both(put("contained", [{**CONTAINED_ORG, "contained": [dict(CONTAINED_ORG, id="org2")]}]),
                  put("sponsor.reference", "#org1")), "fhir-invariant", "ResearchStudy"),
    Mutation("r4-rng-2", "invariant", "R4", R4_GROUP, put("characteristic[0].valueRange.low.value", 90),
             "fhir-invariant", "Group.characteristic[0].value.ofType(Range)"),
    Mutation("r4-pdf-0", "invariant", "R4", R4_PD, put("name", "lower case name"), "fhir-invariant",
             "PlanDefinition"),
    Mutation("r4-cpt-2", "invariant", "R4", R4_RS, drop("contact[0].telecom[0].system"), "fhir-invariant",
             "ResearchStudy.contact[0].telecom[0]"),
    Mutation("r4-bdl-2", "invariant", "R4", R4_COLL, put("entry[1].search", {"mode": "match"}), "fhir-invariant",
             "Bundle"),
    # --- R4: JSON shape and primitive types ---
    Mutation("r4-boolean-as-string", "json-shape", "R4", R4_GROUP, put("actual", "false"), "fhir-format",
             "Group.actual"),
    Mutation("r4-array-as-object", "json-shape", "R4", R4_RS,
             put("identifier", {"system": "https://clinicaltrials.gov", "value": "NCT01234567"}), "fhir-json-shape",
             "ResearchStudy.identifier"),
    Mutation("r4-two-choice-types", "json-shape", "R4", R4_GROUP, put("characteristic[0].valueBoolean", True),
             "fhir-cardinality", "Group.characteristic[0].value"),
    Mutation("r4-empty-array", "json-shape", "R4", R4_RS, put("keyword", []), "fhir-json-shape",
             "ResearchStudy.keyword"),
    Mutation("r4-single-as-array", "json-shape", "R4", R4_RS, put("title", ["a", "b"]), "fhir-cardinality",
             "ResearchStudy.title"),
    Mutation("r4-empty-string", "json-shape", "R4", R4_RS, put("title", ""), "fhir-format", "ResearchStudy.title"),
    Mutation("r4-bad-id", "json-shape", "R4", R4_RS, put("id", "nct 01234567"), "fhir-format", "ResearchStudy.id"),
    Mutation("r4-unknown-resource", "json-shape", "R4", R4_COLL, put("entry[1].resource.resourceType", "Sponsor"),
             "fhir-resource-type-unknown", "Bundle.entry[1].resource.resourceType"),
    # --- R5: wrong codes ---
    Mutation("r5-status-recruiting", "wrong-code", "R5", R5_RS, put("status", "recruiting"), "fhir-binding",
             "ResearchStudy.status"),
    Mutation("r5-group-type-medication", "wrong-code", "R5", R5_GROUP, put("type", "medication"), "fhir-binding",
             "Group.type"),
    Mutation("r5-group-membership", "wrong-code", "R5", R5_GROUP, put("membership", "actual"), "fhir-binding",
             "Group.membership"),
    Mutation("r5-evidence-status", "wrong-code", "R5", R5_EV, put("status", "final"), "fhir-binding",
             "EvidenceVariable.status"),
    Mutation("r5-ctgov-status", "wrong-code", "R5", R5_CTGOV, put("status", "completed"), "fhir-binding",
             "ResearchStudy.status"),
    # --- R5: missing required ---
    Mutation("r5-party-no-role", "missing-required", "R5", R5_RS, drop("associatedParty[0].role"),
             "fhir-cardinality", "ResearchStudy.associatedParty[0].role"),
    Mutation("r5-comparison-no-name", "missing-required", "R5", R5_RS, drop("comparisonGroup[0].name"),
             "fhir-cardinality", "ResearchStudy.comparisonGroup[0].name"),
    Mutation("r5-progress-no-state", "missing-required", "R5", R5_RS, drop("progressStatus[0].state"),
             "fhir-cardinality", "ResearchStudy.progressStatus[0].state"),
    Mutation("r5-group-no-membership", "missing-required", "R5", R5_GROUP, drop("membership"), "fhir-cardinality",
             "Group.membership"),
    Mutation("r5-related-action-no-target", "missing-required", "R5", R5_PD,
             drop("action[1].relatedAction[0].targetId"), "fhir-cardinality",
             "PlanDefinition.action[1].relatedAction[0].targetId"),
    # --- R5: broken references ---
    Mutation("r5-collection-party-missing", "broken-reference", "R5", R5_COLL,
             put("entry[0].resource.associatedParty[0].party.reference", "Organization/other"),
             "fhir-reference-unresolved", f"{E0_RS}.associatedParty[0].party.reference"),
    Mutation("r5-transaction-ifnoneexist-missing", "broken-reference", "R5", R5_TRANS,
             both(put("entry[3].request.ifNoneExist", "identifier=https://trialbridge.example.org/site|other"),
                  put("entry[3].resource.identifier[0].value", "other")),
             "fhir-reference-unresolved", f"{E0_RS}.site[0].reference"),
    Mutation("r5-transaction-eligibility-wrong-type", "broken-reference", "R5", R5_TRANS,
             put("entry[0].resource.recruitment.eligibility.reference", f"{URN}03"),
             "fhir-reference-target", f"{E0_RS}.recruitment.eligibility.reference"),
    # --- R5: bad dates ---
    Mutation("r5-feb-29", "bad-date", "R5", R5_RS, put("period.start", "2023-02-29"), "fhir-format",
             "ResearchStudy.period.start"),
    Mutation("r5-date-unpadded", "bad-date", "R5", R5_RS, put("date", "2024-5-1"), "fhir-format",
             "ResearchStudy.date"),
    # --- R5: unknown elements ---
    Mutation("r5-r4-enrollment", "unknown-element", "R5", R5_RS, put("enrollment", [{"reference": "Group/g"}]),
             "fhir-unknown-element", "ResearchStudy.enrollment"),
    Mutation("r5-r4-sponsor", "unknown-element", "R5", R5_RS, put("sponsor", {"reference": "Organization/o"}),
             "fhir-unknown-element", "ResearchStudy.sponsor"),
    Mutation("r5-r4-actual", "unknown-element", "R5", R5_GROUP, put("actual", False), "fhir-unknown-element",
             "Group.actual"),
    Mutation("r5-artifact-url", "unknown-element", "R5", R5_RS, put("relatedArtifact[0].url", "https://x.org"),
             "fhir-unknown-element", "ResearchStudy.relatedArtifact[0].url"),
    # --- R5: invariants ---
    Mutation("r5-per-1", "invariant", "R5", R5_RS, put("period.end", "2020-12"), "fhir-invariant",
             "ResearchStudy.period"),
    Mutation("r5-evv-1", "invariant", "R5", R5_EV,
             put("characteristic[1].definitionReference", {"reference": "Group/g"}), "fhir-invariant",
             "EvidenceVariable.characteristic[1]"),
    Mutation("r5-ref-2", "invariant", "R5", R5_RS, put("protocol[0]", {"type": "PlanDefinition"}), "fhir-invariant",
             "ResearchStudy.protocol[0]"),
    Mutation("r5-cnl-0", "invariant", "R5", R5_EV, put("name", "not a name"), "fhir-invariant", "EvidenceVariable"),
    Mutation("r5-pld-4", "invariant", "R5", R5_PD, put("action[1].relatedAction[0].targetId", "nowhere"),
             "fhir-invariant", "PlanDefinition"),
    Mutation("r5-ident-1", "invariant", "R5", R5_RS, drop("identifier[0].value"), "fhir-invariant",
             "ResearchStudy.identifier[0]"),
    Mutation("r5-cod-1", "invariant", "R5", R5_RS,
             put("phase.coding[0]", {"system": "http://hl7.org/fhir/research-study-phase", "display": "Phase 1"}),
             "fhir-invariant", "ResearchStudy.phase.coding[0]"),
    Mutation("r5-rng-2", "invariant", "R5", R5_EV,
             put("characteristic[0].definitionByTypeAndValue.valueRange.high.value", 12), "fhir-invariant",
             "EvidenceVariable.characteristic[0].definitionByTypeAndValue.value.ofType(Range)"),
    Mutation("r5-bdl-3a", "invariant", "R5", R5_COLL,
             put("entry[1].request", {"method": "PUT", "url": "Organization/x"}), "fhir-invariant", "Bundle"),
    Mutation("r5-dom-3-ctgov", "invariant", "R5", R5_CTGOV, put("contained[0].id", "nobody-refers-to-me"),
             "fhir-invariant", "ResearchStudy"),
    # --- R5: JSON shape ---
    Mutation("r5-integer-as-string", "json-shape", "R5", R5_RS, put("recruitment.targetNumber", "60"), "fhir-format",
             "ResearchStudy.recruitment.targetNumber"),
    Mutation("r5-negative-unsigned", "json-shape", "R5", R5_RS, put("recruitment.targetNumber", -1), "fhir-format",
             "ResearchStudy.recruitment.targetNumber"),
    Mutation("r5-null-value", "json-shape", "R5", R5_RS, put("title", None), "fhir-json-shape",
             "ResearchStudy.title"),
)
