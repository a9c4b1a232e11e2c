"""Word vectors: how a word finds its vector, the meaning block the model reads, and its part in a score."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from monitor.filter import Classifier, CommentContext, FilterSettings
from monitor.filter.features import FeatureShape, features_of
from monitor.filter.meaning import WordVectors
from monitor.filter.model import ModelFileError, TextModel, shipped_model
from training.data import CATEGORIES

# Four made-up pieces in two dimensions: "burn" and "torch" point one way, "cake" the other.
KEYS = ["burn", "torch", "cake", "to", "##rch", "##ing", "!", "##ake"]
VECTORS = np.array(
    [[1, 0], [0.9, 0.1], [0, 1], [0.2, 0.2], [0.6, 0.0], [0.0, 0.4], [0.5, 0.5], [0.0, 0.8]], dtype=np.float32
)
SHAPE = FeatureShape(word_buckets=1 << 10, char_buckets=1 << 10, meaning_dimensions=2, meaning_scale=0.5)


@pytest.fixture
def vectors() -> WordVectors:
    return WordVectors(KEYS, VECTORS)


def test_a_word_in_the_table_is_its_own_vector(vectors: WordVectors) -> None:
    assert vectors.vector("torch") == pytest.approx([0.9, 0.1])


def test_an_unknown_word_is_the_mean_of_its_longest_pieces(vectors: WordVectors) -> None:
    # "torching": "torch" (not "to" + "##rch") then "##ing"
    assert vectors.vector("torching") == pytest.approx([(0.9 + 0.0) / 2, (0.1 + 0.4) / 2])
    # accents are dropped and punctuation is a piece of its own, as the sentence model reads them
    assert vectors.vector("Bürn!") == pytest.approx([(1 + 0.5) / 2, 0.25])


def test_a_word_with_a_piece_no_one_knows_has_no_vector(vectors: WordVectors) -> None:
    assert vectors.vector("torchx") is None
    assert vectors.vector("##ing") is None  # a continuation piece is not a word
    assert vectors.vector("") is None


def test_the_meaning_block_is_the_sum_of_the_words_vectors_scaled_like_the_word_block(
    vectors: WordVectors,
) -> None:
    features = features_of("burn the cake", SHAPE, vectors=vectors)
    meaning = features.buckets >= SHAPE.meaning_offset
    assert features.buckets[meaning].tolist() == [SHAPE.meaning_offset, SHAPE.meaning_offset + 1]
    # "the" has no vector: the sum is of "burn" and "cake", [1, 1]; three words and two pairs: over sqrt(5)
    assert features.values[meaning] == pytest.approx([0.5 / 5**0.5, 0.5 / 5**0.5])
    with pytest.raises(ValueError, match="word vectors of 2 dimensions"):
        features_of("burn", SHAPE)


def random_model(vectors: WordVectors) -> TextModel:
    generator = np.random.default_rng(7)
    coef = generator.normal(size=(SHAPE.size, len(CATEGORIES))).astype(np.float32)
    intercept = generator.normal(size=len(CATEGORIES)).astype(np.float32)
    return TextModel(coef, intercept, CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), SHAPE, vectors=vectors)


def test_the_running_model_scores_exactly_the_rows_training_reads(vectors: WordVectors) -> None:
    model = random_model(vectors)
    for text in ("Torching the cake!", "burn burn", "nothing known here", "", "to be or not"):
        row = features_of(text, SHAPE, vectors=vectors)
        expected = 1 / (1 + np.exp(-(row.values @ model.coef[row.buckets] + model.intercept)))
        assert model.probabilities(text) == pytest.approx(expected, rel=1e-5), text


def test_a_word_whose_meaning_leans_to_a_category_is_what_weighed_most(vectors: WordVectors) -> None:
    coef = np.zeros((SHAPE.size, len(CATEGORIES)), dtype=np.float32)
    coef[SHAPE.meaning_offset, CATEGORIES.index("threat")] = 60.0  # the first dimension: burning
    model = TextModel(
        coef, np.full(len(CATEGORIES), -4.0, dtype=np.float32), CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), SHAPE,
        vectors=vectors,
    )
    text = "we will TORCH the cake"
    # never shown "torch" itself, the model reads it as near "burn"
    assert model.probabilities(text)[CATEGORIES.index("threat")] > 0.9
    first = model.weighed_most(text, "threat")[0].span
    assert text[first[0] : first[1]] == "TORCH"
    assert pickle.loads(pickle.dumps(model)).probabilities(text) == pytest.approx(model.probabilities(text))


def test_a_model_that_reads_meaning_needs_vectors_that_fit(vectors: WordVectors) -> None:
    coef = np.zeros((SHAPE.size, len(CATEGORIES)), dtype=np.float32)
    intercept = np.zeros(len(CATEGORIES), dtype=np.float32)
    with pytest.raises(ModelFileError, match="word vectors of 2 dimensions"):
        TextModel(coef, intercept, CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), SHAPE)
    with pytest.raises(ModelFileError, match="word vectors of 2 dimensions"):
        TextModel(
            coef, intercept, CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), SHAPE,
            vectors=WordVectors(["a"], np.zeros((1, 3), dtype=np.float32)),
        )


def test_a_model_folder_without_its_vectors_is_a_clear_error(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "monitor" / "filter" / "model"
    for name in ("model.json", "weights.npz"):
        (tmp_path / name).write_bytes((shipped / name).read_bytes())
    with pytest.raises(ModelFileError, match="cannot be read"):
        TextModel.load(tmp_path)


def test_the_shipped_model_knows_words_by_their_meaning() -> None:
    vectors = shipped_model().vectors
    assert vectors is not None
    near = {word: vectors.vector(word) for word in ("furious", "livid", "delighted")}
    assert all(vector is not None for vector in near.values())

    def cosine(a: str, b: str) -> float:
        first, second = near[a], near[b]
        assert first is not None and second is not None
        return float(first @ second / np.linalg.norm(first) / np.linalg.norm(second))

    assert cosine("furious", "livid") > cosine("furious", "delighted")


def calm_model() -> TextModel:
    """A model that gives every category 2%, whatever the comment."""
    shape = FeatureShape(word_buckets=1 << 10, char_buckets=1 << 10)
    coef = np.zeros((shape.size, len(CATEGORIES)), dtype=np.float32)
    intercept = np.full(len(CATEGORIES), -4.0, dtype=np.float32)
    return TextModel(coef, intercept, CATEGORIES, dict.fromkeys(CATEGORIES, 0.5), shape)


TONE_ONLY = "Absolutely horrible miserable rotten day, everything is awful and I hate it"


def test_the_model_overrules_a_flag_for_tone_alone_when_it_finds_no_category() -> None:
    rules_alone = Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}}))
    assert [reason.rule for reason in rules_alone.classify(TONE_ONLY).reasons] == ["strongly-negative"]
    with_model = Classifier.from_settings(FilterSettings(), model=calm_model())
    assert not with_model.classify(TONE_ONLY).flagged
    keep_all = FilterSettings.model_validate({"model": {"tone_only_below": 0}})
    kept = Classifier.from_settings(keep_all, model=calm_model())
    assert [reason.rule for reason in kept.classify(TONE_ONLY).reasons] == ["strongly-negative"]


def test_the_model_never_overrules_a_rule_that_matched_words() -> None:
    text = "Absolutely appalling service, rotten and miserable, I hate it"
    verdict = Classifier.from_settings(FilterSettings(), model=calm_model()).classify(text)
    assert verdict.flagged
    assert "plainly-negative" in [reason.rule for reason in verdict.reasons]


def test_an_account_can_keep_every_flag_for_tone() -> None:
    settings = FilterSettings.model_validate({"accounts": {"blog": {"model": {"tone_only_below": 0}}}})
    classifier = Classifier.from_settings(settings, model=calm_model())
    assert classifier.classify(TONE_ONLY, CommentContext(account="blog")).flagged
    assert not classifier.classify(TONE_ONLY, CommentContext(account="facebook")).flagged


@pytest.mark.parametrize("value", [-0.1, 1.0, "low"])
def test_the_tone_setting_is_checked(value: object) -> None:
    with pytest.raises(ValueError, match="tone_only_below"):
        FilterSettings.model_validate({"model": {"tone_only_below": value}})


def model_that_fears_smashing() -> TextModel:
    shape = FeatureShape(word_buckets=1 << 10, char_buckets=1 << 10)
    coef = np.zeros((shape.size, len(CATEGORIES)), dtype=np.float32)
    coef[int(features_of("smash", shape).buckets[0]), CATEGORIES.index("threat")] = 30.0
    return TextModel(coef, np.full(len(CATEGORIES), -4.0, dtype=np.float32), CATEGORIES,
                     dict.fromkeys(CATEGORIES, 0.5), shape)


def test_a_cheerful_idiom_keeps_the_model_from_reading_a_threat() -> None:
    classifier = Classifier.from_settings(FilterSettings(), model=model_that_fears_smashing())
    assert not classifier.classify("Good luck Paul, you'll smash it").flagged
    assert "threat" in classifier.classify("I'll smash every window you've got").categories
