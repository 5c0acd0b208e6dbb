"""Reader for the WHO ICTRP CSV export (a header row starting with `TrialID`, then one row per trial; format name
`ictrp-csv`).

The columns are those of the XML export with spaces for underscores (`Public title`, `Date enrollement`), and the
values the same text with HTML line breaks written literally, so the map (`mappings/ictrp_csv/study.yaml`) is the
XML map's rules with the CSV's column names. A row is given to the field map as an object from column name to
cell, so provenance and problems point at `/<row>/<column>` (rows counted from 1 after the header; the problem's
line is the row's first line in the file, since a quoted cell may span lines). Rows are read one at a time with the
standard csv module; a row whose number of cells differs from the header's is refused on its own
(`ictrp-csv-row-width`), the other rows still convert.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from converters.fieldmap import JsonAdapter
from converters.loading import DecodedText, SourceDocument, decode_text
from converters.problem_codes import ictrp
from converters.problems import Location, Problem
from converters.readers.base import ConverterCache, ReaderConfig, ReadOutcome, SourceUse, record_problem
from converters.readers.ictrp_records import TrialConverter, TrialPlace
from converters.resources import Resources

FORMAT = "ictrp-csv"
MAPPING = "ictrp_csv/study.yaml"
TRIAL_ID = "TrialID"
_HEADER_STARTS = (b"TrialID,", b'"TrialID",')


def _converter(resources: Resources) -> TrialConverter:
    return TrialConverter(resources, MAPPING, JsonAdapter())


class IctrpCsvReader:
    name = FORMAT
    description = "WHO ICTRP CSV export (a header starting with TrialID, one row per trial), or a ZIP of them"
    archive_suffixes = (".csv",)  # WHO distributes its full export as a zipped CSV

    def __init__(self) -> None:
        self._converters = ConverterCache(_converter)

    def converter(self, resources: Resources) -> TrialConverter:
        return self._converters.get(resources)

    def sniff(self, doc: SourceDocument) -> float:
        head = doc.data[:256].removeprefix(b"\xef\xbb\xbf")
        return 0.95 if head.startswith(_HEADER_STARTS) else 0.0

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        converter = self.converter(config.resources)
        notes: list[Problem] = []
        for item in _rows(doc, config):
            if isinstance(item, DecodedText):
                notes = list(item.problems)
                continue
            if isinstance(item, Problem):
                yield ReadOutcome(None if item.severity.value == "fatal" else item.location.record, None,
                                  [record_problem(item, doc.member)])
                continue
            row, place = item
            outcome = converter.convert(row, place, row.get(TRIAL_ID), [])
            if notes and outcome.study is not None:  # the file's decoding notes, told once
                outcome.study.problems[:0] = notes
                notes = []
            yield outcome

    def source_use(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[SourceUse]:
        """Which cells of each row the field map uses (for coverage); parse and map only."""
        converter = self.converter(config.resources)
        for item in _rows(doc, config):
            if isinstance(item, DecodedText):
                continue
            if isinstance(item, Problem):
                yield SourceUse(None, (item,))
                continue
            row, place = item
            yield converter.source_use(row, place)


def _rows(doc: SourceDocument, config: ReaderConfig
          ) -> Iterator[DecodedText | Problem | tuple[dict[str, str], TrialPlace]]:
    """The decoded text, then each row as (column -> cell, its place), or the problem refusing it; a fatal
    problem ends the file."""
    where = Location(file=doc.name, record=doc.member)
    decoded = decode_text(doc.data, doc.name, config.resources)
    if isinstance(decoded, Problem):
        yield decoded
        return
    yield decoded
    reader = csv.reader(io.StringIO(decoded.text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
        if header is None or TRIAL_ID not in header:
            yield ictrp.CSV_NO_TRIAL_ID_COLUMN(where)
            return
        count = 0
        line = reader.line_num + 1
        for cells in reader:
            first_line, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if config.max_records is not None and count > config.max_records:
                return
            label = f"{doc.member}#{count}" if doc.member else f"#{count}"
            if len(cells) != len(header):
                yield ictrp.CSV_ROW_WIDTH(Location(file=doc.name, record=label, line=first_line), row=count,
                                          line=first_line, found=len(cells), expected=len(header))
                continue
            yield dict(zip(header, cells, strict=True)), TrialPlace(
                file=doc.name, sha256=doc.sha256, format=FORMAT, layout="zip" if doc.member else "export",
                encoding=decoded.encoding, label=label, pointer=f"/{count}", id_pointer=f"/{count}/{TRIAL_ID}",
                generic="")
    except csv.Error as exc:
        yield ictrp.CSV_MALFORMED(where.model_copy(update={"line": reader.line_num}), line=reader.line_num,
                                  reason=str(exc))
        return
    if count == 0:
        yield ictrp.NO_TRIALS(where, what="CSV export")


READER = IctrpCsvReader()
