"""A page field's text converted by the conversion its layout names (`convert: partial_date`, ...).

The conversions are the field maps' (converters/fieldmap/conversions.py: one registry, one meaning per name);
this module adds what is particular to pages: a text that says "no value" ("n/a", "-") is a placeholder, a long
text is never a coded value, a bare number may take the unit the field states (`assumed_unit`), and a value
that does not fit is reported with what the field expected, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from converters.fieldmap.conversions import CONVERSIONS, FREE_TEXT_CONVERSIONS, Absent, ConversionContext, Rejected
from converters.model.vocabulary import normalise_wording
from converters.readers.registry_page.rules import FieldRule, PageRules


@dataclass(frozen=True)
class Values:
    """The value(s) a text gives: (path, value) pairs, paths as in the field's target."""

    items: tuple[tuple[str, Any], ...]
    assumed_unit: bool = False


@dataclass(frozen=True)
class Placeholder:
    """The text says "no value" (n/a, -)."""


Result = Values | Rejected | Placeholder  # Rejected.reason: what the field expected (for the problem message)

_BARE_NUMBER = re.compile(r"^\d{1,3}$")
_TEXT_CONVERSIONS = FREE_TEXT_CONVERSIONS - {"criteria"}  # criteria text is read by its own reader
_MAX_CODED_CHARS = 300  # longer text is never a date, number, age or vocabulary wording


class Converter:
    """Applies the named conversions with the reader's vocabularies (built once per reader)."""

    def __init__(self, rules: PageRules) -> None:
        self._rules = rules
        self._ctx = ConversionContext(rules.vocabulary, rules.identifiers, local_vocabulary=rules.page_vocabulary,
                                      wordings=rules.value_wordings)

    def is_placeholder(self, text: str) -> bool:
        return len(text) <= _MAX_CODED_CHARS and normalise_wording(text) in self._rules.placeholders

    def lookup(self, vocabulary: str, text: str) -> str | None:
        """A coded value for a wording: the page's own vocabularies first, then the shared ones."""
        return self._ctx.lookup_one(vocabulary, text)

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

    def _convert(self, rule: FieldRule, raw: str) -> Values | Rejected:
        if rule.convert == "criteria":  # read as a tree by the criteria reader (parsers.read_criteria), never here
            return Rejected(f"convertible by {rule.convert!r}")
        conversion = CONVERSIONS[rule.convert]  # the layouts' schema and PageRules.load allow no other name
        parts: dict[str, Any] = {"value": raw}
        if rule.value_type:
            parts["type"] = rule.value_type  # ACTUAL or ESTIMATED, as the field's label says
        options = {"vocabulary": rule.vocabulary} if rule.vocabulary else {}
        value = conversion.run(parts, options, self._ctx)
        if isinstance(value, Rejected | Absent):
            if rule.convert == "age" and rule.assumed_unit and _BARE_NUMBER.match(raw):
                unit = rule.assumed_unit.upper()
                return Values(((rule.target, {"value": float(raw), "unit": unit, "text": raw}),), assumed_unit=True)
            return Rejected(conversion.expects.format(vocabulary=rule.vocabulary or ""))
        if conversion.gives_fields:
            return Values(tuple((f"{rule.target}.{name}", _data(field)) for name, field in value.items()))
        return Values(((rule.target, _data(value)),))


def _data(value: Any) -> Any:
    """A converted value as the page's study draft holds it (plain JSON data)."""
    return value.model_dump(mode="json", exclude_none=True) if isinstance(value, BaseModel) else value
