"""The phrase matcher's first-word scan with each Aho-Corasick library: ahocorasick-rs (what the filter uses)
and pyahocorasick (not a dependency: pip install pyahocorasick to run this).

Run: .venv/bin/python bench/phrase_automata.py [--limit N]
Both search the same keys (" word " for each exact first word, " stem" for each stem, see matcher._Automaton)
in the same spaced copies of Davidson's normalised tweets, with the default packs plus 5,000 keywords and
200 regexes; the figures are µs per comment for the search alone, best of 7.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from ahocorasick_rs import BytesAhoCorasick

from bench.filter_throughput import comments, extra_rules
from monitor.filter import Classifier, FilterSettings
from monitor.filter.matcher import _BYTE_SEPARATORS, _NON_TOKEN
from monitor.filter.normalise import fold


def _spaced(text: str) -> bytes:
    spaced = text.encode().translate(_BYTE_SEPARATORS) if text.isascii() else _NON_TOKEN.sub(" ", text).encode()
    return b" " + spaced + b" "


def _best(runs: Sequence[Callable[[], int]], count: int) -> list[tuple[float, int]]:
    """Best µs per comment of each run, and what it found; the runs take turns, so a busy machine slows them
    alike."""
    best = [float("inf")] * len(runs)
    found = [0] * len(runs)
    for _ in range(9):
        for index, run in enumerate(runs):
            start = time.process_time()
            found[index] = run()
            best[index] = min(best[index], time.process_time() - start)
    return [(seconds / count * 1e6, hits) for seconds, hits in zip(best, found, strict=True)]


def _timed_build(build: Callable[[], object]) -> tuple[object, float]:
    start = time.process_time()
    built = build()
    return built, (time.process_time() - start) * 1e3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=10000)
    args = parser.parse_args(argv)
    texts, source = comments(args.limit)
    classifier = Classifier.from_settings(FilterSettings(rules=extra_rules()))
    matcher = classifier._matcher
    keys = [f" {word} " for word in matcher._exact] + [f" {stem}" for stem in matcher._stems]
    haystacks = [_spaced(fold(text).text) for text in texts]
    print(f"{len(keys)} first words and stems; {len(texts)} comments ({source})")

    try:
        import ahocorasick
    except ImportError:
        print("pyahocorasick is not installed (pip install pyahocorasick)")
        return 1

    def build_py() -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for index, key in enumerate(keys):
            automaton.add_word(key, index)
        automaton.make_automaton()
        return automaton

    rs, rs_build = _timed_build(lambda: BytesAhoCorasick([key.encode() for key in keys]))
    py, py_build = _timed_build(build_py)
    assert isinstance(rs, BytesAhoCorasick) and isinstance(py, ahocorasick.Automaton)

    def run_rs() -> int:
        return sum(len(rs.find_matches_as_indexes(haystack, overlapping=True)) for haystack in haystacks)

    def run_py() -> int:  # its default build searches str, so each haystack is decoded, as the matcher would
        return sum(len(list(py.iter(haystack.decode()))) for haystack in haystacks)

    (rs_micros, rs_found), (py_micros, py_found) = _best([run_rs, run_py], len(texts))
    print(
        f"ahocorasick-rs (BytesAhoCorasick, overlapping): {rs_micros:5.2f} µs per comment, {rs_found} found, "
        f"built in {rs_build:.0f} ms"
    )
    print(
        f"pyahocorasick (Automaton.iter on str):          {py_micros:5.2f} µs per comment, {py_found} found, "
        f"built in {py_build:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
