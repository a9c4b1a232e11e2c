"""Find every phrase of every rule in one pass over a comment.

A phrase is a few words: exact words, stems (word*), words with their inflections (word~: check~ is also
checks, checked, checking), a lone * for any one word, and *N (N from 1 to 9) for up to N words. The first
words of all
phrases (exact, and stems of three letters or more) go into one Aho-Corasick automaton (ahocorasick-rs),
which finds them all in a single scan of the comment whatever their number; only where one is found are the
phrase's other words compared, in Python. Leetspeak ("sh1t") and stretched letters ("stuuupid") are read as
other readings of a word, made only for the words that have them (see _readings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from string import ascii_lowercase, digits

from ahocorasick_rs import BytesAhoCorasick

from monitor.filter.normalise import normalise_text, words_of

Span = tuple[int, int]
EXACT, STEM, ANY, GAP, INFLECTED = 0, 1, 2, 3, 4
# A phrase's word, and its kind: EXACT, STEM, INFLECTED, ANY (with the text "") or GAP (its text the most
# words it may skip, "1" to "9").
Element = tuple[str, int]
Phrase = tuple[Element, ...]
Start = tuple[int, Phrase]  # a phrase starting with some word: its id, and the words after the first

# A stem shorter than this is never looked for as a phrase's first word: such a phrase matches nothing.
SHORTEST_FIRST_STEM = 3
TOKEN_CHARS = ascii_lowercase + digits + "$"
# RE2 patterns telling hits() whether a text has words worth reading another way (see _readings).
LEET_TRIGGER = r"[a-z][0-9$]|[0-9$][a-z]"
STRETCHED_TRIGGER = "|".join(letter * 3 for letter in ascii_lowercase)

_TOKEN = re.compile(r"[a-z0-9$]+")
_GAP = re.compile(r"\*[1-9]")
_NON_TOKEN = re.compile(r"[^a-z0-9$]")
_BYTE_SEPARATORS = bytes(code if chr(code) in TOKEN_CHARS else 32 for code in range(256))
_BREAK = re.compile(r"[.!?;\n]")
_LETTER_BY_DIGIT = re.compile(r"[0-9$](?<=[a-z][0-9$])|[0-9$](?=[a-z])")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_LETTER = re.compile(r"[a-z]")
_NOT_LETTER = re.compile(r"[^a-z]")
# Leetspeak: 0 o, 3 e, 4 a, 5 s, 7 t, 8 b, 9 g, $ s; 1 is read as i, and as l (see _readings).
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "$": "s"}
_LEET_AS_I = str.maketrans({**_LEET, "1": "i"})
_LEET_AS_L = str.maketrans({**_LEET, "1": "l"})


def parse_phrase(phrase: str) -> Phrase:
    """A rule's phrase → its words as (text, kind)."""
    elements: list[Element] = []
    for word in phrase.split():
        if word == "*":
            elements.append(("", ANY))
            continue
        if _GAP.fullmatch(word):
            elements.append((word[1:], GAP))
            continue
        tokens = words_of(normalise_text(word.rstrip("*~")))
        elements += [(token, EXACT) for token in tokens[:-1]]
        if tokens:
            kind = STEM if word.endswith("*") else INFLECTED if word.endswith("~") else EXACT
            elements.append((tokens[-1], kind))
    return tuple(elements)


def inflections(word: str) -> frozenset[str]:
    """``word`` and its regular inflections: -s, -es, -ed, -ing, with a final e dropped, a final consonant
    doubled (stop, stopped) or y turned to i (carry, carries, carried)."""
    return _inflections(word)


@lru_cache(maxsize=4096)
def _inflections(word: str) -> frozenset[str]:
    forms = {word, word + "s", word + "es", word + "ed", word + "ing"}
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    if len(word) > 2 and word[-1] == "y" and word[-2] not in "aeiou":
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if len(word) > 2 and word[-1] not in "aeiouwxy" and word[-2] in "aeiou" and word[-3] not in "aeiou":
        forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    return frozenset(forms)


class Hits:
    """The phrases found in one text: each place a phrase was found, as (phrase id, start, end), once."""

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[tuple[int, int, int], None] = {}

    def __len__(self) -> int:
        return len(self._found)

    def add(self, phrase_id: int, start: int, end: int) -> None:
        self._found[phrase_id, start, end] = None

    def phrase_ids(self) -> Iterator[int]:
        """The id of each hit, in the order found (a phrase found in two places comes twice)."""
        return (phrase_id for phrase_id, _, _ in self._found)

    def any_of(self, phrase_ids: frozenset[int]) -> bool:
        return any(phrase_id in phrase_ids for phrase_id, _, _ in self._found)

    def spans_of(self, phrase_ids: frozenset[int]) -> list[Span]:
        """The spans of the phrases in ``phrase_ids``, in the order found."""
        return [(start, end) for phrase_id, start, end in self._found if phrase_id in phrase_ids]

    def as_dict(self) -> dict[int, list[Span]]:
        """Phrase id → its spans, in the order found."""
        found: dict[int, list[Span]] = {}
        for phrase_id, start, end in self._found:
            found.setdefault(phrase_id, []).append((start, end))
        return found


