"""ResearchStudy (R4 4.0.1 and R5 5.0.0) from the canonical study.

One builder for both versions: each element is written by a small function, and the few places where the
versions differ (status, titles, parties, recruitment, arms, outcomes, related artifacts) branch on
`ctx.maps.version`. The mapping table is docs/fhir-mapping.md.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from converters import __version__
from converters.model import Contact, IdentifierKind, PartialDate, Study
from converters.problem_codes import fhir_writer as kinds
from converters.targets.fhir import parties
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft, minted_id, normalise_name
from converters.targets.fhir.enrollment import write_r4_enrollment, write_r5_recruitment
from converters.targets.fhir.maps import FhirMaps
from converters.targets.fhir.narrative import narrative

Concept = dict[str, Any]


def concept(text: str | None, *codings: dict[str, str]) -> Concept:
    """A CodeableConcept with the codings given (none = text only)."""
    out: Concept = {}
    if codings:
        out["coding"] = list(codings)
    if text:
        out["text"] = text.strip()
    return out


def ctgov_concept(ctx: BuildContext, enum: str, value: str, *first: dict[str, str]) -> Concept:
    """HL7 codings (if any) first, then the CT.gov token, with the CT.gov label as text."""
    return concept(ctx.maps.display(enum, value) or value, *first, ctx.maps.ctgov_coding(enum, value))


def hl7_coding(ctx: BuildContext, system: str, code: str) -> dict[str, str]:
    return {"system": ctx.maps.hl7_system(system), "code": code}


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


# --- titles, status, dates ---------------------------------------------------------------------------


def _titles(ctx: BuildContext, draft: Draft) -> None:
    titles = ctx.study.titles
    main = titles.brief or titles.official
    if main:
        draft.set("title", main.strip(), "/titles/brief" if titles.brief else "/titles/official")
    others = []
    if titles.official and titles.brief:
        others.append(("official", titles.official, "/titles/official"))
    if titles.acronym:
        others.append(("acronym", titles.acronym, "/titles/acronym"))
    for code, value, pointer in others:
        label: str = ctx.maps.values["title_types"][code]
        coding = hl7_coding(ctx, "title-type", code)
        if ctx.maps.r4:
            draft.add("extension", {"url": ctx.maps.extension("other-title"), "extension": [
                {"url": "type", "valueCoding": {**coding, "display": label}},
                {"url": "value", "valueString": value.strip()},
            ]}, pointer)
        else:
            draft.add("label", {"type": concept(label, coding), "value": value.strip()}, pointer)


def _registry_status_concept(ctx: BuildContext) -> Concept:
    status = ctx.study.status
    if status.overall:
        text = ctx.maps.display("Status", status.overall) or status.overall
        if status.overall == "UNKNOWN" and status.last_known:
            text += f" (last known status: {ctx.maps.display('Status', status.last_known) or status.last_known})"
        return concept(text, ctx.maps.ctgov_coding("Status", status.overall))
    if status.overall_text:
        return concept(status.overall_text)
    return concept("Not stated in the source")


def _status_pointers(ctx: BuildContext) -> list[str]:
    """The study values a written status comes from."""
    status = ctx.study.status
    return [p for p, v in (("/status/overall", status.overall), ("/status/last_known", status.last_known),
                           ("/status/overall_text", status.overall_text)) if v]


def _status_r4(ctx: BuildContext, draft: Draft) -> None:
    status = ctx.study.status
    table = ctx.maps.values["overall_status"]
    code: str | None = None
    exact = False
    source = status.overall
    if source and source in table:
        row = table[source]
        code, exact = row["r4"], row["exact"]
        if row.get("use_last_known") and status.last_known in table:
            code = table[status.last_known]["r4"]
    pointers = _status_pointers(ctx)
    if code is None:
        _status_absent_r4(ctx, draft, pointers)
    else:
        if not exact:
            ctx.report(kinds.STATUS_LOSSY, "/status/overall", status=source, code=code)
        draft.set("status", code, *pointers)
    draft.add("extension", {"url": ctx.maps.extension("registry-status"),
                            "valueCodeableConcept": _registry_status_concept(ctx)}, *pointers)


def _status_absent_r4(ctx: BuildContext, draft: Draft, pointers: list[str]) -> None:
    """R4 `status` is 1..1 but the source states none: the element is given only its data-absent-reason
    extension (`_status`), FHIR's form for a required primitive with no value, rather than an invented code."""
    status = ctx.study.status
    reason: str = ctx.maps.values["status_absent_reason_r4"]
    stated = status.overall or status.overall_text
    detail = f"status {stated!r}" if stated else "none given"
    ctx.report(kinds.STATUS_ABSENT, "/status/overall", detail=detail, reason=reason)
    draft.set("_status", {"extension": [{"url": ctx.maps.hl7_extension("data-absent-reason"), "valueCode": reason}]},
              *pointers)


