"""The canonical study model: every reader produces a `Study`, every writer consumes one.

Design rules (see docs/architecture.md):
- Vocabulary: coded fields hold ClinicalTrials.gov API v2 enum values (`RECRUITING`, `PHASE1`, ...), the
  richest public registry vocabulary; readers map other wordings to them through `mappings/`. A wording
  that no mapping knows is kept as written in the matching `*_text` field and reported, never guessed.
- Absent stays absent: every optional value defaults to `None` (lists to empty) and is omitted from
  `study.json`; no reader fills a default the source did not state.
- Provenance is one map per study (`Study.provenance`) from the JSON pointer of a value in `study.json`
  to its source location, not a wrapper around every value, so that reading stays cheap.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from converters.problems import Problem

SCHEMA_VERSION: Literal["1.0"] = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False, use_enum_values=False)


# --- small value types -------------------------------------------------------------------------------


class TextFormat(StrEnum):
    """How the source wrote a text: plain text, or CommonMark (ClinicalTrials.gov's `markup` fields)."""

    PLAIN = "plain"
    MARKDOWN = "markdown"


class DatePrecision(StrEnum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


class PartialDate(_Model):
    """A date as precise as the source stated it: `2026`, `2026-01` or `2026-01-15`."""

    value: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$", description="ISO 8601 date, year or year-month")
    precision: DatePrecision
    type: Literal["ACTUAL", "ESTIMATED"] | None = Field(
        None, description="ACTUAL, or ESTIMATED (anticipated) as the source says; absent when it does not say"
    )
    text: str | None = Field(None, description="The date as written, when it was not already ISO 8601")


class Age(_Model):
    """An eligibility age limit with its unit as stated (`18 Years`, `6 Months`)."""

    value: float = Field(ge=0)
    unit: Literal["YEARS", "MONTHS", "WEEKS", "DAYS", "HOURS", "MINUTES"]
    text: str = Field(description="The limit as written in the source")


class Coding(_Model):
    """A code the source itself gives (e.g. a MeSH id in ct.gov's derived section)."""

    system: str
    code: str | None = None
    display: str | None = None


# --- identification ----------------------------------------------------------------------------------


class IdentifierKind(StrEnum):
    REGISTRY = "registry"  # the study's own id in the registry the record comes from (e.g. its NCT id)
    ALIAS = "alias"  # an obsolete id of the same study in the same registry (nctIdAliases)
    SPONSOR = "sponsor"  # the sponsor's / organisation's own study id (orgStudyIdInfo)
    SECONDARY = "secondary"  # ids in other registries, grants, other numbers (secondaryIdInfos)


class Identifier(_Model):
    value: str
    kind: IdentifierKind
    registry: str | None = Field(None, description="Registry key from mappings/identifiers.yaml (nct, euctr, ...)")
    type: str | None = Field(None, description="Type as the source gives it (e.g. NIH, EUDRACT_NUMBER)")
    domain: str | None = Field(None, description="Issuing body or domain as the source gives it")
    link: str | None = None


class Titles(_Model):
    brief: str | None = None
    official: str | None = None
    acronym: str | None = None


class Organization(_Model):
    name: str
    organization_class: str | None = Field(None, description="AgencyClass: INDUSTRY, NIH, OTHER, ...")


# --- status and dates --------------------------------------------------------------------------------


class ExpandedAccess(_Model):
    has_expanded_access: bool | None = None
    nct_id: str | None = None
    status: str | None = None


class Status(_Model):
    overall: str | None = Field(None, description="Overall recruitment status (ct.gov Status enum)")
    overall_text: str | None = Field(None, description="The status as written when no mapping knew it")
    last_known: str | None = None
    why_stopped: str | None = None
    delayed_posting: bool | None = None
    expanded_access: ExpandedAccess | None = None
    verified: PartialDate | None = None
    start: PartialDate | None = None
    primary_completion: PartialDate | None = None
    completion: PartialDate | None = None
    first_submitted: PartialDate | None = None
    first_submitted_qc: PartialDate | None = None
    first_posted: PartialDate | None = None
    results_waived: bool | None = None
    results_first_submitted: PartialDate | None = None
    results_first_submitted_qc: PartialDate | None = None
    results_first_posted: PartialDate | None = None
    disposition_first_submitted: PartialDate | None = None
    disposition_first_submitted_qc: PartialDate | None = None
    disposition_first_posted: PartialDate | None = None
    last_update_submitted: PartialDate | None = None
    last_update_posted: PartialDate | None = None


# --- parties -----------------------------------------------------------------------------------------


class ResponsibleParty(_Model):
    type: str | None = Field(None, description="SPONSOR, PRINCIPAL_INVESTIGATOR, SPONSOR_INVESTIGATOR")
    investigator_name: str | None = None
    investigator_title: str | None = None
    investigator_affiliation: str | None = None
    old_name_title: str | None = None
    old_organization: str | None = None


class Sponsors(_Model):
    lead: Organization | None = None
    collaborators: list[Organization] = []
    role_unstated: list[Organization] = Field(
        [], description="Sponsors the source lists without saying whether each is the lead or a collaborator"
    )
    responsible_party: ResponsibleParty | None = None
    support_sources: list[str] = Field(
        [], description="Sources of monetary or material support (WHO TRDS item 4), each as the source names it"
    )


class Contact(_Model):
    """A person or office to contact; only the contact data the source gives."""

    name: str | None = None
    role: str | None = Field(None, description="ContactRole (CONTACT, PRINCIPAL_INVESTIGATOR, ...) or as written")
    phone: str | None = None
    phone_ext: str | None = None
    email: str | None = None
    address: str | None = Field(None, description="Postal address as written (WHO ICTRP contacts give one)")
    city: str | None = None
    zip: str | None = None
    country: str | None = None
    affiliation: str | None = Field(None, description="The contact's organisation, as written")


class Official(_Model):
    """An investigator responsible for the study (overall official)."""

    name: str
    affiliation: str | None = None
    role: str | None = Field(None, description="OfficialRole: PRINCIPAL_INVESTIGATOR, STUDY_CHAIR, ...")
    degrees: str | None = Field(None, description="Degrees or title after the name, as written")


class GeoPoint(_Model):
    lat: float
    lon: float


class Site(_Model):
    facility: str | None = None
    status: str | None = Field(None, description="RecruitmentStatus of the site")
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    geo_point: GeoPoint | None = None
    contacts: list[Contact] = []


class Oversight(_Model):
    has_dmc: bool | None = None
    fda_regulated_drug: bool | None = None
    fda_regulated_device: bool | None = None
    unapproved_device: bool | None = None
    ppsd: bool | None = None
    us_export: bool | None = None
    fdaaa801_violation: bool | None = None


# --- design ------------------------------------------------------------------------------------------


class Enrollment(_Model):
    count: int = Field(ge=0)
    type: Literal["ACTUAL", "ESTIMATED"] | None = None


class Masking(_Model):
    masking: str | None = Field(None, description="DesignMasking: NONE, SINGLE, DOUBLE, TRIPLE, QUADRUPLE")
    description: str | None = None
    who_masked: list[str] = []


class ExpandedAccessTypes(_Model):
    individual: bool | None = None
    intermediate: bool | None = None
    treatment: bool | None = None


class Design(_Model):
    study_type: str | None = Field(None, description="INTERVENTIONAL, OBSERVATIONAL, EXPANDED_ACCESS")
    phases: list[str] = Field([], description="Phase enum values; a combined phase 1/2 is [PHASE1, PHASE2]")
    allocation: str | None = None
    intervention_model: str | None = None
    intervention_model_description: str | None = None
    primary_purpose: str | None = None
    observational_model: str | None = None
    time_perspective: str | None = None
    masking: Masking | None = None
    enrollment: Enrollment | None = None
    number_of_groups: int | None = Field(None, ge=0, description="Number of arms/groups when stated")
    patient_registry: bool | None = None
    target_duration: str | None = None
    expanded_access_types: ExpandedAccessTypes | None = None
    n_ptrs_to_this_exp_acc_nct_id: int | None = None
    bio_spec_retention: str | None = None
    bio_spec_description: str | None = None


class Arm(_Model):
    label: str
    type: str | None = Field(None, description="ArmGroupType: EXPERIMENTAL, ACTIVE_COMPARATOR, ...")
    description: str | None = None
    intervention_names: list[str] = []


class Intervention(_Model):
    name: str
    type: str | None = Field(None, description="InterventionType: DRUG, BIOLOGICAL, DEVICE, ...")
    description: str | None = None
    arm_group_labels: list[str] = []
    other_names: list[str] = []
    dosing: list[str] = Field([], description="Dose statements exactly as written (e.g. '1×10^5 cells/Kg')")
    frequency: str | None = Field(None, description="Frequency as written")


class OutcomeKind(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    OTHER = "other"


class Outcome(_Model):
    kind: OutcomeKind
    measure: str
    description: str | None = None
    time_frame: str | None = None


# --- eligibility -------------------------------------------------------------------------------------


class DamagedComparator(_Model):
    """A threshold in a criterion's text whose comparison sign was lost or replaced ('ANA titer 1:80',
    'SLEDAI score = 6'); found by converters.model.comparators. The text is never repaired, the sign never guessed."""

    phrase: str = Field(description="The damaged phrase exactly as written: text[start:end]")
    start: int = Field(ge=0, description="Offset of the phrase in the criterion's text (characters)")
    end: int = Field(ge=1, description="Offset just past the phrase")
    number: str = Field(description="The bound whose sign is missing, as written ('1:80', '6')")
    number_start: int = Field(ge=0, description="Offset of that number in the criterion's text")
    damage: Literal["missing", "equals", "question-mark", "replacement-character"] = Field(
        description="missing: no comparator at all; equals / question-mark / replacement-character: that character "
                    "stands where the sign was"
    )


class Criterion(_Model):
    """One item of the criteria text; `heading` items group the items under them (a cohort, a disease)."""

    text: str = Field(description="Text of this item, list marker removed: the exact source text, or its plain "
                                  "text where the criteria were read as Markdown (escapes resolved)")
    marker: str | None = Field(None, description="List marker as written: '1.', '2)', '-', '1.1.'")
    span: list[int] | None = Field(
        None, min_length=2, max_length=2,
        description="[start, end): character offsets of this item's own source text in "
                    "eligibility.criteria_text, where `text` is not that exact text (read as Markdown)")
    heading: bool = Field(False, description="True for a sub-heading (cohort / disease) grouping children")
    children: list[Criterion] = []
    damaged_comparators: list[DamagedComparator] = Field(
        [], description="Thresholds in `text` whose comparison sign (≥, ≤, >, <) was lost; the text is kept as written"
    )


class CriteriaSection(_Model):
    category: Literal["inclusion", "exclusion", "unspecified"]
    heading: str | None = Field(None, description="The section heading as written")
    items: list[Criterion] = []


class Eligibility(_Model):
    criteria_text: str | None = Field(None, description="The full criteria text as given")
    criteria: list[CriteriaSection] = []
    healthy_volunteers: bool | None = None
    sex: str | None = Field(None, description="ALL, FEMALE, MALE")
    gender_based: bool | None = None
    gender_description: str | None = None
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    std_ages: list[str] = []
    study_population: str | None = None
    sampling_method: str | None = None


# --- references and related studies ------------------------------------------------------------------


class Retraction(_Model):
    pmid: str | None = None
    source: str | None = None


class Reference(_Model):
    pmid: str | None = None
    type: str | None = Field(None, description="BACKGROUND, RESULT, DERIVED")
    citation: str | None = None
    retractions: list[Retraction] = []


class Link(_Model):
    label: str | None = None
    url: str


class AvailableIpd(_Model):
    id: str | None = None
    type: str | None = None
    url: str | None = None
    comment: str | None = None


class IpdSharing(_Model):
    sharing: str | None = Field(None, description="YES, NO, UNDECIDED")
    description: str | None = None
    info_types: list[str] = []
    time_frame: str | None = None
    access_criteria: str | None = None
    url: str | None = None


class RelatedStudy(_Model):
    """Another study the source mentions; never an identifier of this study."""

    identifier: str
    relation: str = Field(description="How the source relates it: related, similar, see-also, expanded-access")
    title: str | None = None
    status: str | None = None
    phase: str | None = None


class LabelledValue(_Model):
    """A label/value pair found by generic rules on a layout no reader knows; kept, not interpreted."""

    label: str
    value: str


# --- provenance, unmapped spans, source -------------------------------------------------------------


class SourceLocation(_Model):
    """Where a value came from: a line span in a text page, or a JSON pointer / XPath in a record."""

    line: int | None = Field(None, ge=1)
    end_line: int | None = Field(None, ge=1)
    pointer: str | None = None


class UnmappedSpan(_Model):
    """Source content that no rule used: a line span of a page, or a path of a structured record."""

    line: int | None = Field(None, ge=1)
    end_line: int | None = Field(None, ge=1)
    pointer: str | None = None
    text: str | None = Field(None, description="The unused text (or value), for a steward to read")
    reason: str | None = Field(None, description="Why it was not used, when known (e.g. boilerplate)")


class SourceInfo(_Model):
    file: str = Field(description="The input file as given (relative path or name)")
    format: str = Field(description="Reader that read it: registry-page, ctgov-v2-json, ctgov-xml, ...")
    layout: str | None = Field(None, description="Recognised page layout, for registry pages")
    encoding: str | None = None
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Digest of the whole input file")
    record: str | None = Field(None, description="Record index or member name inside a multi-record file")
    line_count: int | None = None
    content_lines: int | None = Field(
        None, ge=0, description="Non-blank lines of a text page: the denominator of the share of lines mapped"
    )
    text_formats: dict[str, TextFormat] = Field(
        {}, description="JSON pointer of a value in this document -> the format the source wrote its text in; "
                        "a pointer covers the values under it; a text no pointer covers is plain text"
    )


# --- the study ---------------------------------------------------------------------------------------


class EthicsReview(_Model):
    """An ethics committee's review of the study (WHO Trial Registration Data Set item 21), as the registry
    states it."""

    status: str | None = Field(None, description="The review's outcome as written (Approved, Authorized, ...)")
    approval_date: PartialDate | None = None
    committee: str | None = Field(None, description="The committee (its contact's name), as written")
    address: str | None = None
    phone: str | None = None
    email: str | None = None


class Study(_Model):
    schema_version: Literal["1.0"] = SCHEMA_VERSION
    source: SourceInfo
    identifiers: list[Identifier] = []
    titles: Titles = Titles()
    organization: Organization | None = None
    status: Status = Status()
    sponsors: Sponsors = Sponsors()
    oversight: Oversight | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None
    conditions: list[str] = []
    keywords: list[str] = []
    condition_codes: list[Coding] = Field([], description="Codes the source gives for the conditions")
    intervention_codes: list[Coding] = Field([], description="Codes the source gives for the interventions")
    design: Design = Design()
    arms: list[Arm] = []
    interventions: list[Intervention] = []
    outcomes: list[Outcome] = []
    eligibility: Eligibility = Eligibility()
    central_contacts: list[Contact] = []
    officials: list[Official] = []
    sites: list[Site] = []
    countries: list[str] = Field([], description="Countries the source lists (beside the sites' countries)")
    references: list[Reference] = []
    links: list[Link] = []
    available_ipds: list[AvailableIpd] = []
    ipd_sharing: IpdSharing | None = None
    related_studies: list[RelatedStudy] = []
    ethics_reviews: list[EthicsReview] = []
    other_fields: list[LabelledValue] = []
    provenance: dict[str, SourceLocation] = Field(
        {}, description="JSON pointer of a value in this document -> where it came from in the source"
    )
    unmapped: list[UnmappedSpan] = []
    problems: list[Problem] = []

    def registry_id(self) -> str | None:
        """The study's own registry id, if the source gave one."""
        for ident in self.identifiers:
            if ident.kind is IdentifierKind.REGISTRY:
                return ident.value
        return None
