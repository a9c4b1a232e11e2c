"""classify_many(): a batch of comments gets exactly the verdicts that one call per comment gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.filter import Classifier, CommentContext, FilterSettings
from monitor.filter.batching import batches

SAMPLES = Path(__file__).resolve().parents[2] / "monitor" / "sample_data" / "comments.jsonl"
EVASIONS = [
    "you lot are a b o l l o c k s",
    "what a load of sh1t",
    "F\u200bU\u200bC\u200bK this place",
    "He called the carers 'lazy bitches' and that is not on",
    "",
]
STAFF = [
    ("see you later x", CommentContext(author_id="kim.support", is_reply=True, parent_author_id="jamie_b")),
    ("@jamie_b love this", CommentContext(author_id="kim.support")),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_settings(FilterSettings(staff_accounts=["kim.support"], service_user_accounts=["jamie_b"]))


def _texts() -> list[str]:
    samples = [json.loads(line)["text"] for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line]
    return samples + EVASIONS


def _contexts(count: int) -> list[CommentContext | None]:
    kinds: list[CommentContext | None] = [
        None,
        CommentContext(author_id="kim.support"),
        CommentContext(by_owner=True),
        CommentContext(account="facebook-main", is_reply=True),
    ]
    return [kinds[index % len(kinds)] for index in range(count)]


def test_a_batch_gets_the_verdicts_of_one_call_per_comment(classifier: Classifier) -> None:
    texts = _texts() + [text for text, _ in STAFF]
    contexts = _contexts(len(texts) - len(STAFF)) + [context for _, context in STAFF]
    one_by_one = [classifier.classify(text, context).to_dict() for text, context in zip(texts, contexts, strict=True)]
    batched = [verdict.to_dict() for verdict in classifier.classify_many(texts, contexts)]
    assert batched == one_by_one
    flagged = sum(verdict["flagged"] for verdict in batched)
    assert 0 < flagged < len(texts)
    rules = {reason["rule"] for verdict in batched for reason in verdict["reasons"]}
    assert {"staff-boundary-reply", "staff-boundary-mention", "profanity"} <= rules


def test_a_batch_without_contexts_reads_each_comment_alone(classifier: Classifier) -> None:
    texts = _texts()
    assert [v.to_dict() for v in classifier.classify_many(texts)] == [classifier.classify(t).to_dict() for t in texts]


def test_an_empty_batch_has_no_verdicts(classifier: Classifier) -> None:
    assert classifier.classify_many([]) == []


def test_a_batch_needs_one_context_per_comment(classifier: Classifier) -> None:
    with pytest.raises(ValueError, match="3 texts but 2 contexts"):
        classifier.classify_many(["a", "b", "c"], [None, None])


def test_batches_cut_a_stream_into_lists_of_the_size() -> None:
    assert list(batches(range(7), size=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], size=3)) == []


def test_batches_hand_over_what_was_read_before_a_failure() -> None:
    def items_then_failure() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3: not JSON")

    seen: list[list[int]] = []
    with pytest.raises(ValueError, match="line 3"):
        for batch in batches(items_then_failure(), size=10):
            seen.append(batch)
    assert seen == [[1, 2]]
