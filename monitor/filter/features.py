"""A comment as hashed word and character n-grams and the sum of its words' vectors: what the model reads.

Training (training/train.py) and the running filter both call these functions, so the model always sees the
features it was trained on. Features are hashed with CRC-32 into two blocks of buckets: one for words and
word pairs, one for the character n-grams inside each word (with a space either side). A bucket's value is
how often its features occur, divided by the square root of the number of features in its block, so longer
comments do not score higher for being long. A third block is the comment's meaning: the sum of its words'
vectors (see meaning.py), scaled like the word block and by a fixed number.

Because a value is a count or a sum scaled by one number per block, a comment's score is a sum over its
words: each word's own part (its word bucket and vector, its character n-grams) never changes from comment
to comment, and the model works it out once per word (see model.py). The same sum tells which words weighed
most.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from monitor.filter.meaning import WordVectors

# A word is a run of letters and digits (any script), or one symbol that is not ASCII punctuation (an emoji,
# £) but not a dash or quotation mark: those symbols often carry the meaning ("🔪", "🙂", "£45").
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s!-/:-@\[-`{-~\u00ab\u00bb\u2010-\u206f\u3000-\u303f]")
_SPECIAL = re.compile(r"https?://\S+|www\.\S+|(?<!\w)@\w+")  # links and mentions
_SPECIAL_SPLIT = re.compile(f"({_SPECIAL.pattern})")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class FeatureShape:
    """How many buckets each block has, and which character n-grams go into them."""

    word_buckets: int = 1 << 18
    char_buckets: int = 1 << 18
    char_min: int = 2
    char_max: int = 5
    meaning_dimensions: int = 0  # the length of a word vector; 0: the model reads no meaning block
    meaning_scale: float = 1.0  # what the sum of a comment's word vectors is multiplied by, beside the word scale

    @property
    def meaning_offset(self) -> int:
        return self.word_buckets + self.char_buckets

    @property
    def size(self) -> int:
        return self.word_buckets + self.char_buckets + self.meaning_dimensions


class Token(NamedTuple):
    text: str  # lower case, digits as 0, as the model reads it
    start: int  # span in the original comment
    end: int


class WordFeatures(NamedTuple):
    """The features one word brings wherever it occurs: its word bucket and its character n-grams' buckets
    (after the word block), one entry per occurrence."""

    word: int
    chars: tuple[int, ...]


def tokens_of(text: str) -> list[Token]:
    """The words of ``text`` with their spans in it; mentions and links are read as "@user" and "http"."""
    if "@" not in text and "http" not in text and "www" not in text:
        return [_token(match) for match in _TOKEN.finditer(text)]
    special = [
        Token("@user" if match.group().startswith("@") else "http", match.start(), match.end())
        for match in _SPECIAL.finditer(text)
    ]
    masked = _SPECIAL.sub(lambda match: " " * len(match.group()), text)
    tokens = special + [_token(match) for match in _TOKEN.finditer(masked)]
    return sorted(tokens, key=lambda token: token.start)


# Words of an organisation's name that say nothing about who it is ("Brightwater Care": only "brightwater").
GENERIC_NAME_WORDS = frozenset(
    [
        "care",
        "support",
        "supported",
        "homes",
        "home",
        "healthcare",
        "health",
        "living",
        "group",
        "services",
        "service",
        "ltd",
        "limited",
        "trust",
        "the",
        "and",
        "of",
        "uk",
        "cic",
        "charity",
        "foundation",
    ]
)


def name_words(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The words of organisations' names the model leaves out: a name is in scams and in praise alike, and a
    model that learnt one organisation's name would misjudge every comment that names another."""
    return frozenset(word for name in names for word in words_of(name)) - GENERIC_NAME_WORDS


def without(words: list[str], left_out: frozenset[str]) -> list[str]:
    return [word for word in words if word not in left_out] if left_out else words


