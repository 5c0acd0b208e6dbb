"""Section parsers, named in the layouts mapping (`parser: fields`, `parser: sites`, ...).

Each reads the content lines of one section into the draft study. Lines a parser uses get provenance; lines
it cannot use are left alone and end up in `Study.unmapped`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from converters.fieldmap.conversions import Rejected
from converters.model import json_pointer
from converters.model.vocabulary import normalise_wording
from converters.problem_codes import page as codes
from converters.readers.registry_page import criteria as criteria_tree
from converters.readers.registry_page.context import REASON_REPEATED, ReadContext
from converters.readers.registry_page.convert import Placeholder, Values
from converters.readers.registry_page.draft import Span, path_parts
from converters.readers.registry_page.duplicates import squeeze
from converters.readers.registry_page.glued import GluedStatus, split_glued_status
from converters.readers.registry_page.page import REASON_PLACEHOLDER, Line
from converters.readers.registry_page.rules import FieldRule
from converters.readers.registry_page.sections import PageSection

_PHONE = re.compile(r"^\+?[\d][\d\s().\-/]{5,24}(?:\s*(?:ext\.?|x)\s*\d{1,6})?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,24}$")
_ZIP = re.compile(r"^(?=.*\d)[A-Z0-9][A-Z0-9 \-]{2,9}$", re.IGNORECASE)
REASON_INTERVENTION_REPEAT = "repeats the intervention's details"
# Entry fields whose model type is a plain string: an unknown wording is kept there as written.
_FREE_CODED_FIELDS = frozenset({"role", "type", "status", "organization_class"})
_MAX_STATUS_WORDS = 6  # the longest status wording ("Active, not recruiting") has 3 words
REASON_NO_SITE = "facility contact, but the page has not exactly one site"
REASON_ONE_PART_ADDRESS = "an address of one part: the page does not say whether it is a city or a country"
REASON_SITE_EXTRA = "a line of a site block after its facility and address"


# --- shared helpers ------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One repeated item of a section (an arm, a site, a sponsor...): values with the line each came from."""

    first: int
    last: int
    values: dict[str, Any] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)

    def put(self, key: str, value: Any, span: Span) -> bool:
        if key in self.values:
            return False
        self.values[key] = value
        self.spans[key] = span
        self.last = max(self.last, span[1])
        return True

    def add(self, key: str, value: Any, span: Span) -> None:
        """Append to a list value; its provenance is kept per item."""
        items = self.values.setdefault(key, [])
        items.append(value)
        self.spans[f"{key}/{len(items) - 1}"] = span
        self.last = max(self.last, span[1])


def put_once(ctx: ReadContext, entry: Entry, key: str, value: Any, span: Span, label: str) -> None:
    """Put a value into an entry; a second statement of the same field is never absorbed silently: its lines
    are listed as repeats, and reported when it differs from the first."""
    if entry.put(key, value, span):
        return
    if entry.values[key] != value:
        ctx.draft.report(codes.FIELD_REPEATED(ctx.draft.where(span), field=label, value=str(value),
                                              first_line=entry.spans[key][0]))
    for line in range(span[0], span[1] + 1):
        ctx.ledger.skip(line, REASON_REPEATED)


def store_entry(ctx: ReadContext, path: str, entry: Entry, whole: bool = True) -> int:
    """Append an entry to a list of the study, with provenance for each value (and the entry's lines)."""
    parts = path_parts(path)
    return _append_entry(ctx, ctx.draft.container(parts[:-1]), (*parts,), entry, whole)


def _append_entry(ctx: ReadContext, parent: dict[str, Any], parts: tuple[str | int, ...], entry: Entry,
                  whole: bool) -> int:
    """Append an entry to the list `parent[parts[-1]]`, whose JSON pointer is `parts`."""
    items = parent.setdefault(str(parts[-1]), [])
    items.append(entry.values)
    index = len(items) - 1
    base = json_pointer(*parts, index)
    _record_entry(ctx, base, entry)
    if whole:
        ctx.draft.note(base, (entry.first, entry.last))
    return index


def set_entry(ctx: ReadContext, path: str, entry: Entry) -> bool:
    """Set a single-valued object of the study (e.g. the lead sponsor) from an entry."""
    if ctx.draft.has(path):
        return False
    parts = path_parts(path)
    ctx.draft.container(parts[:-1])[parts[-1]] = entry.values
    base = json_pointer(*parts)
    _record_entry(ctx, base, entry)
    ctx.draft.note(base, (entry.first, entry.last))
    return True


