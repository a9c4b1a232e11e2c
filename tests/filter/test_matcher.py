"""The phrase matcher against a plain reading of what a phrase means.

Texts here have no digits and no letter three times in a row, so no word has another reading; the matcher
must then find exactly what a word-by-word comparison finds: each phrase's words in order on consecutive
words, a trailing * on a word matching any word it starts (as a phrase's first word, only a stem of three letters
or more, since stems are indexed by their first three), a lone * any one word, and never across . ! ? ; or
a line break. The last test adds words with other readings (leetspeak, stretched letters), which a phrase's
word then matches through any of them.
"""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.filter.matcher import PhraseMatcher
from monitor.filter.normalise import normalise_text

_VOCABULARY = ["you", "your", "lot", "lots", "are", "a", "scam", "scammers", "stab", "stabbing", "we", "hope", "ok"]
_ELEMENTS = [*_VOCABULARY, "sca*", "you*", "stab*", "lo*", "*"]
_BREAKS = ".!?;\n"


def _reference(phrase: str, text: str) -> list[tuple[int, int]]:
    elements = phrase.split()
    tokens = [(m.group(), m.start(), m.end()) for m in re.finditer(r"[a-z0-9$]+", text)]
    found = []
    for first in range(len(tokens) - len(elements) + 1):
        window = tokens[first : first + len(elements)]
        if all(
            _accepts(element, word, first=index == 0)
            for index, (element, (word, _, _)) in enumerate(zip(elements, window, strict=True))
        ):
            start, end = window[0][1], window[-1][2]
            between = text[window[0][2] : window[-1][1]]
            if not any(mark in between for mark in _BREAKS):
                found.append((start, end))
    return found


def _accepts(element: str, word: str, *, first: bool) -> bool:
    if element == "*":
        return True
    if element.endswith("*"):
        stem = element[:-1]
        return (len(stem) >= 3 or not first) and word.startswith(stem)
    return word == element


_PHRASES = st.lists(st.sampled_from(_ELEMENTS), min_size=1, max_size=3).filter(lambda p: p[0] != "*").map(" ".join)
_TEXTS = st.lists(st.sampled_from([*_VOCABULARY, ",", ".", "!", " ", "\n", "—"]), max_size=14).map(" ".join)


@settings(max_examples=400)
@given(st.lists(_PHRASES, min_size=1, max_size=6, unique=True), _TEXTS)
def test_the_matcher_finds_what_a_word_by_word_reading_finds(phrases: list[str], text: str) -> None:
    matcher = PhraseMatcher()
    ids = {phrase: matcher.add(phrase) for phrase in phrases}
    found = matcher.find(text, leet=False, stretched=False)
    for phrase, phrase_id in ids.items():
        assert sorted(found.get(phrase_id, [])) == _reference(phrase, text), phrase


def test_a_plain_number_has_no_leetspeak_reading() -> None:
    matcher = PhraseMatcher()
    bee = matcher.add("bbbo")
    shit = matcher.add("shit")
    assert matcher.find("&#8220; sh1t", leet=True, stretched=False) == {shit: [(8, 12)]}
    assert bee not in matcher.find("8220 sh1t", leet=True, stretched=False)


def test_the_same_phrase_added_twice_has_one_id() -> None:
    matcher = PhraseMatcher()
    assert matcher.add("You  LOT") == matcher.add("you lot")
    assert matcher.add("you lot") != matcher.add("you lot*")


def test_a_phrase_found_through_two_readings_has_one_span() -> None:
    matcher = PhraseMatcher()
    stupid = matcher.add("stupid")
    stupi = matcher.add("stu*")
    # "stuuupid" reads as itself, as "stuupid" and as "stupid": the stem matches all three, once.
    assert matcher.find("so stuuupid", leet=False, stretched=True) == {stupid: [(3, 11)], stupi: [(3, 11)]}


def test_thousands_of_first_words_are_all_found() -> None:
    # Enough distinct first words to make the first-word table grow several times.
    words = ["".join(letters) for letters in itertools.product("abcdefgh", repeat=4)][:3000]
    matcher = PhraseMatcher()
    ids = {word: matcher.add(word) for word in words}
    text = " ".join(words[::7])
    found = matcher.find(text, leet=False, stretched=False)
    assert set(found) == {ids[word] for word in words[::7]}
    assert matcher.find("abcz abc abcdd", leet=False, stretched=False) == {}



