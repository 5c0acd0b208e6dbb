"""Eligibility as a definitional Group (R4 `actual=false`, R5 `membership=definitional`).

Age and sex become structured characteristics; every criterion of the source becomes one characteristic
that keeps its exact text, its inclusion/exclusion section, its marker, its position and the cohort headings
above it (eligibility-criterion extension). Criteria are turned into characteristics in two steps so that coded
thresholds (a later issue) plug in without touching the rest: `criterion_items` flattens the criteria tree,
and a `CriterionCoder` may return a coded definition (`code` + `value[x]`) for an item; the default coder
codes nothing, and the text always stays in the extension.

R5 could also use EvidenceVariable, but its characteristic combinations (all-of / any-of) would force the
writer to assert how the cohorts of a multi-disease trial combine, which the source does not state; the
Group keeps each criterion's place instead (docs/fhir-mapping.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from converters.model import Age, Criterion, DamagedComparator
from converters.problem_codes import fhir_writer as kinds
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft
from converters.targets.fhir.narrative import narrative


@dataclass(frozen=True)
class CriterionItem:
    """One criterion in reading order, with its place in the source."""

    text: str
    section: str  # inclusion | exclusion | unspecified
    position: tuple[int, ...]  # 1-based: section, item, child, ...
    marker: str | None
    cohorts: tuple[str, ...]  # heading texts above it, outermost first
    pointer: str  # study.json pointer of its text
    cohort_pointers: tuple[str, ...] = ()
    damaged: tuple[DamagedComparator, ...] = ()  # phrases whose comparison sign the source lost


@dataclass(frozen=True)
class CodedDefinition:
    """What a coder found a criterion to mean: Group.characteristic.code and one value[x]."""

    code: dict[str, Any]
    value_type: str  # CodeableConcept | boolean | Quantity | Range | Reference
    value: Any
    exclude: bool | None = None  # None: follow the criterion's section


class CriterionCoder(Protocol):
    def code(self, item: CriterionItem) -> CodedDefinition | None:
        """A coded definition for this criterion, or None to keep it as text only."""
        ...


class TextOnlyCoder:
    """The default: no criterion is coded (structuring thresholds comes in a later issue)."""

    def code(self, item: CriterionItem) -> CodedDefinition | None:
        return None


def _walk(items: list[Criterion], section: str, position: tuple[int, ...], cohorts: tuple[str, ...],
          cohort_pointers: tuple[str, ...], base: str) -> list[CriterionItem]:
    out: list[CriterionItem] = []
    for i, item in enumerate(items):
        pos = (*position, i + 1)
        pointer = f"{base}/{i}"
        if item.heading and item.children:
            # An unlabelled group (its heading lost in the source) keeps its place in `position`, but adds no
            # cohort name: an empty name would be invented structure, and FHIR forbids empty strings.
            name = item.text.strip()
            out += _walk(item.children, section, pos, (*cohorts, name) if name else cohorts,
                         (*cohort_pointers, f"{pointer}/text") if name else cohort_pointers, f"{pointer}/children")
            continue
        out.append(CriterionItem(text=item.text.strip(), section=section, position=pos, marker=item.marker,
                                 cohorts=cohorts, pointer=f"{pointer}/text", cohort_pointers=cohort_pointers,
                                 damaged=tuple(item.damaged_comparators)))
        out += _walk(item.children, section, pos, cohorts, cohort_pointers, f"{pointer}/children")
    return out


def criterion_items(ctx: BuildContext) -> list[CriterionItem]:
    """Every criterion of the study in reading order (headings become cohorts of the items under them)."""
    eligibility = ctx.study.eligibility
    items: list[CriterionItem] = []
    for s, section in enumerate(eligibility.criteria):
        items += _walk(section.items, section.category, (s + 1,), (), (), f"/eligibility/criteria/{s}/items")
    if not eligibility.criteria and eligibility.criteria_text and eligibility.criteria_text.strip():
        items.append(CriterionItem(text=eligibility.criteria_text.strip(), section="unspecified", position=(1,),
                                   marker=None, cohorts=(), pointer="/eligibility/criteria_text"))
    return [i for i in items if i.text]


def _criterion_extension(ctx: BuildContext, item: CriterionItem) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "text", "valueString": item.text},
        {"url": "section", "valueCode": item.section},
        {"url": "position", "valueString": ".".join(str(p) for p in item.position)},
    ]
    if item.marker:
        parts.append({"url": "marker", "valueString": item.marker.strip()})
    parts += [{"url": "cohort", "valueString": c} for c in item.cohorts]
    return {"url": ctx.maps.extension("eligibility-criterion"), "extension": parts}


def _characteristic_code(ctx: BuildContext, name: str, text: str | None = None) -> dict[str, Any]:
    """A code of the project's eligibility-characteristic system; its text is `text` or the code's display."""
    spec = ctx.maps.values["eligibility_characteristics"][name]
    return {"coding": [{"system": ctx.maps.project_system("eligibility"), "code": spec["code"],
                        "display": spec["display"]}], "text": text or spec["display"]}


def _criterion_characteristic(ctx: BuildContext, item: CriterionItem, coder: CriterionCoder) -> dict[str, Any]:
    coded = coder.code(item)
    if coded is None:
        code = _characteristic_code(ctx, item.section, item.text)
        return {"extension": [_criterion_extension(ctx, item)], "code": code, "valueBoolean": True,
                "exclude": item.section == "exclusion"}
    exclude = coded.exclude if coded.exclude is not None else item.section == "exclusion"
    return {"extension": [_criterion_extension(ctx, item)], "code": coded.code,
            f"value{coded.value_type}": coded.value, "exclude": exclude}


def add_damaged_comparators(ctx: BuildContext, item: CriterionItem,
                            characteristic: dict[str, Any]) -> dict[tuple[str | int, ...], tuple[str, ...]]:
    """Flag a criterion whose text lost a comparison sign: one `damaged-comparator` extension per damaged phrase
    (converters.model.comparators found it), so a consumer knows the text is damaged; the sign is not guessed.
    Returns the trace of each added extension (its place in the characteristic -> the study pointers of the mark
    and of the criterion's text, which carries the source location)."""
    if not item.damaged:
        return {}
    extensions: list[dict[str, Any]] = characteristic.setdefault("extension", [])
    base = item.pointer.removesuffix("/text")
    traces: dict[tuple[str | int, ...], tuple[str, ...]] = {}
    for n, damaged in enumerate(item.damaged):
        traces[("extension", len(extensions))] = (f"{base}/damaged_comparators/{n}", item.pointer)
        extensions.append(_damaged_comparator_extension(ctx, damaged))
    return traces


def _damaged_comparator_extension(ctx: BuildContext, damaged: DamagedComparator) -> dict[str, Any]:
    return {"url": ctx.maps.extension("damaged-comparator"), "extension": [
        {"url": "phrase", "valueString": damaged.phrase},
        {"url": "damage", "valueCode": damaged.damage},
        {"url": "offset", "valueInteger": damaged.start},
    ]}


def _age_quantity(ctx: BuildContext, age: Age) -> dict[str, Any]:
    unit = ctx.maps.value("age_units", age.unit)
    value: int | float = int(age.value) if float(age.value).is_integer() else age.value
    return {"value": value, "unit": unit["unit"], "system": ctx.maps.hl7_system("ucum"), "code": unit["code"]}


def _coded(ctx: BuildContext, name: str) -> dict[str, Any]:
    spec = ctx.maps.values["eligibility_codes"][name]
    return {"coding": [{"system": ctx.maps.hl7_system(spec["system"]), "code": spec["code"],
                        "display": spec["display"]}], "text": spec["display"]}


def build_eligibility_group(ctx: BuildContext, coder: CriterionCoder | None = None) -> Draft | None:
    """The definitional Group of the study's eligibility, or None when the source states none."""
    eligibility = ctx.study.eligibility
    items = criterion_items(ctx)
    sex_code = ctx.maps.value("sex", eligibility.sex) if eligibility.sex else None
    if not (items or eligibility.minimum_age or eligibility.maximum_age or sex_code
            or eligibility.healthy_volunteers is not None):
        return None
    draft = ctx.mint("Group", "eligibility", "eligibility", scoped=True)
    draft.set("type", "person")
    definitional = ctx.maps.place("Group", "definitional")  # R4 `actual` false, R5 `membership` definitional
    draft.set(definitional.element, definitional.value)
    draft.set("name", f"Eligibility criteria: {ctx.study_name}")
    if eligibility.minimum_age or eligibility.maximum_age:
        age_range: dict[str, Any] = {}
        pointers = []
        if eligibility.minimum_age:
            age_range["low"] = _age_quantity(ctx, eligibility.minimum_age)
            pointers.append("/eligibility/minimum_age")
        if eligibility.maximum_age:
            age_range["high"] = _age_quantity(ctx, eligibility.maximum_age)
            pointers.append("/eligibility/maximum_age")
        draft.add("characteristic", {"code": _coded(ctx, "age"), "valueRange": age_range, "exclude": False},
                  *pointers)
    if sex_code:
        gender = {"coding": [{"system": ctx.maps.hl7_system("administrative-gender"), "code": sex_code}],
                  "text": sex_code}
        draft.add("characteristic", {"code": _coded(ctx, "sex"), "valueCodeableConcept": gender, "exclude": False},
                  "/eligibility/sex")
    if eligibility.healthy_volunteers is not None:
        code = _characteristic_code(ctx, "healthy-volunteers")
        answer = ctx.maps.values["yes_no"]["yes" if eligibility.healthy_volunteers else "no"]
        value = {"coding": [{"system": ctx.maps.values["yes_no"]["system"], "code": answer["code"],
                             "display": answer["display"]}], "text": answer["display"]}
        draft.add("characteristic", {"code": code, "valueCodeableConcept": value, "exclude": False},
                  "/eligibility/healthy_volunteers")
    unspecified = 0
    chosen = coder or TextOnlyCoder()
    for item in items:
        unspecified += item.section == "unspecified"
        characteristic = _criterion_characteristic(ctx, item, chosen)
        damage_traces = add_damaged_comparators(ctx, item, characteristic)
        draft.add("characteristic", characteristic, item.pointer,
                  inner={("extension", 0): item.cohort_pointers, **damage_traces})
    if unspecified:
        ctx.report(kinds.CRITERIA_UNSPECIFIED, "/eligibility/criteria", count=unspecified)
    rows = [("Age", [t for t in ((eligibility.minimum_age.text if eligibility.minimum_age else None),
                                 (eligibility.maximum_age.text if eligibility.maximum_age else None)) if t]),
            ("Sex", [eligibility.sex] if eligibility.sex else [])]
    lists = [(f"{s.title()} criteria", [_line(i) for i in items if i.section == s])
             for s in ("inclusion", "exclusion", "unspecified")]
    draft.body["text"] = narrative(draft.body["name"], rows, lists)
    return draft


def _line(item: CriterionItem) -> str:
    where = " > ".join(item.cohorts)
    marker = f"{item.marker} " if item.marker else ""
    return f"[{where}] {marker}{item.text}" if where else f"{marker}{item.text}"
