"""Decoding (docs/decoding.md): real text in each script comes back exactly, in the encoding it was written in, and
a file no encoding reads plausibly and unambiguously is refused instead of garbled (issue 14)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from converters.cli import app
from converters.loading import DecodedText, EncodingTable, decode_text, encoding_table, rank_encodings
from converters.problems import Problem, Severity
from converters.resources import MappingError, Resources
from tests.conftest import ROOT, SEEDS
from tests.loading.encoding_samples import SAMPLES, scores_table
from tests.readers_page.helpers import read_bytes

WRITTEN = [(name, codec, recorded) for name, (_, encodings) in SAMPLES.items() for codec, recorded in encodings]
UNICODE_FORMS = [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
                 ("utf-16-le", b"\xff\xfe", "utf-16-le"), ("utf-16-be", b"\xfe\xff", "utf-16-be")]
GOOD_PAGE = SEEDS / "003_6601ee6bc5388ce6.txt"
REPORTED = "Étude sur le café à Genève, Zürich"


def _decoded(data: bytes, resources: Resources) -> DecodedText:
    decoded = decode_text(data, "sample.txt", resources)
    assert isinstance(decoded, DecodedText), decoded
    return decoded


def _refusal(data: bytes, resources: Resources) -> Problem:
    decoded = decode_text(data, "sample.txt", resources)
    assert isinstance(decoded, Problem), f"read as {decoded.encoding}: {decoded.text[:80]!r}"
    return decoded


def _latin1_page(title: str) -> str:
    """The seed page with `title` as its first line, without the characters Latin-1 cannot hold."""
    lines = GOOD_PAGE.read_text(encoding="utf-8").split("\n", 1)
    return f"{title}\n" + lines[1].replace("≥", ">=").replace("≤", "<=")


@pytest.mark.parametrize(("name", "codec", "recorded"), WRITTEN, ids=[f"{n}-{c}" for n, c, _ in WRITTEN])
def test_registry_text_comes_back_exactly_in_its_encoding(name: str, codec: str, recorded: str,
                                                          resources: Resources) -> None:
    text = SAMPLES[name][0]
    decoded = _decoded(text.encode(codec), resources)
    assert decoded.text == text
    assert decoded.encoding == recorded
    assert [(p.code, p.severity) for p in decoded.problems] == [("input-not-utf8", Severity.WARNING)]
    assert f"decoded as {recorded} (the most plausible of the encodings tried: score " in decoded.problems[0].message


@pytest.mark.parametrize(("codec", "mark", "recorded"), UNICODE_FORMS, ids=[f[2] for f in UNICODE_FORMS])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_unicode_forms_come_back_exactly(name: str, codec: str, mark: bytes, recorded: str,
                                         resources: Resources) -> None:
    text = SAMPLES[name][0]
    decoded = _decoded(mark + text.encode(codec), resources)
    assert (decoded.text, decoded.encoding) == (text, recorded)
    codes = [p.code for p in decoded.problems]
    assert codes == ([] if recorded.startswith("utf-8") else ["input-not-utf8"])
    if codes:
        assert decoded.problems[0].message.endswith(f"decoded as {recorded} (its byte order mark says so).")


def test_the_reported_latin1_page_is_read_as_windows_1252_not_garbled(resources: Resources) -> None:
    """Issue 14: "Étude sur le café" in a Latin-1 file came out as "…tude sur le cafť" (mac_latin2), exit 0; on
    main this page's title comes out as "Étude sur le café ŕ Genčve, Zürich" (cp1250), with only a warning."""
    study, problems = read_bytes(_latin1_page(REPORTED).encode("latin-1"), resources)
    assert study is not None, problems
    assert study.titles.brief == REPORTED
    assert study.source.encoding == "windows-1252"
    notes = [p for p in study.problems if p.code == "input-not-utf8"]
    assert [p.severity for p in notes] == [Severity.WARNING]


