"""Named conversions for values as WHO ICTRP writes them: its XML and CSV exports and the registries' exchange XML.

ICTRP passes on what each registry sent, lightly normalised, so one field holds many registries' habits:
- values padded with newlines and spaces, and HTML line breaks (`<br>`, `<br />`, `<p>`; escaped in the XML,
  literal in the CSV) inside long texts;
- several values in one field, separated by semicolons (countries, conditions, outcomes, secondary ids), with
  repeats;
- dates day first (`08/04/2024`), compact (`20240408`), ISO, or in words (`April 25, 2024`);
- ages as `18 Years`, `18`, `>= 20age old`, `60(Year)`, `16years-old`, or a word for "no limit";
- ids with ICTRP's own prefixes (`EUCTR2021-000037-14-ES`, `JPRN-jRCT...`), which name another registry's id.

Each conversion cleans the value the same way (`clean_text`) before reading it, so what a study keeps is the
text with the export's padding and line-break markup turned into plain line breaks; the source pointer in the
provenance still says where it was. Wordings that mean "no limit" are the mapping file's (`options.no_limit`).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from converters.fieldmap.conversion_types import Absent, ConversionContext, Parts, Rejected
from converters.model import Age, CriteriaSection, Enrollment, TextFormat
from converters.model.criteria_markdown import CriteriaHeadings, parse_criteria
from converters.model.study import Identifier, IdentifierKind
from converters.model.values import AGE_UNITS, parse_export_date, parse_int
from converters.model.vocabulary import normalise_wording

_ONE_GROUP = re.compile(r"^[^:;]+:\s*(?P<size>\d[\d,]*)\s*;?$")
_SPACES = re.compile(r"[ \t]{2,}")
_LINE_BREAK = re.compile(r"\r?<br\s*/?>\r?|\r\n|\r|</p>", re.IGNORECASE)
_PARAGRAPH_OPEN = re.compile(r"<p>", re.IGNORECASE)
_AGE = re.compile(
    r"^(?P<op>>=|<=|≥|≤|>|<)?\s*(?P<value>\d{1,3}(?:\.\d+)?)\s*\(?\s*(?P<unit>[A-Za-z]+)?\s*\)?\s*(?:-?\s*old)?$"
)
_FLAG = re.compile(r"\s*(.+?):\s*(yes|no)\b", re.IGNORECASE)


def clean_text(value: str) -> str:
    """The text without the export's padding: HTML line breaks become line breaks, each line loses trailing
    spaces, the indentation common to all lines goes (ClinicalTrials.gov texts come indented), and the text its
    outer blank space."""
    text = _PARAGRAPH_OPEN.sub("", _LINE_BREAK.sub("\n", value))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return textwrap.dedent(text).strip()


def _text_of(parts: Parts) -> str | Rejected:
    value = parts.get("value")
    if not isinstance(value, str):
        return Rejected("expected text, found a structure")
    return clean_text(value)


def convert_ictrp_text(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The text, cleaned (`clean_text`); an empty field records nothing. `options.not_stated`: wordings that say
    nothing was given (ReBEC's acronym `:` when acronym and expansion are both blank); `options.codes`: a
    registry's own codes and the wording each stands for (ReBEC writes `-` for both sexes), looked up before any
    vocabulary."""
    text = _text_of(parts)
    if isinstance(text, Rejected):
        return text
    if not text:
        return Absent("empty")
    if text.casefold() in {str(w).casefold() for w in options.get("not_stated", [])}:
        return Absent(f"{text}: nothing stated")
    codes = {str(k): str(v) for k, v in options.get("codes", {}).items()}
    return codes.get(text, text)


def split_items(text: str, separator: str = ";") -> list[str]:
    """The items of a list written in one field, each stripped, empty ones and repeats (ignoring case) left out."""
    seen: set[str] = set()
    items: list[str] = []
    for piece in text.split(separator):
        item = piece.strip()
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items


