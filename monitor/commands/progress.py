"""How many comments a long command has classified, as a progress bar on a terminal and nothing elsewhere."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

from monitor.filter.batching import cores


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=cores(),
        metavar="N",
        help="processes classifying a large input at once (default: one per core, here %(default)s)",
    )


@contextmanager
def progress_bar(total: int | None, unit: str = " comments") -> Iterator[Callable[[int], None] | None]:
    """A callback advancing a bar on standard error when that is a terminal; None when it is not (a file,
    a pipe, a log), which then gets no progress lines."""
    if not sys.stderr.isatty():
        yield None
        return
    with tqdm(total=total, unit=unit, unit_scale=True, file=sys.stderr, leave=False) as bar:
        yield bar.update