def _milestone_coding(ctx: BuildContext, milestone: dict[str, str]) -> dict[str, str]:
    return {"system": ctx.maps.project_system("milestone"), "code": milestone["code"],
            "display": milestone["display"]}


def _dates(ctx: BuildContext, draft: Draft) -> None:
    status = ctx.study.status
    period: dict[str, str] = {}
    if status.start:
        period["start"] = status.start.value
    if status.completion:
        period["end"] = status.completion.value
    if period:
        draft.body["period"] = period
        if status.start:
            draft.note(("period", "start"), "/status/start")
        if status.completion:
            draft.note(("period", "end"), "/status/completion")
    milestones: dict[str, dict[str, str]] = ctx.maps.values["milestones"]
    for field_name, milestone in milestones.items():
        date: PartialDate | None = getattr(status, field_name)
        if date is None:
            continue
        pointer = f"/status/{field_name}"
        if ctx.maps.r4:
            parts: list[dict[str, Any]] = [{"url": "milestone", "valueCoding": _milestone_coding(ctx, milestone)},
                                           {"url": "date", "valueDateTime": date.value}]
            if date.type:
                parts.append({"url": "type", "valueCode": date.type})
            draft.add("extension", {"url": ctx.maps.extension("milestone"), "extension": parts}, pointer)
        else:
            entry: dict[str, Any] = {"state": concept(milestone["display"], _milestone_coding(ctx, milestone))}
            if date.type:
                entry["actual"] = date.type == "ACTUAL"
            entry["period"] = {"end" if "completion" in field_name else "start": date.value}
            draft.add("progressStatus", entry, pointer)


def _status_r5(ctx: BuildContext, draft: Draft) -> None:
    status = ctx.study.status
    draft.set("status", ctx.maps.values["r5_record_status"])
    pointers = _status_pointers(ctx)
    state = _registry_status_concept(ctx)
    row = ctx.maps.values["overall_status"].get(status.overall or "")
    if row and row["r5"]:
        state["coding"].insert(0, hl7_coding(ctx, "research-study-status", row["r5"]))
    if status.overall or status.overall_text:
        draft.add("progressStatus", {"state": state}, *pointers)
    start, end = status.start, status.completion
    if start or end:
        overall = ctx.maps.values["overall_study_state"]
        entry: dict[str, Any] = {"state": concept(overall["text"],
                                                  hl7_coding(ctx, "research-study-status", overall["code"]))}
        types = {d.type for d in (start, end) if d is not None}
        if len(types) == 1 and None not in types:
            entry["actual"] = types == {"ACTUAL"}
        entry["period"] = {k: d.value for k, d in (("start", start), ("end", end)) if d is not None}
        draft.add("progressStatus", entry, *[p for p, d in (("/status/start", start), ("/status/completion", end))
                                              if d is not None])


# --- design ------------------------------------------------------------------------------------------


def _phase(ctx: BuildContext, draft: Draft) -> None:
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


def _design(ctx: BuildContext, draft: Draft) -> None:
    design = ctx.study.design
    key = "category" if ctx.maps.r4 else "studyDesign"
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


