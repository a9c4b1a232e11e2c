"""Train the filter's model: `make train` (python -m training.train).

One logistic regression per category over hashed word and character n-grams and the sum of the words'
vectors (monitor/filter/features.py; the vectors are made by `make vectors`, training/distil.py), trained on
the project's corpus and the public sets, with a fixed seed and a fixed split, so the same data always gives
the same weights. One corpus comment in five (the validation split) and one Davidson row in five
are never trained on: each category's threshold is the one that does best on the validation split, and the
figures in model.json are measured on both. Written as weights.npz and model.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from monitor.filter import Classifier, FilterSettings
from monitor.filter.features import FeatureShape, features_of, name_words
from monitor.filter.meaning import VECTORS_FILE, WordVectors
from monitor.filter.model import load_vectors
from monitor.filter.model_stage import TONE_ONLY_BELOW
from training.data import (
    CATEGORIES,
    CORPUS_ORGANISATIONS,
    Example,
    is_held_out,
    read_corpus,
    read_davidson,
    read_sms_spam,
    read_stormfront,
    read_youtube_spam,
)

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "monitor" / "filter" / "model"
SEED = 16
# How much one example of each source counts, beside one of the project's own comments. The public sets are
# larger and further from comments under a care provider's posts, so each of their examples counts for less.
SOURCE_WEIGHT = {"corpus": 4.0, "davidson": 0.25, "sms_spam": 0.2, "youtube_spam": 0.1, "stormfront": 0.2}
REGULARISATION = 8.0  # LogisticRegression's C
MEANING_SCALE = 0.1  # the meaning block beside the n-grams (see docs/model.md, Alternatives)
# Below 0.5 the model itself thinks a category less likely than not. Above 0.6, comments by writers the model
# never learnt from lost more recall than they gained precision, in every category (docs/model.md).
THRESHOLD_RANGE = (0.5, 0.6)


@dataclass
class Data:
    train: list[Example]
    validation: list[Example]  # the corpus's held-out comments
    davidson_held_out: list[tuple[int, Example]]


def gather(corpus: Path, shared: Path) -> Data:
    own = list(read_corpus(corpus))
    if not own:
        raise SystemExit(f"no corpus in {corpus}")
    train = [example for example in own if not is_held_out(example.text)]
    validation = [example for example in own if is_held_out(example.text)]
    davidson = shared / "eval" / "davidson_labeled_data.csv"
    held: list[tuple[int, Example]] = []
    for row, example in read_davidson(davidson):
        if is_held_out(f"davidson {row}"):
            held.append((row, example))
        else:
            train.append(example)
    public = shared / "training"
    train += [*read_sms_spam(public), *read_youtube_spam(public), *read_stormfront(public)]
    return Data(train, validation, held)


def matrix(texts: Sequence[str], shape: FeatureShape, vectors: WordVectors) -> csr_matrix:
    left_out = name_words(CORPUS_ORGANISATIONS)
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for text in texts:
        found = features_of(text, shape, left_out, vectors)
        indices.extend(found.buckets.tolist())
        values.extend(found.values.tolist())
        indptr.append(len(indices))
    return csr_matrix(
        (np.array(values, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr)),
        shape=(len(texts), shape.size),
    )


def labels(examples: Sequence[Example]) -> np.ndarray:
    return np.array([[name in example.categories for name in CATEGORIES] for example in examples], dtype=bool)


def weights(examples: Sequence[Example]) -> np.ndarray:
    return np.array([SOURCE_WEIGHT[example.source.split("/")[0]] for example in examples])


def fit(features: csr_matrix, truth: np.ndarray, sample_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (features by categories) and intercepts of one logistic regression per category."""
    coef = np.zeros((features.shape[1], len(CATEGORIES)), dtype=np.float32)
    intercept = np.zeros(len(CATEGORIES), dtype=np.float32)
    for column, _ in enumerate(CATEGORIES):
        model = LogisticRegression(
            C=REGULARISATION, solver="liblinear", class_weight="balanced", max_iter=2000, random_state=SEED
        )
        model.fit(features, truth[:, column], sample_weight=sample_weight)
        coef[:, column] = model.coef_[0]
        intercept[column] = model.intercept_[0]
    return coef, intercept


def probabilities(features: csr_matrix, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(features @ coef + intercept)))


def rule_categories(texts: Sequence[str], scores: np.ndarray) -> np.ndarray:
    """Which categories the shipped rules alone give each comment (the model only adds to them). The last
    column: flagged by any rule, "negative" included, unless for tone alone where the model (``scores``)
    overrules it."""
    rules = Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}}))
    verdicts = rules.classify_many(list(texts))
    found = np.array([[name in verdict.categories for name in CATEGORIES] for verdict in verdicts], dtype=bool)
    flagged = np.array([verdict.flagged for verdict in verdicts], dtype=bool)
    tone_alone = np.array(
        [bool(v.reasons) and all(reason.rule in rules.tone_rules for reason in v.reasons) for v in verdicts], dtype=bool
    )
    overruled = tone_alone & (scores.max(axis=1) < TONE_ONLY_BELOW)
    return np.column_stack([found, flagged & ~overruled])


