"""The codecs of a Trial Design table, both ways: CSV, Dataset-JSON 1.1 (and its NDJSON form) and SAS XPORT v5.

Writing renders one `Dataset` (see `metadata`) deterministically: same dataset, same bytes. CSV has a header
row, empty cells for missing values and "\\n" line ends. Dataset-JSON 1.1 has the attributes in the order the
specification recommends, `null` for missing values, and one row per line. SAS XPORT v5 is written by
pyreadstat (ReadStat); the creation and modification date-times that ReadStat stamps into the library and
member headers are then set to the package's creation date-time, so that the file does not change from one
run to the next.

Reading turns a file of any of these formats back into rows of the table model (`tables.TdmTables`), as the
validator needs them for `trialbridge validate FOLDER`: CSV has no types, so its numbers stay text (the rule
runner reads the SDTMIG numeric variables as numbers); in every format an empty value is None. One module
holds both directions so that what is written and what is read back cannot drift apart. pandas, numpy and
pyreadstat (two thirds of a second to import) are imported only by the XPT functions that use them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from converters import jsonio
from converters.targets.sdtm.metadata import Dataset
from converters.targets.sdtm.tables import Value, is_number, number_text, tidy_number

if TYPE_CHECKING:
    import pandas as pd

JSON_TYPES = {"text": "string", "integer": "integer", "float": "float"}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_XPT_STAMP = re.compile(rb"\d{2}[A-Z]{3}\d{2}:\d{2}:\d{2}:\d{2}")
_LIBRARY = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
_MEMBER = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"

#: The table files read, by suffix, in order of preference when a table comes in several formats.
TABLE_FORMATS: dict[str, str] = {
    ".json": "Dataset-JSON",
    ".ndjson": "Dataset-JSON NDJSON",
    ".xpt": "SAS XPORT",
    ".csv": "CSV",
}
XPT_ENCODINGS = ("utf-8", "cp1252")  # real pilot XPT files hold Windows-1252 bytes


class XptLayoutError(Exception):
    """The XPORT file ReadStat wrote does not have the header layout of SAS V5 transport files."""


class TableReadError(Exception):
    """A table file could not be read; the message says why in plain words."""


def item_group_oid(dataset: str) -> str:
    return f"IG.{dataset}"


def item_oid(dataset: str, variable: str) -> str:
    return f"IT.{dataset}.{variable}"


# --- CSV ---------------------------------------------------------------------------------------------


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return number_text(value)
    return str(value)


def render_csv(dataset: Dataset) -> bytes:
    return csv_header(dataset) + csv_rows(dataset)


def csv_header(dataset: Dataset) -> bytes:
    """The header row alone (the concatenated layout writes the rows study by study after it)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([c.name for c in dataset.columns])
    return buffer.getvalue().encode("utf-8")


def csv_rows(dataset: Dataset) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in dataset.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


# --- Dataset-JSON 1.1 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonHeader:
    """File-level attributes of every Dataset-JSON file of one package."""

    version: str
    creation_datetime: str
    last_modified: str | None
    originator: str
    source_system: str
    source_version: str
    study_oid: str
    metadata_version_oid: str
    metadata_ref: str


def _json_value(value: object, kind: str) -> object:
    if value is None:
        return None
    if kind in ("integer", "float") and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def build_dataset_json(dataset: Dataset, header: JsonHeader, records: int | None = None) -> dict[str, Any]:
    """The document; `records` stands for the row count when the rows are written apart (concatenated layout)."""
    doc: dict[str, Any] = {
        "datasetJSONCreationDateTime": header.creation_datetime,
        "datasetJSONVersion": header.version,
        "fileOID": f"{header.study_oid}/{dataset.name}",
    }
    if header.last_modified:
        doc["dbLastModifiedDateTime"] = header.last_modified
    doc |= {
        "originator": header.originator,
        "sourceSystem": {"name": header.source_system, "version": header.source_version},
        "studyOID": header.study_oid,
        "metaDataVersionOID": header.metadata_version_oid,
        "metaDataRef": header.metadata_ref,
        "itemGroupOID": item_group_oid(dataset.name),
        "records": len(dataset.rows) if records is None else records,
        "name": dataset.name,
        "label": dataset.label,
    }
    columns = []
    for c in dataset.columns:
        column: dict[str, Any] = {"itemOID": item_oid(dataset.name, c.name), "name": c.name, "label": c.label,
                                  "dataType": JSON_TYPES[c.type]}
        if c.type == "text":
            column["length"] = c.length
        if c.key_sequence is not None:
            column["keySequence"] = c.key_sequence
        columns.append(column)
    doc["columns"] = columns
    doc["rows"] = json_rows(dataset)
    return doc


