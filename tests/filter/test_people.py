"""PersonFinder: does a comment name someone, by a title or a capitalised first name from the list?"""

from __future__ import annotations

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
