"""Comments taken a batch at a time, for Classifier.classify_many(), and, for large inputs, on every core."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from monitor.filter.classifier import Classifier
    from monitor.filter.verdict import CommentContext, Verdict

T = TypeVar("T")

BATCH_SIZE = 500
# An input of more batches than this is classified by a pool of processes (when more than one core is
# there): below it, starting the processes would cost more than it saves.
SERIAL_BATCHES = 4
# Batches handed to the pool ahead of the one being read back, per process: enough to keep each busy,
# few enough that a long input is never held in memory whole.
AHEAD_PER_WORKER = 2


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


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def classified(
    classifier: Classifier,
    items: Iterable[T],
    text: Callable[[T], str],
    context: Callable[[T], CommentContext | None] = lambda _: None,
    *,
    workers: int = 1,
    done: Callable[[int], None] | None = None,
) -> Iterator[tuple[T, Verdict]]:
    """Each of ``items`` with its verdict, in order, classified a batch at a time (see batches()).

    With ``workers`` above 1 and more than SERIAL_BATCHES batches, the batches are classified by that many
    processes, each with its own copy of ``classifier``. ``done`` is told how many items each batch held once
    its verdicts are in (for a progress bar).
    """
    stream = batches(items)
    if workers > 1:
        head: list[list[T]] = []
        try:
            for batch in stream:
                head.append(batch)
                if len(head) > SERIAL_BATCHES:
                    break
        except Exception:  # the batches read before the failure first, as batches() promises
            yield from _in_this_process(classifier, head, text, context, done)
            raise
        if len(head) > SERIAL_BATCHES:
            yield from _in_processes(
                classifier, chain(head, stream), text, context, workers=workers, done=done
            )
            return
        stream = iter(head)
    yield from _in_this_process(classifier, stream, text, context, done)


def _in_this_process(
    classifier: Classifier,
    stream: Iterable[list[T]],
    text: Callable[[T], str],
    context: Callable[[T], CommentContext | None],
    done: Callable[[int], None] | None,
) -> Iterator[tuple[T, Verdict]]:
    for batch in stream:
        verdicts = classifier.classify_many([text(item) for item in batch], [context(item) for item in batch])
        if done is not None:
            done(len(batch))
        yield from zip(batch, verdicts, strict=True)


def _in_processes(
    classifier: Classifier,
    stream: Iterator[list[T]],
    text: Callable[[T], str],
    context: Callable[[T], CommentContext | None],
    *,
    workers: int,
    done: Callable[[int], None] | None,
) -> Iterator[tuple[T, Verdict]]:
    pending: deque[tuple[list[T], Future[list[Verdict]]]] = deque()
    failure: Exception | None = None
    exhausted = False
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(classifier,)) as pool:
        while True:
            while not exhausted and failure is None and len(pending) < AHEAD_PER_WORKER * workers:
                try:
                    batch = next(stream)
                except StopIteration:
                    exhausted = True
                    break
                except Exception as exc:  # yielded after the batches read before it, as batches() does
                    failure = exc
                    break
                texts = [text(item) for item in batch]
                contexts = [context(item) for item in batch]
                pending.append((batch, pool.submit(_classify_batch, texts, contexts)))
            if not pending:
                break
            batch, future = pending.popleft()
            verdicts = future.result()
            if done is not None:
                done(len(batch))
            yield from zip(batch, verdicts, strict=True)
    if failure is not None:
        raise failure


_worker_classifier: Classifier | None = None


def _start_worker(classifier: Classifier) -> None:
    global _worker_classifier  # noqa: PLW0603 (one classifier per worker process, set once as it starts)
    _worker_classifier = classifier


def _classify_batch(texts: Sequence[str], contexts: Sequence[CommentContext | None]) -> list[Verdict]:
    assert _worker_classifier is not None, "the pool's initializer sets the classifier"
    return _worker_classifier.classify_many(texts, contexts)
