"""Undo the usual tricks for slipping words past a filter, remembering where every character came from.

Every comment gets fold(): lower case, Unicode folded (compatibility forms, accents, look-alikes, invisible
and control characters), a symbol inside a word read as a letter, apostrophes and * # dropped. The rarer
repairs (letters spaced apart, s.c.a.m, control characters) run only when the caller's scan says they are
needed (see TRIGGERS). Leetspeak is not rewritten here: the phrase matcher reads each word that mixes letters
and digits both ways, and stretched letters ("stuuupid") shortened, so a phone number or NHS number keeps its
digits.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Collection
from functools import cache
from importlib import resources

# old start, old end, new start, new end, and where each new character came from (None: unknown)
Edit = tuple[int, int, int, int, tuple[int, ...] | None]
Step = Callable[[str], tuple[str, list[Edit]]]
Span = tuple[int, int]
# One step's edits, with each edit's new start (for bisect).
StepEdits = tuple[list[Edit], list[int]]

DELETED = "'\u2019\u2018`\u00b4*#"  # apostrophes (don't → dont), f*ck → fck, #hashtag → hashtag

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f")
_DELETED_CHARS = re.compile(f"[{re.escape(DELETED)}]")
_DROP_DELETED = str.maketrans("", "", DELETED)
_NON_ASCII_OR_CONTROL = re.compile(r"[^\x00-\x7f]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# ! or | between two small letters reads as i, @ as a (sh!t, sh|t, b@stard); @ before ss as a (@ss).
_SYMBOL_IN_WORD = re.compile(r"[!|@](?<=[a-z].)(?=[a-z])|@(?=ss)")
_DOTTED = re.compile(r"(?<![a-z0-9])[a-z]{1,2}(?:[.\-_~+:|/\\]+[a-z]{1,2}){2,}(?![a-z0-9])")
_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?:[ \t]+[a-z]){2,}(?![a-z0-9])")
_PUNCT_OR_SPACE = re.compile(r"[^a-z0-9]+")
# RE2 patterns telling the caller which repairs a lower-cased text needs, in the order they run.
TRIGGERS = {
    "control": r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
    "dotted": r"(?:^|[^a-z0-9])[a-z]{1,2}(?:[.\-_~+:|/\\]+[a-z]{1,2}){2,}(?:[^a-z0-9]|$)",
    "spaced": r"(?:^|[^a-z0-9])[a-z](?:[ \t]+[a-z]){2,}(?:[^a-z0-9]|$)",
}


def _load_confusables() -> dict[str, str]:
    """Unicode's confusables data (shipped by confusable-homoglyphs): each look-alike → an ASCII letter or digit."""
    with resources.files("confusable_homoglyphs").joinpath("confusables.json").open(encoding="utf-8") as fh:
        data: dict[str, list[dict[str, str]]] = json.load(fh)
    table: dict[str, str] = {}
    for char, glyphs in data.items():
        group = [char, *(glyph["c"] for glyph in glyphs)]
        ascii_forms = sorted((g for g in group if len(g) == 1 and g.isascii() and g.isalnum()), key=str.isdigit)
        if not ascii_forms:
            continue
        target = ascii_forms[0].lower()
        for glyph in group:
            if len(glyph) == 1 and not glyph.isascii():
                table.setdefault(glyph, target)
    return table


_CONFUSABLES = _load_confusables()


@cache
def fold_char(character: str) -> str:
    """One character → its plain lower-case form: compatibility forms, accents, look-alikes, invisibles."""
    if character in _ZERO_WIDTH:
        return ""
    category = unicodedata.category(character)
    if category in ("Cc", "Cf", "Mn", "Me"):
        return " " if character in "\x0b\x0c\x85" else ""
    folded = unicodedata.normalize("NFKC", character).casefold()
    stripped = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    return "".join(_CONFUSABLES.get(c, c) for c in stripped).lower()


def _origins(old: str, new: str, start: int) -> tuple[int, ...] | None:
    """Where each character of ``new`` sits in ``old`` when ``new`` only dropped characters from it."""
    found: list[int] = []
    index = 0
    for char in new:
        index = old.find(char, index)
        if index < 0:
            return None
        found.append(start + index)
        index += 1
    return tuple(found)


