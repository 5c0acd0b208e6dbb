"""Output targets: each subpackage here owns one target's writer, validator and codecs, and defines a
module-level `TARGET` (see `base.Target`).

`discover_targets()` finds them by that name (no central list to edit): `--to` offers every writer they
register and `trialbridge validate` asks each whether it claims a path. The canonical `study` target is
written for every study, before the others, which are written from it.

A run imports only the targets it writes (`find_targets`): a `--to` name is looked for first in the package
named by its part before any `-` (`fhir-r4` in `fhir`), and in every package only when that one does not
offer it, so a run to `study` does not pay for importing the FHIR and SDTM writers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping

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
    "WriterConfig", "WriterFactory", "claiming_target", "discover_targets", "discover_writers", "find_targets",
    "target_names",
]

CANONICAL_TARGET = "study"


def discover_targets() -> dict[str, Target]:
    """Every target package's `TARGET`, keyed by target name, in name order."""
    found: dict[str, Target] = {}
    for package in _target_packages():
        target = _package_target(package)
        if target is not None:
            found[target.name] = target
    return found


def find_targets(names: Iterable[str]) -> dict[str, Target]:
    """The target offering each `--to` name in `names` (a name none offers is left out), importing only the
    packages the names point to, unless one is not found there."""
    wanted = list(dict.fromkeys(names))
    packages = set(_target_packages())
    found: dict[str, Target] = {}
    for name in wanted:
        package = name.partition("-")[0]
        target = _package_target(package) if package in packages else None
        if target is not None and name in target.writers:
            found[name] = target
    if len(found) < len(wanted):  # a name outside the naming convention (or unknown): look in every package
        everywhere = {name: target for target in discover_targets().values() for name in target.writers}
        found.update({name: everywhere[name] for name in wanted if name not in found and name in everywhere})
    return found


def _target_packages() -> list[str]:
    """The names of the target packages, in name order (without importing them)."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg and not info.name.startswith("_"))


def _package_target(package: str) -> Target | None:
    target: Target | None = getattr(importlib.import_module(f"{__name__}.{package}"), "TARGET", None)
    return target


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
