"""Problems of `trialbridge validate` itself: what a folder walk does not check, and why.

A folder named to `validate` is walked, and each file or set of SDTM tables in it is checked by what it is
(converters/validate.py). These say what was left out, so a clean report is never mistaken for a full check.
"""

from converters.problems import ProblemKind, Severity

VALIDATE_FILE_SKIPPED = ProblemKind(
    "validate-file-skipped", Severity.WARNING, "File in a folder not validated",
    "Skipped: not a registry record, FHIR resource, study.json or SDTM table ({reason}).",
    "A file found walking a folder that no reader recognises and no output target claims (a README, notes, a "
    "schema beside the records) is listed and skipped, so that one stray file does not fail the whole folder. "
    "Named on the command line, the same file is unusable input (`input-format-unknown`, exit code 2).",
)
VALIDATE_NOT_CHECKED = ProblemKind(
    "validate-file-not-checked", Severity.INFO, "trialbridge file with nothing to validate",
    "Not validated: a {what} file, written by trialbridge beside its outputs; no standard defines it.",
    "`trialbridge convert` writes files beside the outputs it validates: the trace of each FHIR bundle "
    "(`bundle.trace.json`, `trace.ndjson`) and the run report (`report.json`). They are recognised from their "
    "content and listed, not read as registry records.",
)

KINDS = (VALIDATE_FILE_SKIPPED, VALIDATE_NOT_CHECKED)