def _substitute(pattern: re.Pattern[str], text: str, replace: Callable[[re.Match[str]], str]) -> tuple[str, list[Edit]]:
    pieces: list[str] = []
    edits: list[Edit] = []
    last = 0
    shift = 0
    for match in pattern.finditer(text):
        old = match.group()
        new = replace(match)
        if new == old:
            continue
        start, end = match.span()
        pieces.append(text[last:start])
        pieces.append(new)
        edits.append((start, end, start + shift, start + shift + len(new), _origins(old, new, start)))
        shift += len(new) - len(old)
        last = end
    if not edits:
        return text, edits
    pieces.append(text[last:])
    return "".join(pieces), edits


def _map_back(edits: list[Edit], starts: list[int], position: int, is_end: bool) -> int:
    """A position in a step's output → the matching position in its input (starts: each edit's new start)."""
    index = bisect_right(starts, position - 1 if is_end else position) - 1
    if index < 0:
        return position
    old_start, old_end, new_start, new_end, origins = edits[index]
    inside = new_start < position <= new_end if is_end else new_start <= position < new_end
    if inside:
        if origins is not None:
            return origins[position - new_start - 1] + 1 if is_end else origins[position - new_start]
        return old_end if is_end else old_start
    return position + (old_end - new_end)


def _lower(text: str) -> tuple[str, list[Edit]]:
    return text.lower(), []


def _fold(text: str) -> tuple[str, list[Edit]]:
    """Lower case, compatibility forms, accents, look-alikes; invisible and control characters dropped.

    Only ASCII is left to lower-case once each other character is folded, so lengths do not change then.
    """
    folded, edits = _substitute(_NON_ASCII_OR_CONTROL, text, lambda m: fold_char(m.group()))
    return folded.lower(), edits


def _deletions(positions: list[int]) -> list[Edit]:
    """The edits of dropping the characters at ``positions`` (in order)."""
    return [(at, at + 1, at - count, at - count, ()) for count, at in enumerate(positions)]


def _delete_marks(text: str) -> tuple[str, list[Edit]]:
    positions = [match.start() for match in _DELETED_CHARS.finditer(text)]
    if not positions:
        return text, []
    return text.translate(_DROP_DELETED), _deletions(positions)


def _read_symbol(match: re.Match[str]) -> str:
    return "a" if match.group() == "@" else "i"


def _read_symbols(text: str) -> str:
    """! | @ inside a word read as a letter (see _SYMBOL_IN_WORD); the length does not change."""
    if "!" in text or "|" in text or "@" in text:
        return _SYMBOL_IN_WORD.sub(_read_symbol, text)
    return text


def _spaced_word(match: re.Match[str]) -> str:
    letters = _PUNCT_OR_SPACE.sub("", match.group())
    if len(letters) >= 5 and letters[0] in "ai":
        return f"{letters[0]} {letters[1:]}"  # "you are a b o l l o c k s"
    return letters


def _join_dotted(text: str) -> tuple[str, list[Edit]]:
    return _substitute(_DOTTED, text, lambda m: _PUNCT_OR_SPACE.sub("", m.group()))


def _join_spaced(text: str) -> tuple[str, list[Edit]]:
    return _substitute(_SPACED, text, _spaced_word)


REPAIRS: dict[str, Step] = {"control": _fold, "dotted": _join_dotted, "spaced": _join_spaced}


def _with_starts(edits: list[Edit]) -> StepEdits:
    return edits, [edit[2] for edit in edits]