def _primary_purpose(ctx: BuildContext, draft: Draft) -> None:
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
    for item, pointers in _coded(ctx, study.conditions, "/conditions", "condition_codes"):
        draft.add("condition", item, *pointers)
    names = [i.name for i in study.interventions]
    for item, pointers in _coded(ctx, names, "/interventions", "intervention_codes"):
        pointers = [p + "/name" if p.startswith("/interventions/") else p for p in pointers]
        draft.add("focus", item if ctx.maps.r4 else {"concept": item}, *pointers)
    for i, keyword in enumerate(study.keywords):
        draft.add("keyword", concept(keyword), f"/keywords/{i}")
    countries: list[tuple[str, str]] = [(c, f"/countries/{i}") for i, c in enumerate(study.countries)]
    if not countries:
        countries = [(s.country, f"/sites/{i}/country") for i, s in enumerate(study.sites) if s.country]
    written: dict[str, int] = {}  # normalised name -> its index in location / region
    key = "location" if ctx.maps.r4 else "region"
    for name, pointer in countries:
        if normalise_name(name) in written:  # a repeat: traced to the entry already written for it
            draft.note((key, written[normalise_name(name)]), pointer)
            continue
        written[normalise_name(name)] = len(written)
        code = ctx.maps.country_code(name)
        codings = [{"system": ctx.maps.country_system, "code": code}] if code else []
        draft.add(key, concept(name, *codings), pointer)


def _description(ctx: BuildContext, draft: Draft) -> None:
    brief, detailed = ctx.study.brief_summary, ctx.study.detailed_description
    if ctx.maps.r4:
        parts = [(ctx.markdown(p, t), p) for t, p in ((brief, "/brief_summary"), (detailed, "/detailed_description"))
                 if t]
        if parts:
            draft.set("description", "\n\n".join(t for t, _ in parts), *[p for _, p in parts])
        return
    if brief:
        draft.set("descriptionSummary", ctx.markdown("/brief_summary", brief), "/brief_summary")
    if detailed:
        draft.set("description", ctx.markdown("/detailed_description", detailed), "/detailed_description")


# --- parties -----------------------------------------------------------------------------------------


def _role(ctx: BuildContext, code: str | None, text: str) -> Concept:
    """A party role: its text, with its research-study-party-role code where the role has one."""
    return concept(text, hl7_coding(ctx, "research-study-party-role", code)) if code else concept(text)


def _fixed_role(ctx: BuildContext, role: str) -> Concept:
    """One of the roles the mapping names by key (lead-sponsor, sponsor, collaborator, central-contact)."""
    return _role(ctx, ctx.maps.values["party_roles"][role], ctx.maps.values["party_role_texts"][role])


def _associate(ctx: BuildContext, draft: Draft, role: Concept, party: Draft | None, name: str | None,
               pointers: list[str], classifier: Concept | None = None) -> None:
    """R5 associatedParty, or in R4 the project's associated-party extension (R4 has no such element)."""
    if ctx.maps.r4:
        parts: list[dict[str, Any]] = [{"url": "role", "valueCodeableConcept": role}]
        if name:
            parts.append({"url": "name", "valueString": name.strip()})
        if party is not None:
            parts.append({"url": "party", "valueReference": party.reference(name)})
        draft.add("extension", {"url": ctx.maps.extension("associated-party"), "extension": parts}, *pointers)
        return
    entry: dict[str, Any] = {}
    if name:
        entry["name"] = name.strip()
    entry["role"] = role
    if classifier:
        entry["classifier"] = [classifier]
    if party is not None:
        entry["party"] = party.reference(name)
    draft.add("associatedParty", entry, *pointers)


def _agency_class(ctx: BuildContext, cls: str | None) -> Concept | None:
    """R5 associatedParty.classifier: the sponsor's CT.gov agency class, where the mapping knows it."""
    return ctgov_concept(ctx, "AgencyClass", cls) if cls and ctx.maps.display("AgencyClass", cls) else None


