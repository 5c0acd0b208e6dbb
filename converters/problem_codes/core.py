"""Problems about files as such: reading, decoding, recognising, writing."""

from converters.problems import ProblemKind, Severity

INPUT_EMPTY = ProblemKind(
    "input-empty", Severity.FATAL, "Empty file", "The file is empty (or only whitespace).",
    "Nothing can be read from an empty file; it is skipped and the rest of the batch goes on.",
)
INPUT_BINARY = ProblemKind(
    "input-binary", Severity.FATAL, "Binary file", "The file is binary ({reason}), not a text record.",
    "The file holds bytes that no text encoding explains (e.g. NUL bytes or a known binary signature).",
)
INPUT_TOO_LARGE = ProblemKind(
    "input-too-large", Severity.FATAL, "File too large",
    "The file is {size} bytes, over the limit of {limit} bytes for {what}.",
    "Size limits keep memory bounded; raise them with `--max-bytes` if the file is genuine.",
)
INPUT_UNDECODABLE = ProblemKind(
    "input-undecodable", Severity.FATAL, "Undecodable text", "The file cannot be decoded as text: {reason}.",
    "A byte order mark names an encoding the file then breaks, or none of the encodings tried decodes the file "
    "(docs/decoding.md); nothing is guessed.",
)
INPUT_ENCODING_DOUBTFUL = ProblemKind(
    "input-encoding-doubtful", Severity.FATAL, "Encoding not plausible",
    "The file is not UTF-8, and no encoding tried reads it plausibly and unambiguously: {why}. Convert the file "
    "to UTF-8.",
    "After UTF-8, the encodings registries use are tried in the order of mappings/common/encodings.yaml; each that "
    "decodes the whole file is scored by the share of its non-ASCII characters that its script writes "
    "(docs/decoding.md). A best score under the threshold, or another reading of different text close to it, "
    "would make the choice a guess that may garble the text, so the file is refused.",
)
INPUT_NOT_UTF8 = ProblemKind(
    "input-not-utf8", Severity.WARNING, "Not UTF-8",
    "The file is not UTF-8; it was decoded as {encoding} ({how}).",
    "Registry exports are UTF-8. A file in another encoding was probably re-saved by a tool; the encoding "
    "used (named by a byte order mark, or the most plausible reading of the encodings tried, docs/decoding.md) is "
    "recorded in the study's source information so the reading can be checked.",
)
INPUT_UNREADABLE = ProblemKind(
    "input-unreadable", Severity.FATAL, "Unreadable file", "The file could not be read: {reason}.",
    "The operating system refused to read the file (permissions, a broken link, a device file).",
)
INPUT_FORMAT_UNKNOWN = ProblemKind(
    "input-format-unknown", Severity.FATAL, "Unknown format",
    "No reader recognises this file ({hint}).",
    "Formats are detected from content, never from the file name; use `--from` to force one. A file that is "
    "not a study record ends here, with what it holds instead (a JSON object or array of another kind, XML "
    "with another root, text that shows no study: a registry page needs a known layout or the evidence set in "
    "mappings/registry_page/layouts.yaml). Named on the command line it is refused; found in a folder walk it "
    "is skipped (`input-not-a-study-skipped`).",
)
INPUT_NOT_A_STUDY_SKIPPED = ProblemKind(
    "input-not-a-study-skipped", Severity.INFO, "Not a study, skipped",
    "Not a study; skipped (found in a folder walk). {reason}",
    "A file found walking a folder that no reader recognises (a README, a package manifest, a schema beside "
    "the records) is skipped and listed, so that one stray file does not fail the folder's run. Named on the "
    "command line, the same file is refused (`input-format-unknown`, exit code 2).",
)
INPUT_NOT_FOUND = ProblemKind(
    "input-not-found", Severity.FATAL, "No such input", "The input path does not exist.",
    "A file or folder named on the command line does not exist.",
)
STUDY_SCHEMA_INVALID = ProblemKind(
    "study-schema-invalid", Severity.ERROR, "Study fails its schema",
    "The canonical study fails schemas/study.schema.json at {path}: {reason}",
    "Every study is validated against the committed JSON Schema before it is written; a failure here is a "
    "bug in a reader, so the study is not written.",
)
OUTPUT_WRITE_FAILED = ProblemKind(
    "output-write-failed", Severity.FATAL, "Output not written", "Could not write {what}: {reason}.",
    "The output folder could not be written (permissions, disk full).",
)
WRITER_FAILED = ProblemKind(
    "writer-failed", Severity.ERROR, "Writer failed",
    "The {writer} writer failed on this study: {reason}. This is a bug; please report it.",
    "An unexpected error inside a writer. The study's other outputs are still written.",
)
READER_FAILED = ProblemKind(
    "reader-failed", Severity.FATAL, "Reader failed",
    "The {reader} reader failed on this file: {reason}. This is a bug; please report it.",
    "An unexpected error inside a reader; the file is skipped and the rest of the batch goes on.",
)

KINDS = (
    INPUT_EMPTY, INPUT_BINARY, INPUT_TOO_LARGE, INPUT_UNDECODABLE, INPUT_ENCODING_DOUBTFUL, INPUT_NOT_UTF8,
    INPUT_UNREADABLE, INPUT_FORMAT_UNKNOWN, INPUT_NOT_A_STUDY_SKIPPED, INPUT_NOT_FOUND, STUDY_SCHEMA_INVALID,
    OUTPUT_WRITE_FAILED, WRITER_FAILED, READER_FAILED,
)
