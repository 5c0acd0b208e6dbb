"""ResearchStudy (R4 4.0.1 and R5 5.0.0) from the canonical study.

One builder for both versions: each element is written by a small function. Where the versions only name, nest
or type an element differently, the builder asks `ctx.maps.place` (mappings/fhir/versions.yaml); only the
differences of meaning (status, enrolment count) branch on the version. Topics live in sibling modules:
study_status (titles, status, dates), study_design (phase, design, arms, outcomes), study_parties (sponsors,
investigators, contacts, sites); identity, conditions, descriptions and related artifacts are here. The mapping
table is docs/fhir-mapping.md.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from converters import __version__
from converters.model import IdentifierKind, Study
from converters.problem_codes import fhir_writer as kinds
from converters.targets.fhir import study_design, study_parties, study_status
from converters.targets.fhir.concepts import Concept, concept, typed_text
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft, minted_id, normalise_name
from converters.targets.fhir.enrollment import write_r4_enrollment, write_r5_recruitment
from converters.targets.fhir.maps import FhirMaps, nest, put
from converters.targets.fhir.narrative import narrative

# --- identity ----------------------------------------------------------------------------------------


class StudyKey(NamedTuple):
    """The business identifier a conditional update matches the study on."""

    system: str
    value: str
    project_kind: str | None  # None: the registry id; else the project identifier's kind (identifier_kinds)
    basis: str  # what it was derived from, for the report
    pointer: str | None = None  # the study value it was derived from (project identifiers only)


def study_business_identifier(study: Study, maps: FhirMaps) -> StudyKey:
    """The registry id when there is one; else a project identifier derived from the lead sponsor and the
    sponsor's protocol id; else one derived from the digest of the source file (and record)."""
    for ident in study.identifiers:
        if ident.kind is IdentifierKind.REGISTRY:
            registry = ident.registry or maps.registries.classify(ident.value)
            system = maps.registries.system(registry) if registry else None
            if system:
                return StudyKey(system, ident.value, None, "registry id")
    sponsor = study.sponsors.lead.name if study.sponsors.lead else None
    sponsor_id = next((i.value for i in study.identifiers if i.kind is IdentifierKind.SPONSOR), None)
    if sponsor and sponsor_id:
        value = minted_id("sponsor-study", f"{normalise_name(sponsor)}|{sponsor_id.strip()}")
        return StudyKey(maps.identifier_system("sponsor-study"), value, "sponsor-study",
                        "lead sponsor and sponsor's protocol id", "/sponsors/lead/name")
    value = study.source.sha256 + (f"/{study.source.record}" if study.source.record else "")
    return StudyKey(maps.identifier_system("source-record"), value, "source-record", "digest of the source file",
                    "/source/sha256")


def _identifiers(ctx: BuildContext, draft: Draft, key: StudyKey) -> None:
    study = ctx.study
    id_type_system = ctx.maps.project_system("identifier-type")
    registries = ctx.maps.registries
    for i, ident in enumerate(study.identifiers):
        kind = ctx.maps.value("identifier_kinds", ident.kind.value)
        registry = ident.registry or (registries.classify(ident.value) if ident.kind is not IdentifierKind.SPONSOR
                                      else None)
        system = registries.system(registry) if registry else None
        codings = [{"system": id_type_system, "code": kind["code"], "display": kind["display"]}]
        if ident.type and ctx.maps.display("SecondaryIdType", ident.type):
            codings.append(ctx.maps.ctgov_coding("SecondaryIdType", ident.type))
        text = kind["display"]
        if ident.type and not ctx.maps.display("SecondaryIdType", ident.type):
            text = f"{text} ({ident.type})"
        elif registry and registries.get(registry):
            text = f"{text} ({registries.get(registry).name})"  # type: ignore[union-attr]
        entry: dict[str, Any] = {"use": kind["use"], "type": concept(text, *codings)}
        if system:
            entry["system"] = system
        entry["value"] = ident.value.strip()
        inner: dict[tuple[str | int, ...], tuple[str, ...]] = {("value",): (f"/identifiers/{i}/value",)}
        if ident.type:
            inner[("type",)] = (f"/identifiers/{i}/type",)
        if ident.domain or (ident.kind is IdentifierKind.SPONSOR and study.sponsors.lead):
            assigner = ident.domain or study.sponsors.lead.name  # type: ignore[union-attr]
            entry["assigner"] = {"display": assigner.strip()}
            inner[("assigner",)] = (f"/identifiers/{i}/domain" if ident.domain else "/sponsors/lead/name",)
        draft.add("identifier", entry, inner=inner)
    if key.project_kind is not None:
        kind = ctx.maps.value("identifier_kinds", key.project_kind)
        draft.add("identifier", {
            "use": kind["use"],
            "type": concept(kind["display"], {"system": id_type_system, "code": kind["code"],
                                              "display": kind["display"]}),
            "system": key.system, "value": key.value,
        }, key.pointer or "")
        ctx.report(kinds.NO_BUSINESS_IDENTIFIER, "/identifiers", system=key.system, value=key.value, basis=key.basis)


