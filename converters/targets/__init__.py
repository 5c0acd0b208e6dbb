"""Writers: each module or subpackage here defines `WRITERS = {target: factory}` (see `base`)."""

from __future__ import annotations

import importlib
import pkgutil

from converters.targets.base import Writer, WriterConfig, WriteResult, WriterFactory

__all__ = ["WriteResult", "Writer", "WriterConfig", "WriterFactory", "discover_writers"]


def discover_writers() -> dict[str, WriterFactory]:
    """All writer factories keyed by target name."""
    found: dict[str, WriterFactory] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.update(getattr(module, "WRITERS", {}))
    return found
