"""Organization, Location, Practitioner and PractitionerRole: only the data the source gives.

Identity (and so the resource id and the business identifier used for conditional updates):
- an Organization is its normalised name, shared across studies (a sponsor of many studies is one resource);
- a Location is every field the source states about the site: facility, city, state, postal code, country and
  geo point (never the name alone: one sponsor's "Investigative Site" in one city at four postal codes is four
  sites), shared across studies; exact repeats within a study are one Location whose trace lists every entry;
  a site without a facility name belongs to its study only;
- a Practitioner is its normalised name within one study (two studies' "J. Smith" may be different people);
- a PractitionerRole is practitioner + role + organisation/site within the study.
"""

from __future__ import annotations

from typing import Any

from converters.model import Contact, Site
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft, normalise_name


def telecom(contact: Contact) -> list[dict[str, str]]:
    """ContactPoints for the phone and e-mail a contact gives (the extension kept with the number).

    No `use` (work, home, mobile): registries publish a number or an address without saying which it is.
    """
    points: list[dict[str, str]] = []
    if contact.phone:
        value = contact.phone.strip()
        if contact.phone_ext:
            value = f"{value} ext. {contact.phone_ext.strip()}"
        points.append({"system": "phone", "value": value})
    if contact.email:
        points.append({"system": "email", "value": contact.email.strip()})
    return points


def telecom_sources(contact: Contact, base: str) -> list[str]:
    pointers = []
    if contact.phone:
        pointers.append(f"{base}/phone")
    if contact.email:
        pointers.append(f"{base}/email")
    return pointers


def organization(ctx: BuildContext, name: str, agency_class: str | None, name_pointer: str,
                 class_pointer: str | None = None) -> Draft:
    """The Organization of this name (one per name, whichever study or role names it)."""
    draft = ctx.mint("Organization", "organization", normalise_name(name), scoped=False)
    if not draft.filled:
        draft.filled = True
        draft.set("name", name.strip(), name_pointer)
    else:
        draft.note(("name",), name_pointer)
    if agency_class and "type" not in draft.body:
        concept: dict[str, Any] = {"coding": [], "text": ctx.maps.display("AgencyClass", agency_class) or agency_class}
        fhir_code = ctx.maps.value("organization_type", agency_class)
        if fhir_code:
            concept["coding"].append({"system": ctx.maps.hl7_system("organization-type"), "code": fhir_code})
        concept["coding"].append(ctx.maps.ctgov_coding("AgencyClass", agency_class))
        draft.add("type", concept, class_pointer or "")
    return draft


def practitioner(ctx: BuildContext, name: str | None, degrees: str | None, contact: Contact | None,
                 base: str, *, fallback_identity: str, name_pointer: str | None = None) -> Draft:
    """A Practitioner with the name (as written, not split) and the phone / e-mail the source gives."""
    identity = normalise_name(name) if name else fallback_identity
    draft = ctx.mint("Practitioner", "practitioner", identity, scoped=True)
    if name and "name" in draft.body:
        draft.note(("name", 0, "text"), name_pointer or f"{base}/name")
    elif name:
        human: dict[str, Any] = {"text": name.strip()}
        inner: dict[tuple[str | int, ...], tuple[str, ...]] = {("text",): (name_pointer or f"{base}/name",)}
        if degrees:
            human["suffix"] = [degrees.strip()]
            inner[("suffix", 0)] = (f"{base}/degrees",)
        draft.add("name", human, inner=inner)
    if contact is not None:
        known = {p["value"] for p in draft.body.get("telecom", [])}
        for point, pointer in zip(telecom(contact), telecom_sources(contact, base), strict=True):
            if point["value"] not in known:
                draft.add("telecom", point, pointer)
    return draft


def practitioner_role(ctx: BuildContext, person: Draft, role: dict[str, Any] | None, role_sources: list[str],
                      org: Draft | None = None, site: Draft | None = None) -> Draft:
    """The role a practitioner plays in this study, at an organisation or a site."""
    parts = [person.id, normalise_name(role.get("text", "")) if role else "", org.id if org else "",
             site.id if site else ""]
    draft = ctx.mint("PractitionerRole", "practitioner-role", "|".join(parts), scoped=True)
    if "practitioner" in draft.body:
        return draft
    draft.set("practitioner", person.reference(_display_name(person)))
    if org is not None:
        draft.set("organization", org.reference(org.body.get("name")))
    if role:
        draft.add("code", role, *role_sources)
    if site is not None:
        draft.add("location", site.reference(site.body.get("name")))
    return draft