# --- conditions, focus, keywords, countries ----------------------------------------------------------


def _coded(ctx: BuildContext, texts: list[str], base: str, codes_field: str) -> list[tuple[Concept, list[str]]]:
    """Concepts for source texts, with the source's codes merged in where a code's display is the text."""
    study = ctx.study
    codes = getattr(study, codes_field)
    out: list[tuple[Concept, list[str]]] = [(concept(t), [f"{base}/{i}"]) for i, t in enumerate(texts)]
    by_text = {normalise_name(t): n for n, t in enumerate(texts)}
    for j, code in enumerate(codes):
        system = ctx.maps.source_code_system(code.system)
        pointer = f"/{codes_field}/{j}"
        if system is None or not code.code:
            if code.display and normalise_name(code.display) not in by_text:
                out.append((concept(code.display), [pointer]))
            if system is None:
                ctx.report(kinds.CODE_SYSTEM_UNKNOWN, pointer, code=code.code, system=code.system)
            continue
        coding = {"system": system, "code": code.code}
        if code.display:
            coding["display"] = code.display
        n = by_text.get(normalise_name(code.display)) if code.display else None
        if n is not None:
            out[n][0].setdefault("coding", []).append(coding)
            out[n][1].append(pointer)
        else:
            out.append((concept(code.display, coding), [pointer]))
    return out


def _conditions_focus_keywords(ctx: BuildContext, draft: Draft) -> None:
    study = ctx.study
    focus = ctx.maps.place("ResearchStudy", "focus")
    for item, pointers in _coded(ctx, study.conditions, "/conditions", "condition_codes"):
        draft.add("condition", item, *pointers)
    names = [i.name for i in study.interventions]
    for item, pointers in _coded(ctx, names, "/interventions", "intervention_codes"):
        pointers = [p + "/name" if p.startswith("/interventions/") else p for p in pointers]
        draft.add(focus.element, nest(focus.steps[1:], item), *pointers)
    for i, keyword in enumerate(study.keywords):
        draft.add("keyword", concept(keyword), f"/keywords/{i}")
    countries: list[tuple[str, str]] = [(c, f"/countries/{i}") for i, c in enumerate(study.countries)]
    if not countries:
        countries = [(s.country, f"/sites/{i}/country") for i, s in enumerate(study.sites) if s.country]
    written: dict[str, int] = {}  # normalised name -> its index in location / region
    key = ctx.maps.place("ResearchStudy", "country").element
    for name, pointer in countries:
        if normalise_name(name) in written:  # a repeat: traced to the entry already written for it
            draft.note((key, written[normalise_name(name)]), pointer)
            continue
        written[normalise_name(name)] = len(written)
        code = ctx.maps.country_code(name)
        codings = [{"system": ctx.maps.country_system, "code": code}] if code else []
        draft.add(key, concept(name, *codings), pointer)