def _record_entry(ctx: ReadContext, base: str, entry: Entry) -> None:
    for key, span in entry.spans.items():
        if "/" in key:
            ctx.draft.note(f"{base}/{key}", span)
        else:
            ctx.draft.record(f"{base}/{key}", entry.values[key], span)


def convert_into(ctx: ReadContext, entry: Entry, rule: FieldRule, text: str, span: Span) -> None:
    """Convert a labelled value of an entry; unknown wordings are kept as written and reported."""
    result = ctx.converter.convert(rule, text)
    if isinstance(result, Placeholder):
        ctx.ledger.skip(span[0], REASON_PLACEHOLDER)
        return
    if isinstance(result, Rejected):
        if rule.target in _FREE_CODED_FIELDS and rule.convert == "vocabulary":
            # model fields that take the wording as written when no vocabulary knows it
            ctx.draft.report(codes.VALUE_UNRECOGNISED(ctx.draft.where(span), value=text.strip(),
                                                      label=rule.display_label, what=result.reason))
            put_once(ctx, entry, rule.target, text.strip(), span, rule.display_label)
        else:
            ctx.keep_unrecognised(rule, text.strip(), span, result.reason)
        return
    for key, value in result.items:
        put_once(ctx, entry, key, value, span, rule.display_label)


class LabelReader:
    """Walks a section's lines, pairing labels with their values (same line, or the next line)."""

    def __init__(self, ctx: ReadContext, section: PageSection) -> None:
        self.ctx = ctx
        self.section = section
        self.matcher = section.rule.matcher

    def items(self) -> list[tuple[FieldRule | None, str, Span, Line]]:
        """(field or None for an unlabelled line, value text, span, line) in page order."""
        out: list[tuple[FieldRule | None, str, Span, Line]] = []
        pending: tuple[FieldRule, Line] | None = None
        for line in self.section.lines:
            if line.no in self.section.separators:
                continue
            label_only = self.matcher.label_only(line.norm)
            labelled = None if label_only else self.matcher.with_value(line.stripped)
            if pending is not None:
                rule, label_line = pending
                pending = None
                if label_only is None and labelled is None:
                    out.append((rule, line.stripped, (label_line.no, line.no), line))
                    continue
            if label_only is not None:
                pending = (label_only, line)
                continue
            if labelled is not None:
                out.append((labelled[0], labelled[1], (line.no, line.no), line))
                continue
            out.append((None, line.stripped, (line.no, line.no), line))
        return out


# --- parsers -------------------------------------------------------------------------------------------


def parse_fields(ctx: ReadContext, section: PageSection, base: str = "") -> None:
    """Labelled fields, and unlabelled values taken in the layout's order when they convert."""
    filled: set[int] = set()
    prefix = f"{base}." if base else ""
    for rule, text, span, _line in LabelReader(ctx, section).items():
        if rule is not None:
            filled.add(id(rule))
            _apply(ctx, rule, text, span, prefix)
            continue
        for candidate in section.rule.matcher.fields:
            if not candidate.positional or id(candidate) in filled:
                continue
            result = ctx.converter.convert(candidate, text)
            if isinstance(result, Values):
                filled.add(id(candidate))
                _apply(ctx, candidate, text, span, prefix)
                break


def _apply(ctx: ReadContext, rule: FieldRule, text: str, span: Span, prefix: str) -> None:
    if not prefix:
        ctx.apply(rule, text, span)
        return
    relative = replace(rule, target=prefix + rule.target)
    ctx.apply(relative, text, span)


def parse_text(ctx: ReadContext, section: PageSection) -> None:
    """The section's lines as one text (paragraph breaks kept) into the section's target."""
    lines = [line for line in section.lines if line.no not in section.separators]
    if not lines or section.rule.target is None:
        return
    text = join_lines(ctx, [(line.no, line.stripped) for line in lines])
    rule = FieldRule(target=section.rule.target, convert="text", label=section.title)
    ctx.apply(rule, text, (lines[0].no, lines[-1].no))  # a placeholder ("N/A") gives no value


