"""The field-map engine: structured registry records (JSON, XML) -> the canonical Study's fields, by mapping data.

See `engine` for what a field map is and how it runs, and `conversions` for the named conversions (one registry,
also used by the registry-page reader).
"""

from __future__ import annotations

from converters.fieldmap.adapters import JsonAdapter, XmlAdapter, iter_leaves, leaf_text
from converters.fieldmap.conversions import TEXT_KEEPING_CONVERSIONS, ConversionContext
from converters.fieldmap.engine import FieldMap
from converters.fieldmap.state import EngineKinds, MapResult
from converters.fieldmap.unmapped import NOT_IN_SCHEMA, UnmappedEntry

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
