"""Problems found in the eligibility criteria of any study, whatever reader produced it."""

from converters.problems import ProblemKind, Severity

COMPARATOR_DAMAGED = ProblemKind(
    "criteria-comparator-damaged", Severity.WARNING, "Comparison sign lost from a criterion's threshold",
    "The criterion at {pointer} states {phrase!r} ({how}); the comparison sign (≥, ≤, >, <) cannot be recovered "
    "from the source, so the text is kept as written and marked as damaged.",
    "Scraped pages lose ≥ and ≤ ('ANA titer 1:80', 'weight 40 kg', 'mRSS 12 points') or turn them into '=' or '?' "
    "('SELENA-SLEDAI score = 6'). A threshold-shaped phrase (a measure of mappings/common/thresholds.yaml, then "
    "its number) with no comparator, or with '=', '?' or U+FFFD where the sign belongs, is reported at the line "
    "(pages) or source path (records) of its criterion. The sign is never guessed: the criterion is marked "
    "(study.json `damaged_comparators`, FHIR extension `damaged-comparator`, define.xml comment of the TI "
    "criterion) so that a consumer knows the text is damaged; check the original record.",
)

KINDS = (COMPARATOR_DAMAGED,)