def _description(ctx: BuildContext, draft: Draft) -> None:
    """The brief summary and the detailed description, each in the element its version gives it; two texts that
    share an element (R4 has only `description`) are joined by a blank line."""
    texts: dict[str, list[tuple[str, str]]] = {}
    for key, text, pointer in (("brief-summary", ctx.study.brief_summary, "/brief_summary"),
                               ("detailed-description", ctx.study.detailed_description, "/detailed_description")):
        if text:
            where = ctx.maps.place("ResearchStudy", key)
            texts.setdefault(where.element, []).append((typed_text(ctx, where, pointer, text), pointer))
    for element, parts in texts.items():
        draft.set(element, "\n\n".join(t for t, _ in parts), *[p for _, p in parts])


# --- enrollment ------------------------------------------------------------------------------------


def _enrollment(ctx: BuildContext, draft: Draft, group: Draft | None) -> None:
    """The count and the eligibility Group (converters/targets/fhir/enrollment.py)."""
    # Not data: R4 keeps the count in the Group (quantity) and an extension, R5 reads it as planned or actual.
    if ctx.maps.r4:
        write_r4_enrollment(ctx, draft, group)
    else:
        write_r5_recruitment(ctx, draft, group)


# --- related artifacts -------------------------------------------------------------------------------


def related_artifact(ctx: BuildContext, kind: str, *, label: str | None = None, display: str | None = None,
                     url: str | None = None, citation: str | None = None, title: str | None = None) -> dict[str, Any]:
    """A RelatedArtifact; the url where the version puts it (R5 has no `url`: it moved to `document.url`)."""
    artifact: dict[str, Any] = {"type": ctx.maps.values["related_artifact_types"][kind][ctx.maps.version]}
    if label:
        artifact["label"] = label
    if display:
        artifact["display"] = display
    if citation:
        artifact["citation"] = citation
    if url:
        put(artifact, ctx.maps.place("RelatedArtifact", "url").steps, url)
    if title:
        artifact.setdefault("document", {})["title"] = title
    return artifact


def provenance_artifacts(ctx: BuildContext) -> list[tuple[dict[str, Any], list[str]]]:
    """Where the data came from: the source record and the converter (as HL7's CT.gov example does)."""
    study = ctx.study
    source = study.source
    registry_id = study.registry_id()
    record = f" record {source.record}" if source.record else ""
    display = f"{source.format} source {source.file}{record} (sha256 {source.sha256})"
    url = ctx.maps.source_record_url(source.format, registry_id)
    out = [(related_artifact(ctx, "source-record", label="source", display=display, url=url, title=source.file),
            ["/source/file", "/source/sha256"])]
    target = f"fhir-{ctx.maps.version.lower()}"
    out.append((related_artifact(ctx, "converter", label="converter",
                                 display=f"Converted by {ctx.maps.canonical['converter']['name']} {__version__} "
                                         f"({target} writer)",
                                 url=ctx.maps.canonical["converter"]["url"]), []))
    return out


def _reference_type(ctx: BuildContext, value: str | None) -> str | None:
    return (ctx.maps.display("ReferenceType", value) or value) if value else None


def _related(ctx: BuildContext, draft: Draft) -> None:
    study = ctx.study
    for artifact, pointers in provenance_artifacts(ctx):
        draft.add("relatedArtifact", artifact, *pointers)
    registries = ctx.maps.registries
    for i, ident in enumerate(study.identifiers):
        if ident.kind is not IdentifierKind.REGISTRY:
            continue
        registry = ident.registry or registries.classify(ident.value)
        url = ctx.maps.record_url(registry, ident.value)
        info = registries.get(registry) if registry else None
        if url and info:
            draft.add("relatedArtifact", related_artifact(ctx, "registry-record", label="registry record",
                                                          display=f"{info.name} record {ident.value}", url=url),
                      f"/identifiers/{i}/value")
    for i, ref in enumerate(study.references):
        url = ctx.maps.canonical["publication_url"].format(pmid=ref.pmid) if ref.pmid else None
        label = f"PMID {ref.pmid}" if ref.pmid else None
        if not (ref.citation or url):
            continue
        citation = ctx.markdown(f"/references/{i}/citation", ref.citation) if ref.citation else None
        draft.add("relatedArtifact", related_artifact(ctx, "reference", label=label, citation=citation, url=url,
                                                      display=_reference_type(ctx, ref.type)),
                  f"/references/{i}")
    for i, link in enumerate(study.links):
        draft.add("relatedArtifact", related_artifact(ctx, "link", label=link.label, url=link.url,
                                                      display=link.label), f"/links/{i}")
    for i, rel in enumerate(study.related_studies):
        registry = registries.classify(rel.identifier)
        kind = ctx.maps.values["related_study_kinds"].get(rel.relation, "related-study")
        display = f"Related study ({rel.relation})" + (f": {rel.title.strip()}" if rel.title else "")
        draft.add("relatedArtifact", related_artifact(ctx, kind, label=rel.identifier.strip(), display=display,
                                                      url=ctx.maps.record_url(registry, rel.identifier.strip())),
                  f"/related_studies/{i}")


