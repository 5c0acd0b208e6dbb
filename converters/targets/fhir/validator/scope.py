"""Where an element sits: the resource it belongs to, its container and its bundle entry.

The walker makes one `Scope` per resource it enters; invariants read it (%resource, %rootResource) and the
references met in the resource keep it, so that a bundle's references can be resolved against the entry's
`fullUrl` once the bundle is walked. It lives here, below both, so that neither needs the other for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, eq=False)
class Scope:
    """The resource an element belongs to (%resource), its container (%rootResource), its bundle entry."""

    resource: Mapping[str, Any]
    root: Mapping[str, Any]
    record: str | None
    full_url: str | None
    contained: bool
    variables: dict[str, list[Any]] | None = None  # %resource etc. for the compiled evaluator, made on demand
