"""ResearchStudy parties: sponsors, collaborators, investigators, central contacts and sites (R4 and R5).

R5 lists every party under `associatedParty` with its role; R4 has dedicated elements for some (`sponsor`,
`principalInvestigator`, `contact`) and the project's associated-party extension for the rest. Which element
each version has is looked up in `ctx.maps.place` (mappings/fhir/versions.yaml). The Organization,
Practitioner, PractitionerRole and Location resources themselves are made by `parties`.
"""

from __future__ import annotations

from typing import Any

from converters.model import Contact
from converters.targets.fhir import parties
from converters.targets.fhir.concepts import Concept, concept, ctgov_concept, hl7_coding
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft, ElementPath


def _role(ctx: BuildContext, code: str | None, text: str) -> Concept:
    """A party role: its text, with its research-study-party-role code where the role has one."""
    return concept(text, hl7_coding(ctx, "research-study-party-role", code)) if code else concept(text)


def _fixed_role(ctx: BuildContext, role: str) -> Concept:
    """One of the roles the mapping names by key (lead-sponsor, sponsor, collaborator, central-contact)."""
    return _role(ctx, ctx.maps.values["party_roles"][role], ctx.maps.values["party_role_texts"][role])


def _associate(ctx: BuildContext, draft: Draft, role: Concept, party: Draft | None, name: str | None,
               pointers: list[str], classifier: Concept | None = None) -> None:
    """An associated party: the version's element (name, role, classifier, party), or the project's extension
    where the version has none (role, name, party; no classifier)."""
    where = ctx.maps.place("ResearchStudy", "associated-party")
    if where.path:
        entry: dict[str, Any] = {}
        if name:
            entry["name"] = name.strip()
        entry["role"] = role
        if classifier:
            entry["classifier"] = [classifier]
        if party is not None:
            entry["party"] = party.reference(name)
        draft.add(where.element, entry, *pointers)
    elif where.extension:
        parts: list[dict[str, Any]] = [{"url": "role", "valueCodeableConcept": role}]
        if name:
            parts.append({"url": "name", "valueString": name.strip()})
        if party is not None:
            parts.append({"url": "party", "valueReference": party.reference(name)})
        draft.add("extension", {"url": ctx.maps.extension(where.extension), "extension": parts}, *pointers)


def _agency_class(ctx: BuildContext, cls: str | None) -> Concept | None:
    """The associated party's classifier: the sponsor's CT.gov agency class, where the mapping knows it."""
    return ctgov_concept(ctx, "AgencyClass", cls) if cls and ctx.maps.display("AgencyClass", cls) else None


def write_sponsors(ctx: BuildContext, draft: Draft) -> None:
    sponsors = ctx.study.sponsors
    if sponsors.lead:
        org = parties.organization(ctx, sponsors.lead.name, sponsors.lead.organization_class, "/sponsors/lead/name",
                                   "/sponsors/lead/organization_class")
        lead = ctx.maps.place("ResearchStudy", "lead-sponsor")
        if lead.path:
            draft.set(lead.element, org.reference(sponsors.lead.name.strip()), "/sponsors/lead/name")
        else:  # via the associated parties
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


def write_investigators(ctx: BuildContext, draft: Draft) -> None:
    """The officials and the responsible investigator: each a PractitionerRole, referred to once per role; the
    first principal investigator goes to the version's own element where it has one."""
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
    pi = ctx.maps.place("ResearchStudy", "principal-investigator")
    for role_concept, code, role, name, pointers in people:
        if pi.path and not pi_written and code == roles["officials"]["PRINCIPAL_INVESTIGATOR"]:
            draft.set(pi.element, role.reference(name.strip()), *pointers)
            pi_written = True
            done.add((code, role.id))
            continue
        if (code, role.id) in done:
            continue
        done.add((code, role.id))
        _associate(ctx, draft, role_concept, role, name, pointers)


def write_contacts(ctx: BuildContext, draft: Draft) -> None:
    """The central contacts: the version's contact element (a ContactDetail: name, telecom) where it has one,
    else a Practitioner as an associated party."""
    where = ctx.maps.place("ResearchStudy", "central-contact")
    for i, contact in enumerate(ctx.study.central_contacts):
        base = f"/central_contacts/{i}"
        if where.path:
            detail: dict[str, Any] = {}
            inner: dict[ElementPath, tuple[str, ...]] = {}
            if contact.name:
                detail["name"] = contact.name.strip()
                inner[("name",)] = (f"{base}/name",)
            points = parties.telecom(contact)
            if points:
                detail["telecom"] = points
                for n, pointer in enumerate(parties.telecom_sources(contact, base)):
                    inner[("telecom", n)] = (pointer,)
            if detail:
                draft.add(where.element, detail, inner=inner)
            continue
        person = parties.practitioner(ctx, contact.name, None, contact, base, fallback_identity=f"contact|{i}")
        _associate(ctx, draft, _fixed_role(ctx, "central-contact"), person, contact.name,
                   [f"{base}/name"] if contact.name else parties.telecom_sources(contact, base))


def write_sites(ctx: BuildContext, draft: Draft) -> None:
    """One `site` per distinct site (parties.site_identity); a repeated entry traces to the reference it shares."""
    written: dict[str | None, int] = {}  # reference -> index of its first `site` entry (no rescan per site)
    for n, ref in enumerate(draft.body.get("site", [])):
        written.setdefault(ref.get("reference"), n)
    for i, site in enumerate(ctx.study.sites):
        location = parties.site_location(ctx, site, i)
        if location.full_url in written:
            draft.note(("site", written[location.full_url]), f"/sites/{i}")
        else:
            written[location.full_url] = draft.add("site", location.reference(location.body.get("name")),
                                                   f"/sites/{i}")
        for j, contact in enumerate(site.contacts):
            _site_contact(ctx, contact, location, f"/sites/{i}/contacts/{j}", f"site|{i}|{j}")


def _site_contact(ctx: BuildContext, contact: Contact, location: Draft, base: str, fallback: str) -> None:
    person = parties.practitioner(ctx, contact.name, None, contact, base, fallback_identity=fallback)
    role = None
    if contact.role:
        label = ctx.maps.display("ContactRole", contact.role)
        role = ctgov_concept(ctx, "ContactRole", contact.role) if label else concept(contact.role)
    parties.practitioner_role(ctx, person, role, [f"{base}/role"] if contact.role else [], site=location)