# --- the resource ------------------------------------------------------------------------------------


def build_research_study(ctx: BuildContext, key: StudyKey, group: Draft | None, plan: Draft | None) -> Draft:
    """The ResearchStudy draft; `key` is the study's business identifier."""
    rid = minted_id("ResearchStudy", f"{key.system}|{key.value}")
    draft = ctx.add_draft(Draft("ResearchStudy", rid, identifier_system=key.system, identifier_value=key.value))
    _identifiers(ctx, draft, key)
    study_status.write_titles(ctx, draft)
    study_status.write_status(ctx, draft)
    study_status.write_dates(ctx, draft)
    if plan is not None:
        draft.add("protocol", plan.reference(plan.body.get("title")))
    study_design.write_phase(ctx, draft)
    study_design.write_design(ctx, draft)
    study_design.write_primary_purpose(ctx, draft)
    _conditions_focus_keywords(ctx, draft)
    _description(ctx, draft)
    _enrollment(ctx, draft, group)
    study_parties.write_sponsors(ctx, draft)
    study_parties.write_investigators(ctx, draft)
    study_parties.write_contacts(ctx, draft)
    study_parties.write_sites(ctx, draft)
    if ctx.study.status.why_stopped:
        draft.set(ctx.maps.place("ResearchStudy", "why-stopped").element, concept(ctx.study.status.why_stopped),
                  "/status/why_stopped")
    study_design.write_arms(ctx, draft)
    study_design.write_outcomes(ctx, draft)
    _related(ctx, draft)
    draft.body["text"] = _narrative(ctx, draft)
    return draft


def _narrative(ctx: BuildContext, draft: Draft) -> dict[str, str]:
    study = ctx.study
    body = draft.body
    idents = [f"{i.get('value')} ({i['type'].get('text')})" for i in body.get("identifier", [])
              if i.get("value") and i.get("type")]
    status = study_status.registry_status_concept(ctx).get("text", "")
    period = body.get("period", {})
    start, end = period.get("start"), period.get("end")
    when = f"{start} to {end}" if start and end else f"from {start}" if start else f"to {end}" if end else ""
    enrollment = study.design.enrollment
    enrolled = f"{enrollment.count}" + (f" ({enrollment.type.lower()})" if enrollment and enrollment.type else "") \
        if enrollment else ""
    rows = [
        ("Identifiers", idents),
        ("Status", [status] if status else []),
        ("Phase", [body["phase"]["text"]] if "phase" in body else []),
        ("Conditions", list(study.conditions)),
        ("Period", [when] if when else []),
        ("Enrollment", [enrolled] if enrolled else []),
        ("Lead sponsor", [study.sponsors.lead.name] if study.sponsors.lead else []),
        ("Sponsors (lead or collaborator not stated)", [o.name for o in study.sponsors.role_unstated]),
        ("Collaborators", [c.name for c in study.sponsors.collaborators]),
        ("Sites", [s.facility or ", ".join(p for p in (s.city, s.country) if p) for s in study.sites]),
    ]
    arms = [a.label + (f": {a.description}" if a.description else "") for a in study.arms]
    outcomes = [f"{o.measure}" + (f" [{o.time_frame}]" if o.time_frame else "") for o in study.outcomes]
    return narrative(body.get("title") or "Research study", rows, [("Arms", arms), ("Outcome measures", outcomes)])
