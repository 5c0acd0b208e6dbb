"""Output targets: each subpackage here owns one target's writer, validator and codecs, and defines a
module-level `TARGET` (see `base.Target`).

`discover_targets()` finds them by that name (no central list to edit): `--to` offers every writer they
register and `trialbridge validate` asks each whether it claims a path. The canonical `study` target is
written for every study, before the others, which are written from it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from converters.targets.base import (
    OutputCheck,
    PathProbe,
    Target,
    ValidateConfig,
    Writer,
    WriterConfig,
    WriteResult,
    WriterFactory,
)

__all__ = [
    "CANONICAL_TARGET", "OutputCheck", "PathProbe", "Target", "ValidateConfig", "WriteResult", "Writer",
    "WriterConfig", "WriterFactory", "claiming_target", "discover_targets", "discover_writers", "target_names",
]

CANONICAL_TARGET = "study"


def discover_targets() -> dict[str, Target]:
    """Every target package's `TARGET`, keyed by target name, in name order."""
    found: dict[str, Target] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        target: Target | None = getattr(importlib.import_module(f"{__name__}.{info.name}"), "TARGET", None)
        if target is not None:
            found[target.name] = target
    return found


def discover_writers(targets: Mapping[str, Target] | None = None) -> dict[str, WriterFactory]:
    """Every writer factory, keyed by its `--to` name."""
    found: dict[str, WriterFactory] = {}
    for target in (targets if targets is not None else discover_targets()).values():
        found.update(target.writers)
    return found


def target_names() -> list[str]:
    """The `--to` names: the canonical study first, then the others in name order."""
    others = sorted(name for name in discover_writers() if name != CANONICAL_TARGET)
    return [CANONICAL_TARGET, *others]


def claiming_target(probe: PathProbe, targets: Mapping[str, Target]) -> Target | None:
    """The target most confident that the path is one of its outputs (ties: by name); None if none claims it."""
    best: tuple[float, Target] | None = None
    for target in targets.values():
        score = target.claims(probe)
        if score > 0 and (best is None or score > best[0]):
            best = (score, target)
    return best[1] if best else None