class _Starts:
    """The phrases that start with one first word (or stem), sorted for the walk: those of that one word, those
    whose next word is an exact word (by that word), and the rest."""

    __slots__ = ("alone", "by_second", "others")

    def __init__(self, starts: list[Start]) -> None:
        self.alone = tuple(phrase_id for phrase_id, rest in starts if not rest)
        by_second: dict[str, list[Start]] = {}
        for phrase_id, rest in starts:
            if rest and rest[0][1] == EXACT:
                by_second.setdefault(rest[0][0], []).append((phrase_id, rest[1:]))
        self.by_second = {word: tuple(after) for word, after in by_second.items()}
        self.others = tuple((phrase_id, rest) for phrase_id, rest in starts if rest and rest[0][1] != EXACT)


class PhraseMatcher:
    """Phrases added one by one, then found in texts. Thread-safe for hits() and find() once the last phrase
    is added (the automaton is built then, or by the first search)."""

    def __init__(self) -> None:
        self._ids: dict[Phrase, int] = {}
        self._exact: dict[str, list[Start]] = {}  # an exact first word → the phrases it starts
        self._stems: dict[str, list[Start]] = {}  # a first stem → the phrases it starts
        self._automaton: _Automaton | None = None

    def add(self, phrase: str) -> int:
        elements = parse_phrase(phrase)
        if elements in self._ids:
            return self._ids[elements]
        phrase_id = len(self._ids)
        self._ids[elements] = phrase_id
        (text, kind), rest = elements[0], elements[1:]
        if kind in (ANY, GAP) or not _is_token(text) or (rest and rest[0][1] == EXACT and not _is_token(rest[0][0])):
            # A lone * first, or a first or second word with a character no word of a comment has (a comment's
            # words are [a-z0-9$]+): the phrase matches nothing.
            return phrase_id
        if kind == STEM:
            if len(text) >= SHORTEST_FIRST_STEM:
                self._stems.setdefault(text, []).append((phrase_id, rest))
                self._automaton = None
            return phrase_id
        for form in inflections(text) if kind == INFLECTED else (text,):
            self._exact.setdefault(form, []).append((phrase_id, rest))
        self._automaton = None
        return phrase_id

    def build(self) -> None:
        """Make the automaton now rather than at the first search."""
        self._automaton = _Automaton(self._exact, self._stems)

    def find(self, text: str, leet: bool | None = None, stretched: bool | None = None) -> dict[int, list[Span]]:
        """Each phrase found, with its spans in ``text``: hits() as a dict."""
        return self.hits(text, leet, stretched).as_dict()

    def hits(self, text: str, leet: bool | None = None, stretched: bool | None = None) -> Hits:
        """Each place a phrase was found in ``text`` (normalised); phrases never run across . ! ? ; or a line
        break.

        ``leet`` and ``stretched``: whether LEET_TRIGGER and STRETCHED_TRIGGER match ``text``, when known.
        """
        automaton = self._automaton
        if automaton is None:
            automaton = self._automaton = _Automaton(self._exact, self._stems)
        firsts = automaton.first_words(text)
        if leet is None:
            leet = _LETTER_BY_DIGIT.search(text) is not None
        if stretched is None:
            stretched = _STRETCHED.search(text) is not None
        hits = Hits()
        if not firsts and not (leet or stretched):
            return hits
        walk = _Walk(text, leet, stretched, hits)
        for start, starts in firsts:
            walk.starting(walk.index_at[start], starts)
        if leet or stretched:
            for index in range(len(walk.words)):
                for form in walk.readings(index):
                    automaton.starting_as(form, index, walk)
        return hits


class _Automaton:
    """The phrases' first words in one Aho-Corasick automaton, searched in a copy of the text where every
    character that is not a word character is a space: " word " finds an exact word, " stem" a word that
    starts with the stem, and nothing is found inside a word."""

    def __init__(self, exact: dict[str, list[Start]], stems: dict[str, list[Start]]) -> None:
        self._exact = {word: _Starts(starts) for word, starts in exact.items()}
        self._stems = {stem: _Starts(starts) for stem, starts in stems.items()}
        keys = [f" {word} " for word in self._exact] + [f" {stem}" for stem in self._stems]
        self._starts = [*self._exact.values(), *self._stems.values()]
        self._search = (
            BytesAhoCorasick([key.encode("ascii") for key in keys]).find_matches_as_indexes if keys else None
        )

    def first_words(self, text: str) -> list[tuple[int, _Starts]]:
        """Where a first word was found (the start of the word in ``text``), with the phrases it starts."""
        if self._search is None:
            return []
        if text.isascii():
            spaced = text.encode().translate(_BYTE_SEPARATORS)
        else:
            spaced = _NON_TOKEN.sub(" ", text).encode("ascii")
        found = self._search(b" " + spaced + b" ", overlapping=True)
        # The key's leading space is the padding or the character before the word: its offset is the word's
        # offset in the text.
        return [(start, self._starts[key]) for key, start, _ in found] if found else []

    def starting_as(self, form: str, index: int, walk: _Walk) -> None:
        """The phrases starting at word ``index`` read as ``form``, one of its other readings."""
        starts = self._exact.get(form)
        if starts is not None:
            walk.starting(index, starts)
        if self._stems:
            for length in range(SHORTEST_FIRST_STEM, len(form) + 1):
                starts = self._stems.get(form[:length])
                if starts is not None:
                    walk.starting(index, starts)


