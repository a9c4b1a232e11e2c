"""Find every phrase of every rule in one walk over a comment's words.

Phrases are indexed by their first word (exact words in a dict, wildcard stems by their first three
letters), so the cost grows with the comment's length, not with the number of phrases. A comment whose
words and word beginnings miss both indexes (two set intersections) is done without a Python-level loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.filter.normalise import normalise_text, words_of

Span = tuple[int, int]
ANY_WORD = ""  # a lone * in a phrase
_STEM_KEY = 3
_TOKEN = re.compile(r"[a-z0-9$]+")
_TOKEN_START = re.compile(rf"(?<![a-z0-9$])[a-z0-9$]{{{_STEM_KEY}}}")
_BREAKS = frozenset(".!?;\n")
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "$": "s"}
_LEET_AS_I = str.maketrans({**_LEET, "1": "i"})
_LEET_AS_L = str.maketrans({**_LEET, "1": "l"})
_LETTER_BY_DIGIT = re.compile(r"[a-z][0-9$]|[0-9$][a-z]")
_STRETCHED = re.compile(r"([a-z])\1{2,}")


Extra = dict[int, tuple[str, ...]]  # word index → its other readings


@dataclass(frozen=True)
class Element:
    """One word of a phrase: exact, a stem (word*), or any word (a lone *)."""

    text: str
    is_stem: bool = False

    def accepts(self, token: str) -> bool:
        if self.text == ANY_WORD:
            return True
        return token.startswith(self.text) if self.is_stem else token == self.text


def parse_phrase(phrase: str) -> tuple[Element, ...]:
    elements: list[Element] = []
    for word in phrase.split():
        if word == "*":
            elements.append(Element(ANY_WORD))
            continue
        tokens = words_of(normalise_text(word.rstrip("*")))
        elements += [Element(token) for token in tokens[:-1]]
        if tokens:
            elements.append(Element(tokens[-1], is_stem=word.endswith("*")))
    return tuple(elements)


def _other_readings(words: list[str], text: str) -> Extra:
    """Each word's other readings: leetspeak (1 as i, then as l) and stretched letters cut to two, then one.

    Every rewrite keeps the words apart the same way, so the i-th word of a rewrite is a reading of the i-th.
    """
    rewrites: list[str] = []
    if _LETTER_BY_DIGIT.search(text):
        rewrites.append(text.translate(_LEET_AS_I))
        if "1" in text:
            rewrites.append(text.translate(_LEET_AS_L))
    if _STRETCHED.search(text):
        rewrites += [_STRETCHED.sub(r"\1\1", t) for t in (text, *rewrites)]
        rewrites += [_STRETCHED.sub(r"\1", t) for t in (text, *rewrites[: len(rewrites) // 2])]
    extra: dict[int, list[str]] = {}
    for rewrite in rewrites:
        for index, (word, reading) in enumerate(zip(words, _TOKEN.findall(rewrite), strict=True)):
            if word != reading:
                extra.setdefault(index, []).append(reading)
    return {index: tuple(dict.fromkeys(forms)) for index, forms in extra.items()}


@dataclass
class _FirstWord:
    """Everything that starts with one exact word, with longer phrases indexed again by their second word."""

    alone: list[int]
    by_second: dict[str, list[tuple[int, tuple[Element, ...]]]]
    other: list[tuple[int, tuple[Element, ...]]]  # the second word is a stem or a lone *


class PhraseMatcher:
    def __init__(self) -> None:
        self._ids: dict[tuple[Element, ...], int] = {}
        self._first: dict[str, _FirstWord] = {}
        self._stems: dict[str, list[tuple[str, int, tuple[Element, ...]]]] = {}
        self._stem_keys: set[str] = set()

    def add(self, phrase: str) -> int:
        elements = parse_phrase(phrase)
        if elements in self._ids:
            return self._ids[elements]
        phrase_id = len(self._ids)
        self._ids[elements] = phrase_id
        first, rest = elements[0], elements[1:]
        if first.is_stem:
            key = first.text[:_STEM_KEY]
            self._stems.setdefault(key, []).append((first.text, phrase_id, rest))
            if len(key) == _STEM_KEY:
                self._stem_keys.add(key)
            return phrase_id
        entry = self._first.setdefault(first.text, _FirstWord([], {}, []))
        if not rest:
            entry.alone.append(phrase_id)
        elif rest[0].is_stem or rest[0].text == ANY_WORD:
            entry.other.append((phrase_id, rest))
        else:
            entry.by_second.setdefault(rest[0].text, []).append((phrase_id, rest[1:]))
        return phrase_id

    def find(self, text: str) -> dict[int, list[Span]]:
        """Each phrase found, with its spans in ``text``; phrases never run across . ! ? or ;"""
        words = _TOKEN.findall(text)
        words_hit = self._first.keys() & words
        stems_hit = self._stem_keys.intersection(_TOKEN_START.findall(text)) if self._stem_keys else ()
        extra = _other_readings(words, text)
        if not (words_hit or stems_hit or extra):
            return {}
        found: list[tuple[int, int, int]] = []  # phrase id, first word, last word
        if words_hit or stems_hit:
            for index, word in enumerate(words):
                if word in words_hit or word[:_STEM_KEY] in stems_hit:
                    self._starting(word, index, words, extra, found)
        for index, forms in extra.items():
            for form in forms:
                self._starting(form, index, words, extra, found)
        return _spans(text, found) if found else {}

    def _starting(
        self, form: str, index: int, words: list[str], extra: Extra, found: list[tuple[int, int, int]]
    ) -> None:
        entry = self._first.get(form)
        if entry is not None:
            found += [(phrase_id, index, index) for phrase_id in entry.alone]
            if index + 1 < len(words):
                for second in (words[index + 1], *extra.get(index + 1, ())):
                    for phrase_id, rest in entry.by_second.get(second, ()):
                        if _rest_matches(words, extra, index + 1, rest):
                            found.append((phrase_id, index, index + 1 + len(rest)))
            for phrase_id, rest in entry.other:
                if _rest_matches(words, extra, index, rest):
                    found.append((phrase_id, index, index + len(rest)))
        if len(form) < _STEM_KEY:
            return
        for stem, phrase_id, rest in self._stems.get(form[:_STEM_KEY], ()):
            if form.startswith(stem) and _rest_matches(words, extra, index, rest):
                found.append((phrase_id, index, index + len(rest)))


def _rest_matches(words: list[str], extra: Extra, index: int, rest: tuple[Element, ...]) -> bool:
    if index + len(rest) >= len(words):
        return not rest
    for offset, element in enumerate(rest, 1):
        position = index + offset
        if not element.accepts(words[position]) and not any(element.accepts(f) for f in extra.get(position, ())):
            return False
    return True


def _spans(text: str, found: list[tuple[int, int, int]]) -> dict[int, list[Span]]:
    positions = [match.span() for match in _TOKEN.finditer(text)]
    spans: dict[int, list[Span]] = {}
    for phrase_id, first, last in dict.fromkeys(found):
        gaps = (text[positions[i][1] : positions[i + 1][0]] for i in range(first, last))
        if all(_BREAKS.isdisjoint(gap) for gap in gaps):
            spans.setdefault(phrase_id, []).append((positions[first][0], positions[last][1]))
    return spans