class Normalised:
    """The comment as the rules see it, with the way back to the original text.

    ``steps`` replayed on the original give ``text`` (reading symbols in words moves nothing, so it is not a
    step). The steps' edits, last step first, are kept when known and otherwise worked out by a replay the
    first time a span is mapped back.
    """

    __slots__ = ("_deleted", "_edits", "original", "steps", "text")

    def __init__(
        self,
        original: str,
        text: str,
        steps: tuple[Step, ...],
        edits: list[StepEdits] | None = None,
        deleted: tuple[int, ...] | None = None,
    ) -> None:
        self.original = original
        self.text = text
        self.steps = steps
        self._edits = edits
        self._deleted = deleted  # an ASCII comment: where the marks fold() dropped were, in the original

    def __repr__(self) -> str:
        return f"Normalised(original={self.original!r}, text={self.text!r})"

    def _replayed(self) -> list[StepEdits]:
        if self._edits is None:
            text = self.original
            all_edits: list[StepEdits] = []
            for step in self.steps:
                text, edits = step(text)
                if edits:
                    all_edits.append(_with_starts(edits))
            self._edits = all_edits[::-1]
        return self._edits

    def span_in_original(self, start: int, end: int) -> Span:
        if self.steps is _ASCII_STEPS:  # lower-casing ASCII moves nothing
            return start, max(start, end)
        if self._deleted is not None:
            start += _deleted_up_to(self._deleted, start)
            end += _deleted_up_to(self._deleted, end - 1)
            return start, max(start, end)
        for edits, starts in self._replayed():
            start = _map_back(edits, starts, start, False)
            end = _map_back(edits, starts, end, True)
        return start, max(start, end)

    def spans_in_original(self, spans: list[Span]) -> list[Span]:
        """span_in_original() for each of ``spans`` (the list itself when nothing moved)."""
        if self.steps is _ASCII_STEPS:
            return spans
        return [self.span_in_original(start, end) for start, end in spans]

    def quote(self, start: int, end: int) -> str:
        first, last = self.span_in_original(start, end)
        return self.original[first:last]

    def repaired(self, needed: Collection[str]) -> Normalised:
        """Apply the repairs the triggers asked for, keeping their edits so that offsets map back without a
        replay."""
        text = self.text
        steps = list(self.steps)
        edits = list(self._known_edits())
        for name, step in REPAIRS.items():
            if name in needed and not (name == "control" and _fold in steps):
                text, step_edits = step(text)
                steps.append(step)
                if step_edits:
                    edits.insert(0, _with_starts(step_edits))
        return Normalised(self.original, text, tuple(steps), edits)

    def _known_edits(self) -> list[StepEdits]:
        """_replayed(), from what fold() recorded when it can."""
        if self._edits is None and self.steps is _ASCII_STEPS:
            return []
        if self._edits is None and self._deleted is not None:
            return [_with_starts(_deletions(list(self._deleted)))]
        return self._replayed()


def _deleted_up_to(deleted: tuple[int, ...], position: int) -> int:
    """How many dropped marks came before the character now at ``position`` (or just after it)."""
    count = 0
    size = len(deleted)
    while count < size and deleted[count] - count <= position:
        count += 1
    return count


_ASCII_STEPS: tuple[Step, ...] = (_lower,)
_ASCII_DELETING_STEPS: tuple[Step, ...] = (_lower, _delete_marks)
_FOLD_STEPS: tuple[Step, ...] = (_fold,)
_FOLD_DELETING_STEPS: tuple[Step, ...] = (_fold, _delete_marks)


def fold(original: str) -> Normalised:
    """The cheap first pass every comment gets: case, Unicode folding, a symbol inside a word read as a letter,
    apostrophes and * # dropped.

    The symbols: ! or | between two small letters is read as i and @ as a (sh!t, sh|t, b@stard), and @ before
    ss as a.
    """
    if original.isascii():
        read = _read_symbols(original.lower())
        kept = read.translate(_DROP_DELETED)
        if len(kept) == len(read):
            return Normalised(original, kept, _ASCII_STEPS)
        deleted = tuple(match.start() for match in _DELETED_CHARS.finditer(read))
        return Normalised(original, kept, _ASCII_DELETING_STEPS, deleted=deleted)
    folded, fold_edits = _fold(original)
    read = _read_symbols(folded)
    kept = read.translate(_DROP_DELETED)
    edits: list[StepEdits] = []
    if len(kept) != len(read):
        edits.append(_with_starts(_deletions([match.start() for match in _DELETED_CHARS.finditer(read)])))
    if fold_edits:
        edits.append(_with_starts(fold_edits))
    steps = _FOLD_DELETING_STEPS if len(kept) != len(read) else _FOLD_STEPS
    return Normalised(original, kept, steps, edits)


def normalise(original: str) -> Normalised:
    """Every repair, for callers without a trigger scan (rule phrases, tests, `rules test`)."""
    first = fold(original)
    return first.repaired({name for name, pattern in _TRIGGER_RES.items() if pattern.search(first.text)})


_TRIGGER_RES = {name: re.compile(pattern) for name, pattern in TRIGGERS.items()}


def normalise_text(text: str) -> str:
    return normalise(text).text


def words_of(text: str) -> list[str]:
    return [word for word in _PUNCT_OR_SPACE.split(text) if word]
