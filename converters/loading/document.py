"""The unit every reader receives: one input document's bytes, with the names reports give it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceDocument:
    """One input file: its display name, raw bytes and digest. Decoding is up to the reader."""

    name: str
    data: bytes
    sha256: str