def _sponsors(ctx: BuildContext, draft: Draft) -> None:
    sponsors = ctx.study.sponsors
    if sponsors.lead:
        org = parties.organization(ctx, sponsors.lead.name, sponsors.lead.organization_class, "/sponsors/lead/name",
                                   "/sponsors/lead/organization_class")
        if ctx.maps.r4:
            draft.set("sponsor", org.reference(sponsors.lead.name.strip()), "/sponsors/lead/name")
        else:
            _associate(ctx, draft, _fixed_role(ctx, "lead-sponsor"), org, sponsors.lead.name,
                       ["/sponsors/lead/name"], _agency_class(ctx, sponsors.lead.organization_class))
    for i, org_info in enumerate(sponsors.role_unstated):  # listed as sponsors, lead or collaborator not said
        base = f"/sponsors/role_unstated/{i}"
        org = parties.organization(ctx, org_info.name, org_info.organization_class, f"{base}/name",
                                   f"{base}/organization_class")
        _associate(ctx, draft, _fixed_role(ctx, "sponsor"), org, org_info.name, [f"{base}/name"])
    for i, collaborator in enumerate(sponsors.collaborators):
        base = f"/sponsors/collaborators/{i}"
        org = parties.organization(ctx, collaborator.name, collaborator.organization_class, f"{base}/name",
                                   f"{base}/organization_class")
        _associate(ctx, draft, _fixed_role(ctx, "collaborator"), org, collaborator.name, [f"{base}/name"],
                   _agency_class(ctx, collaborator.organization_class))


def _investigators(ctx: BuildContext, draft: Draft) -> None:
    study = ctx.study
    roles = ctx.maps.values["party_roles"]
    texts = ctx.maps.values["party_role_texts"]
    done: set[tuple[str | None, str]] = set()
    pi_written = False
    people: list[tuple[Concept, str | None, Draft, str, list[str]]] = []
    for i, official in enumerate(study.officials):
        base = f"/officials/{i}"
        person = parties.practitioner(ctx, official.name, official.degrees, None, base,
                                      fallback_identity=f"official|{i}")
        org = parties.organization(ctx, official.affiliation, None, f"{base}/affiliation") \
            if official.affiliation else None
        label = ctx.maps.display("OfficialRole", official.role) if official.role else None
        role_text = label or official.role or texts["official-role-not-stated"]
        role_concept = ctgov_concept(ctx, "OfficialRole", official.role) if label and official.role \
            else concept(role_text)
        role = parties.practitioner_role(ctx, person, role_concept, [f"{base}/role"] if official.role else [], org)
        code = roles["officials"].get(official.role or "")
        people.append((_role(ctx, code, role_text), code, role, official.name, [f"{base}/name"]))
    rp = study.sponsors.responsible_party
    # A named investigator is written when the type is an investigator type, or when the source names the
    # person without stating the type (a registry page): then the role is text only, no code is guessed.
    if rp and rp.investigator_name and (rp.type is None or rp.type in roles["responsible_party"]):
        base = "/sponsors/responsible_party"
        person = parties.practitioner(ctx, rp.investigator_name, None, None, base,
                                      fallback_identity="responsible-party",
                                      name_pointer=f"{base}/investigator_name")
        org = parties.organization(ctx, rp.investigator_affiliation, None, f"{base}/investigator_affiliation") \
            if rp.investigator_affiliation else None
        if rp.type:
            label = ctx.maps.display("ResponsiblePartyType", rp.type) or rp.type
            role = parties.practitioner_role(ctx, person, ctgov_concept(ctx, "ResponsiblePartyType", rp.type),
                                             [f"{base}/type"], org)
            code = roles["responsible_party"][rp.type]
            party_role = _role(ctx, code, texts["responsible-party"].format(type=label))
        else:
            role = parties.practitioner_role(ctx, person, concept(texts["responsible-party-untyped-role"]), [], org)
            code = None
            party_role = _role(ctx, None, texts["responsible-party-type-not-stated"])
        if rp.investigator_title and not any(c.get("text") == rp.investigator_title.strip()
                                             for c in role.body.get("code", [])):
            role.add("code", concept(rp.investigator_title), f"{base}/investigator_title")
        people.append((party_role, code, role, rp.investigator_name, [f"{base}/investigator_name"]))
    for role_concept, code, role, name, pointers in people:
        if ctx.maps.r4 and not pi_written and code == roles["officials"]["PRINCIPAL_INVESTIGATOR"]:
            draft.set("principalInvestigator", role.reference(name.strip()), *pointers)
            pi_written = True
            done.add((code, role.id))
            continue
        if (code, role.id) in done:
            continue
        done.add((code, role.id))
        _associate(ctx, draft, role_concept, role, name, pointers)