def parse_list(ctx: ReadContext, section: PageSection) -> None:
    """One value per line (conditions, countries, keywords)."""
    target = section.rule.target
    if target is None:
        return
    for line in section.lines:
        if line.no in section.separators:
            continue  # markup, listed by the reader
        if ctx.converter.is_placeholder(line.stripped):
            ctx.ledger.skip(line.no, REASON_PLACEHOLDER)
            continue
        ctx.draft.append(target, line.stripped, (line.no, line.no))


def parse_intervention_names(ctx: ReadContext, section: PageSection) -> None:
    """A list of treatment names: one intervention each (nothing else is stated)."""
    for line in section.lines:
        if line.no in section.separators:
            continue  # markup, listed by the reader
        if ctx.converter.is_placeholder(line.stripped):
            ctx.ledger.skip(line.no, REASON_PLACEHOLDER)
            continue
        index = ctx.draft.append("interventions", {"name": line.stripped}, (line.no, line.no))
        ctx.interventions.setdefault(normalise_wording(line.stripped), index)


def parse_interventions(ctx: ReadContext, section: PageSection) -> None:
    """Blocks of: name, description, labelled details (type, dosage, frequency)."""
    entries: list[Entry] = []
    current: Entry | None = None
    lines_of: dict[int, set[str]] = {}
    for rule, text, span, line in LabelReader(ctx, section).items():
        if rule is not None:
            if current is None:
                continue  # a detail before any name: left unmapped
            convert_into(ctx, current, rule, text, span)
            lines_of[id(current)].add(squeeze(line.text))
            continue
        if current is None or len(current.values) > 1:
            current = Entry(span[0], span[1])
            current.put("name", text, span)
            entries.append(current)
            lines_of[id(current)] = set()
        else:
            current.put("description", text, span)
            lines_of[id(current)].add(squeeze(line.text))
    for entry in entries:
        index = store_entry(ctx, "interventions", entry, whole=False)
        ctx.interventions.setdefault(normalise_wording(entry.values["name"]), index)
        ctx.intervention_lines[index] = lines_of[id(entry)]


def parse_arms(ctx: ReadContext, section: PageSection) -> None:
    """Blocks of: label, description, group type, then the arm's interventions (their details repeated)."""
    arms: list[tuple[Entry, list[tuple[int, Span]]]] = []
    current: Entry | None = None
    links: list[tuple[int, Span]] = []
    in_intervention: int | None = None
    for rule, text, span, line in LabelReader(ctx, section).items():
        if in_intervention is not None and squeeze(line.text) in ctx.intervention_lines.get(in_intervention, ()):
            ctx.ledger.skip(line.no, REASON_INTERVENTION_REPEAT)
            continue
        if rule is not None:
            if current is not None:
                convert_into(ctx, current, rule, text, span)
            continue
        linked = ctx.interventions.get(normalise_wording(text))
        if current is not None and linked is not None:
            current.add("intervention_names", text, span)
            links.append((linked, (current.first, current.first)))
            in_intervention = linked
            continue
        if current is None or in_intervention is not None or "description" in current.values:
            current = Entry(span[0], span[1])
            current.put("label", text, span)
            links = []
            arms.append((current, links))
            in_intervention = None
        else:
            current.put("description", text, span)
    for entry, arm_links in arms:
        store_entry(ctx, "arms", entry, whole=False)
        for index, span in arm_links:
            intervention = ctx.draft.data["interventions"][index]
            labels = intervention.setdefault("arm_group_labels", [])
            labels.append(entry.values["label"])
            ctx.draft.note(json_pointer("interventions", index, "arm_group_labels", len(labels) - 1), span)


