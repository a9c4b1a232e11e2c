"""Comments taken a batch at a time, for Classifier.classify_many()."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from monitor.filter.classifier import Classifier
    from monitor.filter.verdict import CommentContext, Verdict

T = TypeVar("T")

BATCH_SIZE = 500


def batches(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter).

    If reading ``items`` fails, the items read before the failure still come out as a last batch, and the
    error is raised after it, so a caller that writes results as it goes loses none of them.
    """
    batch: list[T] = []
    try:
        for item in items:
            batch.append(item)
            if len(batch) == size:
                yield batch
                batch = []
    except Exception:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def classified(
    classifier: Classifier,
    items: Iterable[T],
    text: Callable[[T], str],
    context: Callable[[T], CommentContext | None] = lambda _: None,
) -> Iterator[tuple[T, Verdict]]:
    """Each of ``items`` with its verdict, classified a batch at a time (see batches())."""
    for batch in batches(items):
        verdicts = classifier.classify_many([text(item) for item in batch], [context(item) for item in batch])
        yield from zip(batch, verdicts, strict=True)