def _contacts(ctx: BuildContext, draft: Draft) -> None:
    for i, contact in enumerate(ctx.study.central_contacts):
        base = f"/central_contacts/{i}"
        if ctx.maps.r4:
            detail: dict[str, Any] = {}
            inner: dict[tuple[str | int, ...], tuple[str, ...]] = {}
            if contact.name:
                detail["name"] = contact.name.strip()
                inner[("name",)] = (f"{base}/name",)
            points = parties.telecom(contact)
            if points:
                detail["telecom"] = points
                for n, pointer in enumerate(parties.telecom_sources(contact, base)):
                    inner[("telecom", n)] = (pointer,)
            if detail:
                draft.add("contact", detail, inner=inner)
            continue
        person = parties.practitioner(ctx, contact.name, None, contact, base, fallback_identity=f"contact|{i}")
        _associate(ctx, draft, _fixed_role(ctx, "central-contact"), person, contact.name,
                   [f"{base}/name"] if contact.name else parties.telecom_sources(contact, base))


def _sites(ctx: BuildContext, draft: Draft) -> None:
    """One `site` per distinct site (parties.site_identity); a repeated entry traces to the reference it shares."""
    for i, site in enumerate(ctx.study.sites):
        location = parties.site_location(ctx, site, i)
        refs = [r.get("reference") for r in draft.body.get("site", [])]
        if location.full_url in refs:
            draft.note(("site", refs.index(location.full_url)), f"/sites/{i}")
        else:
            draft.add("site", location.reference(location.body.get("name")), f"/sites/{i}")
        for j, contact in enumerate(site.contacts):
            _site_contact(ctx, contact, location, f"/sites/{i}/contacts/{j}", f"site|{i}|{j}")


def _site_contact(ctx: BuildContext, contact: Contact, location: Draft, base: str, fallback: str) -> None:
    person = parties.practitioner(ctx, contact.name, None, contact, base, fallback_identity=fallback)
    role = None
    if contact.role:
        label = ctx.maps.display("ContactRole", contact.role)
        role = ctgov_concept(ctx, "ContactRole", contact.role) if label else concept(contact.role)
    parties.practitioner_role(ctx, person, role, [f"{base}/role"] if contact.role else [], site=location)


# --- enrollment, arms, outcomes ----------------------------------------------------------------------


def _enrollment(ctx: BuildContext, draft: Draft, group: Draft | None) -> None:
    """The count and the eligibility Group (converters/writers/fhir/enrollment.py)."""
    if ctx.maps.r4:
        write_r4_enrollment(ctx, draft, group)
    else:
        write_r5_recruitment(ctx, draft, group)


def _arms(ctx: BuildContext, draft: Draft) -> None:
    for i, arm in enumerate(ctx.study.arms):
        base = f"/arms/{i}"
        entry: dict[str, Any] = {}
        inner: dict[tuple[str | int, ...], tuple[str, ...]] = {("name",): (f"{base}/label",)}
        if not ctx.maps.r4:
            entry["linkId"] = f"arm-{i + 1}"
        entry["name"] = arm.label.strip()
        if arm.type:
            label = ctx.maps.display("ArmGroupType", arm.type)
            r5_code = None if ctx.maps.r4 else ctx.maps.value("arm_type_r5", arm.type)
            first = [hl7_coding(ctx, "research-study-arm-type", r5_code)] if r5_code else []
            entry["type"] = ctgov_concept(ctx, "ArmGroupType", arm.type, *first) if label else concept(arm.type)
            inner[("type",)] = (f"{base}/type",)
        if arm.description:
            entry["description"] = arm.description.strip() if ctx.maps.r4 else \
                ctx.markdown(f"{base}/description", arm.description)  # R4 string, R5 markdown
            inner[("description",)] = (f"{base}/description",)
        draft.add("arm" if ctx.maps.r4 else "comparisonGroup", entry, inner=inner)