def json_rows(dataset: Dataset) -> list[list[object]]:
    """The rows as Dataset-JSON holds them (integral numbers of numeric variables as integers)."""
    kinds = [c.type for c in dataset.columns]
    return [[_json_value(v, k) for v, k in zip(row, kinds, strict=True)] for row in dataset.rows]


def render_dataset_json(doc: dict[str, Any]) -> bytes:
    """Metadata one attribute per line, then one row per line: readable, diff-friendly, deterministic."""
    rows = json_row_lines(doc["rows"])
    return dataset_json_head(doc) + (JSON_ROWS_OPEN + rows + JSON_ROWS_CLOSE if rows else JSON_NO_ROWS)


JSON_ROWS_OPEN = b'  "rows": [\n'
JSON_ROWS_CLOSE = b"\n  ]\n}\n"
JSON_NO_ROWS = b'  "rows": []\n}\n'
JSON_ROW_SEPARATOR = b",\n"


def dataset_json_head(doc: dict[str, Any]) -> bytes:
    """Everything before the rows (whose list `render_dataset_json` opens, fills and closes after it)."""
    dump = jsonio.dumps_inline
    lines = [f"  {dump(key)}: {dump(value)}" for key, value in doc.items() if key not in ("columns", "rows")]
    columns = ",\n".join(f"    {dump(c)}" for c in doc["columns"])
    lines.append(f'  "columns": [\n{columns}\n  ]')
    return ("{\n" + ",\n".join(lines) + ",\n").encode("utf-8")


def json_row_lines(rows: Iterable[object]) -> bytes:
    """Rows one per line, separated by JSON_ROW_SEPARATOR (none after the last)."""
    dump = jsonio.dumps_inline
    return ",\n".join(f"    {dump(r)}" for r in rows).encode("utf-8")


# --- SAS XPORT v5 ------------------------------------------------------------------------------------


def xpt_stamp(iso_datetime: str) -> bytes:
    """'2024-05-17T00:00:00' -> b'17MAY24:00:00:00' (the SAS V5 transport header date-time)."""
    moment = datetime.fromisoformat(iso_datetime)
    return f"{moment.day:02d}{_MONTHS[moment.month - 1]}{moment.year % 100:02d}:{moment:%H:%M:%S}".encode("ascii")


def _frame(dataset: Dataset) -> pd.DataFrame:
    """Character columns as str ("" for missing: XPT has no character null), numbers as float64 (NaN)."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for i, column in enumerate(dataset.columns):
        values = [row[i] for row in dataset.rows]
        if column.type == "text":
            data[column.name] = pd.Series(["" if v is None else str(v) for v in values], dtype=object)
        else:
            data[column.name] = np.array([np.nan if v is None else float(str(v)) for v in values], dtype=np.float64)
    return pd.DataFrame(data, columns=[c.name for c in dataset.columns])


def _set_stamps(content: bytes, stamp: bytes) -> bytes:
    """Replace the created/modified date-times of the library and member headers (fixed V5 positions)."""
    out = bytearray(content)
    library = content.find(_LIBRARY)
    member = content.find(_MEMBER)
    if library != 0 or member < 0:
        raise XptLayoutError("library or member header record not found")
    for start in (library + 80 + 64, library + 160, member + 160 + 64, member + 240):
        if not _XPT_STAMP.fullmatch(content[start:start + 16]):
            raise XptLayoutError(f"no header date-time at byte {start}")
        out[start:start + 16] = stamp
    return bytes(out)


def write_xpt(dataset: Dataset, path: Path, creation_datetime: str) -> None:
    """Write one SAS XPORT v5 file (member name = dataset name, labels as in the metadata).

    Written here, byte for byte what pyreadstat (ReadStat 6.06 "bsd4.2" headers) writes, without a DataFrame:
    ReadStat cost more than all other formats together and needed the whole table as a pandas frame. What
    these headers cannot hold as ReadStat would (a name over 8 bytes, a label over 40, a value over 200) still
    goes through pyreadstat, which then reports it as before."""
    if _native_xpt_fits(dataset):
        path.write_bytes(render_xpt(dataset, xpt_stamp(creation_datetime)))
        return
    import pyreadstat

    pyreadstat.write_xport(
        _frame(dataset), str(path), file_label=dataset.label, table_name=dataset.name,
        column_labels=[c.label for c in dataset.columns], file_format_version=5,
    )
    path.write_bytes(_set_stamps(path.read_bytes(), xpt_stamp(creation_datetime)))


_XPT_RECORD = 80
_XPT_MISSING = b"\x2e" + bytes(7)  # SAS "." missing value
_XPT_ZERO = bytes(8)
_XPT_SYSTEM = b"SAS     SAS     SASLIB  6.06    bsd4.2  "


def _native_xpt_fits(dataset: Dataset) -> bool:
    return xpt_header_fits(dataset) and xpt_numbers_fit(dataset)


def xpt_header_fits(dataset: Dataset) -> bool:
    """Names, labels and lengths that the native writer's headers hold as ReadStat would."""
    names = [dataset.name, *(c.name for c in dataset.columns)]
    labels = [dataset.label, *(c.label for c in dataset.columns)]
    return (all(len(n.encode("utf-8")) <= 8 for n in names) and all(len(t.encode("utf-8")) <= 40 for t in labels)
            and all(c.length <= 200 for c in dataset.columns))


