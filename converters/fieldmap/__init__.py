"""The field-map engine: structured registry records (JSON, XML) -> the canonical Study's fields, by mapping data.

See `engine` for what a field map is and how it runs.
"""

from __future__ import annotations

from converters.fieldmap.engine import (
    NOT_IN_SCHEMA,
    TEXT_KEEPING_CONVERSIONS,
    ConversionContext,
    EngineKinds,
    FieldMap,
    JsonAdapter,
    MapResult,
    UnmappedEntry,
    XmlAdapter,
    iter_leaves,
    leaf_text,
)

__all__ = [
    "NOT_IN_SCHEMA",
    "TEXT_KEEPING_CONVERSIONS",
    "ConversionContext",
    "EngineKinds",
    "FieldMap",
    "JsonAdapter",
    "MapResult",
    "UnmappedEntry",
    "XmlAdapter",
    "iter_leaves",
    "leaf_text",
]