class _Walk:
    """One text's words, their bounds and other readings, and the hits so far."""

    __slots__ = ("_readings", "bounds", "hits", "index_at", "leet", "stretched", "text", "words")

    def __init__(self, text: str, leet: bool, stretched: bool, hits: Hits) -> None:
        self.text = text
        self.leet = leet
        self.stretched = stretched
        self.hits = hits
        tokens = list(_TOKEN.finditer(text))
        self.words = [token.group() for token in tokens]
        self.bounds = [token.span() for token in tokens]
        self.index_at = {start: index for index, (start, _) in enumerate(self.bounds)}
        self._readings: dict[int, tuple[str, ...]] = {}

    def readings(self, index: int) -> tuple[str, ...]:
        """Word ``index``'s other readings (see _readings), made the first time they are asked for."""
        forms = self._readings.get(index)
        if forms is None:
            word = self.words[index]
            has_other = (self.leet and _mixes_letters_and_digits(word)) or (
                self.stretched and _STRETCHED.search(word) is not None
            )
            forms = self._readings[index] = _readings(word, self.leet, self.stretched) if has_other else ()
        return forms

    def starting(self, index: int, starts: _Starts) -> None:
        """Each phrase of ``starts`` (whose first word is word ``index``) whose other words follow it."""
        for phrase_id in starts.alone:
            self._found(phrase_id, index, index)
        following = index + 1
        if starts.by_second and following < len(self.words):
            for form in (self.words[following], *self.readings(following)):
                for phrase_id, rest in starts.by_second.get(form, ()):
                    last = self._rest_end(following, rest)
                    if last is not None:
                        self._found(phrase_id, index, last)
        for phrase_id, rest in starts.others:
            last = self._rest_end(index, rest)
            if last is not None:
                self._found(phrase_id, index, last)

    def _rest_end(self, index: int, rest: Phrase) -> int | None:
        """The index of the last word, when the words after word ``index`` are ``rest`` (a gap taking as few
        words as it can); None when they are not."""
        if not rest:
            return index
        (element, how), after = rest[0], rest[1:]
        if how == GAP:
            for skipped in range(min(int(element), len(self.words) - 1 - index) + 1):
                last = self._rest_end(index + skipped, after)
                if last is not None:
                    return last
            return None
        position = index + 1
        if position >= len(self.words):
            return None
        if how == ANY or _accepts(element, how, self.words[position]):
            return self._rest_end(position, after)
        if (self.leet or self.stretched) and any(_accepts(element, how, form) for form in self.readings(position)):
            return self._rest_end(position, after)
        return None

    def _found(self, phrase_id: int, first: int, last: int) -> None:
        """A phrase from word ``first`` to word ``last``, kept unless a sentence ends inside it."""
        start, first_end = self.bounds[first]
        last_start, end = self.bounds[last]
        if first != last and _BREAK.search(self.text, first_end, last_start):
            return
        self.hits.add(phrase_id, start, end)


def _accepts(element: str, how: int, word: str) -> bool:
    """Whether a phrase's word ``element`` (EXACT, STEM or INFLECTED) accepts the comment's word ``word``."""
    if how == EXACT:
        return word == element
    if how == STEM:
        return word.startswith(element)
    return word in _inflections(element)


def _is_token(word: str) -> bool:
    return all(char in TOKEN_CHARS for char in word)


def _mixes_letters_and_digits(word: str) -> bool:
    """Leetspeak: a word with a letter and a digit or $ (a plain number such as 8220 has no other reading)."""
    return _LETTER.search(word) is not None and _NOT_LETTER.search(word) is not None


def _readings(word: str, leet: bool, stretched: bool) -> tuple[str, ...]:
    """In order: leet with 1 as i, with 1 as l; each of the word and those with runs of a letter cut to two,
    then to one; without repeats or the word itself. (Words are [a-z0-9$]+.)"""
    forms: list[str] = []
    if leet:
        forms.append(word.translate(_LEET_AS_I))
        if "1" in word:
            forms.append(word.translate(_LEET_AS_L))
    if stretched:
        bases = [word, *forms]
        forms += [_squeezed(base, 2) for base in bases]
        forms += [_squeezed(base, 1) for base in bases]
    return tuple(form for form in dict.fromkeys(forms) if form != word)


def _squeezed(word: str, keep: int) -> str:
    """``word`` with every run of three or more of one letter cut to ``keep`` letters."""
    return _STRETCHED.sub(lambda match: match.group(1) * keep, word)