def parse_sponsors(ctx: ReadContext, section: PageSection) -> None:
    """Blocks of: organisation name, agency class, role (lead or collaborator)."""
    entries: list[Entry] = []
    roles: list[tuple[str, int] | None] = []  # per entry: the role stated and its line
    current: Entry | None = None
    for rule, text, span, _line in LabelReader(ctx, section).items():
        if rule is not None:
            if current is None:
                continue
            if rule.target == "role":
                found = ctx.converter.lookup(rule.vocabulary or "", text)
                stated = roles[-1]
                if found is None:
                    ctx.keep_unrecognised(rule, text, span, f"a known {rule.vocabulary} wording")
                elif stated is None:
                    roles[-1] = (found, span[0])
                    current.last = span[1]
                else:  # a second role line: the first is kept
                    if found != stated[0]:
                        ctx.draft.report(codes.FIELD_REPEATED(ctx.draft.where(span), field=rule.display_label,
                                                              value=text, first_line=stated[1]))
                    ctx.ledger.skip(span[0], REASON_REPEATED)
                continue
            convert_into(ctx, current, rule, text, span)
            continue
        agency = ctx.converter.lookup("AgencyClass", text)
        if current is not None and agency is not None and "organization_class" not in current.values:
            current.put("organization_class", agency, span)
            continue
        current = Entry(span[0], span[1])
        current.put("name", text, span)
        entries.append(current)
        roles.append(None)
    for entry, role in zip(entries, roles, strict=True):
        if role is not None and role[0] == "lead":
            if not set_entry(ctx, "sponsors.lead", entry):  # a second lead: kept, its role contradicts the first
                ctx.draft.report(codes.FIELD_REPEATED(ctx.draft.where((role[1], role[1])), field="lead sponsor",
                                                      value=entry.values["name"],
                                                      first_line=ctx.draft.provenance["/sponsors/lead"][0]))
                store_entry(ctx, "sponsors.role_unstated", entry)
        elif role is not None and role[0] == "collaborator":
            store_entry(ctx, "sponsors.collaborators", entry)
        else:
            store_entry(ctx, "sponsors.role_unstated", entry)
            ctx.draft.report(codes.SPONSOR_ROLE_UNSTATED(ctx.draft.where((entry.first, entry.first)),
                                                         name=entry.values["name"]))


def parse_responsible_party(ctx: ReadContext, section: PageSection) -> None:
    parse_fields(ctx, section, base="sponsors.responsible_party")


def parse_officials(ctx: ReadContext, section: PageSection) -> None:
    """Blocks of: name (with degrees after the layout's separator, if it names one), role, affiliation."""
    separator = section.rule.name_degrees_separator
    current: Entry | None = None
    entries: list[Entry] = []
    for rule, text, span, _line in LabelReader(ctx, section).items():
        if rule is not None:
            if current is not None:
                convert_into(ctx, current, rule, text, span)
            continue
        if current is None or "affiliation" in current.values:
            current = Entry(span[0], span[1])
            name, _, degrees = text.partition(separator) if separator else (text, "", "")
            current.put("name", name.strip(), span)
            if degrees.strip():
                current.put("degrees", degrees.strip(), span)
            entries.append(current)
        else:
            current.put("affiliation", text, span)
    for entry in entries:
        store_entry(ctx, "officials", entry)


def parse_sites(ctx: ReadContext, section: PageSection) -> None:
    """Blocks of: facility, 'City, State, Country', status ('Site Status X', or glued: 'ChinaActive - Recruiting')."""
    vocabulary = _site_status_vocabulary(section)
    blocks: list[list[tuple[FieldRule | None, str, Span]]] = []
    plain = 0  # unlabelled lines of the current block other than a glued status: facility, address
    for rule, text, span, _line in LabelReader(ctx, section).items():
        glued = rule is None and _glued_status(ctx, vocabulary, text) is not None
        if rule is None and (not blocks or (plain >= 2 and not glued)):
            blocks.append([])
            plain = 0
        if blocks:
            blocks[-1].append((rule, text, span))
            plain += rule is None and not glued
    for block in blocks:
        entry = _site_entry(ctx, vocabulary, block)
        if entry is not None:
            store_entry(ctx, "sites", entry)


def _site_status_vocabulary(section: PageSection) -> str | None:
    """The vocabulary of the section's site-status field: the wordings a glued status must be one of."""
    return next((rule.vocabulary for rule in section.rule.matcher.fields
                 if rule.target == "status" and rule.vocabulary), None)


def _glued_status(ctx: ReadContext, vocabulary: str | None, text: str) -> GluedStatus | None:
    if vocabulary is None:
        return None
    return split_glued_status(text, lambda tail: ctx.converter.lookup(vocabulary, tail))


