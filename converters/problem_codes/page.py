"""Problems found while reading a scraped registry page (the `registry-page` reader)."""

from converters.problems import ProblemKind, Severity

LAYOUT_UNKNOWN = ProblemKind(
    "page-layout-unknown", Severity.WARNING, "Page layout not recognised",
    "No known page layout matches this page (best: {best}); only generic 'Label: value' rules were applied.",
    "Layouts are recognised from their labels and headings (mappings/registry_page/layouts.yaml). A page in "
    "another layout still yields what generic `Label | value` and `Label: value` lines state: known labels go "
    "to their fields, other pairs to `other_fields`. Add the layout to the mapping to read it fully.",
)
DUPLICATE_BLOCK = ProblemKind(
    "page-duplicate-block", Severity.WARNING, "Repeated block read once",
    "Lines {line}-{end_line} repeat lines {first_line}-{first_end_line} ({how}); the repeat was not read again.",
    "Scrapers sometimes save a block twice, often re-wrapped with other line breaks. A block repeated "
    "back-to-back, or a whole section repeated, is compared with whitespace removed and read once; the "
    "repeat is listed as unmapped. Short phrases that recur (a criterion shared by two cohorts) are kept.",
)
ENCODING_LOSS = ProblemKind(
    "page-encoding-loss", Severity.WARNING, "Characters probably lost in encoding",
    "Text looks damaged by an encoding loss ({explanation}): {snippets}. Kept exactly as written.",
    "A page saved through a charset that cannot hold ≥, ≤, × or Greek letters turns them into '=' or '?', or "
    "drops them. The reader never repairs the text; it reports the line so a person can check the source "
    "record. The checks are in mappings/registry_page/text-checks.yaml; a comparison sign lost from a "
    "criterion's threshold is reported as `criteria-comparator-damaged` instead.",
)
SECTION_EMPTY = ProblemKind(
    "page-section-empty", Severity.INFO, "Section present but empty",
    "The section '{heading}' is present but states nothing; no value was set for it.",
    "Patient-facing pages often keep a heading whose content was not scraped. Nothing is invented for it: "
    "the field stays absent.",
)
TRUNCATED = ProblemKind(
    "page-truncated", Severity.WARNING, "Page seems truncated",
    "The page seems cut off: {reason}.",
    "A page that ends in the middle of a sentence or of a table row was probably saved incompletely; what "
    "it states is read, but fields after the cut are missing.",
)
VALUE_UNRECOGNISED = ProblemKind(
    "page-value-unrecognised", Severity.WARNING, "Value not understood",
    "The value {value!r} for '{label}' is not {what}; it was kept as written.",
    "A coded field (status, phase, type, ...) whose wording no vocabulary knows, or a date, number or age "
    "that does not parse, is never guessed: it is kept as written (in the field's `*_text` twin or in "
    "`other_fields`) so a steward can add the wording to the mapping.",
)
FIELD_REPEATED = ProblemKind(
    "page-field-repeated", Severity.WARNING, "Field stated twice",
    "'{field}' is stated again here with a different value ({value!r}); the first value (line {first_line}) "
    "was kept.",
    "A page that states one field twice with different values is contradictory; the first statement is kept "
    "and the other is listed as unmapped.",
)
NUMBERING_GAP = ProblemKind(
    "page-criteria-numbering-gap", Severity.WARNING, "Criteria numbering skips",
    "The numbered list goes from {previous} to {found}: items may be missing from the page.",
    "Scraped criteria lists sometimes lose items (a list that starts at 2, or jumps from 2 to 5). The items "
    "that are there are kept with their markers as written.",
)
UNLABELLED_GROUP = ProblemKind(
    "page-criteria-unlabelled-group", Severity.INFO, "Criteria list restarts without a heading",
    "A numbered list restarts at 1 without a sub-heading; its items are kept together under a heading item "
    "with empty text.",
    "Pages that list criteria per cohort or disease sometimes lose the cohort headings but keep each list's "
    "own numbering. Each restarted list is kept as its own group (a heading item whose text is empty, since "
    "the page gives none) instead of being merged into the previous list.",
)
CRITERIA_RUN_ON = ProblemKind(
    "criteria-run-on", Severity.WARNING, "Criterion may hold several criteria",
    "This criterion may hold several criteria run together ({signs}); it was kept whole, as written: "
    "{snippet!r}.",
    "Scraped and flattened criteria lists join criteria without markers ('...criteria;Still in ...', "
    "'...65 years Clinical Diagnosis ...'). Criteria are split only at list markers that can be trusted (at "
    "a line start, a number the list in progress expects, a first item after a colon or before its own "
    "second, any number after ';'). Where a text shows other signs of several criteria (a ';' before a "
    "capitalised part, a clause starting with a capital after no punctuation, a marker that continues no "
    "list) it is kept whole and reported, so that a person can split it at the source. The markers and the "
    "signs are in mappings/registry_page/criteria-boundaries.yaml.",
)
AGE_UNIT_ASSUMED = ProblemKind(
    "page-age-unit-assumed", Severity.INFO, "Age unit from the layout's convention",
    "'{text}' states no unit; the layout writes ages in {unit}, so {unit} was used.",
    "Some patient sites write 'Ages 3-65' without a unit. The unit then comes from the layout's documented "
    "convention in mappings/registry_page/layouts.yaml, and this note marks every place it was used.",
)
SPONSOR_ROLE_UNSTATED = ProblemKind(
    "page-sponsor-role-unstated", Severity.INFO, "Sponsor role not stated",
    "The page lists '{name}' as a sponsor without saying whether it is the lead sponsor or a collaborator.",
    "The organisation is kept in `sponsors.role_unstated` rather than guessed from its position in the list.",
)
STATUS_FROM_SITES = ProblemKind(
    "page-status-from-sites", Severity.INFO, "Overall status from a site's status",
    "The page states no overall status; its site '{facility}' is {site_status}, so the study's overall status is "
    "{status}.",
    "ClinicalTrials.gov defines the overall recruitment status from the status of the study's sites: a study "
    "with at least one recruiting site is recruiting. A page that states only a site's status (a patient site's "
    "'Active - Recruiting' beside its study centre) gets the overall status that rule gives, traced to the site's "
    "line; no other site status implies one. The rule is data: `overall_status_from_site_status` in "
    "mappings/registry_page/layouts.yaml.",
)
AGE_FROM_STATEMENT = ProblemKind(
    "page-age-from-statement", Severity.INFO, "Age limit from the page's only age statement",
    "'{text}' is the page's only statement of an age; the {limits} was read from it.",
    "A page without age fields may state its age limit once, as a line of its own (often an inclusion "
    "criterion: 'Age: ≥5 years old;'). When no other line mentions an age, that limit is the study's, with its "
    "unit and text as written; a page with several age statements gets none from its criteria. The line stays "
    "where it is (the criterion is kept). Rules: `age_statement` in mappings/registry_page/layouts.yaml.",
)
NO_STUDY_DATA = ProblemKind(
    "page-no-study-data", Severity.WARNING, "Nothing read from the page",
    "No study field could be read from this page.",
    "The page was decoded but no rule found a field in it; every line is listed as unmapped.",
)

KINDS = (
    LAYOUT_UNKNOWN, DUPLICATE_BLOCK, ENCODING_LOSS, SECTION_EMPTY, TRUNCATED, VALUE_UNRECOGNISED,
    FIELD_REPEATED, NUMBERING_GAP, UNLABELLED_GROUP, CRITERIA_RUN_ON, AGE_UNIT_ASSUMED, SPONSOR_ROLE_UNSTATED,
    NO_STUDY_DATA, STATUS_FROM_SITES, AGE_FROM_STATEMENT,
)
