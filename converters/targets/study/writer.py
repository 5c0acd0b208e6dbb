"""The canonical target's writer: `<study>/study.json`, checked against the study schema before it is written.

The canonical study is what every other target is written from, so a study that does not fit its schema is
not written at all, and then no other target is written from it either (the pipeline stops there). That is
why this target's check runs before writing, where the other targets' checks run after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from converters.model import Study, document_to_bytes, study_to_dict
from converters.problem_codes import core
from converters.problems import Location, Problem
from converters.targets.base import WriterConfig, WriteResult
from converters.targets.bulk import BulkFiles, json_line
from converters.targets.study.schema import StudySchemaValidator

STUDY_FILE = "study.json"
BULK_FILE = "study.ndjson"  # the bulk layout: one study document per line


class StudyWriter:
    """Writes one `study.json` per study; the schema is loaded once per run."""

    target = "study"

    def __init__(self, config: WriterConfig) -> None:
        self.schema = StudySchemaValidator(config.resources)
        self._bulk: BulkFiles | None = None

    def document(self, study: Study) -> tuple[dict[str, Any], list[Problem]]:
        """The study as `study.json` holds it, and what the study schema finds wrong with it."""
        document = study_to_dict(study)
        return document, self.schema.validate(document, file=study.source.file)

    def write_document(self, document: dict[str, Any], study: Study, study_dir: Path) -> WriteResult:
        """Write a checked document into the study's folder, which is created here."""
        path = study_dir / STUDY_FILE
        try:
            study_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(document_to_bytes(document))
        except OSError as exc:
            return WriteResult(problems=[core.OUTPUT_WRITE_FAILED(Location(file=study.source.file),
                                                                  what=str(study_dir), reason=str(exc))])
        return WriteResult(files=[path])

    def write_study(self, study: Study, study_dir: Path) -> WriteResult:
        document, invalid = self.document(study)
        if invalid:
            return WriteResult(problems=invalid)
        return self.write_document(document, study, study_dir)

    def line(self, document: dict[str, Any]) -> bytes:
        """A checked document as one line of the bulk file."""
        return json_line(document)

    def collect(self, payload: object, out_dir: Path) -> WriteResult:
        """Append a study's line (`line`) to `study.ndjson`."""
        if self._bulk is None:
            self._bulk = BulkFiles(out_dir)
        return self._bulk.append(BULK_FILE, [payload] if isinstance(payload, bytes) else [])

    def finish(self, out_dir: Path) -> WriteResult:
        if self._bulk is not None:
            self._bulk.close()
        return WriteResult()


def study_writer(config: WriterConfig) -> StudyWriter:
    return StudyWriter(config)