def _site_entry(ctx: ReadContext, vocabulary: str | None,
                block: list[tuple[FieldRule | None, str, Span]]) -> Entry | None:
    first = block[0][2]
    entry = Entry(first[0], first[1])
    address: tuple[str, Span] | None = None
    country: tuple[str, Span] | None = None
    for rule, text, span in block:
        if rule is not None:
            convert_into(ctx, entry, rule, text, span)
            continue
        glued = _glued_status(ctx, vocabulary, text) if "facility" in entry.values else None
        if glued is not None:
            if "status" in entry.values:  # a second status: reported when it differs, never read
                put_once(ctx, entry, "status", glued.status, span, "site status")
                continue
            entry.put("status", glued.status, span)
            if glued.prefix and address is None and "," in glued.prefix:
                address = (glued.prefix, span)  # 'Beijing, Beijing ChinaActive - Recruiting': the whole address
            elif glued.prefix:
                country = (glued.prefix, span)  # the site block's last line: its country
            continue
        if "facility" not in entry.values:
            entry.put("facility", text, span)
        elif address is None:
            address = (text, span)
        else:
            ctx.ledger.skip(span[0], REASON_SITE_EXTRA)
    if address is not None:
        _address(ctx, entry, address, country)
    elif country is not None:
        entry.put("country", country[0], country[1])
    return entry if entry.values else None


def _address(ctx: ReadContext, entry: Entry, address: tuple[str, Span], country: tuple[str, Span] | None) -> None:
    """'City, State, Zip, Country' as the page writes it; a country stated on its own line wins."""
    text, span = address
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return
    if country is not None:
        name = country[0]
        last = parts[-1]
        if last.casefold() == name.casefold():
            parts.pop()
        elif last.casefold().endswith(" " + name.casefold()):
            parts[-1] = last[: -len(name)].strip()
        entry.put("country", name, country[1])
    elif len(parts) >= 2:
        entry.put("country", parts.pop(), span)
    else:
        ctx.ledger.skip(span[0], REASON_ONE_PART_ADDRESS)
        return
    if parts:
        entry.put("city", parts.pop(0), span)
    if parts and _ZIP.match(parts[-1]):
        entry.put("zip", parts.pop(), span)
    if parts:
        entry.put("state", ", ".join(parts), span)


def _labelled_blocks(ctx: ReadContext, section: PageSection, head_field: str,
                     detail: Callable[[Entry, str], str | None] | None = None) -> list[Entry]:
    """Blocks that each start with an unlabelled line (stored as `head_field`) followed by labelled lines
    ('Role: X') and, through `detail`, unlabelled details the block recognises (a phone, an email)."""
    entries: list[Entry] = []
    current: Entry | None = None
    for rule, text, span, _line in LabelReader(ctx, section).items():
        if rule is not None:
            if current is not None:
                convert_into(ctx, current, rule, text, span)
            continue
        field = detail(current, text) if current is not None and detail is not None else None
        if current is not None and field is not None:
            current.put(field, text, span)
            continue
        current = Entry(span[0], span[1])
        current.put(head_field, text, span)
        entries.append(current)
    return entries


def _contact_detail(entry: Entry, text: str) -> str | None:
    """A contact block's phone or email line (each at most once), else None."""
    if _PHONE.match(text) and "phone" not in entry.values:
        return "phone"
    if _EMAIL.match(text) and "email" not in entry.values:
        return "email"
    return None


def parse_contacts(ctx: ReadContext, section: PageSection) -> None:
    """Blocks of: name, 'Role: X', phone, email."""
    target = section.rule.target
    if target is None:
        return
    entries = _labelled_blocks(ctx, section, "name", _contact_detail)
    if target == "sites.contacts":
        sites = ctx.draft.data.get("sites") or []
        if len(sites) != 1:
            for entry in entries:
                for line in range(entry.first, entry.last + 1):
                    ctx.ledger.skip(line, REASON_NO_SITE)
            return
        for entry in entries:
            _append_entry(ctx, sites[0], ("sites", 0, "contacts"), entry, whole=True)
        return
    for entry in entries:
        store_entry(ctx, target, entry)


def parse_contact_names(ctx: ReadContext, section: PageSection) -> None:
    """'Name, MD; Name, MD': one contact per name (only the names are stated)."""
    target = section.rule.target
    if target is None:
        return
    for line in section.lines:
        for part in line.stripped.split(";"):
            if part.strip() and not ctx.converter.is_placeholder(part):
                ctx.draft.append(target, {"name": part.strip()}, (line.no, line.no))


