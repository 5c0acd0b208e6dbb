"""Reader for the WHO ICTRP search-portal XML export (`<Trials_downloaded_from_ICTRP>`, format name `ictrp-xml`).

The export lists flat `<Trial>` elements, each a record that ICTRP copied from a primary registry (ChiCTR, EU
CTR, CTIS, ISRCTN, ANZCTR, CTRI, DRKS, jRCT/JPRN, IRCT, ReBEC, KCT, OMON, ClinicalTrials.gov ...). Both schemas
seen are read by one map (`mappings/ictrp_xml/study.yaml`): the current one (`Internal_Number`,
`Retrospective_flag`, `results_*`) and the 2020 one (`Bridging_flag_truefalse`); elements of neither are listed
as unmapped. Trials are read one at a time (`ictrp_records.iter_xml_trials`), so a large export is never held as
one tree. Safety: no entity is resolved, no DTD loaded, nothing fetched; a document with a DOCTYPE is refused
(the portal never writes one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from converters.fieldmap import XmlAdapter
from converters.loading import SourceDocument
from converters.readers.base import ConverterCache, ReaderConfig, ReadOutcome, SourceUse
from converters.readers.ictrp_records import TrialConverter, TrialPlace, XmlShape, read_xml_trials, xml_source_use
from converters.resources import Resources

FORMAT = "ictrp-xml"
MAPPING = "ictrp_xml/study.yaml"
ROOT = "Trials_downloaded_from_ICTRP"
TRIAL = "Trial"
_SNIFF_WINDOW = 4096

SHAPE = XmlShape(FORMAT, ROOT, (TRIAL,), "TrialID", "export", "an ICTRP XML export")


def _converter(resources: Resources) -> TrialConverter:
    return TrialConverter(resources, MAPPING, XmlAdapter())


class IctrpXmlReader:
    name = FORMAT
    description = "WHO ICTRP search-portal XML export (<Trials_downloaded_from_ICTRP>), any number of trials"
    archive_suffixes = (".xml",)

    def __init__(self) -> None:
        self._converters = ConverterCache(_converter)

    def converter(self, resources: Resources) -> TrialConverter:
        return self._converters.get(resources)

    def sniff(self, doc: SourceDocument) -> float:
        head = doc.data[:_SNIFF_WINDOW].lstrip(b"\xef\xbb\xbf \t\r\n")
        return 0.95 if head.startswith(b"<") and b"<" + ROOT.encode() in head else 0.0

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        converter = self.converter(config.resources)

        def convert(element: Any, place: TrialPlace) -> ReadOutcome:
            return converter.convert(element, place, element.findtext("TrialID"), [])

        return read_xml_trials(doc, config, SHAPE, convert)

    def source_use(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[SourceUse]:
        """Which values of each trial the field map uses (for coverage); parse and map only."""
        return xml_source_use(doc, config, SHAPE, self.converter(config.resources))


READER = IctrpXmlReader()
