"""Problems found by the FHIR validator (`converters.targets.fhir.validator`), for R4 4.0.1 and R5 5.0.0.

Every problem carries the FHIRPath of the element in `Location.path` (for example
`Bundle.entry[3].resource.ofType(ResearchStudy).status`) and, where known, the resource it is in as
`Location.record` (`ResearchStudy/example`). The rules come from the official core packages, compiled into
`converters/targets/fhir/validator/defs/` (see the README there).
"""

from converters.problems import ProblemKind, Severity

_SPEC = "https://hl7.org/fhir/R4/"

FHIR_JSON_INVALID = ProblemKind(
    "fhir-json-invalid", Severity.FATAL, "Not JSON",
    "The file is not valid JSON: {reason}.",
    "A FHIR JSON file must parse as JSON before anything else can be checked.",
    f"{_SPEC}json.html",
)
FHIR_NOT_A_RESOURCE = ProblemKind(
    "fhir-not-a-resource", Severity.FATAL, "Not a FHIR resource",
    "The JSON {what} is not a FHIR resource: {reason}.",
    "A FHIR JSON document is an object whose `resourceType` names the resource type.",
    f"{_SPEC}json.html#resources",
)
FHIR_VERSION_UNKNOWN = ProblemKind(
    "fhir-version-unknown", Severity.FATAL, "Unknown FHIR version",
    "FHIR version '{version}' is not supported; use R4 (4.0.1) or R5 (5.0.0).",
    "The validator carries the official definitions of FHIR R4 4.0.1 and R5 5.0.0 only.",
)
FHIR_VERSION_GUESSED = ProblemKind(
    "fhir-version-guessed", Severity.INFO, "FHIR version not stated",
    "The file does not show which FHIR version it uses; it was validated as {version} ({why}).",
    "FHIR JSON does not carry its version. The validator looks for elements and resource types that exist "
    "in only one of R4 and R5; when none is found it validates against both and keeps the version with "
    "fewer problems (R4 on a tie). Pass the version explicitly to avoid the guess.",
)
FHIR_RESOURCE_TYPE_UNKNOWN = ProblemKind(
    "fhir-resource-type-unknown", Severity.ERROR, "Unknown resource type",
    "'{resource_type}' is not a resource type of FHIR {version}.",
    "The `resourceType` must name a concrete resource type defined by the FHIR version in use; its content "
    "is not checked further.",
    f"{_SPEC}resourcelist.html",
)
FHIR_UNKNOWN_ELEMENT = ProblemKind(
    "fhir-unknown-element", Severity.ERROR, "Unknown element",
    "'{name}' is not an element of {context} in FHIR {version}.",
    "Every JSON property must be an element defined for that place by the StructureDefinition (or `_name` "
    "for the id/extensions of a primitive). Unknown elements are often elements of the other FHIR version, "
    "or misspellings.",
    f"{_SPEC}json.html",
)
FHIR_CARDINALITY = ProblemKind(
    "fhir-cardinality", Severity.ERROR, "Cardinality",
    "{element} occurs {count} time(s), but FHIR {version} allows {min}..{max}.",
    "Minimum and maximum occurrences come from the official StructureDefinitions (neither official JSON "
    "schema enforces required elements). For a choice element `x[x]` the count is over all its types.",
    f"{_SPEC}conformance-rules.html#cardinality",
)
FHIR_JSON_SHAPE = ProblemKind(
    "fhir-json-shape", Severity.ERROR, "Wrong JSON shape",
    "{element}: {reason}.",
    "FHIR JSON has a fixed shape: repeating elements are arrays (never empty), single elements are not, "
    "complex elements are objects, `null` appears only inside the arrays of primitive values and their "
    "`_name` companions, and those two arrays have the same length.",
    f"{_SPEC}json.html",
)
FHIR_FORMAT = ProblemKind(
    "fhir-format", Severity.ERROR, "Bad primitive value",
    "{element} = {value} is not a valid {type}: {reason}.",
    "Primitive values must have the JSON type of their FHIR type (string, number, boolean) and match the "
    "regular expression of the type in the official StructureDefinitions; dates must also exist on the "
    "calendar and integers fit in 32 bits.",
    f"{_SPEC}datatypes.html#primitive",
)
FHIR_BINDING = ProblemKind(
    "fhir-binding", Severity.ERROR, "Code not in required value set",
    "{element} {value} is not in the required value set {value_set}.",
    "Elements with a required binding may only use codes of the bound value set, expanded here from the "
    "official ValueSets and CodeSystems of the package.",
    f"{_SPEC}terminologies.html#required",
)
FHIR_BINDING_SKIPPED = ProblemKind(
    "fhir-binding-skipped", Severity.INFO, "Required binding not checked",
    "{element}: the required value set {value_set} was not checked ({reason}).",
    "The value set draws on a terminology that is not in the core package (e.g. BCP-13 mime types, "
    "BCP-47 languages, ISO 4217 currencies, UCUM), so its codes cannot be listed offline. The binding is "
    "reported as not checked, never as passed.",
    f"{_SPEC}terminologies.html#required",
)
FHIR_INVARIANT = ProblemKind(
    "fhir-invariant", Severity.ERROR, "Invariant not met",
    "{element} breaks {key}: {human}",
    "The invariants (FHIRPath constraints) of the official StructureDefinitions, evaluated from pre-compiled "
    "expressions (a compiled fast path for the common FHIRPath subset, proven identical to fhirpathpy, which "
    "evaluates the rest). ele-1, ext-1, txt-1/txt-2, per-1, rng-2 and R5 ratrng-2, which fhirpathpy cannot "
    "evaluate as written, are checked in Python for their exact official expressions. The severity is the "
    "invariant's own (error or warning).",
    f"{_SPEC}conformance-rules.html#constraints",
)
FHIR_INVARIANT_SKIPPED = ProblemKind(
    "fhir-invariant-skipped", Severity.INFO, "Invariant not evaluated",
    "{element}: invariant {key} was not evaluated ({reason}).",
    "An invariant that the FHIRPath engine cannot evaluate is reported as skipped, never as passed; the "
    "list of such invariants is in converters/targets/fhir/validator/defs/README.md.",
    f"{_SPEC}conformance-rules.html#constraints",
)
FHIR_REFERENCE_UNRESOLVED = ProblemKind(
    "fhir-reference-unresolved", Severity.ERROR, "Reference not in the bundle",
    "{element} = '{reference}' does not resolve to an entry of the bundle{why}.",
    "In a bundle every literal reference (`Type/id`, an absolute URL, `urn:uuid:`, or, in a transaction or "
    "batch, a conditional reference `Type?query`) must point at an entry of the same bundle, following the "
    "resolution rules of bundle.html#references. Not checked in searchset, history and response bundles, "
    "whose references point at the server.",
    f"{_SPEC}bundle.html#references",
)
FHIR_REFERENCE_TARGET = ProblemKind(
    "fhir-reference-target", Severity.ERROR, "Reference to a resource type not allowed",
    "{element} refers to a {target}, but only {allowed} may be referenced here.",
    "The element's definition lists the resource types a reference may point at (`targetProfile`).",
    f"{_SPEC}references.html",
)

