"""What one study's conversion shares between builders: the study, the maps, the resources made so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from converters.model import Study, TextFormat
from converters.model.text import as_commonmark, source_format, text_at
from converters.problems import Location, Problem, ProblemKind
from converters.targets.fhir.draft import Draft, minted_id
from converters.targets.fhir.maps import FhirMaps


@dataclass
class BuildContext:
    """Per-study state. `drafts` keeps every resource once (by id), in the order first made.

    `study` holds every text as plain text (`plain_text_view`): what FHIR `string` elements and narratives
    take. `as_read` is the study as read, each text in the format its source wrote it in, for the `markdown`
    elements (`markdown`); None when the two are the same."""

    study: Study
    maps: FhirMaps
    study_key: str  # the study's identity ("system|value" of its business identifier)
    drafts: dict[str, Draft] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    as_read: Study | None = None

    def markdown(self, pointer: str, plain: str) -> str:
        """A FHIR `markdown` value for the study text at `pointer` (`plain`: its plain text): the CommonMark the
        source wrote, as written; a plain source text escaped so that it reads literally."""
        source = self.as_read or self.study
        if source_format(source, pointer) is TextFormat.MARKDOWN:
            written = text_at(source, pointer)
            if written is not None:
                return as_commonmark(written, TextFormat.MARKDOWN)
        return as_commonmark(plain, TextFormat.PLAIN)

    @property
    def study_name(self) -> str:
        """What names the study in the titles the writer composes: brief title, official title, registry id,
        else the source file."""
        study = self.study
        return (study.titles.brief or study.titles.official or study.registry_id() or study.source.file).strip()

    def report(self, kind: ProblemKind, path: str | None = None, **params: Any) -> None:
        where = Location(file=self.study.source.file,
                         record=self.study.registry_id() or self.study.source.record, path=path)
        self.problems.append(kind(where, **params))

    def mint(self, resource_type: str, id_kind: str, identity: str, *, scoped: bool) -> Draft:
        """The draft for this identity, made once. `scoped` identities belong to this study only."""
        full_identity = f"{self.study_key}|{identity}" if scoped else identity
        rid = minted_id(f"{resource_type}:{id_kind}", full_identity)
        existing = self.drafts.get(rid)
        if existing is not None:
            return existing
        draft = Draft(resource_type, rid, identifier_system=self.maps.identifier_system(id_kind),
                      identifier_value=rid)
        draft.body["identifier"] = [{"system": draft.identifier_system, "value": rid}]
        self.drafts[rid] = draft
        return draft

    def add_draft(self, draft: Draft) -> Draft:
        self.drafts.setdefault(draft.id, draft)
        return self.drafts[draft.id]