def convert_ictrp_list(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """Several values in one field (`France;Germany;France`): one list item each, in order, repeats removed.
    Items in `options.none` (`N/A`) say there is none. With `options.field`, each item is an object holding the
    value in that field and `options.set`'s constants (an outcome's `measure` with its `kind`)."""
    text = _text_of(parts)
    if isinstance(text, Rejected):
        return text
    none = {str(w).casefold() for w in options.get("none", [])}
    items = [i for i in split_items(text, str(options.get("separator", ";"))) if i.casefold() not in none]
    if not items:
        return Absent(f"{text}: says there is none" if text else "empty")
    field = options.get("field")
    if field is None:
        return items
    constants = dict(options.get("set", {}))
    return [{**constants, str(field): item} for item in items]


def convert_ictrp_date(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """A date in any form the exports use, as precise as written (see `parse_export_date`); with a `type` part
    (the exchange XML's `type_enrolment`: actual, anticipated), the type from the DateType vocabulary."""
    text = _text_of({"value": parts.get("value", parts.get("date"))})
    if isinstance(text, Rejected):
        return text
    if not text:
        return Absent("empty")
    found = parse_export_date(text)
    if found is None:
        return Rejected(f"{text!r} is not a date in a known form")
    stated = parts.get("type")
    if isinstance(stated, str) and stated.strip():
        code = ctx.lookup_one("DateType", stated)
        if code is None:
            return Rejected(f"{stated.strip()!r} is not a known date type (actual, anticipated)")
        found = found.model_copy(update={"type": code})
    return found


def convert_ictrp_age(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """An age limit: `18 Years`, `60(Year)`, `>= 20age old`, `16years-old`: the model's unit words
    (`values.AGE_UNITS`) and the format's own in `options.units` (jRCT's `age`, the exchange XML's `Y`, `M`); a
    bare number is in
    `options.bare_unit` (ICTRP's age fields are in years unless a unit is given), or, with
    `options.bare_means: no_limit` (ReBEC's exchange XML leaves the unit out exactly when "no limit" was chosen),
    no limit when it is 0 and refused otherwise (a value beside "no limit" contradicts it); the wordings in
    `options.no_limit` (`N/A`, `None`, `No limit`) mean no limit, which the model states by leaving it out.
    A strict bound (`> 20`) is refused: the model's limits are inclusive."""
    text = _text_of(parts)
    if isinstance(text, Rejected):
        return text
    if not text:
        return Absent("empty")
    if text.casefold() in {str(w).casefold() for w in options.get("no_limit", [])}:
        return Absent(f"{text}: no age limit, which the model states by leaving the limit out")
    m = _AGE.match(text)
    if m is None:
        return Rejected(f"{text!r} is not an age limit in a known form")
    if not m["unit"] and options.get("bare_means") == "no_limit":
        if float(m["value"]) == 0:
            return Absent(f"{text}: no unit and no value, this format's 'no limit'")
        return Rejected(f"{text!r} has no unit, which this format writes for 'no limit', yet gives a value; "
                        "the two disagree")
    if m["op"] in (">", "<"):
        return Rejected(f"{text!r} is a strict limit; the model's age limits are inclusive")
    units = {**AGE_UNITS, **{str(k).casefold(): str(v) for k, v in options.get("units", {}).items()}}
    unit = units.get(m["unit"].casefold()) if m["unit"] else options.get("bare_unit")
    if unit is None:
        return Rejected(f"{text!r}: {m['unit']!r} is not a unit of age")
    return Age(value=float(m["value"]), unit=unit, text=text)


def convert_ictrp_identifiers(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The ids in the field (several are separated by `;`), each as an `Identifier` of `options.kind`, under the
    registry its format belongs to (`mappings/common/identifiers.yaml`). An id written in ICTRP's own form
    (`EUCTR2021-000037-14-ES`) becomes the registry's id (`2021-000037-14`, EudraCT) and, as written, a
    secondary id under ICTRP's system, so a registry's id never goes under another registry's system."""
    text = _text_of(parts)
    if isinstance(text, Rejected):
        return text
    kind = IdentifierKind(options.get("kind", "secondary"))
    out: list[Identifier] = []
    seen: set[tuple[str, str | None]] = set()

    def add(value: str, ident_kind: IdentifierKind, registry: str | None) -> None:
        if (value, registry) not in seen:
            seen.add((value, registry))
            out.append(Identifier(value=value, kind=ident_kind, registry=registry))

    for item in split_items(text):
        native = ctx.identifiers.classify_ictrp(item)
        if native is not None:
            add(native[1], kind, native[0])
            add(item, IdentifierKind.SECONDARY, ctx.identifiers.classify(item))
        else:
            add(item, kind, ctx.identifiers.classify(item))
    return out if out else Absent("empty")


def criteria_text(parts: Parts, headings: CriteriaHeadings | None) -> str | Rejected:
    """The inclusion and the exclusion criteria (two fields in ICTRP), cleaned, one after the other with a blank
    line between them, as one criteria text; each keeps its own heading as written. ICTRP starts each field with
    its heading and runs the first criterion on after it (`Inclusion criteria: 1. Adults`): the first criterion
    is moved to a line of its own, so the heading reads as one (`headings`: the map's heading words)."""
    texts = []
    for role in ("inclusion", "exclusion"):
        value = parts.get(role)
        if value is None:
            continue
        if not isinstance(value, str):
            return Rejected(f"{role}: expected text, found a structure")
        cleaned = clean_text(value)
        if cleaned:
            texts.append(_heading_on_own_line(cleaned, headings))
    return "\n\n".join(texts)


def _heading_on_own_line(text: str, headings: CriteriaHeadings | None) -> str:
    head, colon, rest = text.partition(":")
    first_line_rest, _, _ = rest.partition("\n")
    if headings is None or not colon or "\n" in head or not first_line_rest.strip():
        return text
    if headings.section_category(head + colon) is None:
        return text
    return head + colon + "\n" + rest.lstrip(" \t")


def convert_ictrp_criteria_text(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    text = criteria_text(parts, ctx.criteria_headings)
    if isinstance(text, Rejected):
        return text
    return text if text else Absent("no criteria text")


def convert_ictrp_criteria(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The criteria as sections and items, each field read on its own as plain text with the map's
    `criteria_headings` (its heading on a line of its own, as `criteria_text` writes it). What a field holds
    before any heading is in that field's section, inclusion or exclusion: the field says which criteria they
    are when the registry writes no heading (ReBEC, many exports)."""
    headings = ctx.criteria_headings
    if headings is None:
        return Rejected("no criteria headings to read it with")
    found: list[CriteriaSection] = []
    for role in ("inclusion", "exclusion"):
        if role not in parts:
            continue
        text = criteria_text({role: parts[role]}, headings)
        if isinstance(text, Rejected):
            return text
        for section in parse_criteria(text, headings, TextFormat.PLAIN) if text else []:
            found.append(section.model_copy(update={"category": role}) if section.category == "unspecified"
                         else section)
    return found if found else Absent("no criteria text")


def convert_ictrp_count(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """A number of participants (`500`, `1,200`, or one group's size, `Case series:100;`, which is the total);
    sizes of several groups (`control group:50;sepsis group:50;`) are refused, not summed: the registry did not
    state a total."""
    text = _text_of(parts)
    if isinstance(text, Rejected):
        return text
    if not text:
        return Absent("empty")
    count = parse_int(text)
    if count is None and (group := _ONE_GROUP.match(text)):  # ChiCTR's "Case series:100;": one group, its size
        count = parse_int(group["size"])
    return Enrollment(count=count) if count is not None else Rejected(f"{text!r} is not one number of participants")


def convert_ictrp_phase(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The phase(s): a wording of the Phase vocabulary (`Phase 2/Phase 3`, `2-3`), or EU CTR's list of flags
    (`Human pharmacology (Phase I): no Therapeutic exploratory (Phase II): yes ...`), each flag's label mapped
    to a phase by `options.flags`; the phases flagged `yes` are the trial's. `options.not_stated`: wordings that
    say no phase was given (`Not selected`)."""
    text = _text_of(parts)
    if isinstance(text, Rejected):
        return text
    if not text or text.casefold() in {str(w).casefold() for w in options.get("not_stated", [])}:
        return Absent(f"{text}: no phase stated" if text else "empty")
    flags = {normalise_wording(str(k)): str(v) for k, v in options.get("flags", {}).items()}
    pairs = _FLAG.findall(text)
    if flags and pairs and all(normalise_wording(label) in flags for label, _ in pairs):
        phases = [flags[normalise_wording(label)] for label, answer in pairs if answer.casefold() == "yes"]
        return phases if phases else Absent("no phase flagged yes")
    found = ctx.vocabulary.lookup("Phase", text)
    return list(found) if found else Rejected(f"{text!r} is not a known phase")


_CONTACT_FIELDS = ("email", "phone", "address", "affiliation")
_REVIEW_FIELDS = ("status", "committee", "address", "phone", "email")


def paired_values(parts: Parts, what: str) -> list[dict[str, str]] | Rejected | Absent:
    """The flat export's way of listing several contacts (or ethics reviews): each of their fields lists one value
    per entry, separated by `;`, in the same order, so the n-th values make the n-th entry (an empty value is
    left out of it). Fields listing different numbers of values cannot be paired without guessing: refused."""
    columns: dict[str, list[str]] = {}
    for role, value in parts.items():
        if not isinstance(value, str):
            return Rejected(f"{role}: expected text, found a structure")
        pieces = [piece.strip() for piece in clean_text(value).split(";")]
        if any(pieces):
            columns[role] = pieces
    if not columns:
        return Absent(f"no {what} given")
    counts = {len(pieces) for pieces in columns.values()}
    if len(counts) > 1:
        listed = ", ".join(f"{role} {len(pieces)}" for role, pieces in columns.items())
        return Rejected(f"the {what} fields list different numbers of values ({listed}); they cannot be paired "
                        "without guessing")
    return [{role: pieces[i] for role, pieces in columns.items() if pieces[i]} for i in range(counts.pop())]


def _unique(entries: list[dict[str, Any]], what: str) -> list[dict[str, Any]] | Absent:
    out: list[dict[str, Any]] = []
    for entry in entries:
        if entry and entry not in out:
            out.append(entry)
    return out if out else Absent(f"no {what} given")


def convert_ictrp_contacts(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The contacts of the flat export (`paired_values` of `first`, `last`, `email`, `phone`, `address`,
    `affiliation`); a name is the first and last name joined. Repeated contacts are kept once."""
    rows = paired_values(parts, "contact")
    if not isinstance(rows, list):
        return rows
    contacts = []
    for row in rows:
        contact = {field: row[field] for field in _CONTACT_FIELDS if field in row}
        name = " ".join(row[k] for k in ("first", "last") if k in row)
        contacts.append({"name": name, **contact} if name else contact)
    return _unique(contacts, "contact")


def convert_ictrp_ethics_reviews(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The ethics reviews of the flat export (`paired_values` of `status`, `approval_date`, `committee`,
    `address`, `phone`, `email`), each date read as `ictrp_date` reads one; one unreadable date refuses them."""
    rows = paired_values(parts, "ethics review")
    if not isinstance(rows, list):
        return rows
    reviews = []
    for row in rows:
        review: dict[str, Any] = {field: row[field] for field in _REVIEW_FIELDS if field in row}
        if "approval_date" in row:
            date = parse_export_date(row["approval_date"])
            if date is None:
                return Rejected(f"{row['approval_date']!r} is not a date in a known form")
            review["approval_date"] = date
        reviews.append(review)
    return _unique(reviews, "ethics review")


def _registry_of(trial_id: Any, ctx: ConversionContext) -> str | None:
    if not isinstance(trial_id, str):
        return None
    native = ctx.identifiers.classify_ictrp(trial_id)
    return native[0] if native is not None else ctx.identifiers.classify(trial_id.strip())


def intervention_entries(parts: Parts, options: dict[str, Any], ctx: ConversionContext
                         ) -> list[tuple[str | None, str | None, str | None]] | Rejected | Absent:
    """The `Intervention` field as (group, coded type, name) entries, read in the form the trial's registry
    writes it (`options.forms`: registry key -> form; others are plain names):
    - `type_name`: `Drug: Lopinavir` (ClinicalTrials.gov rows): the type, looked up in InterventionType, and the
      name; an item whose head is no known type stays a plain name;
    - `group_intervention`: `Experimental group:oral hydroxychloroquine` (ChiCTR): the group (an arm) and what it
      receives; a wording in `options.no_intervention` (`none`, `N/A`) means the group receives none.
    A run of spaces inside a name is one space (`Novaferon  injection` and `Novaferon injection` are one)."""
    text = _text_of({"value": parts.get("value")})
    if isinstance(text, Rejected):
        return text
    form = options.get("forms", {}).get(_registry_of(parts.get("trial_id"), ctx) or "", "name")
    none = {str(w).casefold() for w in options.get("no_intervention", [])}
    entries: list[tuple[str | None, str | None, str | None]] = []
    for item in (_SPACES.sub(" ", i) for i in split_items(text)):
        head, colon, rest = item.partition(":")
        if form == "type_name" and colon and rest.strip():
            code = ctx.lookup_one("InterventionType", head)
            entries.append((None, code, rest.strip()) if code else (None, None, item))
        elif form == "group_intervention" and colon and head.strip():
            name = rest.strip().rstrip(".")
            entries.append((head.strip(), None, None if not name or name.casefold() in none else rest.strip()))
        else:
            entries.append((None, None, item))
    return entries if entries else Absent("empty")


def convert_ictrp_interventions(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """Interventions from the `Intervention` field (see `intervention_entries`), each once, with its type when
    the registry's form gives one and the groups (arms) that receive it."""
    entries = intervention_entries(parts, options, ctx)
    if not isinstance(entries, list):
        return entries
    out: dict[str, dict[str, Any]] = {}
    for group, code, name in entries:
        if name is None:
            continue
        found = out.setdefault(name, {"name": name})
        if code is not None:
            found.setdefault("type", code)
        if group is not None and group not in found.setdefault("arm_group_labels", []):
            found["arm_group_labels"].append(group)
    return list(out.values()) if out else Absent("no intervention named")


def convert_ictrp_arms(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """Arms from the `Intervention` field, for registries whose form names each group (`group_intervention`),
    with the interventions each receives; nothing for the other forms."""
    entries = intervention_entries(parts, options, ctx)
    if not isinstance(entries, list):
        return entries
    arms: dict[str, dict[str, Any]] = {}
    for group, _, name in entries:
        if group is None:
            continue
        arm = arms.setdefault(group, {"label": group})
        if name is not None and name not in arm.setdefault("intervention_names", []):
            arm["intervention_names"].append(name)
    return list(arms.values()) if arms else Absent("the registry's form names no groups")