def test_a_byte_windows_1252_leaves_undefined_falls_to_latin1(resources: Resources) -> None:
    """Latin-1 reads every byte: one 0x81 in a French text becomes the C1 control U+0081, which counts as
    nothing, so the text still scores well and is read exactly as Latin-1 says."""
    text = SAMPLES["french criteria (EU CTR)"][0] + "\x81"
    decoded = _decoded(text.encode("latin-1"), resources)
    assert (decoded.text, decoded.encoding) == (text, "iso-8859-1")
    assert "score 0.92" in decoded.problems[0].message  # 12 of its 13 non-ASCII characters count


def test_random_bytes_are_refused_not_garbled(resources: Resources) -> None:
    """Fixed pseudo-random bytes. With NULs and control bytes they are binary before any decoding; kept to
    printable and high bytes they reach the candidates, where Latin-1 reads anything, and are refused there."""
    noise = random.Random(14).randbytes(4096)
    assert _refusal(noise, resources).code == "input-binary"
    printable = bytes(byte for byte in noise if byte >= 0x20)
    refusal = _refusal(printable, resources)
    assert (refusal.code, refusal.severity) == ("input-encoding-doubtful", Severity.FATAL)
    assert "the best, iso-8859-1, scores 0.40 (at least 0.9 is needed)" in refusal.message
    windows = bytes(byte for byte in printable if byte not in b"\x7f\x81\x8d\x8f\x90\x9d")
    assert "the best, windows-1252, scores 0.53 (at least 0.9 is needed)" in _refusal(windows, resources).message


@pytest.mark.parametrize("text", [SAMPLES["french criteria (EU CTR)"][0], SAMPLES["chinese title (ChiCTR)"][0],
                                  SAMPLES["japanese title (jRCT)"][0]])
def test_utf8_with_one_stray_latin1_byte_is_refused_not_read_as_mojibake(text: str, resources: Resources) -> None:
    """Windows-1252 reads such a file, but its UTF-8 letters become 'Ã©' pairs and long runs: not Latin text."""
    refusal = _refusal(text.encode("utf-8") + " café".encode("latin-1"), resources)
    assert refusal.code == "input-encoding-doubtful"


@pytest.mark.parametrize(("text", "codec", "pair"), [
    ("男", "gb18030", "windows-1252 and gb18030"),  # "ÄÐ" in Windows-1252 reads as well
    ("임상시험", "euc-kr", "gb18030 and euc-jp"),  # Hangul bytes are GB2312 and JIS level-1 ideographs too
    ("第三相臨床試験：二型糖尿病患者対象", "euc-jp", "euc-jp and gb18030"),  # kanji alone, no kana
])
def test_text_too_short_or_plain_to_tell_is_refused_as_ambiguous(text: str, codec: str, pair: str,
                                                                 resources: Resources) -> None:
    refusal = _refusal(text.encode(codec), resources)
    assert refusal.code == "input-encoding-doubtful"
    assert f"{pair} read it as different texts" in refusal.message


@pytest.mark.parametrize(("data", "reason"), [
    (b"\xef\xbb\xbfEtude sur le caf\xe9", "it starts with the byte order mark of utf-8-sig, but byte 19 is not "
                                         "utf-8-sig"),
    (b"\xff\xfeE\x00t\x00\x00\xd8x\x00", "it starts with the byte order mark of utf-16-le, but byte 6 is not "
                                         "utf-16-le"),
])
def test_a_byte_order_mark_is_not_second_guessed(data: bytes, reason: str, resources: Resources) -> None:
    """A file that breaks the encoding its mark names is refused (a UTF-8 one used to raise)."""
    refusal = _refusal(data, resources)
    assert (refusal.code, refusal.severity) == ("input-undecodable", Severity.FATAL)
    assert refusal.message == f"The file cannot be decoded as text: {reason}."


