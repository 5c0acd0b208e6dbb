"""Problems the FHIR R4/R5 writers report about what they could not write exactly as the source says."""

from converters.problems import ProblemKind, Severity

_MAPPING = "docs/fhir-mapping.md"

STATUS_LOSSY = ProblemKind(
    "fhir-writer-status-lossy", Severity.INFO, "Registry status has no exact R4 code",
    "The registry status {status} has no exact FHIR R4 ResearchStudy.status code; written as {code}, with the "
    "exact status in the registry-status extension.",
    "R4's research-study-status list (11 codes) lacks several registry statuses (not yet recruiting, enrolling by "
    "invitation, terminated, the expanded-access statuses). The nearest code comes from mappings/fhir/"
    "value-maps.yaml and the registry's own status is always kept in the project's registry-status extension.",
    _MAPPING,
)
STATUS_ABSENT = ProblemKind(
    "fhir-writer-status-absent", Severity.WARNING, "No study status to write",
    "The source states no usable overall status ({detail}); FHIR R4 requires one, so ResearchStudy.status is "
    "written as absent (_status with data-absent-reason '{reason}') and the registry-status extension says it "
    "was not stated.",
    "ResearchStudy.status is 1..1 in R4 with a required binding and no 'unknown' code. No code is invented: FHIR's "
    "mechanism for a required primitive the source lacks is used instead, the element given only by the "
    "data-absent-reason extension (http://hl7.org/fhir/StructureDefinition/data-absent-reason). Some consumers "
    "only read `status` itself; check the study's real state before relying on it.",
    _MAPPING,
)
VALUE_UNMAPPED = ProblemKind(
    "fhir-writer-value-unmapped", Severity.WARNING, "Coded value with no FHIR mapping",
    "{field} value {value!r} has no entry in mappings/fhir/value-maps.yaml; written as text only.",
    "A coded value the canonical model holds but the FHIR value maps do not list. Nothing is guessed: the value "
    "is written as the CodeableConcept's text. Add it to the mapping file if it is a valid registry value.",
    _MAPPING,
)
CODE_SYSTEM_UNKNOWN = ProblemKind(
    "fhir-writer-code-system-unknown", Severity.WARNING, "Source code system not known",
    "The source gives code {code!r} in system {system!r}, which mappings/fhir/canonical.yaml does not name; "
    "the concept is written as text only.",
    "FHIR codings need a system URI. Codes whose system the source names only by a label the mapping does not "
    "know are written as text, never with an invented URI.",
    _MAPPING,
)
CRITERIA_UNSPECIFIED = ProblemKind(
    "fhir-writer-criteria-unspecified", Severity.INFO, "Criteria not marked inclusion or exclusion",
    "{count} eligibility criteria are not under an inclusion or exclusion heading; written with exclude=false and "
    "section 'unspecified' in the eligibility-criterion extension.",
    "Group.characteristic.exclude is required. Criteria the source does not place under inclusion or exclusion "
    "are written as inclusion characteristics and flagged, so a reader can tell them apart.",
    _MAPPING,
)
SCHEDULE_NOTE = ProblemKind(
    "fhir-writer-schedule-note", Severity.INFO, "Schedule text not placed",
    "Schedule: {note}.",
    "The schedule derivation (mappings/common/schedule.yaml) found text it could not place as a step or a "
    "time point; it is left out of the PlanDefinition rather than guessed.",
    _MAPPING,
)
NO_BUSINESS_IDENTIFIER = ProblemKind(
    "fhir-writer-no-registry-id", Severity.INFO, "Study has no registry identifier",
    "The study has no registry identifier; its conditional-update identifier is {system}|{value} ({basis}).",
    "Without a registry id, the bundle still needs a stable business identifier so that loading it twice creates "
    "no duplicate. It is derived from the lead sponsor and the sponsor's protocol id when both are given, else "
    "from the digest of the source file (see docs/fhir-mapping.md).",
    _MAPPING,
)
ENROLLMENT_TYPE_ASSUMED = ProblemKind(
    "fhir-writer-enrollment-type-assumed", Severity.INFO, "Enrolment count read as planned by default",
    "The source states an enrolment count of {count} without saying whether it is planned or actual, and "
    "{why}; written as the {reading} number (recruitment.{element}), the documented default.",
    "R5 recruitment has only targetNumber and actualNumber. A count of unstated type is placed by the study's "
    "status (mappings/common/enrollment.yaml, shared with the SDTM writer's PLANSUB/ACTSUB); when no status "
    "decides, the table's default is used and reported. The count itself is always kept.",
    _MAPPING,
)
VALIDATOR_UNAVAILABLE = ProblemKind(
    "fhir-writer-validator-unavailable", Severity.WARNING, "FHIR validator not available",
    "The FHIR {version} output was not validated: {reason}.",
    "Every FHIR output is validated by default (converters.targets.fhir.validator). When the validator cannot be "
    "loaded the output is still written, and this warning says it is unchecked.",
    _MAPPING,
)
BUNDLE_OPTION_INVALID = ProblemKind(
    "fhir-writer-bundle-option", Severity.ERROR, "Unknown bundle type",
    "Bundle type {value!r} is not supported; use 'collection' or 'transaction'. Wrote a collection bundle.",
    "The `bundle` writer option (`--bundle`) chooses between a collection bundle and a transaction bundle of "
    "conditional updates.",
    _MAPPING,
)

KINDS = (
    STATUS_LOSSY, STATUS_ABSENT, VALUE_UNMAPPED, CODE_SYSTEM_UNKNOWN, CRITERIA_UNSPECIFIED, SCHEDULE_NOTE,
    NO_BUSINESS_IDENTIFIER, VALIDATOR_UNAVAILABLE, BUNDLE_OPTION_INVALID, ENROLLMENT_TYPE_ASSUMED,
)
