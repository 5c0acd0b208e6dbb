"""Value conversions named in the layouts mapping (`convert: partial_date`, ...), implemented once here.

A conversion turns the text of one value into `(path, value)` assignments, says the text is a placeholder
("n/a"), or rejects it with what it expected; it never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from converters.model import Age
from converters.model.values import parse_age, parse_bool, parse_int, parse_partial_date
from converters.model.vocabulary import normalise_wording
from converters.readers.registry_page.rules import FREE_TEXT_CONVERSIONS, FieldRule, PageRules


@dataclass(frozen=True)
class Values:
    """The value(s) a text gives: (path, value) pairs, paths as in the field's target."""

    items: tuple[tuple[str, Any], ...]
    assumed_unit: bool = False


@dataclass(frozen=True)
class Rejected:
    """The text does not fit the field; `what` says what was expected (for the problem message)."""

    what: str


@dataclass(frozen=True)
class Placeholder:
    """The text says "no value" (n/a, -)."""


Result = Values | Rejected | Placeholder

_BARE_NUMBER = re.compile(r"^\d{1,3}$")
_BARE_AGE = re.compile(r"^\d{1,3}(?:\.\d+)?$")
_TEXT_CONVERSIONS = FREE_TEXT_CONVERSIONS - {"criteria"}  # criteria text is read by its own reader
_MAX_CODED_CHARS = 300  # longer text is never a date, number, age or vocabulary wording


class Converter:
    """Applies the named conversions with the reader's vocabularies (built once per reader)."""

    def __init__(self, rules: PageRules) -> None:
        self._rules = rules

    def is_placeholder(self, text: str) -> bool:
        return len(text) <= _MAX_CODED_CHARS and normalise_wording(text) in self._rules.placeholders

    def lookup(self, vocabulary: str, text: str) -> str | None:
        """A coded value for a wording: the page's own vocabularies first, then the shared ones."""
        for source in (self._rules.page_vocabulary, self._rules.vocabulary):
            try:
                return source.lookup_one(vocabulary, text)
            except KeyError:
                continue  # not a vocabulary of this source
        return None

    def phases(self, text: str) -> list[str] | None:
        found = self._rules.vocabulary.lookup("Phase", text)
        return list(found) if found else None

    def convert(self, rule: FieldRule, text: str) -> Result:
        raw = text.strip()
        if not raw:
            return Placeholder()
        if rule.convert in _TEXT_CONVERSIONS and self.is_placeholder(raw):
            return Placeholder()
        if len(raw) > _MAX_CODED_CHARS and rule.convert not in _TEXT_CONVERSIONS:
            return Rejected(f"a short value for {rule.display_label!r}")  # no coded value is this long
        result = self._convert(rule, raw)
        if isinstance(result, Rejected) and self.is_placeholder(raw):
            return Placeholder()
        return result

    def _convert(self, rule: FieldRule, raw: str) -> Result:
        target = rule.target
        kind = rule.convert
        if kind == "text":
            return Values(((target, raw),))
        if kind == "split_semicolons":
            parts = [part.strip() for part in raw.split(";") if part.strip()]
            return Values(((target, parts),))
        if kind == "vocabulary":
            vocabulary = rule.vocabulary or ""
            value = self.lookup(vocabulary, raw)
            return Values(((target, value),)) if value else Rejected(f"a known {vocabulary} wording")
        if kind == "phases":
            phases = self.phases(raw)
            return Values(((target, phases),)) if phases else Rejected("a known phase")
        if kind == "enrollment":
            return self._enrollment(rule, raw)
        if kind == "partial_date":
            date = parse_partial_date(raw, rule.value_type)
            if date is None:
                return Rejected("a date (2024-05, May 2024, May 27, 2024)")
            return Values(((target, date.model_dump(mode="json", exclude_none=True)),))
        if kind == "age":
            return self._single_age(rule, raw)
        if kind == "age_range":
            return self._age_range(rule, raw)
        if kind == "bool":
            flag = parse_bool(raw)
            if flag is None:
                found = self.lookup("YesNo", raw)
                flag = {"true": True, "false": False}.get(found or "")
            return Values(((target, flag),)) if flag is not None else Rejected("yes or no")
        if kind == "int":
            number = parse_int(raw)
            return Values(((target, number),)) if number is not None else Rejected("a whole number")
        if kind == "registry_id":
            key = self._rules.identifiers.classify(raw)
            if key is None:
                return Rejected("an identifier of a known registry")
            return Values(((target, {"value": raw, "kind": "registry", "registry": key}),))
        return Rejected(f"convertible by {kind!r}")

    def _enrollment(self, rule: FieldRule, raw: str) -> Result:
        wordings = self._rules.value_wordings
        m = wordings.enrollment.match(raw)
        stated = self.lookup(wordings.enrollment_type_vocabulary, m["type"]) if m and m["type"] else None
        if not m or (m["type"] and stated is None):
            return Rejected("a number of participants")
        count = int(m["count"].replace(",", ""))
        value: dict[str, Any] = {"count": count}
        if rule.value_type or stated:
            value["type"] = rule.value_type or stated
        return Values(((rule.target, value),))

    def _single_age(self, rule: FieldRule, raw: str) -> Result:
        age = self._age(raw)
        if age is not None:
            return Values(((rule.target, age.model_dump(mode="json")),))
        if rule.assumed_unit and _BARE_NUMBER.match(raw):
            unit = rule.assumed_unit.upper()
            return Values(((rule.target, {"value": float(raw), "unit": unit, "text": raw}),), assumed_unit=True)
        return Rejected("an age with its unit (18 Years)")

    def _age_range(self, rule: FieldRule, raw: str) -> Result:
        """'18 Years to 70 Years', '18-60 years', '18 Years and older', '≥5 years old', 'up to 65 Years'."""
        minimum, maximum = self._age_limits(raw)
        if minimum is None and maximum is None:
            return Rejected("an age range (18 Years to 70 Years)")
        items: list[tuple[str, Any]] = []
        if minimum is not None:
            items.append((f"{rule.target}.minimum_age", minimum.model_dump(mode="json")))
        if maximum is not None:
            items.append((f"{rule.target}.maximum_age", maximum.model_dump(mode="json")))
        return Values(tuple(items))

    def _age_limits(self, raw: str) -> tuple[Age | None, Age | None]:
        wordings = self._rules.value_wordings
        if (m := wordings.minimum_only.match(raw)) and (minimum := self._age(m["age"] or m["age2"])):
            return minimum, None
        if (m := wordings.maximum_only.match(raw)) and (maximum := self._age(m["age"] or m["age2"])):
            return None, maximum
        parts = wordings.range_split.split(raw, maxsplit=1)
        if len(parts) != 2:
            return None, None
        low, high = self._age(parts[0]), self._age(parts[1])
        if low is None and high is not None and _BARE_AGE.match(parts[0].strip()):
            # '18-60 years': the unit is written once, after the range, for both ends
            low = Age(value=float(parts[0].strip()), unit=high.unit, text=parts[0].strip())
        return (low, high) if low is not None and high is not None else (None, None)

    def _age(self, text: str) -> Age | None:
        """An age with its unit; words after the unit that belong to it ('5 years old') stay in its text."""
        raw = text.strip()
        age = parse_age(raw)
        if age is None and (m := self._rules.value_wordings.unit_suffix.match(raw)):
            found = parse_age(m["age"])
            age = found.model_copy(update={"text": raw}) if found is not None else None
        return age
