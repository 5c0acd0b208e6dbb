"""Trial Summary (TS): one record per parameter value, driven by `mappings/sdtm/ts-parameters.yaml`.

Each parameter names an extractor (a small function below, registered in `EXTRACTORS`) that returns the values
the study states for it, and a value kind that says how a value is written (coded through a value map of
`ct.yaml`, an ISO 8601 date or duration, a country code, a registry id, plain text). A required parameter with
no value gets one record with TSVAL empty and a null flavour in TSVALNF, chosen by the named conditions in
`CONDITIONS`; nothing is invented. Values over 200 characters continue in TSVAL1..n.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from converters.model import Age, IdentifierKind, PartialDate, Study, json_pointer
from converters.model.enrollment import Reading, read_enrollment
from converters.model.values import parse_age
from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.targets.sdtm import text as sdtm_text
from converters.targets.sdtm.spec import SdtmSpec, TsParameter
from converters.targets.sdtm.tables import Row

_DURATION_UNITS = {"YEARS": "Y", "MONTHS": "M", "WEEKS": "W", "DAYS": "D"}
_TIME_UNITS = {"HOURS": "H", "MINUTES": "M"}
_YEARS_PER_UNIT = {"YEARS": 1.0, "MONTHS": 1 / 12, "WEEKS": 7 / 365.25, "DAYS": 1 / 365.25,
                   "HOURS": 1 / 8766, "MINUTES": 1 / 525960}


@dataclass(frozen=True)
class Found:
    """One value the source states for a parameter, before it is written."""

    text: str  # the value, or for coded parameters the canonical key to map
    pointer: str | None = None  # where in study.json it comes from
    code: str | None = None  # TSVALCD when the value itself is a code (registry ids)
    ref: str | None = None  # TSVCDREF for such a code


@dataclass
class TsContext:
    study: Study
    spec: SdtmSpec
    file: str
    problems: list[Problem] = field(default_factory=list)

    def location(self, pointer: str | None) -> Location:
        return Location(file=self.file, path=pointer)


@dataclass(frozen=True)
class TsResult:
    rows: list[Row]
    value_kinds: dict[str, tuple[str, str | None]]  # TSPARMCD -> (value kind, codelist) of the values written
    problems: list[Problem]


Extractor = Callable[[TsContext], list[Found]]
Condition = Callable[[Study, SdtmSpec], bool]


# --- value forms -------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def iso_duration(age: Age) -> str:
    """An age limit as an ISO 8601 duration (P18Y, P6M, PT12H)."""
    if age.unit in _TIME_UNITS:
        return f"PT{_number(age.value)}{_TIME_UNITS[age.unit]}"
    return f"P{_number(age.value)}{_DURATION_UNITS[age.unit]}"


def age_in_years(age: Age) -> float:
    return age.value * _YEARS_PER_UNIT[age.unit]


def _dedupe(found: Iterable[Found]) -> list[Found]:
    seen: set[str] = set()
    out: list[Found] = []
    for f in found:
        if f.text and f.text not in seen:
            seen.add(f.text)
            out.append(f)
    return out


def _one(value: object, *pointer: str | int) -> list[Found]:
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        value = "true" if value else "false"
    return [Found(str(value), json_pointer(*pointer))]


# --- extractors --------------------------------------------------------------------------------------


def _title(ctx: TsContext) -> list[Found]:
    titles = ctx.study.titles
    if titles.official:
        return _one(titles.official, "titles", "official")
    return _one(titles.brief, "titles", "brief")


def _registry_ids(ctx: TsContext) -> list[Found]:
    names = ctx.spec.settings.registry_names
    found = []
    for i, ident in enumerate(ctx.study.identifiers):
        own = ident.kind is IdentifierKind.REGISTRY
        other = ident.kind is IdentifierKind.SECONDARY and ident.registry in names
        if not (own or other):
            continue
        ref = names.get(ident.registry) if ident.registry else None
        found.append(Found(ident.value, json_pointer("identifiers", i, "value"),
                           code=ident.value if ref else None, ref=ref))
    return _dedupe(found)


def _sponsor_ids(ctx: TsContext) -> list[Found]:
    return _dedupe(Found(ident.value, json_pointer("identifiers", i, "value"))
                   for i, ident in enumerate(ctx.study.identifiers) if ident.kind is IdentifierKind.SPONSOR)


def _lead_sponsor(ctx: TsContext) -> list[Found]:
    lead = ctx.study.sponsors.lead
    return _one(lead.name if lead else None, "sponsors", "lead", "name")


def _study_type(ctx: TsContext) -> list[Found]:
    design = ctx.study.design
    if design.study_type == "OBSERVATIONAL" and design.patient_registry:
        return [Found("OBSERVATIONAL_PATIENT_REGISTRY", json_pointer("design", "patient_registry"))]
    return _one(design.study_type, "design", "study_type")


def _phase(ctx: TsContext) -> list[Found]:
    phases = sorted(set(ctx.study.design.phases))
    return [Found("+".join(phases), json_pointer("design", "phases"))] if phases else []


def _design_field(name: str) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        return _one(getattr(ctx.study.design, name), "design", name)
    return extract


def _masking(ctx: TsContext) -> list[Found]:
    masking = ctx.study.design.masking
    return _one(masking.masking if masking else None, "design", "masking", "masking")


def _intervention_types(ctx: TsContext) -> list[Found]:
    return _dedupe(Found(iv.type, json_pointer("interventions", i, "type"))
                   for i, iv in enumerate(ctx.study.interventions) if iv.type)


def _control_types(ctx: TsContext) -> list[Found]:
    comparators = ctx.spec.settings.comparator_arm_types
    found = _dedupe(Found(arm.type, json_pointer("arms", i, "type"))
                    for i, arm in enumerate(ctx.study.arms) if arm.type in comparators)
    if not found and _no_comparator_arm(ctx.study, ctx.spec):
        return [Found("NONE_STATED", json_pointer("arms"))]
    return found


def _enrollment(reading: Reading, parameter: str) -> Extractor:
    """PLANSUB / ACTSUB: the count where the shared rule (converters.model.enrollment) reads it as this kind."""
    def extract(ctx: TsContext) -> list[Found]:
        found = read_enrollment(ctx.study, ctx.spec.enrollment)
        if found is None or found.reading != reading:
            return []
        pointer = json_pointer("design", "enrollment", "count")
        if found.assumed:
            ctx.problems.append(codes.SDTM_ENROLLMENT_TYPE_ASSUMED(ctx.location(pointer), count=found.count,
                                                                   why=found.basis, parameter=parameter))
        return [Found(str(found.count), pointer)]
    return extract


def _age(name: str) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        age = getattr(ctx.study.eligibility, name)
        return [Found(iso_duration(age), json_pointer("eligibility", name))] if age else []
    return extract


def _eligibility_field(name: str) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        return _one(getattr(ctx.study.eligibility, name), "eligibility", name)
    return extract


def _conditions(ctx: TsContext) -> list[Found]:
    return _dedupe(Found(c, json_pointer("conditions", i)) for i, c in enumerate(ctx.study.conditions))


def _diagnosis_group(ctx: TsContext) -> list[Found]:
    return _conditions(ctx) if ctx.study.eligibility.healthy_volunteers is False else []


def _arm_types(study: Study) -> dict[str, str | None]:
    return {arm.label.casefold(): arm.type for arm in study.arms}


def _treatments(comparator: bool) -> Extractor:
    """Investigational (or comparator) interventions: comparator when every arm it is given in is one."""
    def extract(ctx: TsContext) -> list[Found]:
        study = ctx.study
        types = _arm_types(study)
        comparators = ctx.spec.settings.comparator_arm_types
        found = []
        for i, iv in enumerate(study.interventions):
            labels = {label.casefold() for label in iv.arm_group_labels}
            labels |= {arm.label.casefold() for arm in study.arms if iv.name in arm.intervention_names}
            arm_types = [types.get(label) for label in labels]
            is_comparator = bool(arm_types) and all(t in comparators for t in arm_types)
            if is_comparator is comparator:
                found.append(Found(iv.name, json_pointer("interventions", i, "name")))
        return _dedupe(found)
    return extract


def _outcomes(kind: str) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        return _dedupe(Found(o.measure, json_pointer("outcomes", i, "measure"))
                       for i, o in enumerate(ctx.study.outcomes) if o.kind.value == kind)
    return extract


def _anticipated(date: PartialDate | None, study: Study, statuses: Iterable[str]) -> bool:
    """The date (or its absence) is a plan: marked estimated, or unmarked in a study whose overall status says
    it cannot have reached that date yet."""
    if date is not None and date.type == "ESTIMATED":
        return True
    return (date is None or date.type is None) and study.status.overall in set(statuses)


def _start_anticipated(study: Study, spec: SdtmSpec) -> bool:
    return _anticipated(study.status.start, study, spec.settings.not_started_statuses)


def _completion_anticipated(study: Study, spec: SdtmSpec) -> bool:
    return _anticipated(study.status.completion, study, spec.settings.in_progress_statuses)


def _actual_date(name: str, anticipated: Condition) -> Extractor:
    """`status.<name>` when it is stated and not `anticipated` (then TS gets the condition's null flavour)."""
    def extract(ctx: TsContext) -> list[Found]:
        date: PartialDate | None = getattr(ctx.study.status, name)
        if date is None or anticipated(ctx.study, ctx.spec):
            return []
        return [Found(date.value, json_pointer("status", name, "value"))]
    return extract


def _number_of_arms(observational: bool) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        design = ctx.study.design
        if (design.study_type == "OBSERVATIONAL") is not observational or design.study_type is None:
            return []
        if design.number_of_groups is not None:
            return _one(design.number_of_groups, "design", "number_of_groups")
        return [Found(str(len(ctx.study.arms)), json_pointer("arms"))] if ctx.study.arms else []
    return extract


def _countries(ctx: TsContext) -> list[Found]:
    names: list[tuple[str, str]] = [(c, json_pointer("countries", i)) for i, c in enumerate(ctx.study.countries)]
    names += [(site.country, json_pointer("sites", i, "country"))
              for i, site in enumerate(ctx.study.sites) if site.country]
    found = []
    reported: set[str] = set()
    for name, pointer in names:
        code = ctx.spec.countries.alpha3(name)
        if code is None:
            if name not in reported:
                reported.add(name)
                ctx.problems.append(codes.SDTM_COUNTRY_UNKNOWN(ctx.location(pointer), country=name))
            continue
        found.append(Found(code, pointer, code=code, ref=ctx.spec.settings.iso3166_name))
    return _dedupe(found)


def _overall_status(ctx: TsContext) -> list[Found]:
    return _one(ctx.study.status.overall, "status", "overall")


def _pediatric(ctx: TsContext) -> list[Found]:
    eligibility = ctx.study.eligibility
    if "CHILD" in eligibility.std_ages:
        return [Found("true", json_pointer("eligibility", "std_ages"))]
    if eligibility.minimum_age is not None:
        below = age_in_years(eligibility.minimum_age) < ctx.spec.settings.pediatric_below_years
        return [Found("true" if below else "false", json_pointer("eligibility", "minimum_age"))]
    if eligibility.std_ages:
        return [Found("false", json_pointer("eligibility", "std_ages"))]
    return []


def _setting(name: str) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        return [Found(getattr(ctx.spec.settings, name))]
    return extract


def _oversight(name: str) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        oversight = ctx.study.oversight
        return _one(getattr(oversight, name) if oversight else None, "oversight", name)
    return extract


def _keywords(ctx: TsContext) -> list[Found]:
    return _dedupe(Found(k, json_pointer("keywords", i)) for i, k in enumerate(ctx.study.keywords))


def _target_duration(ctx: TsContext) -> list[Found]:
    text = ctx.study.design.target_duration
    if not text:
        return []
    pointer = json_pointer("design", "target_duration")
    age = parse_age(text)
    if age is None:
        ctx.problems.append(codes.SDTM_VALUE_UNREADABLE(ctx.location(pointer), parameter="TRGFUDUR", value=text,
                                                        form="an ISO 8601 duration"))
        return []
    return [Found(iso_duration(age), pointer)]


def _biospecimen(dna: bool) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        value = ctx.study.design.bio_spec_retention
        if dna and value == "NONE_RETAINED":
            return []
        return _one(value, "design", "bio_spec_retention")
    return extract


def _expanded_access_record(ctx: TsContext) -> list[Found]:
    access = ctx.study.status.expanded_access
    return _one(access.nct_id if access else None, "status", "expanded_access", "nct_id")


def _references(attr: str) -> Extractor:
    def extract(ctx: TsContext) -> list[Found]:
        return _dedupe(Found(getattr(r, attr), json_pointer("references", i, attr))
                       for i, r in enumerate(ctx.study.references) if getattr(r, attr))
    return extract


EXTRACTORS: dict[str, Extractor] = {
    "none": lambda ctx: [],
    "title": _title,
    "registry_ids": _registry_ids,
    "sponsor_study_ids": _sponsor_ids,
    "lead_sponsor": _lead_sponsor,
    "study_type": _study_type,
    "phase": _phase,
    "intervention_model": _design_field("intervention_model"),
    "intervention_types": _intervention_types,
    "masking": _masking,
    "control_types": _control_types,
    "allocation": _design_field("allocation"),
    "primary_purpose": _design_field("primary_purpose"),
    "planned_enrollment": _enrollment("planned", "PLANSUB"),
    "actual_enrollment": _enrollment("actual", "ACTSUB"),
    "minimum_age": _age("minimum_age"),
    "maximum_age": _age("maximum_age"),
    "sex": _eligibility_field("sex"),
    "healthy_volunteers": _eligibility_field("healthy_volunteers"),
    "conditions": _conditions,
    "diagnosis_group": _diagnosis_group,
    "investigational_treatments": _treatments(comparator=False),
    "comparator_treatments": _treatments(comparator=True),
    "primary_outcomes": _outcomes("primary"),
    "secondary_outcomes": _outcomes("secondary"),
    "other_outcomes": _outcomes("other"),
    "start_date": _actual_date("start", _start_anticipated),
    "completion_date": _actual_date("completion", _completion_anticipated),
    "number_of_arms": _number_of_arms(observational=False),
    "number_of_groups": _number_of_arms(observational=True),
    "countries": _countries,
    "overall_status": _overall_status,
    "pediatric": _pediatric,
    "sdtmig_version": _setting("sdtmig_version"),
    "sdtm_version": _setting("sdtm_version"),
    "has_dmc": _oversight("has_dmc"),
    "fda_regulated_drug": _oversight("fda_regulated_drug"),
    "fda_regulated_device": _oversight("fda_regulated_device"),
    "keywords": _keywords,
    "observational_model": _design_field("observational_model"),
    "time_perspective": _design_field("time_perspective"),
    "sampling_method": _eligibility_field("sampling_method"),
    "study_population": _eligibility_field("study_population"),
    "target_duration": _target_duration,
    "biospecimen_retention": _biospecimen(dna=False),
    "biospecimen_dna": _biospecimen(dna=True),
    "biospecimen_description": _design_field("bio_spec_description"),
    "expanded_access_record": _expanded_access_record,
    "pubmed_ids": _references("pmid"),
    "citations": _references("citation"),
}


# --- conditions (for `required` and null-flavour rules) -----------------------------------------------


def _no_comparator_arm(study: Study, spec: SdtmSpec) -> bool:
    """Every arm has a type and none is a control arm: the study states it has no control."""
    arms = study.arms
    comparators = spec.settings.comparator_arm_types
    return bool(arms) and all(a.type for a in arms) and not any(a.type in comparators for a in arms)


CONDITIONS: dict[str, Condition] = {
    "always": lambda study, spec: True,
    "interventional": lambda study, spec: study.design.study_type == "INTERVENTIONAL",
    "observational": lambda study, spec: study.design.study_type == "OBSERVATIONAL",
    "not_healthy_volunteers": lambda study, spec: study.eligibility.healthy_volunteers is False,
    "not_randomized": lambda study, spec: study.design.allocation in ("NON_RANDOMIZED", "NA"),
    "no_comparator_arm": _no_comparator_arm,
    "enrollment_not_final": lambda study, spec: study.status.overall in spec.settings.in_progress_statuses,
    "start_date_anticipated": _start_anticipated,
    "completion_date_anticipated": _completion_anticipated,
    "no_maximum_age": lambda study, spec: (study.eligibility.maximum_age is None
                                           and study.source.format in spec.settings.unbounded_max_age_formats),
}


def check_names(spec: SdtmSpec) -> list[str]:
    """Extractor and condition names the parameter table uses that no code implements (a config error)."""
    missing = []
    for p in spec.parameters:
        if p.source not in EXTRACTORS:
            missing.append(f"{p.code}: extractor {p.source!r}")
        names = [r.when for r in p.null_flavor_rules] + ([p.required] if p.required else [])
        missing += [f"{p.code}: condition {n!r}" for n in names if n not in CONDITIONS]
    return missing


# --- records -----------------------------------------------------------------------------------------


def _base_row(study_id: str, p: TsParameter) -> Row:
    return {"STUDYID": study_id, "DOMAIN": "TS", "TSSEQ": 0, "TSGRPID": None, "TSPARMCD": p.code,
            "TSPARM": p.name, "TSVAL": None, "TSVALNF": None, "TSVALCD": None, "TSVCDREF": None,
            "TSVCDVER": None}


def _null_flavor(study: Study, spec: SdtmSpec, p: TsParameter) -> str:
    for rule in p.null_flavor_rules:
        if CONDITIONS[rule.when](study, spec):
            return rule.flavor
    return p.null_flavor


def _value_row(ctx: TsContext, p: TsParameter, found: Found, row: Row) -> Row | None:
    """Fill TSVAL and its code columns for one value; None when the value cannot be written."""
    settings = ctx.spec.settings
    if p.value == "coded":
        assert p.value_map is not None
        mapped = ctx.spec.terminology.map_value(p.value_map, found.text)
        if mapped is None:
            ctx.problems.append(codes.SDTM_VALUE_UNMAPPED(ctx.location(found.pointer), parameter=p.code,
                                                          value=found.text, value_map=p.value_map))
            return {**row, "TSVALNF": "OTH"}
        if mapped.null_flavor:
            return {**row, "TSVALNF": mapped.null_flavor}
        assert mapped.term is not None
        row = {**row, "TSVAL": mapped.term.value}
        if not mapped.extended:
            package = ctx.spec.terminology.package
            row |= {"TSVALCD": mapped.term.code, "TSVCDREF": package.reference_name, "TSVCDVER": package.date}
        return row
    value = sdtm_text.clean(found.text)
    if not value:
        return None
    if p.value == "integer" and not value.isdigit():
        ctx.problems.append(codes.SDTM_VALUE_UNREADABLE(ctx.location(found.pointer), parameter=p.code,
                                                        value=value, form="an integer"))
        return None
    row = {**row, "TSVAL": value}
    if p.value in ("date", "duration"):
        row["TSVCDREF"] = settings.iso8601_name
    elif p.value in ("country", "registry_id"):
        row |= {"TSVALCD": found.code, "TSVCDREF": found.ref}
    return row


def _split_long(row: Row) -> Row:
    value = row.get("TSVAL")
    if not isinstance(value, str) or sdtm_text.fits(value):
        return row
    first, *rest = sdtm_text.split(value)
    out = {**row, "TSVAL": first}
    for n, piece in enumerate(rest, start=1):
        out[f"TSVAL{n}"] = piece
    return out


def build_ts(study: Study, study_id: str, spec: SdtmSpec, file: str) -> TsResult:
    """All TS records of one study, in the order of the parameter table."""
    ctx = TsContext(study, spec, file)
    rows: list[Row] = []
    kinds: dict[str, tuple[str, str | None]] = {}
    nulls: list[str] = []
    for p in spec.parameters:
        base = _base_row(study_id, p)
        written = [r for f in EXTRACTORS[p.source](ctx) if (r := _value_row(ctx, p, f, base)) is not None]
        required = p.required is not None and CONDITIONS[p.required](study, spec)
        if not written and required:
            written = [{**base, "TSVALNF": _null_flavor(study, spec, p)}]
            nulls.append(f"{p.code} ({written[0]['TSVALNF']})")
        if any(r["TSVAL"] is not None for r in written):
            codelist = spec.terminology.value_maps[p.value_map].codelist if p.value_map else None
            kinds[p.code] = (p.value, codelist)
        for seq, row in enumerate(written, start=1):
            rows.append(_split_long({**row, "TSSEQ": seq}))
    if nulls:
        ctx.problems.append(codes.SDTM_TS_NULL_FLAVORS(Location(file=file, path="TS"), count=len(nulls),
                                                       parameters=", ".join(nulls)))
    return TsResult(rows, kinds, ctx.problems)
