"""Readers: one module per input format, each defining a module-level `READER` (see `base.Reader`).

`discover_readers()` finds them by that name, so adding a format is one new module plus its mapping file.
"""

from __future__ import annotations

import importlib
import pkgutil

from converters.loading import SourceDocument
from converters.readers.base import Reader, ReaderConfig, ReadOutcome

__all__ = ["ReadOutcome", "Reader", "ReaderConfig", "choose_reader", "discover_readers"]


def discover_readers() -> dict[str, Reader]:
    """All reader modules in this package that define `READER`, keyed by format name."""
    found: dict[str, Reader] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        reader = getattr(module, "READER", None)
        if reader is not None:
            found[reader.name] = reader
    return found


def choose_reader(doc: SourceDocument, readers: dict[str, Reader], forced: str | None = None) -> Reader | None:
    """The reader named by `--from`, else the one most confident about the content (ties: by name)."""
    if forced:
        return readers.get(forced)
    best: tuple[float, str] | None = None
    for name, reader in readers.items():
        score = reader.sniff(doc)
        if score > 0 and (best is None or score > best[0]):
            best = (score, name)
    return readers[best[1]] if best else None