def test_utf8_never_loads_the_encodings_table(tmp_path: Path) -> None:
    """The common case stays one strict decode: a data folder with no mapping files still decodes UTF-8."""
    empty = Resources(root=tmp_path)
    assert _decoded("Étude 研究".encode(), empty).encoding == "utf-8"
    with pytest.raises(MappingError):
        decode_text("Étude".encode("latin-1"), "sample.txt", empty)


def test_the_table_follows_the_mapping_order(resources: Resources) -> None:
    table = encoding_table(resources)
    assert [c.encoding for c in table.candidates] == ["windows-1252", "iso-8859-1", "gb18030", "shift_jis", "cp932",
                                                      "euc-jp", "euc-kr", "cp949"]
    assert (table.threshold, table.margin) == (0.9, 0.1)
    assert encoding_table(resources) is table, "built once per Resources"


def _mapping() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "mappings/common/encodings.yaml").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["candidates"][0].update(encoding="klingon-8"), "Python has no codec named 'klingon-8'"),
    (lambda d: d["candidates"][0].update(script="runic"), "candidate windows-1252 names no known script"),
    (lambda d: d["scripts"]["latin"].update(words=["runes"]), "script latin names unknown character sets"),
    (lambda d: d["scripts"]["latin"].update(doubtful=["[unclosed"]), "a doubtful pattern of script latin"),
])
def test_a_broken_table_is_a_configuration_error(edit: Any, message: str) -> None:
    data = _mapping()
    edit(data)
    with pytest.raises(MappingError, match=message):
        EncodingTable.from_mapping(data)


def test_the_schema_checks_the_table(tmp_path: Path) -> None:
    data = _mapping()
    data["threshold"] = 1.5
    (tmp_path / "mappings/common").mkdir(parents=True)
    (tmp_path / "mappings/common/encodings.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    with pytest.raises(MappingError, match="threshold"):
        encoding_table(Resources(root=tmp_path))


def test_the_confidence_figures(resources: Resources) -> None:
    """Every sample reads back exactly; the best score reaches the threshold and leads any other reading."""
    lines = scores_table(resources)[1:]
    assert len(lines) == len(WRITTEN)
    for line, (name, codec, recorded) in zip(lines, WRITTEN, strict=True):
        ranking = rank_encodings(SAMPLES[name][0].encode(codec), encoding_table(resources))
        assert ranking.best is not None and ranking.best.encoding == recorded and " True " in line
        assert ranking.best.score >= 0.96
        assert ranking.runner_up is None or ranking.runner_up[1] <= 0.77


def test_convert_records_the_encoding_and_refuses_noise(tmp_path: Path) -> None:
    """End to end: a Latin-1 page converts with its encoding in report.json; noise is refused, exit 2."""
    page = tmp_path / "in" / "latin1.txt"
    page.parent.mkdir()
    page.write_bytes(_latin1_page(REPORTED).encode("latin-1"))
    result = CliRunner().invoke(app, ["convert", str(page), "--out", str(tmp_path / "out"), "--to", "study"])
    assert result.exit_code in (0, 1), result.output
    entry = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["files"][0]
    assert entry["encoding"] == "windows-1252"
    study = json.loads((tmp_path / "out" / entry["records"][0]["output_dir"] / "study.json").read_text("utf-8"))
    assert study["titles"]["brief"] == REPORTED
    noise = tmp_path / "in" / "noise.txt"
    noise.write_bytes(bytes(byte for byte in random.Random(14).randbytes(4096) if byte >= 0x20))
    result = CliRunner().invoke(app, ["convert", str(noise), "--out", str(tmp_path / "out2")])
    assert result.exit_code == 2, result.output
    refused = json.loads((tmp_path / "out2" / "report.json").read_text(encoding="utf-8"))["files"][0]
    problems = refused["problems"] + [p for record in refused.get("records", []) for p in record["problems"]]
    assert [(p["code"], p["severity"]) for p in problems] == [("input-encoding-doubtful", "fatal")]