def _outcomes(ctx: BuildContext, draft: Draft) -> None:
    for i, outcome in enumerate(ctx.study.outcomes):
        base = f"/outcomes/{i}"
        code = ctx.maps.value("objective_type", outcome.kind.value)
        label = ctx.maps.values["objective_type_labels"][outcome.kind.value]
        kind = concept(label, hl7_coding(ctx, "research-study-objective-type", code)) if code else concept(label)
        entry: dict[str, Any] = {}
        inner: dict[tuple[str | int, ...], tuple[str, ...]] = {("name",): (f"{base}/measure",),
                                                               ("type",): (f"{base}/kind",)}
        extensions: list[dict[str, Any]] = []
        if outcome.time_frame:
            extensions.append({"url": ctx.maps.extension("time-frame"), "valueString": outcome.time_frame.strip()})
            inner[("extension", 0)] = (f"{base}/time_frame",)
        if ctx.maps.r4 and outcome.description:
            extensions.append({"url": ctx.maps.extension("outcome-description"),
                               "valueMarkdown": ctx.markdown(f"{base}/description", outcome.description)})
            inner[("extension", len(extensions) - 1)] = (f"{base}/description",)
        if extensions:
            entry["extension"] = extensions
        entry["name"] = outcome.measure.strip()
        if ctx.maps.r4:
            entry["type"] = kind
            draft.add("objective", entry, inner=inner)
            continue
        entry["type"] = [kind]
        inner[("type", 0)] = inner.pop(("type",))
        if outcome.description:
            entry["description"] = ctx.markdown(f"{base}/description", outcome.description)
            inner[("description",)] = (f"{base}/description",)
        draft.add("outcomeMeasure", entry, inner=inner)


# --- related artifacts -------------------------------------------------------------------------------


def related_artifact(ctx: BuildContext, kind: str, *, label: str | None = None, display: str | None = None,
                     url: str | None = None, citation: str | None = None, title: str | None = None) -> dict[str, Any]:
    """A RelatedArtifact in the version's shape (R5 has no `url`: it moved to `document.url`)."""
    artifact: dict[str, Any] = {"type": ctx.maps.values["related_artifact_types"][kind][ctx.maps.version]}
    if label:
        artifact["label"] = label
    if display:
        artifact["display"] = display
    if citation:
        artifact["citation"] = citation
    if ctx.maps.r4 and url:
        artifact["url"] = url
    document: dict[str, str] = {}
    if url and not ctx.maps.r4:
        document["url"] = url
    if title:
        document["title"] = title
    if document:
        artifact["document"] = document
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
    _titles(ctx, draft)
    if ctx.maps.r4:
        _status_r4(ctx, draft)
    else:
        _status_r5(ctx, draft)
    _dates(ctx, draft)
    if plan is not None:
        draft.add("protocol", plan.reference(plan.body.get("title")))
    _phase(ctx, draft)
    _design(ctx, draft)
    _primary_purpose(ctx, draft)
    _conditions_focus_keywords(ctx, draft)
    _description(ctx, draft)
    _enrollment(ctx, draft, group)
    _sponsors(ctx, draft)
    _investigators(ctx, draft)
    _contacts(ctx, draft)
    _sites(ctx, draft)
    if ctx.study.status.why_stopped:
        draft.set("reasonStopped" if ctx.maps.r4 else "whyStopped", concept(ctx.study.status.why_stopped),
                  "/status/why_stopped")
    _arms(ctx, draft)
    _outcomes(ctx, draft)
    _related(ctx, draft)
    draft.body["text"] = _narrative(ctx, draft)
    return draft


def _narrative(ctx: BuildContext, draft: Draft) -> dict[str, str]:
    study = ctx.study
    body = draft.body
    idents = [f"{i.get('value')} ({i['type'].get('text')})" for i in body.get("identifier", [])
              if i.get("value") and i.get("type")]
    status = _registry_status_concept(ctx).get("text", "")
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
