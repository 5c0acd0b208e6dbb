"""Problems reading WHO ICTRP records: the search portal's XML export (both schemas), its CSV export, and the
registry-to-ICTRP exchange XML (`<trials><trial><main>`, who_ictrp.dtd).

Severity policy, as for ClinicalTrials.gov records (converters/problem_codes/ctgov.py):
- `fatal`: the whole file cannot be used (not well-formed, a DTD with declarations, not an ICTRP file at all);
- `error`: one record is refused (a CSV row of the wrong width); the other records still convert;
- `warning`: the record is read, but a value in it could not be used (unknown wording, unreadable date or age);
  the value stays in `Study.unmapped` with the reason;
- `info`: nothing was lost.
"""

from converters.problems import ProblemKind, Severity

_EXPORT = "WHO ICTRP search portal export (trialsearch.who.int); shared/data/README.md describes the files"
_DTD = "WHO ICTRP XML DTD 1.0 (23-4-2008, revised 1-5-2009), schemas/ictrp/who_ictrp.dtd"

XML_MALFORMED = ProblemKind(
    "ictrp-xml-malformed", Severity.FATAL, "Malformed XML",
    "Not well-formed XML at line {line}: {reason}.",
    "The document is not well-formed XML, so none of its trials can be read.",
)
XML_DTD = ProblemKind(
    "ictrp-xml-dtd", Severity.FATAL, "XML with DTD declarations refused",
    "The XML declares a document type with declarations of its own ({what}); it is refused.",
    "ICTRP files need no DTD to be read. Declarations inside a document are how XML entity attacks work "
    "(external entities, 'billion laughs'), so such a document is refused before its content is used. A "
    "DOCTYPE that only names who_ictrp.dtd is accepted; the DTD it names is never loaded from the document.",
)
NOT_EXPORT = ProblemKind(
    "ictrp-not-export", Severity.FATAL, "Not an ICTRP file",
    "The root element is <{root}>, not <{expected}>; this is not {what}.",
    "The reader was chosen (by --from, or because the content looked like ICTRP), but the document's root is "
    "another element.",
)
NOT_A_TRIAL = ProblemKind(
    "ictrp-not-a-trial", Severity.WARNING, "Element that is not a trial",
    "<{tag}> at line {line} under <{root}> is not a trial; it was not read.",
    "An ICTRP file holds trials under its root. Anything else there is not read, and this says so, so that no "
    "source content is dropped without a word.",
)
NO_TRIALS = ProblemKind(
    "ictrp-no-trials", Severity.WARNING, "No trials",
    "The {what} holds no trials.",
    "The file is an ICTRP file but lists no trial; nothing is converted.",
)
NO_TRIAL_ID = ProblemKind(
    "ictrp-no-trial-id", Severity.WARNING, "No TrialID",
    "The trial has no TrialID at {path}; the study has no registry identifier.",
    "Every ICTRP record should carry the id its primary registry gave it. The study is still converted, but "
    "outputs that need an identity (FHIR conditional updates, SDTM STUDYID) cannot be keyed on it.",
    _EXPORT,
)
TRIAL_ID_UNKNOWN_REGISTRY = ProblemKind(
    "ictrp-trial-id-unknown-registry", Severity.WARNING, "TrialID of no known registry",
    "The TrialID {value!r} matches no registry's id format; it is kept with no identifier system.",
    "Each registry's id format is listed in mappings/common/identifiers.yaml (with how ICTRP writes it). An id "
    "matching none is never put under another registry's system; add the registry there if it is genuine.",
)
UNKNOWN_VALUE = ProblemKind(
    "ictrp-unknown-value", Severity.WARNING, "Unknown coded value",
    "{value!r} at {path} is not a known {vocabulary} value; it is not guessed.",
    "The registry's wording is not in the vocabulary (mappings/common/vocabulary.yaml). It stays in the study's "
    "unmapped list (for the recruitment status, in `status.overall_text`). ICTRP's own 'Not recruiting' says "
    "less than any ClinicalTrials.gov status, so it is always kept this way.",
)
BAD_VALUE = ProblemKind(
    "ictrp-bad-value", Severity.WARNING, "Unreadable value",
    "The value at {path} could not be used: {reason}.",
    "A date, age, number or list does not have a form the exports use. It stays in the study's unmapped list "
    "with this reason; nothing is guessed.",
)
DROPPED_OBJECT = ProblemKind(
    "ictrp-incomplete-object", Severity.WARNING, "Incomplete entry",
    "The entry at {path} has no {missing}, which {target} needs; it is listed as unmapped.",
    "The canonical model needs some fields (an outcome needs its measure). An entry without them is not "
    "created; its values stay in the unmapped list.",
)
RECORD_INVALID = ProblemKind(
    "ictrp-record-invalid", Severity.ERROR, "Record could not be modelled",
    "The trial could not be turned into a study: {reason}. This is a bug; please report it.",
    "The values read from the record do not fit the canonical model although each passed its own checks.",
)
DTD_INVALID = ProblemKind(
    "ictrp-dtd-invalid", Severity.WARNING, "Trial does not follow who_ictrp.dtd",
    "The trial does not follow who_ictrp.dtd at line {line}: {reason}.",
    "Registries send what they hold, and older files use other element names; the trial is still read, and "
    "elements without a rule are listed as unmapped.",
    _DTD,
)
CSV_MALFORMED = ProblemKind(
    "ictrp-csv-malformed", Severity.FATAL, "Malformed CSV",
    "The CSV cannot be read at line {line}: {reason}.",
    "The file is not CSV as the ICTRP export writes it (comma-separated, double quotes around fields).",
)
CSV_NO_TRIAL_ID_COLUMN = ProblemKind(
    "ictrp-csv-no-trialid-column", Severity.FATAL, "No TrialID column",
    "The CSV header has no TrialID column; this is not an ICTRP export.",
    "Every ICTRP CSV export starts with the TrialID column; without it no row can be identified.",
)
CSV_ROW_WIDTH = ProblemKind(
    "ictrp-csv-row-width", Severity.ERROR, "Row of the wrong width",
    "Row {row} (line {line}) has {found} fields where the header has {expected}; the row is refused.",
    "A row with more or fewer fields than the header cannot be matched to its columns without guessing. The "
    "other rows still convert.",
)

KINDS = (
    XML_MALFORMED, XML_DTD, NOT_EXPORT, NOT_A_TRIAL, NO_TRIALS, NO_TRIAL_ID, TRIAL_ID_UNKNOWN_REGISTRY, UNKNOWN_VALUE,
    BAD_VALUE, DROPPED_OBJECT, RECORD_INVALID, DTD_INVALID, CSV_MALFORMED, CSV_NO_TRIAL_ID_COLUMN, CSV_ROW_WIDTH,
)
