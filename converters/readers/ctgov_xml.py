"""Reader for the legacy ClinicalTrials.gov XML (`<clinical_study>`, format name `ctgov-xml`).

One study per document; a ZIP of such documents (the old bulk download) is opened by detection, which sends
each `.xml` member here (`archive_suffixes`) as a document of its own. Each record is validated against
NLM's `public.xsd` (2019.02.14) with lxml, then mapped by `mappings/ctgov_xml/study.yaml`: display strings
("Active, not recruiting", "Phase 1/Phase 2") go through the shared vocabularies to the API v2 enums, dates
like "May 27, 2024" / "May 2024" keep their precision, "Anticipated" dates stay estimated, ages like
"18 Years" keep their unit and "N/A" means no limit.

Safety: documents are parsed by `converters.loading.xml` (ClinicalTrials.gov XML never has a DTD, so a
document with one is refused before parsing; the parser never resolves entities, loads a DTD or touches the
network).

Schema policy: a document that is not well-formed, has a DTD, or whose root is not `clinical_study` is
refused (fatal for a single file, error for a ZIP member). Failures against public.xsd are warnings: older
records use elements the 2019 schema dropped, and they are still read (elements without a rule are listed as
unmapped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from converters.fieldmap import ConversionContext, FieldMap, MapResult, XmlAdapter
from converters.loading import SourceDocument, XmlRefusal, parse_untrusted, secure_parser, short_message
from converters.model import SourceInfo
from converters.model.comparators import ComparatorRules, mark_damaged_comparators
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.problem_codes import ctgov
from converters.problems import Location, Problem
from converters.readers.base import ConverterCache, ReaderConfig, ReadOutcome, SourceUse, record_problem
from converters.readers.ctgov_v2.record import ENGINE_KINDS, build_study, source_leaves
from converters.resources import Resources

FORMAT = "ctgov-xml"
MAPPING = "ctgov_xml/study.yaml"
XSD = "ctgov/public.xsd"
ROOT = "clinical_study"
NCT_ID_PATH = "id_info/nct_id"  # under the root
_SNIFF_WINDOW = 64 * 1024
_MAX_XSD_PROBLEMS = 20


class XmlRecordConverter:
    """Built once per run: the compiled XSD, the field map and the secure parser."""

    def __init__(self, resources: Resources) -> None:
        xsd_path = resources.schemas_dir / XSD
        self._schema = etree.XMLSchema(etree.parse(str(xsd_path), secure_parser()))
        ctx = ConversionContext(Vocabulary(resources), IdentifierSystems(resources))
        self.field_map = FieldMap(resources.mapping(MAPPING), MAPPING, XmlAdapter(), ctx, ENGINE_KINDS)
        self.comparators = ComparatorRules.load(resources)

    def parse(self, data: bytes, file: str, label: str | None) -> Any | Problem:
        """The root element of a safe, well-formed `clinical_study` document, or the problem refusing it."""
        where = Location(file=file, record=label)
        root = parse_untrusted(data)
        if isinstance(root, XmlRefusal):
            if root.kind == "dtd":
                return ctgov.XML_DTD(where, entities=", with ENTITY declarations" if root.entities else "")
            line = root.line or 1
            return ctgov.XML_MALFORMED(where.model_copy(update={"line": line}), line=line, reason=root.reason)
        if root.tag != ROOT:
            return ctgov.XML_NOT_STUDY(where, root=str(root.tag))
        return root

    def xsd_problems(self, root: Any, where: Callable[[str | None, int | None], Location]) -> list[Problem]:
        if self._schema.validate(root.getroottree()):
            return []
        problems = []
        for error in list(self._schema.error_log)[:_MAX_XSD_PROBLEMS]:
            problems.append(ctgov.XML_SCHEMA_INVALID(where(error.path, error.line), line=error.line,
                                                     reason=short_message(error.message)))
        return problems

    def map_root(self, root: Any, where: Callable[[str], Location]) -> MapResult:
        return self.field_map.apply(root, f"/{ROOT}", where)

    def convert_bytes(self, data: bytes, doc: SourceDocument, label: str | None) -> ReadOutcome:
        """One XML document (a file, or an archive member named `label`) -> an outcome."""
        parsed = self.parse(data, doc.name, label)
        if isinstance(parsed, Problem):
            return ReadOutcome(label, None, [record_problem(parsed, label)])
        root = parsed
        nct_id = _nct_id(root)
        name = nct_id or label

        def where(pointer: str) -> Location:
            return Location(file=doc.name, record=name, path=pointer or None)

        def where_line(path: str | None, line: int | None) -> Location:
            return Location(file=doc.name, record=name, path=path, line=line)

        problems = self.xsd_problems(root, where_line)
        result = self.map_root(root, where)
        if nct_id is None:
            problems.append(ctgov.NO_NCT_ID(where(f"/{ROOT}/{NCT_ID_PATH}")))
        entries = self.field_map.unmapped(root, f"/{ROOT}", result, {})
        problems.extend(result.problems)
        encoding = root.getroottree().docinfo.encoding
        study = build_study(result, entries, problems, SourceInfo(
            file=doc.name, format=FORMAT, layout="zip" if label else "clinical_study", encoding=encoding,
            sha256=doc.sha256, record=label,
        ))
        record = None if label is None else name
        if isinstance(study, Problem):
            return ReadOutcome(record, None, [*problems, study.with_location(file=doc.name, record=name)])
        return ReadOutcome(record, mark_damaged_comparators(study, self.comparators), [])


class CtgovXmlReader:
    name = FORMAT
    description = "Legacy ClinicalTrials.gov XML (<clinical_study>), one per file or a ZIP of them"
    archive_suffixes = (".xml",)

    def __init__(self) -> None:
        self._converters = ConverterCache(XmlRecordConverter)

    def converter(self, resources: Resources) -> XmlRecordConverter:
        return self._converters.get(resources)

    def sniff(self, doc: SourceDocument) -> float:
        head = doc.data[:_SNIFF_WINDOW].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"<") and b"<clinical_study" in head:
            return 0.95
        return 0.0

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        yield self.converter(config.resources).convert_bytes(doc.data, doc, label=doc.member)

    def source_use(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[SourceUse]:
        """Which values of the document's one record the field map uses (for coverage); parse and map only."""
        converter = self.converter(config.resources)
        root = converter.parse(doc.data, doc.name, doc.member or doc.name)
        if isinstance(root, Problem):
            yield SourceUse(None, (root,))
            return
        result = converter.map_root(root, lambda p: Location(file=doc.name, path=p))
        yield SourceUse(source_leaves(converter.field_map, root, f"/{ROOT}", result, {}))


READER = CtgovXmlReader()


def _nct_id(root: Any) -> str | None:
    found = root.find(NCT_ID_PATH)
    text = (found.text or "").strip() if found is not None else ""
    return text or None
