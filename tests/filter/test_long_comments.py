from __future__ import annotations

from monitor.filter import Classifier, FilterSettings
from monitor.filter.classifier import SENTIMENT_TOKENS, sentiment_window


def test_an_ordinary_comment_is_scored_whole() -> None:
    text = "Lovely photos from sports day, thank you all! " * 8
    assert sentiment_window(text) == text


def test_a_long_comment_is_scored_on_its_opening_words() -> None:
    text = " ".join(f"word{n}" for n in range(10_000))
    window = sentiment_window(text)
    assert len(window.split()) == SENTIMENT_TOKENS
    assert text.startswith(window)


def test_each_emoji_counts_as_a_word() -> None:
    window = sentiment_window("\N{GRINNING FACE}" * 5_000)
    assert len(window) == SENTIMENT_TOKENS


def test_rules_still_read_the_whole_of_a_long_comment() -> None:
    classifier = Classifier.from_settings(FilterSettings(), ["Brightwater Care"])
    text = "The garden looks lovely this spring. " * 2_000 + "I know where you all work and I will burn it down."
    verdict = classifier.classify(text)
    assert verdict.flagged and "threat" in verdict.categories
