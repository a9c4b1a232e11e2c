"""Find every phrase of every rule in one walk over a comment's words.

Phrases are indexed by their first word (exact words in a dict, wildcard stems by their first three
letters), so the cost grows with the comment's length, not with the number of phrases. Three set
intersections, done in C, screen a comment first: its words against the words that can start a phrase on
their own, its neighbouring word pairs against the first two words of longer phrases, and its words' first
letters against the stems. Only the words they pick out are walked in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress, count, pairwise
from operator import itemgetter, not_
from string import ascii_lowercase

from monitor.filter.normalise import normalise_text, words_of

Span = tuple[int, int]
ANY_WORD = ""  # a lone * in a phrase
_STEM_KEY = 3
_TOKEN = re.compile(r"[a-z0-9$]+")
_STEM_KEY_OF = itemgetter(slice(_STEM_KEY))
_SPAN = re.Match.span
_BREAKS = frozenset(".!?;\n")
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "$": "s"}
_LEET_AS_I = str.maketrans({**_LEET, "1": "i"})
_LEET_AS_L = str.maketrans({**_LEET, "1": "l"})
# RE2 patterns telling find() whether a text has words worth reading another way (see _other_readings).
LEET_TRIGGER = r"[a-z][0-9$]|[0-9$][a-z]"
STRETCHED_TRIGGER = "|".join(letter * 3 for letter in ascii_lowercase)
_LETTER_BY_DIGIT = re.compile(r"[0-9$](?<=[a-z][0-9$])|[0-9$](?=[a-z])")
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


def _other_readings(words: list[str], text: str, leet: bool | None, stretched: bool | None) -> Extra:
    """Each word's other readings: leetspeak (1 as i, then as l) and stretched letters cut to two, then one.

    Leetspeak is read only when some letter in the text touches a digit, and then in every word with a
    digit; stretched letters only when some word has three of a letter in a row. ``leet`` and ``stretched``
    say so when the caller already knows.
    """
    if leet is None:
        leet = _LETTER_BY_DIGIT.search(text) is not None
    if stretched is None:
        stretched = _STRETCHED.search(text) is not None
    if not (leet or stretched):
        return {}
    as_l = leet and "1" in text
    candidates: set[int] = set()
    if leet:
        candidates.update(compress(count(), map(not_, map(str.isalpha, words))))
    if stretched:
        candidates.update(compress(count(), map(_STRETCHED.search, words)))
    extra: Extra = {}
    for index in sorted(candidates):
        word = words[index]
        forms = _readings(word, leet, as_l, stretched)
        if forms:
            extra[index] = forms
    return extra


def _readings(word: str, leet: bool, as_l: bool, stretched: bool) -> tuple[str, ...]:
    leets = [word.translate(_LEET_AS_I)] if leet else []
    if as_l:
        leets.append(word.translate(_LEET_AS_L))
    forms = list(leets)
    if stretched:
        bases = (word, *leets)
        forms += [_STRETCHED.sub(r"\1\1", base) for base in bases]
        forms += [_STRETCHED.sub(r"\1", base) for base in bases]
    return tuple(dict.fromkeys(form for form in forms if form != word))


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
        self._leading: set[str] = set()  # words that start a phrase whose second word is not exact
        self._pairs: dict[str, str] = {}  # "first second" of longer phrases → first

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
            self._leading.add(first.text)
        elif rest[0].is_stem or rest[0].text == ANY_WORD:
            entry.other.append((phrase_id, rest))
            self._leading.add(first.text)
        else:
            entry.by_second.setdefault(rest[0].text, []).append((phrase_id, rest[1:]))
            self._pairs[f"{first.text} {rest[0].text}"] = first.text
        return phrase_id

    def find(
        self, text: str, *, leet: bool | None = None, stretched: bool | None = None
    ) -> dict[int, list[Span]]:
        """Each phrase found, with its spans in ``text``; phrases never run across . ! ? or ;

        ``leet`` and ``stretched``: whether LEET_TRIGGER and STRETCHED_TRIGGER match ``text``, when known.
        """
        words = _TOKEN.findall(text)
        starters = self._starters(words)
        extra = _other_readings(words, text, leet, stretched)
        if not (starters or extra):
            return {}
        found: list[tuple[int, int, int]] = []  # phrase id, first word, last word
        if starters:
            for index, word in enumerate(words):
                if word in starters or word[:_STEM_KEY] in starters:
                    self._starting(word, index, words, extra, found)
        first, stems = self._first, self._stems
        for index, forms in extra.items():
            for form in forms:
                if form in first or form[:_STEM_KEY] in stems:
                    self._starting(form, index, words, extra, found)
        return _spans(text, found) if found else {}

    def _starters(self, words: list[str]) -> set[str]:
        """The words, and the stem keys, that may start a phrase here."""
        starters = self._leading.intersection(words)
        pairs = self._pairs.keys() & map(" ".join, pairwise(words))
        if pairs:
            starters.update(self._pairs[pair] for pair in pairs)
        starters.update(self._stem_keys.intersection(map(_STEM_KEY_OF, words)))
        return starters

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
    positions = list(map(_SPAN, _TOKEN.finditer(text)))
    spans: dict[int, list[Span]] = {}
    for phrase_id, first, last in dict.fromkeys(found):
        if first == last or _BREAKS.isdisjoint(text[positions[first][1] : positions[last][0]]):
            spans.setdefault(phrase_id, []).append((positions[first][0], positions[last][1]))
    return spans
