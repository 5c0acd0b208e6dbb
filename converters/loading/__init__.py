"""The input layer: files, archives, encodings and safe XML, below every reader.

Readers parse one document's content; everything about getting that content (finding and loading files,
expanding archives within their limits, turning bytes into text, parsing untrusted XML safely, streaming the
records of a JSON text) lives here, so no reader borrows it from another.
"""

from converters.loading.archive import (
    MemberProblem,
    archive_entry_names,
    archive_windows,
    is_archive,
    iter_member_documents,
)
from converters.loading.document import ArchiveWindow, LineWindow, SourceDocument
from converters.loading.encodings import EncodingTable, Ranking, encoding_table, rank_encodings
from converters.loading.files import iter_input_files, load_document
from converters.loading.jsonstream import (
    RECURSION_LIMIT_HINT,
    Envelope,
    JsonForm,
    PageShape,
    RawRecord,
    RecordError,
    detect_form,
    iter_records,
)
from converters.loading.ndjson_windows import TextWindow, ndjson_windows, read_window
from converters.loading.textio import DecodedText, binary_reason, decode_plausible, decode_text
from converters.loading.windows import WINDOW_RECORDS, FileWindow, file_windows, window_document
from converters.loading.xml import XmlRefusal, parse_untrusted, secure_parser, short_message

__all__ = [
    "RECURSION_LIMIT_HINT",
    "WINDOW_RECORDS",
    "ArchiveWindow",
    "DecodedText",
    "EncodingTable",
    "Envelope",
    "FileWindow",
    "JsonForm",
    "LineWindow",
    "MemberProblem",
    "PageShape",
    "Ranking",
    "RawRecord",
    "RecordError",
    "SourceDocument",
    "TextWindow",
    "XmlRefusal",
    "archive_entry_names",
    "archive_windows",
    "binary_reason",
    "decode_plausible",
    "decode_text",
    "detect_form",
    "encoding_table",
    "file_windows",
    "is_archive",
    "iter_input_files",
    "iter_member_documents",
    "iter_records",
    "load_document",
    "ndjson_windows",
    "parse_untrusted",
    "rank_encodings",
    "read_window",
    "secure_parser",
    "short_message",
    "window_document",
]