def _display_name(person: Draft) -> str | None:
    names = person.body.get("name") or []
    text: str | None = names[0].get("text") if names else None
    return text


_ADDRESS_FIELDS = (("city", "city"), ("state", "state"), ("zip", "postalCode"), ("country", "country"))


def site_identity(site: Site) -> str | None:
    """What identifies a site with a facility name: every field the source states about it, normalised (None: no
    facility name; such a site belongs to its study only).

    Facility, city, state and country come first, as they did before postal code and geo point joined the
    identity; those two are appended with a tag only when stated, so a site that states neither keeps the
    identity (and the resource id) it had in earlier outputs.
    """
    if not site.facility:
        return None
    parts = [normalise_name(p or "") for p in (site.facility, site.city, site.state, site.country)]
    if site.zip:
        parts.append(f"zip={normalise_name(site.zip)}")
    if site.geo_point is not None:
        parts.append(f"geo={site.geo_point.lat!r},{site.geo_point.lon!r}")
    return "|".join(parts)


def site_location(ctx: BuildContext, site: Site, index: int) -> Draft:
    """A Location for a study site, with its address, position and the registry's site status."""
    base = f"/sites/{index}"
    identity = site_identity(site)
    if identity is not None:
        draft = ctx.mint("Location", "location", identity, scoped=False)
    else:
        draft = ctx.mint("Location", "location", f"site|{index}", scoped=True)
    if draft.filled:  # an exact repeat of an earlier site entry of this study: one Location, traced to both
        _note_repeat(ctx, draft, site, base)
        return draft
    draft.filled = True
    if site.status:
        draft.add("extension", _site_status(ctx, site.status), f"{base}/status")
    if site.facility:
        draft.set("name", site.facility.strip(), f"{base}/facility")
    address: dict[str, str] = {}
    inner: dict[tuple[str | int, ...], tuple[str, ...]] = {}
    for field_name, fhir_name in _ADDRESS_FIELDS:
        value = getattr(site, field_name)
        if value:
            address[fhir_name] = value.strip()
            inner[(fhir_name,)] = (f"{base}/{field_name}",)
    if address:
        draft.body["address"] = address
        for sub, pointers in inner.items():
            draft.note(("address", *sub), *pointers)
    if site.geo_point is not None:
        draft.set("position", {"longitude": site.geo_point.lon, "latitude": site.geo_point.lat},
                  f"{base}/geo_point")
    if site.facility:
        org = organization(ctx, site.facility, None, f"{base}/facility")
        draft.set("managingOrganization", org.reference(site.facility.strip()))
    return draft


def _note_repeat(ctx: BuildContext, draft: Draft, site: Site, base: str) -> None:
    """Trace a repeated site entry to the Location already written for it: every element it states the same
    way names its source path too. A site status the Location does not carry yet is added (nothing is lost)."""
    if site.facility:
        draft.note(("name",), f"{base}/facility")
        organization(ctx, site.facility, None, f"{base}/facility")
    for field_name, fhir_name in _ADDRESS_FIELDS:
        if getattr(site, field_name):
            draft.note(("address", fhir_name), f"{base}/{field_name}")
    if site.geo_point is not None:
        draft.note(("position",), f"{base}/geo_point")
    if site.status:
        status = _site_status(ctx, site.status)
        extensions = draft.body.get("extension", [])
        if status in extensions:
            draft.note(("extension", extensions.index(status)), f"{base}/status")
        else:
            draft.add("extension", status, f"{base}/status")


def _site_status(ctx: BuildContext, status: str) -> dict[str, Any]:
    label = ctx.maps.display("RecruitmentStatus", status)
    concept: dict[str, Any] = {"text": label or status}
    if label:
        concept["coding"] = [ctx.maps.ctgov_coding("RecruitmentStatus", status)]
    return {"url": ctx.maps.extension("registry-status"), "valueCodeableConcept": concept}