def words_of(text: str) -> list[str]:
    """The texts of tokens_of(text), found faster (no spans)."""
    if "@" not in text and "http" not in text and "www" not in text:
        return _plain_words(text)
    words: list[str] = []
    for index, piece in enumerate(_SPECIAL_SPLIT.split(text)):
        if index % 2:
            words.append("@user" if piece.startswith("@") else "http")
        elif piece:
            words += _plain_words(piece)
    return words


def _plain_words(text: str) -> list[str]:
    words = _TOKEN.findall(text.replace("\u2019", "'"))
    if _DIGIT.search(text):
        return [_DIGIT.sub("0", word.lower()) for word in words]
    return [word.lower() for word in words]


def _token(match: re.Match[str]) -> Token:
    return Token(_DIGIT.sub("0", match.group().lower().replace("\u2019", "'")), match.start(), match.end())


def bucket(key: str, buckets: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % buckets


def word_features(word: str, shape: FeatureShape) -> WordFeatures:
    padded = f" {word} "
    offset, buckets = shape.word_buckets, shape.char_buckets
    chars = tuple(
        offset + bucket(padded[start : start + size], buckets)
        for size in range(shape.char_min, min(shape.char_max, len(padded)) + 1)
        for start in range(len(padded) - size + 1)
    )
    return WordFeatures(bucket("w " + word, shape.word_buckets), chars)


def pair_bucket(first: str, second: str, shape: FeatureShape) -> int:
    return bucket("p " + first + " " + second, shape.word_buckets)


def block_scales(words: list[str], char_count: int) -> tuple[float, float]:
    """What each block's counts are multiplied by: one over the square root of its number of features."""
    word_count = 2 * len(words) - 1 if words else 0  # each word, and each pair of neighbours
    return (1 / math.sqrt(word_count) if word_count else 0.0, 1 / math.sqrt(char_count) if char_count else 0.0)


@dataclass(frozen=True)
class Features:
    """One comment's features as a sparse row: the buckets it fills, in ascending order, and their values."""

    buckets: npt.NDArray[np.intp]
    values: npt.NDArray[np.float32]


def features_of(
    text: str, shape: FeatureShape, left_out: frozenset[str] = frozenset(), vectors: WordVectors | None = None
) -> Features:
    """The row training reads (without the words ``left_out``); the running model adds up the same values
    word by word. ``vectors`` are needed when the shape has a meaning block."""
    words = without(words_of(text), left_out)
    counts: Counter[int] = Counter()
    char_count = 0
    for index, word in enumerate(words):
        own = word_features(word, shape)
        counts[own.word] += 1
        counts.update(own.chars)
        char_count += len(own.chars)
        if index:
            counts[pair_bucket(words[index - 1], word, shape)] += 1
    word_scale, char_scale = block_scales(words, char_count)
    buckets = np.array(sorted(counts), dtype=np.intp)
    values = np.array(
        [counts[b] * (word_scale if b < shape.word_buckets else char_scale) for b in buckets.tolist()],
        dtype=np.float32,
    )
    if shape.meaning_dimensions:
        if vectors is None or vectors.dimensions != shape.meaning_dimensions:
            raise ValueError(f"the shape needs word vectors of {shape.meaning_dimensions} dimensions")
        meaning = meaning_of(words, vectors) * (shape.meaning_scale * word_scale)
        buckets = np.concatenate([buckets, shape.meaning_offset + np.arange(shape.meaning_dimensions)])
        values = np.concatenate([values, meaning.astype(np.float32)])
    return Features(buckets, values)


def meaning_of(words: list[str], vectors: WordVectors) -> npt.NDArray[np.float32]:
    """The sum of the vectors of the words that have one (zeros if none has)."""
    found = [vector for vector in map(vectors.vector, words) if vector is not None]
    if not found:
        return np.zeros(vectors.dimensions, dtype=np.float32)
    return np.asarray(np.sum(found, axis=0, dtype=np.float64), dtype=np.float32)