# Words disguised as leetspeak or with stretched letters, and one longer than the matcher works out in place.
_DISGUISED = ["y0u", "sc4m", "$cam", "st4b", "1ot", "l0t", "h0pe", "scaaam", "yooou", "st4aaab", "w3", "0k", "a1e"]
_LONG = "sc4m" + "m" * 70
_LEET = str.maketrans("0345789$", "oeastbgs")


def _readings(word: str, *, leet: bool, stretched: bool) -> list[str]:
    """The word and its other readings, by their definition (see matcher._readings)."""
    mixes = re.search(r"[a-z]", word) and re.search(r"[0-9$]", word)
    if not ((leet and mixes) or (stretched and re.search(r"([a-z])\1\1", word))):
        return [word]
    forms = [word.translate(_LEET).replace("1", one) for one in "il" if leet and (one == "i" or "1" in word)]
    if stretched:
        bases = [word, *forms]
        forms += [_squeezed(base, keep) for keep in (2, 1) for base in bases]
    return [word, *forms]


def _squeezed(word: str, keep: int) -> str:
    return re.sub(r"([a-z])\1{2,}", lambda match: match.group(1) * keep, word)


def _reference_with_readings(phrase: str, text: str, *, leet: bool, stretched: bool) -> set[tuple[int, int]]:
    elements = phrase.split()
    tokens = [(m.group(), m.start(), m.end()) for m in re.finditer(r"[a-z0-9$]+", text)]
    found = set()
    for first in range(len(tokens) - len(elements) + 1):
        window = tokens[first : first + len(elements)]
        if all(
            any(
                _accepts(element, form, first=index == 0)
                for form in _readings(word, leet=leet, stretched=stretched)
            )
            for index, (element, (word, _, _)) in enumerate(zip(elements, window, strict=True))
        ) and not any(mark in text[window[0][2] : window[-1][1]] for mark in _BREAKS):
            found.add((window[0][1], window[-1][2]))
    return found


@settings(max_examples=400)
@given(
    st.lists(_PHRASES, min_size=1, max_size=6, unique=True),
    st.lists(st.sampled_from([*_VOCABULARY, *_DISGUISED, _LONG, ",", "."]), max_size=12).map(" ".join),
    st.booleans(),
    st.booleans(),
)
def test_other_readings_are_found_wherever_a_phrase_word_falls(
    phrases: list[str], text: str, leet: bool, stretched: bool
) -> None:
    matcher = PhraseMatcher()
    ids = {phrase: matcher.add(phrase) for phrase in phrases}
    found = matcher.find(text, leet=leet, stretched=stretched)
    for phrase, phrase_id in ids.items():
        assert set(found.get(phrase_id, [])) == _reference_with_readings(
            phrase, text, leet=leet, stretched=stretched
        ), phrase


def _found(phrase: str, text: str) -> list[str]:
    """What ``phrase`` finds in ``text`` once normalised (as the classifier gives it)."""
    text = normalise_text(text)
    matcher = PhraseMatcher()
    phrase_id = matcher.add(phrase)
    return [text[start:end] for start, end in matcher.find(text).get(phrase_id, [])]


def test_a_gap_allows_up_to_n_words_in_between() -> None:
    assert _found("don't *3 dbs", "they don't dbs anyone") == ["dont dbs"]
    assert _found("don't *3 dbs", "they don't even do dbs checks") == ["dont even do dbs"]
    assert _found("don't *3 dbs", "they don't do any proper dbs checks") == ["dont do any proper dbs"]
    assert _found("don't *3 dbs", "they don't do any of the proper dbs checks") == []  # five words between
    assert _found("don't *3 dbs", "they don't. we do dbs") == [], "not across the end of a sentence"
    assert _found("no *2 checks *1 staff", "no proper checks on staff") == ["no proper checks on staff"]


def test_a_word_with_a_tilde_matches_its_inflections() -> None:
    text = "she checks everything, checked it twice, and was checking again; check it"
    assert _found("check~", text) == ["checks", "checked", "checking", "check"]
    assert _found("stop~ *2 visit~", "they stopped all visits and stopping calls") == ["stopped all visits"]
    assert _found("carry~", "he carries it, she carried it") == ["carries", "carried"]
    assert _found("hire~", "hired, hiring, hires") == ["hired", "hiring", "hires"]
    assert _found("check", "checks checked check") == ["check"], "without ~ a word is matched exactly"
