from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.filter import normalise as normalise_module
from monitor.filter.matcher import PhraseMatcher
from monitor.filter.normalise import Normalised, fold, normalise


def quoted(original: str, word: str) -> str:
    """Normalise, find ``word`` in the normalised text, and quote it back from the original."""
    result = normalise(original)
    start = result.text.index(word)
    return result.quote(start, start + len(word))


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("\uff26\uff55\uff43\uff4b", "fuck"),  # full-width forms (NFKC)
        ("SCAM", "scam"),  # case
        ("f\u200bu\u200bck", "fuck"),  # zero-width characters
        ("f\x07uck", "fuck"),  # control characters
        ("\u0455\u0441\u0430m", "scam"),  # Cyrillic look-alikes via Unicode's confusables table
        ("\U0001d42c\U0001d41c\U0001d41a\U0001d426", "scam"),  # mathematical bold
        ("scàm", "scam"),  # accents
        ("f u c k off", "fuck off"),  # letters spaced apart
        ("s.c.a.m", "scam"),  # punctuation inside a word
        ("f-u-c-k", "fuck"),
        ("f*ck", "fck"),
        ("don't", "dont"),
        ("sh!t", "shit"),
    ],
)
def test_each_evasion_is_undone(original: str, expected: str) -> None:
    assert normalise(original).text == expected


def test_a_spaced_word_after_a_is_kept_apart() -> None:
    assert normalise("you are a b o l l o c k s").text == "you are a bollocks"


def test_phone_digits_survive_normalisation() -> None:
    assert "07700 900987" in normalise("Text 07700 900987 now").text


@pytest.mark.parametrize(
    ("original", "word", "expected"),
    [
        ("you are a b o l l o c k s", "bollocks", "b o l l o c k s"),
        ("\uff26\uff55\uff43\uff4b \u0443\u043eu", "you", "\u0443\u043eu"),
        ("what a s.c.a.m this is", "scam", "s.c.a.m"),
        ("f\u200bu\u200bck off", "fuck", "f\u200bu\u200bck"),
        ("I don't care", "dont", "don't"),
    ],
)
def test_spans_map_back_to_the_original(original: str, word: str, expected: str) -> None:
    assert quoted(original, word) == expected


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("sh1te company", "shite"),
        ("you absolute 1d10t", "idiot"),
        ("stuuuupid people", "stupid"),
        ("kiiiill you", "kill you"),
        ("b@stard", "bastard"),
        ("$hit", "shit"),
        ("@ss", "ass"),
    ],
)
def test_matcher_reads_leetspeak_and_stretched_letters(text: str, phrase: str) -> None:
    matcher = PhraseMatcher()
    phrase_id = matcher.add(phrase)
    assert phrase_id in matcher.find(normalise(text).text)


def test_matcher_wildcards_and_sentence_breaks() -> None:
    matcher = PhraseMatcher()
    burn = matcher.add("burn* down")
    any_word = matcher.add("hope * dies")
    assert burn in matcher.find("it burns down")
    assert burn not in matcher.find("burning it down")
    assert any_word in matcher.find("hope he dies")
    assert burn not in matcher.find("we burn. down the road")


@given(st.text(max_size=80))
def test_spans_always_fall_inside_the_original(text: str) -> None:
    result = normalise(text)
    for start in range(len(result.text)):
        first, last = result.span_in_original(start, start + 1)
        assert 0 <= first <= last <= len(text)


_SYMBOL_BETWEEN_LETTERS = re.compile(r"[!|@](?<=[a-z].)(?=[a-z])|@(?=ss)")


def _fold_by_the_definition(original: str) -> tuple[str, list[int]]:
    """An ASCII comment lower-cased, ! | @ between letters (and @ before ss) read as i or a, then ' ` * #
    dropped; with where each character left came from."""
    lowered = original.lower()
    read = _SYMBOL_BETWEEN_LETTERS.sub(lambda m: "a" if m.group() == "@" else "i", lowered)
    kept = [position for position, char in enumerate(read) if char not in "'`*#"]
    return "".join(read[position] for position in kept), kept


@given(st.text(alphabet="aAbsSiI!|@'`*# .1", max_size=30))
def test_the_one_pass_ascii_fold_agrees_with_its_definition(original: str) -> None:
    result = fold(original)
    expected, origins = _fold_by_the_definition(original)
    assert result.text == expected
    for position, origin in enumerate(origins):
        assert result.span_in_original(position, position + 1) == (origin, origin + 1)
    if origins:
        assert result.span_in_original(0, len(expected)) == (origins[0], origins[-1] + 1)


def _unicode_fold_by_the_definition(original: str) -> str:
    """A comment with other characters than ASCII: each of those, and each control character, through
    fold_char and the rest lower-cased (the _fold step), symbols in words read as letters, DELETED dropped."""
    folded, _ = normalise_module._fold(original)
    read = _SYMBOL_BETWEEN_LETTERS.sub(lambda m: "a" if m.group() == "@" else "i", folded)
    return "".join(char for char in read if char not in normalise_module.DELETED)


def _assert_folds_by_the_definition(original: str) -> None:
    result = fold(original)
    assert result.text == _unicode_fold_by_the_definition(original)
    replayed = Normalised(original, result.text, result.steps)  # no edits given: worked out by replaying
    for start in range(len(result.text) + 1):
        for end in range(start, min(len(result.text), start + 4) + 1):
            assert result.span_in_original(start, end) == replayed.span_in_original(start, end)


def _code_points() -> list[str]:
    """Every character of the Basic Multilingual Plane but surrogates, and the astral blocks comments use:
    mathematical letters and digits, enclosed letters, emoji."""
    ranges = [(0x80, 0xD800), (0xE000, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F200), (0x1F300, 0x1FB00)]
    return [chr(code) for first, last in ranges for code in range(first, last)]


def test_the_unicode_fold_agrees_with_its_definition_for_every_character_it_is_likely_to_meet() -> None:
    characters = _code_points()
    for index in range(0, len(characters), 40):
        # each character between letters, and beside the marks and symbols that interact with it
        chunk = characters[index : index + 40]
        _assert_folds_by_the_definition("A" + "b".join(chunk) + "\x01S@ss'#")
        _assert_folds_by_the_definition("x!".join(chunk) + "!x|y")


@given(st.text(alphabet=st.sampled_from("aAsS!|@'`*#\u2019\u00b4 é\u200b\ufb01\x07\U0001d42c\uff26Σ😀"), max_size=30))
def test_the_unicode_fold_agrees_with_its_definition(original: str) -> None:
    _assert_folds_by_the_definition(original + "é")


@given(st.text(alphabet=st.sampled_from("abS.-| \t'#*!é\u200b\x07"), max_size=30))
def test_repairs_keep_the_offsets_a_replay_would_find(original: str) -> None:
    # normalise() repairs spaced and dotted letters (and control characters) after fold(), recording each
    # repair's edits; replaying every step from the original must map each span to the same place.
    result = normalise(original)
    replayed = Normalised(original, result.text, result.steps)
    for start in range(len(result.text) + 1):
        for end in range(start, min(len(result.text), start + 4) + 1):
            assert result.span_in_original(start, end) == replayed.span_in_original(start, end)
