"""What the WHO ICTRP readers share (`ictrp_xml`, `ictrp_csv`, `ictrp_registry`): one trial record, an XML element
or a CSV row, turned into a study by its format's field map with ICTRP's problem kinds; and XML read trial by trial.

This module defines no `READER`: each format's module does. A trial's identity comes from its TrialID through
`mappings/common/identifiers.yaml` (the conversion `ictrp_identifiers`); a study without a registry identifier,
or whose TrialID is of no known registry, is still converted, with a warning saying so.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from converters.fieldmap import ConversionContext, FieldMap, MapResult
from converters.fieldmap.adapters import Adapter
from converters.fieldmap.state import EngineKinds
from converters.loading import SourceDocument, XmlRefusal, short_message
from converters.loading.xml import has_doctype
from converters.model import SourceInfo
from converters.model.comparators import ComparatorRules, mark_damaged_comparators
from converters.model.study import IdentifierKind
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.problem_codes import ictrp
from converters.problems import Location, Problem, Severity
from converters.readers.base import ReaderConfig, ReadOutcome, SourceUse, record_problem
from converters.readers.ctgov_v2.record import build_study, source_leaves
from converters.resources import Resources

_PROLOG_WINDOW = 64 * 1024
_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
ENGINE_KINDS = EngineKinds(unknown_value=ictrp.UNKNOWN_VALUE, bad_value=ictrp.BAD_VALUE,
                           dropped_object=ictrp.DROPPED_OBJECT)


@dataclass(frozen=True)
class TrialPlace:
    """Where one trial sits: the file, its digest and encoding, the format and form, its place in the file."""

    file: str
    sha256: str
    format: str
    layout: str
    encoding: str | None
    label: str  # "#3": the trial's place in the file (with the archive member's name, inside a ZIP)
    pointer: str  # the record's own pointer (`/Trials_downloaded_from_ICTRP/Trial[3]`, `/3`)
    id_pointer: str  # where its TrialID is (for the problem when it has none)
    # the record's path without its index (`/Trials_downloaded_from_ICTRP/Trial`, or empty for a CSV row), as
    # the map's `root` and `unmapped` paths write it; None: the pointer has no index
    generic: str | None = None


class TrialConverter:
    """Built once per run and format: the compiled field map and the comparator rules."""

    def __init__(self, resources: Resources, mapping: str, adapter: Adapter) -> None:
        ctx = ConversionContext(Vocabulary(resources), IdentifierSystems(resources))
        self.field_map = FieldMap(resources.mapping(mapping), mapping, adapter, ctx, ENGINE_KINDS)
        self.comparators = ComparatorRules.load(resources)

    def convert(self, record: Any, place: TrialPlace, trial_id: str | None, problems: list[Problem]) -> ReadOutcome:
        """One trial -> an outcome: the study (with its problems), or why it could not be modelled. `trial_id`:
        the TrialID as written, which names the trial in problem locations."""
        name = (trial_id or "").strip() or place.label
        where = _locator(place, name)
        result = self.field_map.apply(record, place.pointer, where)
        problems = [*problems, *identity_problems(result, place, where), *result.problems]
        entries = self.field_map.unmapped(record, place.pointer, result, {}, generic=place.generic)
        source = SourceInfo(file=place.file, format=place.format, layout=place.layout, encoding=place.encoding,
                            sha256=place.sha256, record=place.label)
        study = build_study(result, entries, problems, source, invalid=ictrp.RECORD_INVALID)
        if isinstance(study, Problem):
            return ReadOutcome(place.label, None, [*problems, study.with_location(file=place.file, record=name)])
        return ReadOutcome(place.label, mark_damaged_comparators(study, self.comparators), [])

    def source_use(self, record: Any, place: TrialPlace) -> SourceUse:
        """Which values of the trial the field map uses (for `trialbridge coverage`)."""
        result = self.field_map.apply(record, place.pointer, _locator(place, place.label))
        return SourceUse(source_leaves(self.field_map, record, place.pointer, result, {}, generic=place.generic))


def _locator(place: TrialPlace, name: str) -> Callable[[str], Location]:
    def where(pointer: str) -> Location:
        return Location(file=place.file, record=name, path=pointer or None)

    return where


def identity_problems(result: MapResult, place: TrialPlace, where: Callable[[str], Location]) -> list[Problem]:
    """A warning when the trial has no TrialID, or one of no known registry (kept without a system)."""
    registry_ids = [i for i in result.data.get("identifiers", []) if _kind(i) is IdentifierKind.REGISTRY]
    if not registry_ids:
        return [ictrp.NO_TRIAL_ID(where(place.id_pointer), path=place.id_pointer)]
    return [ictrp.TRIAL_ID_UNKNOWN_REGISTRY(where(place.id_pointer), value=_field(i, "value"))
            for i in registry_ids if _field(i, "registry") is None]


def _field(ident: Any, name: str) -> Any:
    return ident.get(name) if isinstance(ident, dict) else getattr(ident, name)


def _kind(ident: Any) -> IdentifierKind:
    return IdentifierKind(_field(ident, "kind"))


# --- XML, trial by trial ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class XmlStart:
    """The document's root element and encoding, before its first trial."""

    root: str
    encoding: str | None


