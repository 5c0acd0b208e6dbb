"""Small lookups over built bundles, shared by the FHIR writer tests."""

from __future__ import annotations

from typing import Any


def resources_of(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def research_study(bundle: dict[str, Any]) -> dict[str, Any]:
    (study,) = resources_of(bundle, "ResearchStudy")
    return study


def extensions(element: dict[str, Any], url_end: str) -> list[dict[str, Any]]:
    return [e for e in element.get("extension", []) if e["url"].endswith("/" + url_end)]


def sub(extension: dict[str, Any], name: str) -> list[Any]:
    """Values of a complex extension's parts named `name`."""
    out = []
    for part in extension["extension"]:
        if part["url"] == name:
            out.append(next(v for k, v in part.items() if k.startswith("value")))
    return out


def codes(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


def by_full_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def walk_references(node: Any) -> list[str]:
    """Every Reference.reference in a JSON tree."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            else:
                found += walk_references(value)
    elif isinstance(node, list):
        for item in node:
            found += walk_references(item)
    return found
