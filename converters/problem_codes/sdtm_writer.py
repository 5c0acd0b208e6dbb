"""Problems the SDTM Trial Design writer (TS, TA, TE, TV, TI) reports about what it wrote and could not write."""

from converters.problems import ProblemKind, Severity

_MAPPING = "docs/sdtm-mapping.md"

SDTM_OPTION_INVALID = ProblemKind(
    "sdtm-write-option-invalid", Severity.FATAL, "Invalid SDTM writer option",
    "Option {option}={value!r} is not valid: {reason}. Nothing was written for SDTM.",
    "The SDTM options are sdtm_layout (per-study or concatenated), sdtm_formats (a comma list of csv, json, "
    "xpt, define) and sdtm_creation_datetime (an ISO 8601 date-time without time zone).",
    _MAPPING,
)
SDTM_STUDY_ID_DERIVED = ProblemKind(
    "sdtm-write-study-id-derived", Severity.WARNING, "STUDYID made from the source file",
    "The source states no registry id and no sponsor study id; STUDYID {study_id} is made from the source "
    "file's SHA-256.",
    "STUDYID is required in every Trial Design record and cannot be null-flavoured. When the record names "
    "neither a registry id nor the sponsor's study id, the writer uses a stable id made from the source file's "
    "digest (the prefix in mappings/sdtm/settings.yaml and 12 hex digits): the same input always gets the same "
    "id, but it is not the study's. Replace it with the sponsor's study id before a submission.",
    _MAPPING,
)
SDTM_ENROLLMENT_TYPE_ASSUMED = ProblemKind(
    "sdtm-write-enrollment-type-assumed", Severity.INFO, "Enrolment count read as planned by default",
    "The source states an enrolment count of {count} without saying whether it is planned or actual, and "
    "{why}; written as {parameter}, the documented default.",
    "PLANSUB holds the planned and ACTSUB the actual number of subjects. A count of unstated type is placed by "
    "the study's status (mappings/common/enrollment.yaml, shared with the FHIR writer); when no status decides, "
    "the table's default is used and reported.",
    _MAPPING,
)
SDTM_TS_NULL_FLAVORS = ProblemKind(
    "sdtm-write-ts-null-flavors", Severity.INFO, "TS parameters without a value",
    "{count} TS parameters that the SDTMIG or the FDA require have no value in the source and were written "
    "with a null flavour: {parameters}.",
    "A required Trial Summary parameter the registry record does not state is written with TSVAL empty and "
    "the ISO 21090 null flavour in TSVALNF (NI no information, NA not applicable, NAV not yet available, PINF "
    "unbounded, OTH outside the codelist, UNK unknown), never with an invented value. Fill them from the "
    "protocol before a submission.",
    _MAPPING,
)
SDTM_VALUE_UNMAPPED = ProblemKind(
    "sdtm-write-value-unmapped", Severity.WARNING, "Coded value with no CDISC mapping",
    "{parameter}: value {value!r} has no entry in value map {value_map} of mappings/sdtm/ct.yaml; written as "
    "null flavour OTH.",
    "A coded value of the canonical model that the SDTM value maps do not list. Nothing is guessed: the TS "
    "record says the value is outside the codelist (OTH). Add the value to the map if it is a valid registry "
    "value.",
    _MAPPING,
)
SDTM_COUNTRY_UNKNOWN = ProblemKind(
    "sdtm-write-country-unknown", Severity.WARNING, "Country without an ISO 3166 code",
    "Country {country!r} matches no ISO 3166-1 name in mappings/common/countries.yaml; it is left out of FCNTRY.",
    "FCNTRY holds ISO 3166-1 alpha-3 codes. A country name the table does not know is reported, not guessed.",
    _MAPPING,
)
SDTM_VALUE_UNREADABLE = ProblemKind(
    "sdtm-write-value-unreadable", Severity.WARNING, "Value not in the form TS needs",
    "{parameter}: {value!r} cannot be written as {form}; the parameter is left without this value.",
    "A TS parameter needs an ISO 8601 date or duration or a positive integer and the source value is not one "
    "(e.g. a target duration written as free text).",
    _MAPPING,
)
SDTM_TI_CATEGORY_UNKNOWN = ProblemKind(
    "sdtm-write-ti-category-unknown", Severity.WARNING, "Criteria neither inclusion nor exclusion",
    "{count} eligibility criteria stand under no inclusion or exclusion heading and are not in TI.",
    "IECAT is required and takes INCLUSION or EXCLUSION only. Criteria the source does not place in either "
    "section are left out of TI rather than guessed; they stay in the study's criteria text.",
    _MAPPING,
)
SDTM_TEXT_SHORTENED = ProblemKind(
    "sdtm-write-text-shortened", Severity.INFO, "Text over 200 characters shortened",
    "{domain}.{variable} for {key} is {length} characters; the first words are written, ending with "
    "{marker!r}, and the full text is in define.xml.",
    "SDTMIG v3.4 TI assumption 5: criterion text over 200 characters is not split; a meaningful shorter text "
    "goes in IETEST and the full text in the study metadata (define.xml value-level metadata of IETEST).",
    "SDTMIG v3.4 section 7.4.1, TI assumption 5; " + _MAPPING,
)
SDTM_DESIGN_INCOMPLETE = ProblemKind(
    "sdtm-write-design-incomplete", Severity.INFO, "Trial design only partly stated",
    "{what}",
    "TA, TE and TV are written only as far as the source states the schedule (steps, arms, visits); what "
    "could not be placed is reported here instead of being invented.",
    _MAPPING,
)
SDTM_CODE_ADJUSTED = ProblemKind(
    "sdtm-write-code-adjusted", Severity.WARNING, "Short code adjusted",
    "{variable} {original!r} is not a valid SDTM code ({reason}); written as {code!r}.",
    "ETCD must have at most 8 characters and ARMCD at most 20; a code from the schedule that breaks this is "
    "replaced by a derived one.",
    _MAPPING,
)
SDTM_DUPLICATE_STUDY = ProblemKind(
    "sdtm-write-duplicate-study", Severity.ERROR, "Two studies with the same STUDYID",
    "STUDYID {study_id} comes from {first} and again from {second}; only the first is in the concatenated "
    "tables.",
    "In the concatenated layout the tables are keyed by STUDYID, so one study id can appear only once.",
    _MAPPING,
)
SDTM_XPT_NOT_ASCII = ProblemKind(
    "sdtm-write-xpt-not-ascii", Severity.WARNING, "Non-ASCII text in an XPT file",
    "{dataset}.xpt holds non-ASCII characters (UTF-8) in {variables}.",
    "The FDA Study Data Technical Conformance Guide asks for ASCII text in SAS XPORT files. The values are "
    "written as UTF-8, unchanged (e.g. '≥'), rather than transliterated; the byte lengths respect the 200-byte "
    "limit.",
    _MAPPING,
)
SDTM_OUTPUT_INVALID = ProblemKind(
    "sdtm-write-output-invalid", Severity.ERROR, "Written file fails its schema",
    "{file} fails the {schema}: {reason}",
    "Every Dataset-JSON file is validated against the official Dataset-JSON 1.1 JSON Schema and every "
    "define.xml against the Define-XML 2.1 XSD. A failure is a bug in the writer; please report it.",
    _MAPPING,
)
SDTM_VALUE_TOO_LONG = ProblemKind(
    "sdtm-write-value-too-long", Severity.ERROR, "Value longer than SDTM allows",
    "{dataset}.{variable} has a value of {length} bytes, over the limit of {limit}.",
    "Character values are at most 200 bytes (SAS XPORT v5), and some variables are shorter (TSPARMCD 8, "
    "TSPARM 40, ETCD 8, IETESTCD 8, ARMCD 20). A longer value is a bug in the writer; please report it.",
    _MAPPING,
)
SDTM_RULES_UNAVAILABLE = ProblemKind(
    "sdtm-write-rules-unavailable", Severity.WARNING, "CDISC CORE rules not run",
    "The CDISC CORE rule runner could not be used on the written tables: {reason}.",
    "The SDTM writer runs the CORE rules on every set of tables it writes. When the runner cannot be loaded "
    "the tables are written but not checked against the rules.",
    _MAPPING,
)
SDTM_REQUIRED_VALUE_ABSENT = ProblemKind(
    "sdtm-write-required-value-absent", Severity.WARNING, "A value a rule requires is absent from the source",
    "{rule_id} fires on {record}: {parameter} is null-flavoured ({null_flavor}) because the source does not state "
    "it. {message}",
    "A CORE rule requires a value (e.g. CORE-000505 / FDA TRC1734c: the study start date in TS) that the source "
    "record does not give, so the TS record holds an SDTM null flavour instead of an invented value. The finding "
    "is kept and reported as a warning, as trialbridge does wherever a standard requires a value the source "
    "lacks: fill the value before submission. `convert` (on the tables it writes) and `validate` (on tables read "
    "back) report it alike, with the severity of mappings/sdtm/finding-severity.yaml.",
    _MAPPING,
)

KINDS = (
    SDTM_REQUIRED_VALUE_ABSENT, SDTM_OPTION_INVALID, SDTM_STUDY_ID_DERIVED,
    SDTM_TS_NULL_FLAVORS, SDTM_VALUE_UNMAPPED, SDTM_COUNTRY_UNKNOWN, SDTM_VALUE_UNREADABLE,
    SDTM_TI_CATEGORY_UNKNOWN, SDTM_TEXT_SHORTENED, SDTM_DESIGN_INCOMPLETE, SDTM_CODE_ADJUSTED,
    SDTM_DUPLICATE_STUDY, SDTM_XPT_NOT_ASCII, SDTM_OUTPUT_INVALID, SDTM_VALUE_TOO_LONG, SDTM_RULES_UNAVAILABLE,
    SDTM_ENROLLMENT_TYPE_ASSUMED,
)