@dataclass(frozen=True)
class XmlOther:
    """An element under the root that is not a trial: not read, and said so."""

    tag: str
    line: int | None


def iter_xml_trials(data: bytes, trial_tags: tuple[str, ...], allow_doctype: bool = False
                    ) -> Iterator[XmlStart | XmlOther | Any | XmlRefusal]:
    """The root (`XmlStart`), then each child of the root named in `trial_tags` as a parsed element, which is cleared
    once the caller moves on, so a large export never sits in memory as one tree; an `XmlRefusal` ends it.

    Parsed without resolving entities, loading a DTD or touching the network. A document type with an internal
    subset (where entity declarations live) is refused; one that only names its DTD
    (`<!DOCTYPE trials SYSTEM "who_ictrp.dtd">`) is accepted when `allow_doctype`, and the DTD is not loaded."""
    if has_doctype(data):
        internal = _INTERNAL_SUBSET.search(data[:_PROLOG_WINDOW]) is not None
        if internal or not allow_doctype:
            yield XmlRefusal("dtd", entities=b"<!ENTITY" in data[:_PROLOG_WINDOW])
            return
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False, remove_pis=True)
    depth = 0
    root: Any = None
    try:
        for event, element in events:
            if event == "start":
                depth += 1
                if depth == 1:
                    root = element
                    yield XmlStart(str(element.tag), element.getroottree().docinfo.encoding or _declared_encoding(data))
                continue
            depth -= 1
            if depth != 1 or not isinstance(element.tag, str):
                continue  # inside a trial, or a comment or processing instruction beside the trials
            yield element if element.tag in trial_tags else XmlOther(str(element.tag), element.sourceline)
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del root[0]
    except etree.XMLSyntaxError as exc:
        yield XmlRefusal("malformed", line=exc.lineno or 1, reason=short_message(exc.msg or str(exc)))


@dataclass(frozen=True)
class XmlShape:
    """What an ICTRP XML format looks like: its root, its trial elements, and how its trials are named."""

    format: str
    root: str  # the root element (`Trials_downloaded_from_ICTRP`, `trials`)
    trial_tags: tuple[str, ...]  # its trial elements (`Trial`; `trial` and ChiCTR's `Triall`)
    id_path: str  # the TrialID under a trial (`TrialID`, `main/trial_id`)
    layout: str  # `SourceInfo.layout` of a file of them (a ZIP member's is `zip`)
    what: str  # the kind of file, in words (`an ICTRP XML export`)
    allow_doctype: bool = False  # a DOCTYPE that only names the DTD is accepted (never loaded)

    @property
    def generic(self) -> str:
        """A trial's path without its index, as the map's `root` writes it (the first trial tag's)."""
        return f"/{self.root}/{self.trial_tags[0]}"


