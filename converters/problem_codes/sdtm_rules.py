"""Problems from checking SDTM Trial Design tables (TS, TA, TE, TV, TI) with the CDISC CORE rules.

The rule runner (`converters.targets.sdtm.core_rules`) executes the published CORE rule files as they are; each finding
of a rule becomes one `sdtm-core-rule` problem that names the rule. A rule that cannot run is reported as
skipped (never as passed), so that a clean report is never mistaken for a full check.
"""

from converters.problems import ProblemKind, Severity

CORE_RULE_DOC = "docs/cdisc-core-rules.md"

SDTM_CORE_RULE = ProblemKind(
    "sdtm-core-rule", Severity.ERROR, "CDISC CORE rule failed",
    "{rule_id}{references}: {message} ({values})",
    "A published CDISC CORE rule for the configured SDTMIG version found this record (or, for a rule about "
    "the whole dataset, this dataset) in breach. The message is the rule's own; the values are those of the "
    "rule's output variables in the record. The rule files are CDISC's open rules, run as they are.",
    "CDISC CORE rules, https://github.com/cdisc-org/cdisc-open-rules; " + CORE_RULE_DOC,
)
SDTM_CORE_RULE_SKIPPED = ProblemKind(
    "sdtm-core-rule-skipped", Severity.INFO, "CDISC CORE rule not run",
    "{rule_id}{references} was not run: {reason}.",
    "A published rule for the configured standard applies to these tables but could not be run: a variable "
    "or dataset it reads is absent, or it needs CDISC Library metadata, controlled terminology or a "
    "define.xml that trialbridge does not have. It is not counted as passed.",
    CORE_RULE_DOC,
)
SDTM_CORE_RULE_ERROR = ProblemKind(
    "sdtm-core-rule-error", Severity.WARNING, "CDISC CORE rule could not be evaluated",
    "{rule_id} could not be evaluated on {dataset}: {reason}. This is a bug in trialbridge or in the rule "
    "file; please report it.",
    "The rule runner met something it could not evaluate (for example an invalid regular expression in the "
    "rule). The rule is reported as not run, never as passed.",
    CORE_RULE_DOC,
)
SDTM_CORE_RULES_SUMMARY = ProblemKind(
    "sdtm-core-rules-summary", Severity.INFO, "CDISC CORE rules summary",
    "CDISC CORE rules for {standard}: {ran} ran ({passed} passed, {failed} failed), {skipped} could not run, "
    "{errors} errors; {not_selected} of the {total} rules in the rule file do not apply ({why}).",
    "One line per validated set of tables saying how many rules ran, so that a short report is not mistaken "
    "for a complete one.",
    CORE_RULE_DOC,
)
SDTM_TDM_FOLDER_EMPTY = ProblemKind(
    "sdtm-tdm-folder-empty", Severity.FATAL, "No Trial Design tables",
    "No SDTM Trial Design table (ts, ta, te, tv or ti as .csv, .json, .ndjson or .xpt) was found here.",
    "`trialbridge validate` on a folder looks for files named after the five Trial Design domains.",
)
SDTM_TDM_TABLE_UNREADABLE = ProblemKind(
    "sdtm-tdm-table-unreadable", Severity.FATAL, "Trial Design table unreadable",
    "The {domain} table could not be read as {format}: {reason}.",
    "The file is not a readable CSV, Dataset-JSON 1.1 or SAS XPORT v5 file; its domain is left out of the "
    "rule checks.",
)
SDTM_TDM_TABLE_FORMATS_DIFFER = ProblemKind(
    "sdtm-tdm-table-formats-differ", Severity.ERROR, "Formats disagree",
    "The {domain} table in {other} differs from the one in {primary}: {difference}.",
    "When a folder holds the same table in several formats (CSV, Dataset-JSON, XPT), all of them must hold "
    "the same data; the rules are run on the first format found (Dataset-JSON, then XPT, then CSV).",
)
SDTM_TDM_TABLE_DOMAIN_MISMATCH = ProblemKind(
    "sdtm-tdm-table-domain-mismatch", Severity.ERROR, "DOMAIN value does not match the file",
    "The {domain} file has DOMAIN = {found!r} in row {row}.",
    "Each Trial Design file holds one domain, named by the file; its DOMAIN variable must say the same.",
)

SDTM_TDM_FILE_INVALID = ProblemKind(
    "sdtm-tdm-file-invalid", Severity.ERROR, "Table file or define.xml fails its schema",
    "This file fails the {schema}: {reason}.",
    "`trialbridge validate` checks each Dataset-JSON table of a set against the official Dataset-JSON 1.1 JSON "
    "Schema and its define.xml against the Define-XML 2.1 XSD, as the SDTM writer checks what it writes.",
    CORE_RULE_DOC,
)
SDTM_STUDY_NOT_STARTED = ProblemKind(
    "sdtm-study-not-started", Severity.WARNING, "A value the study cannot have before it starts",
    "{rule_id} fires on {record}: {parameter} has no value yet ({null_flavor}) because the study has not started; "
    "the source cannot give it until it does. {message}",
    "A CORE rule requires a value that exists only once the study has started (CORE-000505 / FDA TRC1734c: the "
    "study start date SSTDTC, the date of the first informed consent), and the TS record says the study has not "
    "started: no TSVAL and the null flavour NAV (the value will exist later). trialbridge writes NAV there when "
    "the start date is anticipated (marked estimated, or a study not yet recruiting). The tables are right about "
    "the source; the value comes when the study starts. `convert` and `validate` report it alike, with the "
    "severity of mappings/sdtm/finding-severity.yaml.",
    CORE_RULE_DOC,
)

KINDS = (
    SDTM_CORE_RULE, SDTM_CORE_RULE_SKIPPED, SDTM_CORE_RULE_ERROR, SDTM_CORE_RULES_SUMMARY,
    SDTM_TDM_FOLDER_EMPTY, SDTM_TDM_TABLE_UNREADABLE, SDTM_TDM_TABLE_FORMATS_DIFFER,
    SDTM_TDM_TABLE_DOMAIN_MISMATCH, SDTM_TDM_FILE_INVALID, SDTM_STUDY_NOT_STARTED,
)
