"""Text rules: one line, and 200 characters / 200 UTF-8 bytes per value, split or shortened between words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from converters.targets.sdtm.text import clean, fits, shorten, split, utf8_len

WORDS = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")),
                         min_size=1, max_size=30), min_size=1, max_size=60)


def test_clean_makes_one_line() -> None:
    assert clean("  Age ≥ 18\n years;\t\tsigned  consent ") == "Age ≥ 18 years; signed consent"


@given(WORDS)
def test_split_gives_the_text_back_in_pieces_that_fit(words: list[str]) -> None:
    text = " ".join(words)
    pieces = split(text)
    assert "".join(pieces) == text
    assert all(fits(p) for p in pieces)
    assert all(p for p in pieces)


def test_split_cuts_before_a_space_so_no_word_is_broken() -> None:
    text = " ".join(f"word{i:03d}" for i in range(60))  # 479 characters
    pieces = split(text)
    assert len(pieces) == 3
    assert pieces[0].endswith("word024") and pieces[1].startswith(" word025")
    assert all(not p.endswith(" ") for p in pieces)


def test_split_counts_utf8_bytes() -> None:
    text = "≥" * 150  # 150 characters but 450 bytes
    pieces = split(text)
    assert [utf8_len(p) for p in pieces] == [198, 198, 54]
    assert "".join(pieces) == text


@given(WORDS, st.sampled_from([" [...]", "…"]))
def test_shorten_fits_and_keeps_a_prefix(words: list[str], marker: str) -> None:
    text = " ".join(words)
    short = shorten(text, marker)
    assert fits(short)
    if fits(text):
        assert short == text
    else:
        assert short.endswith(marker)
        assert text.startswith(short.removesuffix(marker))


def test_shorten_ends_at_a_word_boundary() -> None:
    text = "alpha " * 50
    short = shorten(text.strip(), " [...]")
    assert short.endswith("alpha [...]") and len(short) <= 200


def test_shorten_distinct_keeps_long_values_that_share_their_start_apart() -> None:
    from converters.targets.sdtm.text import fits, shorten_distinct

    common = "Refer to the national treatment plan (trial version 5) general treatment plan " * 3
    first, second = common + "plus capsule A", common + "plus mixture B"
    got = shorten_distinct([("a", first), ("b", second), ("a", first), ("c", "short")], " [...]")
    assert got[0] != got[1] and got[0] == got[2] and got[3] == "short"
    assert got[0].endswith(" [...]") and got[1].endswith(" [...] (2)")
    assert all(fits(value) for value in got)


def test_shorten_distinct_keeps_two_keys_apart_when_cleaning_makes_their_texts_one() -> None:
    from converters.targets.sdtm.text import clean, shorten_distinct

    titles = [("TRT2", "Novaferon  injection"), ("TRT5", "Novaferon injection")]
    assert shorten_distinct([(key, clean(text)) for key, text in titles], " [...]") == [
        "Novaferon injection", "Novaferon injection (2)"]
