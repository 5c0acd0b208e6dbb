"""Problems reading ClinicalTrials.gov records: API v2 JSON (every download form), legacy XML, classic API.

Severity policy (also in the docstrings of converters/readers/ctgov_v2/record.py and ctgov_xml.py):
- `fatal`: the whole file cannot be used (not JSON/XML at all, a damaged ZIP, a DTD, the retired classic API).
- `error`: one record is refused (it is not a study object, its JSON cannot be parsed, a ZIP member is
  unsafe or too large); the other records in the same file still convert.
- `warning`: the record is read, but a value in it could not be used (schema violation at that value, unknown
  enum wording, unreadable date); the value is listed in `Study.unmapped` with the reason.
- `info`: nothing was lost (a field the spec does not define is listed as unmapped; a non-record ZIP member).
"""

from converters.problems import ProblemKind, Severity

_OAS = "ClinicalTrials.gov REST API v2 OpenAPI spec 2.0.5 (schemas/ctgov/study.schema.json)"
_XSD = "ClinicalTrials.gov public.xsd 2019.02.14 (schemas/ctgov/public.xsd)"

# --- JSON syntax and shape ------------------------------------------------------------------------------

JSON_MALFORMED = ProblemKind(
    "ctgov-json-malformed", Severity.FATAL, "Malformed JSON",
    "Not valid JSON at line {line}, column {column}: {reason}.",
    "The file (or, for NDJSON and arrays, this record) is not well-formed JSON. In a multi-record file only "
    "the broken record is refused (severity error); a single-record file is unusable (fatal).",
)
JSON_TOO_DEEP = ProblemKind(
    "ctgov-json-too-deep", Severity.FATAL, "JSON nested too deeply",
    "The JSON is nested too deeply to read (over about {limit} levels); no study record is that deep.",
    "Python's JSON parser stops with a recursion error on very deep nesting; this is reported instead of a "
    "crash. Study records are about 10 levels deep, so such input is damaged or hostile.",
)
JSON_NUMBER_TOO_LONG = ProblemKind(
    "ctgov-json-number-too-long", Severity.FATAL, "Number too long",
    "The JSON holds a number too long to read ({reason}).",
    "Python refuses to convert integers of more than 4,300 digits (a guard against denial of service); no "
    "study field holds such a number.",
)
NOT_A_STUDY = ProblemKind(
    "ctgov-not-a-study", Severity.ERROR, "Not a study record",
    "{what} is not a ClinicalTrials.gov API v2 study (expected an object with `protocolSection`).",
    "A record in an API v2 file must be a study object. Other content (a number, a list, an object of some "
    "other API) is refused; the other records of the file still convert.",
)
NO_STUDIES = ProblemKind(
    "ctgov-no-studies", Severity.WARNING, "No studies",
    "The {form} holds no studies.",
    "An API page may legitimately hold an empty `studies` array (see the API's paging rules); nothing is "
    "converted.",
)
PAGE_FIELD = ProblemKind(
    "ctgov-page-field", Severity.INFO, "Paging information",
    "The API page has {field} = {value}; only the studies of this page are in the file.",
    "An API v2 page carries `nextPageToken` when more pages exist; this file is one page of a longer result.",
    _OAS,
)

# --- schema and values ----------------------------------------------------------------------------------

