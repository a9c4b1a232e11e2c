"""classify_many(): a batch of comments gets exactly the verdicts that one call per comment gives."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.filter import Classifier, CommentContext, FilterSettings
from monitor.filter.batching import BATCH_SIZE, SERIAL_BATCHES, batches, classified

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


def _many(count: int) -> list[tuple[int, str, CommentContext | None]]:
    """``count`` numbered comments with contexts, more than enough to be classified by a pool of processes."""
    texts = _texts() + [text for text, _ in STAFF]
    contexts = _contexts(len(texts) - len(STAFF)) + [context for _, context in STAFF]
    return [(index, texts[index % len(texts)], contexts[index % len(texts)]) for index in range(count)]


def test_a_large_input_on_several_processes_gets_the_same_verdicts_in_order(classifier: Classifier) -> None:
    items = _many(BATCH_SIZE * (SERIAL_BATCHES + 2) + 7)
    done: list[int] = []
    found = list(classified(classifier, items, lambda i: i[1], lambda i: i[2], workers=2, done=done.append))
    assert [item for item, _ in found] == items
    expected = classifier.classify_many([text for _, text, _ in items], [context for _, _, context in items])
    assert [verdict for _, verdict in found] == expected
    assert sum(done) == len(items) and len(done) == SERIAL_BATCHES + 3
    assert 0 < sum(verdict.flagged for verdict in expected) < len(items)


def test_a_small_input_stays_in_this_process(classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*_: object, **__: object) -> None:
        raise AssertionError("a pool was started for a small input")

    monkeypatch.setattr("monitor.filter.batching.ProcessPoolExecutor", no_pool)
    items = _many(BATCH_SIZE * SERIAL_BATCHES)
    found = list(classified(classifier, items, lambda i: i[1], lambda i: i[2], workers=2))
    assert [verdict for _, verdict in found] == classifier.classify_many(
        [text for _, text, _ in items], [context for _, _, context in items]
    )


@pytest.mark.parametrize("failing_after", [BATCH_SIZE + 3, BATCH_SIZE * (SERIAL_BATCHES + 3) + 3])
def test_on_several_processes_what_was_read_before_a_failure_is_classified_first(
    classifier: Classifier, failing_after: int
) -> None:
    def items_then_failure() -> Iterator[tuple[int, str, CommentContext | None]]:
        yield from _many(failing_after)
        raise ValueError("line 9: not JSON")

    seen: list[int] = []
    with pytest.raises(ValueError, match="line 9"):
        for (index, _, _), _verdict in classified(
            classifier, items_then_failure(), lambda i: i[1], lambda i: i[2], workers=2
        ):
            seen.append(index)
    assert seen == list(range(failing_after))


def test_a_classifier_survives_pickling_with_its_rules_and_lists() -> None:
    # A worker process started by spawn (macOS, Windows) gets the classifier pickled.
    original = Classifier.from_settings(
        FilterSettings(staff_accounts=["kim.support"], service_user_accounts=["jamie_b"], organisation_aliases=["BWC"])
    )
    copy = pickle.loads(pickle.dumps(original))
    texts = [*_texts(), "BWC are liars", *(text for text, _ in STAFF)]
    contexts = [*_contexts(len(texts) - len(STAFF)), *(context for _, context in STAFF)]
    assert copy.classify_many(texts, contexts) == original.classify_many(texts, contexts)