def xml_trials(doc: SourceDocument, config: ReaderConfig, shape: XmlShape
               ) -> Iterator[tuple[Any, TrialPlace] | Problem]:
    """Each trial of an ICTRP XML file with its place in the file; a problem ends the file: a foreign root, or
    damage (fatal before the first trial; after it, the trials already read stand, as in a truncated download,
    and the damage refuses the rest: an error)."""
    where = Location(file=doc.name, record=doc.member)
    encoding: str | None = None
    count = 0
    for item in iter_xml_trials(doc.data, shape.trial_tags, allow_doctype=shape.allow_doctype):
        if isinstance(item, XmlRefusal):
            problem = _xml_refusal(item, where)
            yield problem.model_copy(update={"severity": Severity.ERROR}) if count else problem
            return
        if isinstance(item, XmlStart):
            if item.root != shape.root:
                yield ictrp.NOT_EXPORT(where, root=item.root, expected=shape.root, what=shape.what)
                return
            encoding = item.encoding
            continue
        if isinstance(item, XmlOther):
            yield ictrp.NOT_A_TRIAL(where.model_copy(update={"line": item.line}), tag=item.tag, root=shape.root,
                                    line=item.line)
            continue
        count += 1
        if config.max_records is not None and count > config.max_records:
            return
        pointer = f"/{shape.root}/{item.tag}[{count}]"
        yield item, TrialPlace(file=doc.name, sha256=doc.sha256, format=shape.format,
                               layout="zip" if doc.member else shape.layout, encoding=encoding,
                               label=f"{doc.member}#{count}" if doc.member else f"#{count}", pointer=pointer,
                               id_pointer=f"{pointer}/{shape.id_path}", generic=shape.generic)
    if count == 0:
        yield ictrp.NO_TRIALS(where, what=shape.what.removeprefix("an ").removeprefix("a "))


def _xml_refusal(refusal: XmlRefusal, where: Location) -> Problem:
    if refusal.kind == "dtd":
        return ictrp.XML_DTD(where, what="ENTITY declarations" if refusal.entities else "a DOCTYPE or internal subset")
    line = refusal.line or 1
    return ictrp.XML_MALFORMED(where.model_copy(update={"line": line}), line=line, reason=refusal.reason)


def read_xml_trials(doc: SourceDocument, config: ReaderConfig, shape: XmlShape,
                    convert: Callable[[Any, TrialPlace], ReadOutcome]) -> Iterator[ReadOutcome]:
    """A reader's `read` over an ICTRP XML file: each trial converted by `convert`, and each problem about the
    file as an outcome of its own (`xml_trials` ends the file after one that refuses the rest)."""
    for item in xml_trials(doc, config, shape):
        if isinstance(item, Problem):
            yield ReadOutcome(doc.member, None, [record_problem(item, doc.member)])
            continue
        yield convert(*item)


def xml_source_use(doc: SourceDocument, config: ReaderConfig, shape: XmlShape,
                   trials: TrialConverter) -> Iterator[SourceUse]:
    """A reader's `source_use` over an ICTRP XML file: which values of each trial its field map uses."""
    for item in xml_trials(doc, config, shape):
        if isinstance(item, Problem):
            yield SourceUse(None, (item,))
            continue
        yield trials.source_use(*item)


def _declared_encoding(data: bytes) -> str:
    """The encoding the XML declaration names (lxml reports none while parsing incrementally); UTF-8, XML's
    default, when it names none (a byte order mark aside: a UTF-16 file declares itself or fails to parse)."""
    found = _DECLARATION.match(data[:200])
    return found.group(1).decode("ascii").lower() if found else "utf-8"
