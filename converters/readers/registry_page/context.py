"""What every parser works with: the page, the study draft, the ledger of unused lines and the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from converters.fieldmap.conversions import Rejected
from converters.problem_codes import page as codes
from converters.readers.registry_page.convert import Converter, Placeholder
from converters.readers.registry_page.draft import Draft, Span
from converters.readers.registry_page.page import REASON_PLACEHOLDER, Ledger, Page
from converters.readers.registry_page.rules import FieldRule, PageRules

# Study fields that hold lists: a value for them is appended, not set.
LIST_TARGETS = frozenset({"identifiers", "conditions", "keywords", "countries", "other_fields"})
REASON_REPEATED = "states a value given earlier"


@dataclass
class ReadContext:
    page: Page
    draft: Draft
    ledger: Ledger
    rules: PageRules
    converter: Converter
    # Intervention names -> index, and the normalised lines of each intervention's block (for arms).
    interventions: dict[str, int] = field(default_factory=dict)
    intervention_lines: dict[int, set[str]] = field(default_factory=dict)

    def apply(self, rule: FieldRule, text: str, span: Span) -> bool:
        """Convert a study-level field's text and store it; an unknown value is kept as written.

        Returns False when the text gave no value (placeholder or a repeat), so the caller can mark the line.
        """
        result = self.converter.convert(rule, text)
        if isinstance(result, Placeholder):
            self.ledger.skip(span[0], REASON_PLACEHOLDER)
            return False
        if isinstance(result, Rejected):
            self.keep_unrecognised(rule, text.strip(), span, result.reason)
            return True
        if result.assumed_unit:
            self.draft.report(codes.AGE_UNIT_ASSUMED(self.draft.where(span), text=text.strip(),
                                                     unit=(rule.assumed_unit or "").lower()))
        stored = False
        for path, value in result.items:
            stored = self.store(path, value, span, rule.display_label) or stored
        if not stored:
            for line in range(span[0], span[1] + 1):
                self.ledger.skip(line, REASON_REPEATED)
        return stored

    def store(self, path: str, value: Any, span: Span, label: str | None = None) -> bool:
        if path == "other_fields" and not isinstance(value, dict):
            value = {"label": label or path, "value": value}
        if path in LIST_TARGETS:
            if path == "identifiers" and self._has_identifier(value):
                return False
            self.draft.append(path, value, span)
            return True
        return self.draft.assign(path, value, span, label)

    def keep_unrecognised(self, rule: FieldRule, text: str, span: Span, what: str) -> None:
        """A value no rule understands: report it and keep it as written (never guessed)."""
        self.draft.report(codes.VALUE_UNRECOGNISED(self.draft.where(span), value=text, label=rule.display_label,
                                                   what=what))
        if rule.target == "status.overall":
            self.draft.assign("status.overall_text", text, span, rule.display_label)
        else:
            self.draft.append("other_fields", {"label": rule.display_label, "value": text}, span)

    def labelled(self, label: str, text: str, span: Span) -> None:
        """A label/value pair with no field: kept in `other_fields`."""
        self.draft.append("other_fields", {"label": label, "value": text}, span)

    def _has_identifier(self, value: dict[str, Any]) -> bool:
        existing = self.draft.get("identifiers") or []
        return any(item.get("value") == value.get("value") for item in existing)