SCHEMA_INVALID = ProblemKind(
    "ctgov-schema-invalid", Severity.WARNING, "Record fails the API v2 schema",
    "The record does not conform to the API v2 schema at {path}: {reason}. That value is not used.",
    "Each record is validated against the JSON Schema derived from the official OpenAPI spec before it is "
    "read. A failing value is left out (listed as unmapped with this reason); the rest of the record is read. "
    "A record whose root or protocolSection fails is refused instead (ctgov-schema-refused).",
    _OAS,
)
SCHEMA_REFUSED = ProblemKind(
    "ctgov-schema-refused", Severity.ERROR, "Record refused by the API v2 schema",
    "The record cannot be read: at {path}: {reason}.",
    "The record's root, its protocolSection or its identificationModule fails the schema, so nothing in it "
    "can be trusted to mean what the spec says; it is refused. Other records of the file still convert.",
    _OAS,
)
UNKNOWN_VALUE = ProblemKind(
    "ctgov-unknown-value", Severity.WARNING, "Unknown coded value",
    "{value!r} at {path} is not a known {vocabulary} value; it is not guessed.",
    "The value is not in the vocabulary (mappings/common/vocabulary.yaml). It stays in the study's unmapped "
    "list (for the overall status, in `status.overall_text`). Add the wording to the vocabulary if it is "
    "genuine.",
)
BAD_VALUE = ProblemKind(
    "ctgov-bad-value", Severity.WARNING, "Unreadable value",
    "The value at {path} could not be used: {reason}.",
    "A date, age, number or yes/no value does not have the form its field needs. It stays in the study's "
    "unmapped list with this reason; nothing is guessed.",
)
DROPPED_OBJECT = ProblemKind(
    "ctgov-incomplete-object", Severity.WARNING, "Incomplete entry",
    "The entry at {path} has no {missing}, which {target} needs; it is listed as unmapped.",
    "The canonical model needs some fields (an arm needs its label, an official a name). An entry without "
    "them is not created; its values stay in the unmapped list.",
)
UNKNOWN_FIELD = ProblemKind(
    "ctgov-unknown-field", Severity.INFO, "Field not in the spec",
    "{path} is not defined by the API v2 spec; it is listed as unmapped.",
    "The record holds a field the OpenAPI spec does not define (the spec allows extra fields). Some "
    "downloads add their own, e.g. `locations_nested`. It is kept in the unmapped list, not interpreted.",
    _OAS,
)
NO_NCT_ID = ProblemKind(
    "ctgov-no-nct-id", Severity.WARNING, "No NCT id",
    "The record has no identificationModule.nctId; it is named by its place in the file.",
    "Every published record has an NCT id; one without is read, but no other NCT id (references, related "
    "studies) is ever used in its place.",
)
RECORD_INVALID = ProblemKind(
    "ctgov-record-invalid", Severity.ERROR, "Record could not be modelled",
    "The record could not be turned into a study: {reason}. This is a bug; please report it.",
    "The values read from the record do not fit the canonical model although each passed its own checks.",
)

# --- wrong version --------------------------------------------------------------------------------------

V1_RETIRED = ProblemKind(
    "ctgov-v1-retired", Severity.FATAL, "Retired classic API",
    "This is a {shape} from the retired ClinicalTrials.gov classic API ({detail}); it is not read. Download "
    "the studies again from API v2 (https://clinicaltrials.gov/api/v2/studies{hint}).",
    "The classic API (v1, `FullStudiesResponse` / `StudyFieldsResponse`, PascalCase fields, text dates) was "
    "retired in June 2024. Its records differ from API v2 in field names and value forms, so they are "
    "recognised and refused rather than half-read.",
    "NLM Technical Bulletin 2024 Mar-Apr (457):e2, ClinicalTrials.gov API Version 2.0 Now Available",
)

# --- ZIP archives ---------------------------------------------------------------------------------------

