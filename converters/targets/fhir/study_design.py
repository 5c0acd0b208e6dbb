"""ResearchStudy design: phase, design facts, primary purpose, arms and outcome measures (R4 and R5).

The versions name and shape these differently (R4 `category`, `arm`, `objective`; R5 `studyDesign`,
`comparisonGroup`, `outcomeMeasure`, with a `linkId` and markdown descriptions); every such difference is
looked up in `ctx.maps.place` (mappings/fhir/versions.yaml), none is a branch on the version here.
"""

from __future__ import annotations

from typing import Any

from converters.problem_codes import fhir_writer as kinds
from converters.targets.fhir.concepts import concept, ctgov_concept, hl7_coding, typed_text
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft, ElementPath


def write_phase(ctx: BuildContext, draft: Draft) -> None:
    phases = ctx.study.design.phases
    if not phases:
        return
    key = "+".join(phases)
    code = ctx.maps.value("phases", key)
    labels = [ctx.maps.display("Phase", p) or p for p in phases]
    if code:
        coding = {**hl7_coding(ctx, "research-study-phase", code), "display": "/".join(labels)}
        draft.set("phase", concept("/".join(labels), coding), "/design/phases")
    else:
        ctx.report(kinds.VALUE_UNMAPPED, "/design/phases", field="design.phases", value=key)
        draft.set("phase", concept("/".join(labels)), "/design/phases")


def write_design(ctx: BuildContext, draft: Draft) -> None:
    """One concept per design fact (mappings/fhir/value-maps.yaml `design_fields`), labelled."""
    design = ctx.study.design
    key = ctx.maps.place("ResearchStudy", "design").element
    for spec in ctx.maps.values["design_fields"]:
        name = spec["field"]
        if name in ("masking", "who_masked"):
            masking = design.masking
            values = ([masking.masking] if masking and masking.masking else []) if name == "masking" else \
                (masking.who_masked if masking else [])
            pointers = ["/design/masking/masking"] * len(values) if name == "masking" else \
                [f"/design/masking/who_masked/{i}" for i in range(len(values))]
        else:
            value = getattr(design, name)
            values = [value] if value else []
            pointers = [f"/design/{name}"] if value else []
        for value, pointer in zip(values, pointers, strict=True):
            label = ctx.maps.display(spec["enum"], value)
            if label is None:
                draft.add(key, concept(f"{spec['label']}: {value}"), pointer)
                continue
            coding = ctx.maps.ctgov_coding(spec["enum"], value)
            draft.add(key, concept(f"{spec['label']}: {label}", coding), pointer)


def write_primary_purpose(ctx: BuildContext, draft: Draft) -> None:
    purpose = ctx.study.design.primary_purpose
    if not purpose:
        return
    code = ctx.maps.value("primary_purpose", purpose)
    first = [hl7_coding(ctx, "research-study-prim-purp-type", code)] if code else []
    if ctx.maps.display("PrimaryPurpose", purpose) is None:
        ctx.report(kinds.VALUE_UNMAPPED, "/design/primary_purpose", field="design.primary_purpose", value=purpose)
        draft.set("primaryPurposeType", concept(purpose), "/design/primary_purpose")
        return
    draft.set("primaryPurposeType", ctgov_concept(ctx, "PrimaryPurpose", purpose, *first), "/design/primary_purpose")


def write_arms(ctx: BuildContext, draft: Draft) -> None:
    """One arm / comparison group per arm: link id (where the version has one), name, type, description."""
    arm_place = ctx.maps.place("ResearchStudy", "arm")
    link = ctx.maps.place("ResearchStudy", "arm-link-id")
    described = ctx.maps.place("ResearchStudy", "arm-description")
    coded = ctx.maps.has_hl7_system("research-study-arm-type")  # R4 has no arm-type codes: CT.gov token only
    for i, arm in enumerate(ctx.study.arms):
        base = f"/arms/{i}"
        entry: dict[str, Any] = {}
        inner: dict[ElementPath, tuple[str, ...]] = {("name",): (f"{base}/label",)}
        if link.path:
            entry[link.name] = f"arm-{i + 1}"
        entry["name"] = arm.label.strip()
        if arm.type:
            label = ctx.maps.display("ArmGroupType", arm.type)
            code = ctx.maps.value("arm_type_r5", arm.type) if coded else None
            first = [hl7_coding(ctx, "research-study-arm-type", code)] if code else []
            entry["type"] = ctgov_concept(ctx, "ArmGroupType", arm.type, *first) if label else concept(arm.type)
            inner[("type",)] = (f"{base}/type",)
        if arm.description:
            entry[described.name] = typed_text(ctx, described, f"{base}/description", arm.description)
            inner[(described.name,)] = (f"{base}/description",)
        draft.add(arm_place.element, entry, inner=inner)


def write_outcomes(ctx: BuildContext, draft: Draft) -> None:
    """One objective / outcome measure per outcome: time frame (extension), name, type, description."""
    outcome_place = ctx.maps.place("ResearchStudy", "outcome")
    typed = ctx.maps.place("ResearchStudy", "outcome-type")
    described = ctx.maps.place("ResearchStudy", "outcome-description")
    for i, outcome in enumerate(ctx.study.outcomes):
        base = f"/outcomes/{i}"
        code = ctx.maps.value("objective_type", outcome.kind.value)
        label = ctx.maps.values["objective_type_labels"][outcome.kind.value]
        kind = concept(label, hl7_coding(ctx, "research-study-objective-type", code)) if code else concept(label)
        entry: dict[str, Any] = {}
        inner: dict[ElementPath, tuple[str, ...]] = {("name",): (f"{base}/measure",),
                                                     (typed.name,): (f"{base}/kind",)}
        extensions: list[dict[str, Any]] = []
        if outcome.time_frame:
            extensions.append({"url": ctx.maps.extension("time-frame"), "valueString": outcome.time_frame.strip()})
            inner[("extension", 0)] = (f"{base}/time_frame",)
        if described.extension and outcome.description:
            extensions.append({"url": ctx.maps.extension(described.extension),
                               "valueMarkdown": ctx.markdown(f"{base}/description", outcome.description)})
            inner[("extension", len(extensions) - 1)] = (f"{base}/description",)
        if extensions:
            entry["extension"] = extensions
        entry["name"] = outcome.measure.strip()
        if typed.many:  # a list of types: the trace names the one written, after the extensions
            entry[typed.name] = [kind]
            inner[(typed.name, 0)] = inner.pop((typed.name,))
        else:
            entry[typed.name] = kind
        if described.path and outcome.description:
            entry[described.name] = typed_text(ctx, described, f"{base}/description", outcome.description)
            inner[(described.name,)] = (f"{base}/description",)
        draft.add(outcome_place.element, entry, inner=inner)
