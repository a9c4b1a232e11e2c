"""What a word means, as a short vector: the learned model's way to know words it was never shown.

The vectors (model/vectors.npz, made by `make vectors`, see training/distil.py) are a table: a sentence
model's vocabulary pieces ("mu", "##ppet") and the words of the training data it had no single piece for.
A word found in the table is its vector; any other word is the mean of the vectors of the pieces it splits
into, found the way the sentence model splits words (longest piece first). A comment's meaning is the sum of
its words' vectors (scaled per comment like its words), so each word's part in a score is its own and can be
worked out once (see model.py).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

VECTORS_FILE = "vectors.npz"
CONTINUATION = "##"  # how the vocabulary marks a piece that continues a word
_LONGEST_WORD = 100  # longer words are not split (the sentence model's own limit)


class WordVectors:
    def __init__(self, keys: list[str], vectors: npt.NDArray[np.float32]) -> None:
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        self.keys = keys
        self.vectors = vectors
        self.dimensions = int(vectors.shape[1])
        self._index = {key: row for row, key in enumerate(keys)}
        self._longest_piece = max(len(key) for key in keys)
        self.rows: Callable[[str], tuple[int, ...]] = lru_cache(maxsize=1 << 16)(self._rows_of)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return WordVectors, (self.keys, self.vectors)

    @classmethod
    def from_arrays(cls, keys: npt.NDArray[Any], vectors: npt.NDArray[Any]) -> WordVectors:
        return cls([str(key) for key in keys.tolist()], vectors.astype(np.float32))

    def vector(self, word: str) -> npt.NDArray[np.float32] | None:
        """The word's vector, or None where none of its pieces is known."""
        rows = self.rows(word)
        if not rows:
            return None
        if len(rows) == 1:
            one: npt.NDArray[np.float32] = self.vectors[rows[0]]
            return one
        mean: npt.NDArray[np.float32] = self.vectors[list(rows)].mean(axis=0)
        return mean

    def _rows_of(self, word: str) -> tuple[int, ...]:
        if not word.startswith(CONTINUATION) and word in self._index:
            return (self._index[word],)
        rows: list[int] = []
        for part in _split(word):
            pieces = self._pieces(part)
            if pieces is not None:
                rows += pieces
        return tuple(rows)

    def _pieces(self, part: str) -> list[int] | None:
        """Longest known piece first, as the sentence model's tokenizer splits a word; None if a part of it
        matches no piece (the sentence model reads such a word as unknown)."""
        if len(part) > _LONGEST_WORD:
            return None
        rows: list[int] = []
        start = 0
        while start < len(part):
            end = min(len(part), start + self._longest_piece)
            while end > start:
                piece = part[start:end] if start == 0 else CONTINUATION + part[start:end]
                row = self._index.get(piece)
                if row is not None:
                    rows.append(row)
                    break
                end -= 1
            else:
                return None
            start = end
        return rows


def _split(word: str) -> list[str]:
    """Lower case without accents, split at punctuation (each punctuation mark a part of its own)."""
    plain = "".join(
        char for char in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(char) != "Mn"
    )
    parts: list[str] = []
    current = ""
    for char in plain:
        if unicodedata.category(char).startswith(("P", "S")):
            if current:
                parts.append(current)
            parts.append(char)
            current = ""
        else:
            current += char
    if current:
        parts.append(current)
    return parts
