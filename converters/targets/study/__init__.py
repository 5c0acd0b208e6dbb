"""The canonical target: `study.json`, the Study as data, checked against schemas/study.schema.json.

Every conversion writes it, and every other target is written from the same Study; see `writer`.
"""

from __future__ import annotations

from converters.targets.study.target import StudyTarget
from converters.targets.study.writer import StudyWriter

__all__ = ["TARGET", "StudyWriter"]

TARGET = StudyTarget()