def parse_identifiers(ctx: ReadContext, section: PageSection) -> None:
    """Blocks of: the identifier, 'Identifier Type: X', 'Identifier Source: org_study_id'."""
    entries = _labelled_blocks(ctx, section, "value")
    own = {item.get("value") for item in ctx.draft.get("identifiers") or [] if item.get("kind") == "registry"}
    for entry in entries:
        value = entry.values["value"]
        if value in own:
            for line in range(entry.first, entry.last + 1):
                ctx.ledger.skip(line, "repeats the study's own registry id")
            continue
        kind = entry.values.pop("kind", None)
        kind_span = entry.spans.pop("kind", None)
        values: dict[str, Any] = {"value": value, "kind": kind or section.rule.kind_when_unstated}
        spans: dict[str, Span] = {"value": entry.spans["value"]}
        if kind_span is not None:
            spans["kind"] = kind_span
        registry = ctx.rules.identifiers.classify(value)
        if registry is not None:
            values["registry"] = registry
        for key in ("type", "domain"):
            if key in entry.values:
                values[key] = entry.values[key]
                spans[key] = entry.spans[key]
        ordered = Entry(entry.first, entry.last, values, spans)
        store_entry(ctx, "identifiers", ordered)


def parse_related_list(ctx: ReadContext, section: PageSection) -> None:
    """Title lines, each followed by an id line ('NCT07219563 RECRUITING PHASE1'): related studies."""
    relation = section.rule.relation
    title: list[Line] = []
    for line in section.lines:
        token, _, rest = line.stripped.partition(" ")
        registry = ctx.rules.identifiers.classify(token)
        if registry is None:
            title.append(line)
            continue
        entry = Entry(title[0].no if title else line.no, line.no)
        entry.put("identifier", token, (line.no, line.no))
        entry.put("relation", relation, (line.no, line.no))
        if title:
            entry.put("title", " ".join(t.stripped for t in title), (title[0].no, title[-1].no))
        _status_and_phase(ctx, entry, rest.strip(), (line.no, line.no))
        store_entry(ctx, "related_studies", entry)
        title = []


def put_related_status(ctx: ReadContext, entry: Entry, text: str, span: Span) -> None:
    """A related study's status: its coded value, or the wording as written (reported)."""
    status = ctx.converter.lookup("Status", text)
    if status is None:
        ctx.draft.report(codes.VALUE_UNRECOGNISED(ctx.draft.where(span), value=text, label="related study status",
                                                  what="a known status"))
    entry.put("status", status or text, span)


def put_related_phase(ctx: ReadContext, entry: Entry, text: str, span: Span) -> None:
    """A related study's phase(s), comma-separated coded values, or the wording as written (reported)."""
    phases = ctx.converter.phases(text)
    if phases is None:
        ctx.draft.report(codes.VALUE_UNRECOGNISED(ctx.draft.where(span), value=text, label="related study phase",
                                                  what="a known phase"))
    entry.put("phase", ", ".join(phases) if phases else text, span)


def _status_and_phase(ctx: ReadContext, entry: Entry, text: str, span: Span) -> None:
    """'RECRUITING PHASE1' / 'Not yet recruiting Phase 2': the longest status wording, then a phase."""
    if not text:
        return
    tokens = text.split()
    for cut in range(min(len(tokens), _MAX_STATUS_WORDS), 0, -1):
        status = ctx.converter.lookup("Status", " ".join(tokens[:cut]))
        if status is None:
            continue
        entry.put("status", status, span)
        rest = " ".join(tokens[cut:])
        if rest:
            put_related_phase(ctx, entry, rest, span)
        return
    phases = ctx.converter.phases(text)
    if phases:
        entry.put("phase", ", ".join(phases), span)
        return
    ctx.draft.report(codes.VALUE_UNRECOGNISED(ctx.draft.where(span), value=text, label="related study",
                                              what="a known status and phase"))
    entry.put("status", text, span)


def parse_criteria(ctx: ReadContext, section: PageSection) -> None:
    """The criteria tree, and the eligibility fields listed after it (labelled, or by position)."""
    lines = list(section.lines)
    trailing = _trailing_fields(ctx, section, lines)
    criteria_lines = lines[: len(lines) - len(trailing)] if trailing else lines
    separators = section.separators  # listed as markup by the reader, after all sections are read
    read_criteria(ctx, [(line.no, line.text, line.no in separators) for line in criteria_lines],
                  section.rule.category, (section.heading.stripped, (section.heading.no, section.heading.no))
                  if section.rule.category and section.heading else None)
    if trailing:
        sub = PageSection(section.rule, section.heading, trailing, set())
        parse_fields(ctx, sub)