def xpt_numbers_fit(dataset: Dataset) -> bool:
    """Every value of a numeric variable is a number or missing."""
    return all(row[i] is None or is_number(row[i])
               for i, c in enumerate(dataset.columns) if c.type != "text" for row in dataset.rows)


def _xpt_header(kind: str, tail: str = "0" * 30) -> bytes:
    return f"HEADER RECORD*******{kind:<8}HEADER RECORD!!!!!!!{tail}  ".encode("ascii")


def _xpt_text(value: str, width: int) -> bytes:
    return value.encode("utf-8")[:width].ljust(width, b" ")


def ibm_float(value: object) -> bytes:
    """A number as an 8-byte IBM System/370 double (what XPORT holds); None and NaN are the "." missing value.

    IEEE's 53-bit mantissa fits IBM's 56 bits at any of the 0-3 bit shifts base 16 needs: the value is exact."""
    if value is None or not isinstance(value, int | float) or math.isnan(value):
        return _XPT_MISSING
    number = float(value)
    if number == 0:
        return _XPT_ZERO
    sign = 0x80 if number < 0 else 0
    mantissa, exponent = math.frexp(abs(number))
    exp16 = (exponent + 3) // 4
    fraction = int(mantissa * 2.0 ** (exponent - 4 * exp16) * (1 << 56))
    return bytes([sign | (exp16 + 64)]) + fraction.to_bytes(7, "big")


def render_xpt(dataset: Dataset, stamp: bytes) -> bytes:
    """One SAS XPORT v5 member as ReadStat writes it (see `write_xpt`); `stamp` is the header date-time."""
    data = xpt_rows(dataset)
    return xpt_head(dataset, stamp) + data + xpt_padding(len(data))


def xpt_padding(data_length: int) -> bytes:
    """The blanks that fill the last 80-byte record after `data_length` bytes of observations."""
    return b" " * (-data_length % _XPT_RECORD)


def xpt_head(dataset: Dataset, stamp: bytes) -> bytes:
    """The headers of one member up to its observations (which depend on the rows only through the lengths)."""
    widths = [c.length if c.type == "text" else 8 for c in dataset.columns]
    out = [
        _xpt_header("LIBRARY"), _XPT_SYSTEM.ljust(64, b" "), stamp, stamp, b" " * 64,
        _xpt_header("MEMBER", "0" * 17 + "16" + "0" * 8 + "140"), _xpt_header("DSCRPTR"),
        (b"SAS     " + _xpt_text(dataset.name, 8) + b"SASDATA 6.06    bsd4.2  ").ljust(64, b" "), stamp,
        stamp, b" " * 16, _xpt_text(dataset.label, 40), b" " * 8,
        _xpt_header("NAMESTR", f"000000{len(dataset.columns):04d}" + "0" * 20),
    ]
    names = bytearray()
    position = 0
    for number, (column, width) in enumerate(zip(dataset.columns, widths, strict=True), start=1):
        text = column.type == "text"
        names += struct.pack(">hhhh", 2 if text else 1, 0, width, number)
        names += _xpt_text(column.name, 8) + _xpt_text(column.label, 40) + b" " * 8
        names += struct.pack(">hhhh", 0, 0, 0 if text else 1, 0) + b" " * 8 + struct.pack(">hhi", 0, 0, position)
        names += bytes(52)
        position += width
    out += [bytes(names), b" " * (-len(names) % _XPT_RECORD), _xpt_header("OBS")]
    return b"".join(out)


