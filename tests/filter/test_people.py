"""PersonFinder: does a comment name someone, by a title or a capitalised first name from the list?"""

from __future__ import annotations

import random
import re

import pytest

from monitor.filter.people import PersonFinder

FINDER = PersonFinder(["Margaret", " john ", ""])


@pytest.mark.parametrize(
    "text",
    [
        "Mrs Patel was shouting again",
        "ask Nurse Okafor about it",
        "Margaret has dementia",
        "I saw John-Paul and John today",
    ],
)
def test_a_title_or_a_listed_first_name_names_someone(text: str) -> None:
    assert FINDER.names_someone(text)


@pytest.mark.parametrize(
    "text",
    [
        "margaret has dementia",  # not capitalised: may be any word
        "Manchester has great care homes",  # capitalised, but not a first name on the list
        "mrs patel",
        "",
    ],
)
def test_other_words_do_not(text: str) -> None:
    assert not FINDER.names_someone(text)


# What names_someone() must agree with: the two regexes it replaces, run with Python's own \b, \w and \s.
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Nurse|Auntie|Uncle|Nanna|Grandad)\.?\s+[A-Z][a-z]+")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
# Pieces chosen to sit on every edge of those patterns: titles, full stops, Unicode spaces and word
# characters, underscores, digits, hyphens, capitals inside words, and names on the list.
_PIECES = [
    "Mr", "Mrs", "Miss", "Dr", "Nurse", "Grandad", ".", " ", "  ", "\u00a0", "\u2003", "\n", "-", "_", "7",
    "é", "É", "ß", "Margaret", "John", "Paul", "Patel", "margaret", "a", "Z", "x", "'", ",", "M", "rs",
]


def _reference(finder_names: frozenset[str], text: str) -> bool:
    if _TITLED.search(text):
        return True
    return any(match.group().lower() in finder_names for match in _CAPITALISED.finditer(text))


def test_it_agrees_with_the_regexes_it_replaces_on_texts_built_from_awkward_pieces() -> None:
    rng = random.Random(20261124)
    names = frozenset({"margaret", "john", "john-paul"})
    finder = PersonFinder(["Margaret", "John", "John-Paul"])
    texts = ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12))) for _ in range(20000)]
    found = [finder.names_someone(text) for text in texts]
    assert found == [_reference(names, text) for text in texts]
    assert min(sum(found), len(found) - sum(found)) > 1000  # both answers are well represented


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann-Mrs Smith called", True),  # a title right after a hyphen still counts
        ("Mary-Jane2 came", False),  # followed by a digit: not a capitalised word at all
        ("Mary-jane came", False),  # "Mary" is not on the list, and "-jane" is not capitalised
        ("John-Paul came", False),  # the joined name is looked up whole, and only "John" is listed
        ("John_ came", False),  # an underscore is a word character, so "John" does not end there
        ("éJohn came", False),  # nor does a word start after é
        ("Mrs.\u00a0Patel", True),  # a non-breaking space is white space
        ("Mrs.Patel", False),
    ],
)
def test_edges(text: str, expected: bool) -> None:
    assert FINDER.names_someone(text) is expected