def read_labelled(ctx: ReadContext, rule: FieldRule | None, label: str, value: str, line: int) -> None:
    """A 'Label: value' or 'Label | value |' line: converted into its field, read as criteria, or kept as a
    labelled value when no field has the label."""
    span = (line, line)
    if rule is None:
        if value:
            ctx.labelled(label, value, span)
    elif rule.convert == "criteria":
        read_criteria(ctx, [(line, value, False)], None, None)
    else:
        ctx.apply(rule, value, span)


def read_criteria(ctx: ReadContext, lines: list[tuple[int, str, bool]], category: str | None,
                  heading: tuple[str, Span] | None) -> None:
    """Build the criteria sections from lines and store them with the full criteria text."""
    if not lines:
        return
    sections = criteria_tree.split_sections(lines, ctx.rules.criteria, category, heading)
    built = criteria_tree.build_sections(sections, ctx.draft, ctx.rules.criteria.boundaries)
    if not built:
        return
    criteria_tree.emit(ctx.draft, built)
    numbered = [(no, text.strip()) for no, text, _sep in lines]
    if heading is not None and category is not None:
        numbered.insert(0, (heading[1][0], heading[0]))
    existing = ctx.draft.get("eligibility.criteria_text")
    full = join_lines(ctx, numbered)
    first = numbered[0][0]
    if existing:
        ctx.draft.data["eligibility"]["criteria_text"] = f"{existing}\n{full}"
        start, _ = ctx.draft.provenance.get("/eligibility/criteria_text", (first, first))
        ctx.draft.note("/eligibility/criteria_text", (min(start, first), lines[-1][0]))
    else:
        ctx.draft.assign("eligibility.criteria_text", full, (first, lines[-1][0]))


def join_lines(ctx: ReadContext, numbered: list[tuple[int, str]]) -> str:
    """Lines as one text: a blank line between two of them stays a paragraph break; lines set aside
    between them (a repeated block, navigation) leave a plain line break."""
    parts = [numbered[0][1]]
    for (previous, _), (no, text) in pairwise(numbered):
        between = ctx.page.raw[previous : no - 1]
        parts.append("\n\n" if between and all(not line.strip() for line in between) else "\n")
        parts.append(text)
    return "".join(parts)


def _trailing_fields(ctx: ReadContext, section: PageSection, lines: list[Line]) -> list[Line]:
    """The eligibility fields after the criteria: from the first labelled field, or the longest run of
    final lines that convert, in order, to the layout's positional fields (18 Years / 65 Years / ALL / No)."""
    matcher = section.rule.matcher
    if not matcher.fields:
        return []
    for index, line in enumerate(lines):
        if matcher.label_only(line.norm) is not None or matcher.with_value(line.stripped) is not None:
            return lines[index:]
    positional = [rule for rule in matcher.fields if rule.positional]
    best = 0
    for size in range(1, min(len(positional), len(lines)) + 1):
        if _fits_in_order(ctx, positional, lines[len(lines) - size :]):
            best = size
    return lines[len(lines) - best :] if best else []


def _fits_in_order(ctx: ReadContext, rules: list[FieldRule], lines: list[Line]) -> bool:
    position = 0
    for line in lines:
        while position < len(rules) and not isinstance(ctx.converter.convert(rules[position], line.stripped),
                                                       Values):
            position += 1
        if position == len(rules):
            return False
        position += 1
    return True


PARSERS: dict[str, Callable[[ReadContext, PageSection], None]] = {
    "fields": parse_fields,
    "text": parse_text,
    "list": parse_list,
    "criteria": parse_criteria,
    "arms": parse_arms,
    "interventions": parse_interventions,
    "intervention_names": parse_intervention_names,
    "sponsors": parse_sponsors,
    "responsible_party": parse_responsible_party,
    "officials": parse_officials,
    "sites": parse_sites,
    "contacts": parse_contacts,
    "contact_names": parse_contact_names,
    "identifiers": parse_identifiers,
    "related_list": parse_related_list,
}