def choose_thresholds(scores: np.ndarray, by_rules: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Each category's threshold, for the rules and the model together: the one that makes the mean of the
    flag-or-not F1 and the categories' F1s highest on the validation split, one category at a time, twice
    round (ties go to the higher threshold, which flags less)."""
    grid = np.round(np.arange(THRESHOLD_RANGE[0], THRESHOLD_RANGE[1] + 1e-9, 0.025), 3)
    cut = np.full(len(CATEGORIES), 0.5)
    for _ in range(2):
        for column in range(len(CATEGORIES)):
            best, best_score = cut[column], -1.0
            for threshold in grid:
                cut[column] = threshold
                score = objective(scores >= cut, by_rules, truth)
                if score >= best_score:
                    best, best_score = threshold, score
            cut[column] = best
    return cut


def combined(model_found: np.ndarray, by_rules: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per category and flag-or-not: what the rules found, and what the model added."""
    found = model_found | by_rules[:, : len(CATEGORIES)]
    return found, found.any(axis=1) | by_rules[:, -1]


def objective(model_found: np.ndarray, by_rules: np.ndarray, truth: np.ndarray) -> float:
    found, flagged = combined(model_found, by_rules)
    per_category = [f1_of(found[:, column], truth[:, column]) for column in range(len(CATEGORIES))]
    return (f1_of(flagged, truth.any(axis=1)) + float(np.mean(per_category))) / 2


def f1_of(found: np.ndarray, truth: np.ndarray) -> float:
    wanted = found.sum() + truth.sum()
    return float(2 * np.sum(found & truth) / wanted) if wanted else 0.0


def scores_of(found: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    tp = float(np.sum(found & truth))
    precision = tp / found.sum() if found.sum() else 0.0
    recall = tp / truth.sum() if truth.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "n": int(truth.sum())}


def report(name: str, found: np.ndarray, truth: np.ndarray) -> dict[str, object]:
    """Per category and for 'flag or not' (any category)."""
    result: dict[str, object] = {"flag": scores_of(found.any(axis=1), truth.any(axis=1))}
    for column, category in enumerate(CATEGORIES):
        result[category] = scores_of(found[:, column], truth[:, column])
    print(f"{name}:")
    for key, value in result.items():
        print(f"  {key:18} {value}")
    return result


def write_held_out(rows: Sequence[tuple[int, Example]], davidson: Path, out: Path) -> None:
    """Davidson's held-out rows in its own shape, for `monitor eval` (build/, outside the repository)."""
    keep = {row for row, _ in rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    with davidson.open(encoding="utf-8", newline="") as source, out.open("w", encoding="utf-8", newline="") as sink:
        reader = csv.reader(source)
        writer = csv.writer(sink)
        writer.writerow(next(reader))
        writer.writerows(line for line in reader if int(line[0]) in keep)


def write_validation(examples: Sequence[Example], out: Path) -> None:
    """The corpus's validation split in `monitor eval`'s shape (a comment's first category is its category)."""
    with out.open("w", encoding="utf-8") as fh:
        for example in examples:
            category = example.categories[0] if example.categories else "none"
            record = {"text": example.text, "flag": bool(example.categories), "category": category}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "training" / "corpus", help="the project's corpus")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="where the public sets are")
    parser.add_argument("--out", type=Path, default=MODEL, help="where to write")
    parser.add_argument("--build", type=Path, default=REPO / "build", help="held-out sets for measuring")
    parser.add_argument("--vectors", type=Path, default=MODEL, help="the folder of the word vectors (make vectors)")
    args = parser.parse_args(argv)

    vectors = load_vectors(args.vectors)
    shape = FeatureShape(meaning_dimensions=vectors.dimensions, meaning_scale=MEANING_SCALE)
    data = gather(args.corpus, args.shared)
    print(f"training on {len(data.train)} comments, validating on {len(data.validation)}", file=sys.stderr)
    train_x = matrix([e.text for e in data.train], shape, vectors)
    train_y = labels(data.train)
    coef, intercept = fit(train_x, train_y, weights(data.train))

    validation_x = matrix([e.text for e in data.validation], shape, vectors)
    validation_y = labels(data.validation)
    validation_scores = probabilities(validation_x, coef, intercept)
    by_rules = rule_categories([e.text for e in data.validation], validation_scores)
    cut = choose_thresholds(validation_scores, by_rules, validation_y)
    thresholds = {category: float(cut[column]) for column, category in enumerate(CATEGORIES)}
    figures = {
        "validation, model alone": report("validation, model alone", validation_scores >= cut, validation_y),
        "validation, rules and model": report(
            "validation, rules and model", combined(validation_scores >= cut, by_rules)[0], validation_y
        ),
    }
    held_x = matrix([e.text for _, e in data.davidson_held_out], shape, vectors)
    held_y = labels([e for _, e in data.davidson_held_out])
    figures["davidson_held_out"] = report(
        "Davidson held-out rows", probabilities(held_x, coef, intercept) >= cut, held_y
    )

    args.out.mkdir(parents=True, exist_ok=True)
    if args.vectors.resolve() != args.out.resolve():
        shutil.copyfile(args.vectors / VECTORS_FILE, args.out / VECTORS_FILE)
    np.savez_compressed(args.out / "weights.npz", coef=coef.astype(np.float16), intercept=intercept)
    settings = {
        "categories": list(CATEGORIES),
        "thresholds": thresholds,
        "features": shape.__dict__,
        "vectors": {"words": len(vectors.keys), "dimensions": vectors.dimensions},
        "seed": SEED,
        "regularisation": REGULARISATION,
        "source_weight": SOURCE_WEIGHT,
        "examples": {"train": len(data.train), "validation": len(data.validation)},
        "figures": figures,
    }
    (args.out / "model.json").write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    write_held_out(data.davidson_held_out, args.shared / "eval" / "davidson_labeled_data.csv",
                   args.build / "davidson_held_out.csv")
    write_validation(data.validation, args.build / "validation.jsonl")
    print(f"wrote {args.out / 'weights.npz'} and model.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
