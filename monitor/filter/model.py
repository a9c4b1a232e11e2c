"""The learned model: how likely a comment is to belong to each category, and which of its words weighed most.

One logistic regression per category over hashed word and character n-grams and the sum of the words'
vectors (see features.py), trained by `make train` (training/train.py). The weights ship with the package as
model/weights.npz beside model/model.json (the categories, the feature shape and the thresholds chosen on the
validation split) and model/vectors.npz (the word vectors), and are read once, when the filter is built.
Nothing is downloaded.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from monitor.filter.features import (
    FeatureShape,
    block_scales,
    meaning_of,
    pair_bucket,
    tokens_of,
    without,
    word_features,
    words_of,
)
from monitor.filter.meaning import VECTORS_FILE, WordVectors
from monitor.filter.verdict import Span

MODEL_FOLDER = "model"


class ModelFileError(ValueError):
    """The model's files are missing or do not fit together."""


@dataclass(frozen=True)
class Weighed:
    """A word (or a few neighbouring words) of the comment and how much it pushed towards a category."""

    span: Span
    weight: float


class TextModel:
    """Read-only once built, so one model serves every thread and every classifier."""

    def __init__(
        self,
        coef: npt.NDArray[np.float32],
        intercept: npt.NDArray[np.float32],
        categories: tuple[str, ...],
        thresholds: dict[str, float],
        shape: FeatureShape,
        *,
        vectors: WordVectors | None = None,
    ) -> None:
        if coef.shape != (shape.size, len(categories)) or intercept.shape != (len(categories),):
            raise ModelFileError(
                f"weights of shape {coef.shape} and {intercept.shape} do not fit {len(categories)} categories "
                f"and {shape.size} features"
            )
        if shape.meaning_dimensions and (vectors is None or vectors.dimensions != shape.meaning_dimensions):
            raise ModelFileError(f"the model needs word vectors of {shape.meaning_dimensions} dimensions")
        missing = [category for category in categories if category not in thresholds]
        if missing:
            raise ModelFileError(f"no threshold for {missing[0]!r}")
        self.coef = coef
        self.intercept = intercept
        self.categories = categories
        self.thresholds = thresholds
        self.shape = shape
        self.vectors = vectors if shape.meaning_dimensions else None
        self._meaning_coef = coef[shape.meaning_offset :].astype(np.float64)
        self._zeros = np.zeros(len(categories), dtype=np.float64)
        self._intercept: list[float] = intercept.tolist()
        # Words repeat from comment to comment: each one's part is worked out once (lru_cache is thread-safe).
        self._word_part = lru_cache(maxsize=1 << 16)(self._word_part_of)
        self._pair_row = lru_cache(maxsize=1 << 16)(self._pair_row_of)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled (for a worker process) as the shipped model, read again there, or as its arrays."""
        if self is shipped_model():
            return shipped_model, ()
        return partial(TextModel, vectors=self.vectors), (
            self.coef, self.intercept, self.categories, self.thresholds, self.shape
        )

    @classmethod
    def load(cls, folder: Path | Any) -> TextModel:
        """From weights.npz, model.json and, if the model reads meaning, vectors.npz in ``folder`` (a path or
        an importlib.resources folder)."""
        try:
            settings = json.loads(folder.joinpath("model.json").read_text(encoding="utf-8"))
            with folder.joinpath("weights.npz").open("rb") as fh, np.load(fh) as arrays:
                coef = arrays["coef"].astype(np.float32)
                intercept = arrays["intercept"].astype(np.float32)
            shape = FeatureShape(**settings["features"])
            categories = tuple(settings["categories"])
            thresholds = {name: float(value) for name, value in settings["thresholds"].items()}
            vectors = load_vectors(folder) if shape.meaning_dimensions else None
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"the model in {folder} cannot be read: {exc}") from None
        return cls(coef, intercept, categories, thresholds, shape, vectors=vectors)

    def probabilities(self, text: str, left_out: frozenset[str] = frozenset()) -> npt.NDArray[np.float64]:
        """For each category (in self.categories' order), how likely the comment belongs to it, read without
        the words ``left_out`` (see features.name_words)."""
        words = without(words_of(text), left_out)
        if not words:
            return _sigmoid(self.intercept.tolist())
        parts = list(map(self._word_part, words))
        word_scale, char_scale = block_scales(words, sum(part.char_count for part in parts))
        # map and zip keep the per-comment sums in C: this runs once for every comment
        own = map(sum, zip(*(part.own for part in parts), *map(self._pair_row, words, words[1:]), strict=True))
        chars = map(sum, zip(*(part.chars for part in parts), strict=True))
        return _sigmoid(
            [b + o * word_scale + c * char_scale for b, o, c in zip(self._intercept, own, chars, strict=True)]
        )

    def weighed_most(
        self, text: str, category: str, limit: int = 3, left_out: frozenset[str] = frozenset()
    ) -> list[Weighed]:
        """The words of ``text`` that pushed it furthest towards ``category``, most first, neighbouring words
        joined into one phrase. A word's part is its own features' (its word bucket, its character n-grams)
        and half of each pair it is in: the parts add up to the score less the intercept."""
        column = self.categories.index(category)
        tokens = [token for token in tokens_of(text) if token.text not in left_out]
        if not tokens:
            return []
        words = [token.text for token in tokens]
        parts = [self._word_part(word) for word in words]
        word_scale, char_scale = block_scales(words, sum(part.char_count for part in parts))
        share = [part.own[column] * word_scale + part.chars[column] * char_scale for part in parts]
        for index, (first, second) in enumerate(itertools.pairwise(words)):
            half = self._pair_row(first, second)[column] * word_scale / 2
            share[index] += half
            share[index + 1] += half
        ranked = sorted((i for i, weight in enumerate(share) if weight > 0), key=lambda i: -share[i])[:limit]
        phrases: list[Weighed] = []
        for index in sorted(ranked):
            token = tokens[index]
            if phrases and index - 1 in ranked:
                previous = phrases[-1]
                phrases[-1] = Weighed((previous.span[0], token.end), previous.weight + share[index])
            else:
                phrases.append(Weighed((token.start, token.end), share[index]))
        return sorted(phrases, key=lambda phrase: -phrase.weight)

    def _pair_row_of(self, first: str, second: str) -> tuple[float, ...]:
        """The weights of a pair of neighbouring words, one for each category."""
        return tuple(self.coef[pair_bucket(first, second, self.shape)].tolist())

    def _word_part_of(self, word: str) -> _WordPart:
        features = word_features(word, self.shape)
        chars = self.coef[list(features.chars)].sum(axis=0, dtype=np.float64) if features.chars else self._zeros
        own = self.coef[features.word].astype(np.float64)
        if self.vectors is not None and self.vectors.rows(word):
            # the meaning block is scaled like the word block, so a word's vector is part of its own weights
            own = own + (meaning_of([word], self.vectors) @ self._meaning_coef) * self.shape.meaning_scale
        return _WordPart(tuple(own.tolist()), tuple(chars.tolist()), len(features.chars))


def _sigmoid(logits: list[float]) -> npt.NDArray[np.float64]:
    return np.array([1.0 / (1.0 + math.exp(-min(max(logit, -500.0), 500.0))) for logit in logits])


class _WordPart(NamedTuple):
    """What one word adds to each category's score wherever it occurs, before its block's scale."""

    own: tuple[float, ...]  # its word bucket's and its vector's weights, one for each category
    chars: tuple[float, ...]  # the sums of its character n-grams' weights
    char_count: int


def load_vectors(folder: Path | Any) -> WordVectors:
    with folder.joinpath(VECTORS_FILE).open("rb") as fh, np.load(fh) as arrays:
        return WordVectors.from_arrays(arrays["keys"], arrays["vectors"])


@cache
def shipped_model() -> TextModel:
    """The model that ships with the package, read once."""
    return TextModel.load(resources.files("monitor.filter").joinpath(MODEL_FOLDER))