ZIP_DAMAGED = ProblemKind(
    "ctgov-zip-damaged", Severity.FATAL, "Damaged ZIP",
    "The ZIP archive cannot be read: {reason}.",
    "The archive has no readable central directory (truncated download, or not a ZIP). Nothing in it is "
    "read.",
)
ZIP_MEMBER_DAMAGED = ProblemKind(
    "ctgov-zip-member-damaged", Severity.ERROR, "Damaged ZIP member",
    "The ZIP member could not be read: {reason}.",
    "A member's data is damaged (bad CRC, truncated data, unsupported compression or encryption). It is "
    "skipped; the other members are read.",
)
ZIP_BOMB = ProblemKind(
    "ctgov-zip-too-large", Severity.ERROR, "ZIP member expands too far",
    "The ZIP member was not read: {reason}.",
    "Members are expanded in memory, one at a time, and never written to disk. A member is refused when its "
    "declared or actual size passes the per-file limit, its compression ratio passes {ratio}:1, or the "
    "archive's total expanded size passes the limit (--max-bytes / max_expanded_bytes). This stops 'ZIP "
    "bombs'.",
)
ZIP_UNSAFE_PATH = ProblemKind(
    "ctgov-zip-unsafe-path", Severity.ERROR, "Unsafe ZIP member name",
    "The ZIP member name {name!r} {reason}; the member is not read.",
    "Member names that are absolute or climb out of the archive (`../../x`) are a path-traversal attack on "
    "tools that extract to disk. trialbridge never extracts to disk, but such an archive is not a genuine "
    "download, so the member is refused and reported.",
)
ZIP_MEMBER_SKIPPED = ProblemKind(
    "ctgov-zip-member-skipped", Severity.INFO, "ZIP member skipped",
    "The ZIP member is not a study record ({reason}); it is skipped.",
    "Bulk downloads hold one JSON (or XML) file per study; other members (folders, read-me files, nested "
    "archives) are skipped.",
)

# --- legacy XML -----------------------------------------------------------------------------------------

XML_MALFORMED = ProblemKind(
    "ctgov-xml-malformed", Severity.FATAL, "Malformed XML",
    "Not well-formed XML at line {line}: {reason}.",
    "The document is not well-formed XML, so it cannot be read.",
)
XML_DTD = ProblemKind(
    "ctgov-xml-dtd", Severity.FATAL, "XML with a DTD refused",
    "The XML declares a document type (DTD{entities}); it is refused.",
    "ClinicalTrials.gov XML never has a DTD (it uses public.xsd). A DTD is how XML entity attacks work "
    "(external entities reading local files or the network, 'billion laughs' expansion), so any document "
    "with one is refused before its content is used. Entities are never resolved and nothing is fetched.",
)
XML_NOT_STUDY = ProblemKind(
    "ctgov-xml-not-study", Severity.FATAL, "Not a clinical_study",
    "The XML root element is <{root}>, not <clinical_study>.",
    "The legacy ClinicalTrials.gov XML has one <clinical_study> per document.",
    _XSD,
)
XML_SCHEMA_INVALID = ProblemKind(
    "ctgov-xml-schema-invalid", Severity.WARNING, "Record fails public.xsd",
    "The record does not conform to public.xsd at line {line}: {reason}.",
    "Records downloaded before 2017-2018 use elements the 2019 schema removed (e.g. `authority`, "
    "`study_design`, `lastchanged_date`); they are still read, and elements without a rule are listed as "
    "unmapped.",
    _XSD,
)
TOO_MANY_RECORDS = ProblemKind(
    "ctgov-too-many-records", Severity.WARNING, "Record limit reached",
    "Reading stopped after {limit} records (the configured limit); the rest of the file was not read.",
    "A limit on the number of records per file was set (max_records).",
)

KINDS = (
    JSON_MALFORMED, JSON_TOO_DEEP, JSON_NUMBER_TOO_LONG, NOT_A_STUDY, NO_STUDIES, PAGE_FIELD,
    SCHEMA_INVALID, SCHEMA_REFUSED, UNKNOWN_VALUE, BAD_VALUE, DROPPED_OBJECT, UNKNOWN_FIELD, NO_NCT_ID,
    RECORD_INVALID, V1_RETIRED, ZIP_DAMAGED, ZIP_MEMBER_DAMAGED, ZIP_BOMB, ZIP_UNSAFE_PATH, ZIP_MEMBER_SKIPPED,
    XML_MALFORMED, XML_DTD, XML_NOT_STUDY, XML_SCHEMA_INVALID, TOO_MANY_RECORDS,
)