_OFFICIAL = ("Reported by the official HL7 validator engine (org.hl7.fhir.validation through HAPI FHIR's "
             "FhirInstanceValidator, validator/official/), run offline with the core definitions, in-memory "
             "terminology and the project's own package; a code system it cannot look up offline (LOINC, SNOMED) "
             "is a warning. `trialbridge validate --engine official`. The engine's own message id is in brackets.")
FHIR_OFFICIAL_ERROR = ProblemKind(
    "fhir-official-error", Severity.ERROR, "Official engine: error",
    "{message} [{message_id}]", _OFFICIAL, "https://confluence.hl7.org/display/FHIR/Using+the+FHIR+Validator",
)
FHIR_OFFICIAL_WARNING = ProblemKind(
    "fhir-official-warning", Severity.WARNING, "Official engine: warning",
    "{message} [{message_id}]", _OFFICIAL, "https://confluence.hl7.org/display/FHIR/Using+the+FHIR+Validator",
)
FHIR_OFFICIAL_INFO = ProblemKind(
    "fhir-official-info", Severity.INFO, "Official engine: information",
    "{message} [{message_id}]", _OFFICIAL, "https://confluence.hl7.org/display/FHIR/Using+the+FHIR+Validator",
)
FHIR_OFFICIAL_UNAVAILABLE = ProblemKind(
    "fhir-official-unavailable", Severity.FATAL, "Official engine not run",
    "The official validator engine could not check this file: {reason}.",
    "The engine needs Java 17 and the jar built by Maven from validator/official/pom.xml (built on first use; "
    "online the first time, from ~/.m2 after). The file was not checked, which is never reported as passed.",
)

KINDS = (
    FHIR_JSON_INVALID, FHIR_NOT_A_RESOURCE, FHIR_VERSION_UNKNOWN, FHIR_VERSION_GUESSED,
    FHIR_RESOURCE_TYPE_UNKNOWN, FHIR_UNKNOWN_ELEMENT, FHIR_CARDINALITY, FHIR_JSON_SHAPE, FHIR_FORMAT,
    FHIR_BINDING, FHIR_BINDING_SKIPPED, FHIR_INVARIANT, FHIR_INVARIANT_SKIPPED, FHIR_REFERENCE_UNRESOLVED,
    FHIR_REFERENCE_TARGET, FHIR_OFFICIAL_ERROR, FHIR_OFFICIAL_WARNING, FHIR_OFFICIAL_INFO,
    FHIR_OFFICIAL_UNAVAILABLE,
)
