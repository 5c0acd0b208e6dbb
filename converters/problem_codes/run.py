"""Problems of a `convert` run as a whole: what no single file shows (a study given twice, an output folder that
still holds an earlier run's outputs)."""

from converters.problems import ProblemKind, Severity

STUDY_GIVEN_TWICE = ProblemKind(
    "study-given-twice", Severity.WARNING, "Study given twice",
    "The study {study} was already converted from {first}; this copy is written too ({where}).",
    "Two inputs (or two records of one input) hold the same registry id. Both are converted, in input order: "
    "the later copy's folder gets `--2` (then `--3`, ...), so nothing is lost. Check whether the input was "
    "given twice or the copies differ (an older download beside a newer one).",
)
OUTPUT_STALE = ProblemKind(
    "output-stale", Severity.WARNING, "Outputs of an earlier run",
    "The output folder holds {count} {what} of an earlier run that this run did not write{where}: {names}.",
    "The output folder held an earlier run's outputs (its report.json or study folders), and this run did not "
    "rewrite all of them: they are not part of this run's report.json. Remove them, or convert into an empty "
    "folder, before the folder is loaded or published.",
)

KINDS = (STUDY_GIVEN_TWICE, OUTPUT_STALE)