def xpt_rows(dataset: Dataset) -> bytes:
    """The observations, row after row, without the padding of the last record."""
    widths = [c.length if c.type == "text" else 8 for c in dataset.columns]
    cells = [_xpt_cells(dataset, i, width) for i, width in enumerate(widths)]
    return b"".join(b"".join(row) for row in zip(*cells, strict=True)) if cells else b""


def _xpt_cells(dataset: Dataset, index: int, width: int) -> list[bytes]:
    """One column's cells in the row layout: text blank-padded to the width, numbers as IBM doubles."""
    if dataset.columns[index].type != "text":
        return [ibm_float(row[index]) for row in dataset.rows]
    return [("" if (v := row[index]) is None else str(v)).encode("utf-8").ljust(width, b" ") for row in dataset.rows]


def non_ascii_columns(dataset: Dataset) -> list[str]:
    return [c.name for i, c in enumerate(dataset.columns)
            if any(not str(r[i]).isascii() for r in dataset.rows if isinstance(r[i], str))]


# --- reading: every format back into the table model (`TdmTables` rows) ---------------------------


def _clean(value: Any) -> Value:
    """One cell as the table model holds it: "" and NaN are None (missing), integral floats are ints."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if is_number(value):
        return tidy_number(value)
    return str(value)


def read_csv(path: Path) -> list[dict[str, Value]]:
    """CSV with a header row; an empty cell is a missing value; every value stays text."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TableReadError(str(exc)) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        raise TableReadError("the file is empty (no header row)")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header) or any(h == "" for h in header):
        raise TableReadError("the header row has empty or repeated variable names")
    out: list[dict[str, Value]] = []
    for number, cells in enumerate(rows[1:], start=2):
        if not cells:
            continue
        if len(cells) != len(header):
            raise TableReadError(f"line {number} has {len(cells)} cells, the header {len(header)}")
        out.append({h: (c if c != "" else None) for h, c in zip(header, cells, strict=True)})
    return out


def _read_json_value(value: Any, data_type: str) -> Value:
    if value is None:
        return None
    if data_type == "decimal" and isinstance(value, str) and value.strip():
        try:
            return tidy_number(float(value))
        except ValueError:
            return value
    return _clean(value)


def _dataset_json_rows(meta: Mapping[str, Any], rows: Iterable[Any]) -> list[dict[str, Value]]:
    columns = meta.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, Mapping) and "name" in c for c in columns):
        raise TableReadError("no `columns` list with variable names")
    names = [str(c["name"]) for c in columns]
    types = [str(c.get("dataType", "string")) for c in columns]
    out: list[dict[str, Value]] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(names):
            raise TableReadError(f"row {number} is not an array of {len(names)} values")
        out.append({n: _read_json_value(v, t) for n, v, t in zip(names, row, types, strict=True)})
    return out


def read_dataset_json(path: Path) -> list[dict[str, Value]]:
    """Dataset-JSON 1.1: `columns` give names and types, `rows` are arrays in column order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableReadError(str(exc)) from exc
    if not isinstance(data, Mapping):
        raise TableReadError("the top level is not an object")
    rows = data.get("rows", [])
    if not isinstance(rows, list):
        raise TableReadError("`rows` is not an array")
    return _dataset_json_rows(data, rows)


def read_dataset_ndjson(path: Path) -> list[dict[str, Value]]:
    """Dataset-JSON NDJSON: the first line is the metadata object, each further line one row array."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not lines:
            raise TableReadError("the file is empty")
        meta = json.loads(lines[0])
        rows = [json.loads(line) for line in lines[1:]]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableReadError(str(exc)) from exc
    if not isinstance(meta, Mapping):
        raise TableReadError("the first line is not the metadata object")
    return _dataset_json_rows(meta, rows)


def read_xpt(path: Path) -> list[dict[str, Value]]:
    """SAS XPORT v5 through pyreadstat; UTF-8 first, then Windows-1252 (as in the CDISC pilot files)."""
    import pyreadstat

    last_error = ""
    for encoding in XPT_ENCODINGS:
        try:
            frame, _meta = pyreadstat.read_xport(str(path), encoding=encoding)
        except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError, OSError) as exc:
            last_error = str(exc) or type(exc).__name__
            continue
        names = [str(c) for c in frame.columns]
        return [
            {n: _clean(v) for n, v in zip(names, values, strict=True)}
            for values in frame.itertuples(index=False, name=None)
        ]
    raise TableReadError(last_error)


#: The reader of each table file suffix (see TABLE_FORMATS).
READERS = {".json": read_dataset_json, ".ndjson": read_dataset_ndjson, ".xpt": read_xpt, ".csv": read_csv}
