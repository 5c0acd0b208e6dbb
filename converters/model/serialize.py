"""Deterministic JSON for the canonical study: same study, same bytes."""

from __future__ import annotations

from typing import Any

from converters import jsonio
from converters.model.study import SCHEMA_VERSION, Study


def study_to_dict(study: Study) -> dict[str, Any]:
    """The study as plain JSON data, leaving out every absent value and empty list."""
    data = study.model_dump(mode="json", exclude_defaults=True)
    return {"schema_version": SCHEMA_VERSION, **data}


def document_to_bytes(document: dict[str, Any]) -> bytes:
    """The one fixed layout of study.json (2-space indent, UTF-8, model field order, trailing newline)."""
    return jsonio.dumps(document)


def document_to_json(document: dict[str, Any]) -> str:
    return jsonio.dumps_text(document)


def study_to_json(study: Study) -> str:
    return document_to_json(study_to_dict(study))


def study_from_json(text: str) -> Study:
    """Load a study written by `study_to_json`."""
    return Study.model_validate_json(text)
