"""The learned model: its features, its scores and explanations, its part in a verdict, and its settings."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from monitor.filter import Classifier, CommentContext, FilterSettings, Reason
from monitor.filter.features import FeatureShape, features_of, name_words, tokens_of, words_of
from monitor.filter.model import ModelFileError, TextModel, shipped_model
from monitor.filter.model_stage import ModelStage, how_sure
from training.data import CATEGORIES

SMALL = FeatureShape(word_buckets=1 << 12, char_buckets=1 << 12)


def model_that_fears(word: str, category: str = "threat", weight: float = 20.0) -> TextModel:
    """A model whose only weight is on ``word`` (its whole-word feature) for ``category``."""
    coef = np.zeros((SMALL.size, len(CATEGORIES)), dtype=np.float32)
    bucket = int(features_of(word, SMALL).buckets[0])  # the word block comes first; one word, one word bucket
    coef[bucket, CATEGORIES.index(category)] = weight
    intercept = np.full(len(CATEGORIES), -4.0, dtype=np.float32)
    return TextModel(coef, intercept, CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), SMALL)


def test_tokens_keep_their_place_in_the_original_text() -> None:
    text = "Ask @Jo_B about it: https://x.co/a?b=1 — DON\u2019T pay £45 🙂"
    tokens = tokens_of(text)
    assert [token.text for token in tokens] == ["ask", "@user", "about", "it", "http", "don't", "pay", "£", "00", "🙂"]
    assert [text[token.start : token.end] for token in tokens] == [
        "Ask",
        "@Jo_B",
        "about",
        "it",
        "https://x.co/a?b=1",
        "DON\u2019T",
        "pay",
        "£",
        "45",
        "🙂",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "RT @a_b: lol https://t.co/x @c",
        "e-mail me@x.org",
        "DON\u2019T 4ever 🙂🙂",
        "www.x.com/y?z then",
        "",
        "İstanbul 2day",
    ],
)
def test_the_quick_word_list_is_the_words_of_the_tokens(text: str) -> None:
    assert words_of(text) == [token.text for token in tokens_of(text)]


def test_feature_values_are_counts_scaled_by_the_size_of_their_block() -> None:
    features = features_of("no no no", SMALL)
    words = features.buckets < SMALL.word_buckets
    # three words and two pairs: "no" three times, "no no" twice, each over sqrt(5)
    assert sorted(features.values[words].tolist()) == pytest.approx([2 / 5**0.5, 3 / 5**0.5])
    # " no " gives 3 + 2 + 1 character n-grams of 2 to 4 characters; nine for the three words
    assert sum(features.values[~words].tolist()) == pytest.approx(18 / 18**0.5)
    assert features_of("", SMALL).buckets.size == 0


def test_the_running_model_scores_exactly_the_rows_training_reads() -> None:
    generator = np.random.default_rng(16)
    coef = generator.normal(size=(SMALL.size, len(CATEGORIES))).astype(np.float32)
    intercept = generator.normal(size=len(CATEGORIES)).astype(np.float32)
    model = TextModel(coef, intercept, CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), SMALL)
    for text in ("Gonna pay you ALL a visit 🙂 @kim https://x.co", "ok", "", "no no no!!", "£45 fee for DBS 2day"):
        row = features_of(text, SMALL)
        expected = 1 / (1 + np.exp(-(row.values @ coef[row.buckets] + intercept)))
        assert model.probabilities(text) == pytest.approx(expected, rel=1e-5), text


def test_a_weighted_word_raises_its_category_and_is_what_weighed_most() -> None:
    model = model_that_fears("torch")
    probabilities = model.probabilities("I will torch your office")
    assert probabilities[CATEGORIES.index("threat")] > 0.85
    assert probabilities[CATEGORIES.index("hate")] < 0.05
    weighed = model.weighed_most("I will torch your office", "threat")
    assert [w.span for w in weighed] == [(7, 12)]


def test_neighbouring_words_that_weighed_most_are_quoted_as_one_phrase() -> None:
    coef = np.zeros((SMALL.size, len(CATEGORIES)), dtype=np.float32)
    for word in ("little", "visit"):
        coef[int(features_of(word, SMALL).buckets[0]), 0] = 5.0
    model = TextModel(
        coef, np.zeros(len(CATEGORIES), dtype=np.float32), CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), SMALL
    )
    text = "Gonna pay you a little visit soon"
    spans = [w.span for w in model.weighed_most(text, "threat")]
    assert [text[start:end] for start, end in spans] == ["little visit"]


def test_weights_that_do_not_fit_the_categories_are_refused() -> None:
    with pytest.raises(ModelFileError, match="do not fit"):
        TextModel(
            np.zeros((10, 8), dtype=np.float32),
            np.zeros(8, dtype=np.float32),
            CATEGORIES,
            dict.fromkeys(CATEGORIES, 0.5),
            SMALL,
        )


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot be read"):
        TextModel.load(tmp_path)


def test_the_model_explains_its_flag_in_words_quoting_the_comment() -> None:
    stage = ModelStage(model_that_fears("torch"), FilterSettings())
    text = "Touch him again and I'll TORCH the place"
    [reason] = stage.reasons(text, CommentContext(), [])
    assert (reason.rule, reason.category, reason.severity) == ("model:threat", "threat", "urgent")
    assert reason.matched == ["TORCH"]
    assert reason.spans == [(text.index("TORCH"), text.index("TORCH") + 5)]
    assert "Sounds like a threat" in reason.explanation
    assert "fairly sure (76%)" in reason.explanation  # 8 words and 7 pairs: 1 / (1 + exp(4 - 20 / sqrt(15)))
    assert "“TORCH”" in reason.explanation


def test_the_model_adds_nothing_where_a_rule_gave_the_category() -> None:
    stage = ModelStage(model_that_fears("torch"), FilterSettings())
    rule = Reason("arson", "threat", "urgent", "A rule fired.")
    assert stage.reasons("I'll torch the place", CommentContext(), [rule]) == []


@pytest.mark.parametrize(
    ("model_settings", "account", "flags"),
    [
        ({}, None, True),
        ({"enabled": False}, None, False),
        ({"categories": {"threat": {"enabled": False}}}, None, False),
        ({"categories": {"threat": {"threshold": 0.999}}}, None, False),
        ({"accounts": {"quiet": {"model": {"enabled": False}}}}, "quiet", False),
        ({"accounts": {"quiet": {"model": {"enabled": False}}}}, "other", True),
        ({"enabled": False, "accounts": {"loud": {"model": {"enabled": True}}}}, "loud", True),
        ({"accounts": {"strict": {"model": {"categories": {"threat": {"threshold": 0.999}}}}}}, "strict", False),
    ],
)
def test_the_config_switches_the_model_and_sets_thresholds(
    model_settings: dict[str, object], account: str | None, flags: bool
) -> None:
    accounts = model_settings.pop("accounts", {})
    settings = FilterSettings.model_validate({"model": model_settings, "accounts": accounts})
    stage = ModelStage(model_that_fears("torch"), settings)
    assert bool(stage.reasons("I'll torch the place", CommentContext(account=account), [])) is flags


def test_an_accounts_category_severity_applies_to_the_models_reasons() -> None:
    settings = FilterSettings.model_validate({"accounts": {"shop": {"category_severity": {"threat": "high"}}}})
    [reason] = ModelStage(model_that_fears("torch"), settings).reasons("torch", CommentContext(account="shop"), [])
    assert reason.severity == "high"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"categories": {"threat": {"threshold": 1.5}}}, "less than 1"),
        ({"categories": {"threat": {"threshold": 0}}}, "greater than 0"),
        ({"categories": {"scary": {"threshold": 0.5}}}, "scary"),
        ({"enable": True}, "enable"),
    ],
)
def test_model_settings_are_checked(table: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        FilterSettings.model_validate({"model": table})


def test_sureness_in_words() -> None:
    assert how_sure(0.95) == "very sure"
    assert how_sure(0.7) == "fairly sure"
    assert how_sure(0.55) == "not certain, but thinks it more likely than not"


def test_the_shipped_model_loads_and_fits_in_25_mb() -> None:
    model = shipped_model()
    assert set(model.categories) == set(CATEGORIES)
    assert all(0 < threshold < 1 for threshold in model.thresholds.values())
    folder = Path(__file__).resolve().parents[2] / "monitor" / "filter" / "model"
    assert sum(path.stat().st_size for path in folder.iterdir()) < 25 * 1024 * 1024


def test_the_filter_with_the_model_off_gives_only_rule_reasons() -> None:
    text = "Gonna pay each of you a little visit at home, I know where you all live now"
    off = Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}})).classify(text)
    assert not any(reason.rule.startswith("model:") for reason in off.reasons)


def test_the_organisations_own_comments_are_left_to_the_rules() -> None:
    stage = ModelStage(model_that_fears("torch"), FilterSettings())
    assert stage.reasons("torch", CommentContext(by_owner=True), []) == []


def test_a_filter_with_the_model_survives_pickling_for_a_worker_process() -> None:
    classifier = Classifier.from_settings(FilterSettings(), model=model_that_fears("torch"))
    again = pickle.loads(pickle.dumps(classifier))
    assert [reason.rule for reason in again.classify("gonna torch it").reasons] == ["model:threat"]
    assert pickle.loads(pickle.dumps(shipped_model())) is shipped_model()


def test_the_organisations_name_is_left_out_of_what_the_model_reads() -> None:
    stage = ModelStage(model_that_fears("brightwater"), FilterSettings(), ["Brightwater Care"])
    assert stage.reasons("Brightwater", CommentContext(), []) == []
    assert ModelStage(model_that_fears("brightwater"), FilterSettings()).reasons("Brightwater", CommentContext(), [])
    assert name_words(("Brightwater Care", "The Oakfield Trust")) == {"brightwater", "oakfield"}
