# cython: language_level=3
"""Undo the usual tricks for slipping words past a filter, remembering where every character came from.

An ordinary comment costs one pass in C: lower case, a symbol inside a word read as a letter, marks dropped. The rarer repairs (letters spaced
apart, s.c.a.m, control characters) run only when the caller's scan says they are needed
(see TRIGGERS). Offsets back to the original are worked out only when a span is quoted, by replaying the
same steps with bookkeeping. Leetspeak is not rewritten here: the phrase matcher reads each word that mixes
letters and digits both ways, and stretched letters ("stuuupid") shortened (matcher._readings), so a phone
number or NHS number keeps its digits.

Compiled (Cython), because every comment passes through fold().
"""

from bisect import bisect_right

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport (
    PyUnicode_4BYTE_KIND,
    PyUnicode_AsUTF8AndSize,
    PyUnicode_DecodeASCII,
    PyUnicode_FromKindAndData,
)
import json
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from importlib import resources

Edit = tuple[int, int, int, int, tuple[int, ...] | None]  # old start, old end, new start, new end, origins
Step = Callable[[str], tuple[str, list[Edit]]]

DELETED = "'\u2019\u2018`\u00b4*#"  # apostrophes (don't → dont), f*ck → fck, #hashtag → hashtag

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f")
_DELETED_CHARS = re.compile(f"[{re.escape(DELETED)}]")
_NON_ASCII_OR_CONTROL = re.compile(r"[^\x00-\x7f]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
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


cdef Py_ssize_t _map_back(list edits, list starts, Py_ssize_t position, bint is_end):
    """A position in a step's output → the matching position in its input (starts: each edit's new start)."""
    cdef Py_ssize_t index = bisect_right(starts, position - 1 if is_end else position) - 1
    if index < 0:
        return position
    cdef Py_ssize_t old_start, old_end, new_start, new_end
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


def _delete_marks(text: str) -> tuple[str, list[Edit]]:
    starts = [match.start() for match in _DELETED_CHARS.finditer(text)]
    if not starts:
        return text, []
    return _DELETED_CHARS.sub("", text), [(at, at + 1, at - n, at - n, ()) for n, at in enumerate(starts)]


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


@cython.no_gc
cdef class Normalised:
    """The comment as the rules see it, with the way back to the original text."""

    def __init__(self, str original, str text, tuple steps, list edits=None) -> None:
        self.original = original
        self.text = text
        self.steps = steps
        self._edits = edits

    def __repr__(self) -> str:
        return f"Normalised(original={self.original!r}, text={self.text!r})"

    cdef list _replayed(self):
        if self._edits is None:
            text = self.original
            all_edits = []
            for step in self.steps:
                text, edits = step(text)
                if edits:
                    all_edits.append((edits, [edit[2] for edit in edits]))
            self._edits = all_edits[::-1]
        return self._edits

    cpdef tuple span_in_original(self, Py_ssize_t start, Py_ssize_t end):
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

    cdef list spans_in_original(self, list spans):
        """span_in_original() for each of ``spans`` (the list itself when nothing moved)."""
        if self.steps is _ASCII_STEPS:
            return spans
        cdef Py_ssize_t start, end
        return [self.span_in_original(start, end) for start, end in spans]

    def quote(self, Py_ssize_t start, Py_ssize_t end) -> str:
        first, last = self.span_in_original(start, end)
        return self.original[first:last]

    def repaired(self, needed) -> Normalised:
        """Apply the repairs the triggers asked for, keeping their edits so that offsets map back without a
        replay."""
        text = self.text
        steps = list(self.steps)
        cdef list edits = list(self._known_edits())
        for name, step in REPAIRS.items():
            if name in needed and not (name == "control" and _fold in steps):
                text, step_edits = step(text)
                steps.append(step)
                if step_edits:
                    edits.insert(0, (step_edits, [edit[2] for edit in step_edits]))
        return Normalised(self.original, text, tuple(steps), edits)

    cdef list _known_edits(self):
        """_replayed(), from what fold() recorded when it can."""
        if self._edits is None and self.steps is _ASCII_STEPS:
            return []
        if self._edits is None and self._deleted is not None:
            dropped = [(at, at + 1, at - count, at - count, ()) for count, at in enumerate(self._deleted)]
            return [(dropped, [edit[2] for edit in dropped])]
        return self._replayed()


cdef Py_ssize_t _deleted_up_to(tuple deleted, Py_ssize_t position):
    """How many dropped marks came before the character now at ``position`` (or just after it)."""
    cdef Py_ssize_t count = 0, size = len(deleted)
    while count < size and <Py_ssize_t> deleted[count] - count <= position:
        count += 1
    return count


_ASCII_STEPS = (_lower,)
_ASCII_DELETING_STEPS = (_lower, _delete_marks)
_FOLD_STEPS = (_fold,)


cpdef Normalised fold(str original):
    """The cheap first pass every comment gets: case, Unicode folding, a symbol inside a word read as a letter,
    apostrophes and * # dropped.

    The symbols: ! or | between two small letters is read as i and @ as a (sh!t, sh|t, b@stard), and @ before
    ss as a.
    """
    if original.isascii():
        return _fold_ascii(original)
    return _fold_unicode(original)


cdef Normalised _fold_ascii(str original):
    """fold() for an ASCII comment, in one pass: lower case, symbols in words, then DELETED dropped."""
    cdef Py_ssize_t length, position, size = 0
    cdef const char *source = PyUnicode_AsUTF8AndSize(original, &length)  # an ASCII str's own buffer
    cdef char *folded = <char *> PyMem_Malloc(length + 1)
    if folded == NULL:
        raise MemoryError()
    cdef char c, before, after, after_next
    cdef list deleted = None
    try:
        for position in range(length):
            c = _lower_ascii(source[position])
            if _is_deleted(c):
                if deleted is None:
                    deleted = []
                deleted.append(position)
                continue
            if _is_symbol(c):
                before = _lower_ascii(source[position - 1]) if position > 0 else 0
                after = _lower_ascii(source[position + 1]) if position + 1 < length else 0
                after_next = _lower_ascii(source[position + 2]) if position + 2 < length else 0
                c = <char> _symbol_read(c, before, after, after_next)
            folded[size] = c
            size += 1
        text = PyUnicode_DecodeASCII(folded, size, NULL)
    finally:
        PyMem_Free(folded)
    if deleted is None:
        return Normalised(original, text, _ASCII_STEPS)
    cdef Normalised result = Normalised(original, text, _ASCII_DELETING_STEPS)
    result._deleted = tuple(deleted)
    return result


cdef inline char _lower_ascii(char c):
    return c + 32 if b"A" <= c <= b"Z" else c


cdef Normalised _fold_unicode(str original):
    """fold() for a comment with other characters than ASCII: _fold (each such character, and each control
    character, through fold_char; ASCII lower-cased), symbols in words, then DELETED dropped.

    The edits are recorded as _fold and _delete_marks would give them, so quoting a span needs no replay:
    a character folded to nothing has the origins (), one folded to anything else none.
    """
    cdef _Buffer folded = _Buffer(len(original))
    cdef list fold_edits = [], deleted = []
    cdef Py_ssize_t index, position, kept = 0
    cdef Py_UCS4 char, before = 0, after, after_next
    cdef str replacement
    for index in range(len(original)):
        char = original[index]
        if char < 128 and not _is_control(char):
            folded.append(<Py_UCS4> (<unsigned int> char + 32) if u"A" <= char <= u"Z" else char)
            continue
        replacement = fold_char(chr(char))
        if len(replacement) == 1 and replacement[0] == char:
            folded.append(char)
            continue
        fold_edits.append(
            (index, index + 1, folded.size, folded.size + len(replacement), None if replacement else ())
        )
        for char in replacement:
            folded.append(char)
    cdef Py_UCS4 *chars = folded.chars
    for position in range(folded.size):
        char = chars[position]
        if _is_symbol(char):
            after = chars[position + 1] if position + 1 < folded.size else 0
            after_next = chars[position + 2] if position + 2 < folded.size else 0
            chars[position] = _symbol_read(char, before, after, after_next)
        before = char
        if _is_deleted(chars[position]):
            deleted.append(position)
        else:
            chars[kept] = chars[position]
            kept += 1
    text = folded.text(kept)
    cdef list edits = []
    if deleted:
        delete_edits = [(at, at + 1, at - count, at - count, ()) for count, at in enumerate(deleted)]
        edits.append((delete_edits, [edit[2] for edit in delete_edits]))
    if fold_edits:
        edits.append((fold_edits, [edit[2] for edit in fold_edits]))
    return Normalised(original, text, (*_FOLD_STEPS, _delete_marks) if deleted else _FOLD_STEPS, edits)


@cython.final
cdef class _Buffer:
    """Characters appended one by one, then made a str."""

    cdef Py_UCS4 *chars
    cdef Py_ssize_t size, capacity

    def __cinit__(self, Py_ssize_t capacity):
        self.capacity = max(capacity, 16)
        self.chars = <Py_UCS4 *> PyMem_Malloc(self.capacity * sizeof(Py_UCS4))
        if self.chars == NULL:
            raise MemoryError()

    def __dealloc__(self):
        PyMem_Free(self.chars)

    cdef inline void append(self, Py_UCS4 char) except *:
        if self.size == self.capacity:
            self._grow()
        self.chars[self.size] = char
        self.size += 1

    cdef void _grow(self) except *:
        cdef Py_UCS4 *chars = <Py_UCS4 *> PyMem_Realloc(self.chars, 2 * self.capacity * sizeof(Py_UCS4))
        if chars == NULL:
            raise MemoryError()
        self.chars = chars
        self.capacity *= 2

    cdef str text(self, Py_ssize_t size):
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, self.chars, size)


cdef inline bint _is_symbol(Py_UCS4 char):
    return char == u"!" or char == u"|" or char == u"@"


cdef inline Py_UCS4 _symbol_read(Py_UCS4 symbol, Py_UCS4 before, Py_UCS4 after, Py_UCS4 after_next):
    """What ! | or @ inside a word stands for, given the characters around it (see fold())."""
    if _is_lower(before) and _is_lower(after):
        return u"a" if symbol == u"@" else u"i"
    if symbol == u"@" and after == u"s" and after_next == u"s":
        return u"a"
    return symbol


cdef inline bint _is_lower(Py_UCS4 char):
    return u"a" <= char <= u"z"


cdef inline bint _is_control(Py_UCS4 char):
    """[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f], the control characters _NON_ASCII_OR_CONTROL folds."""
    return char <= 0x08 or char == 0x0B or char == 0x0C or 0x0E <= char <= 0x1F or char == 0x7F


cdef inline bint _is_deleted(Py_UCS4 char):
    """One of DELETED."""
    return (
        char == u"'" or char == u"\u2019" or char == u"\u2018" or char == u"`" or char == u"\u00b4"
        or char == u"*" or char == u"#"
    )


def normalise(original: str) -> Normalised:
    """Every repair, for callers without a trigger scan (rule phrases, tests, `rules test`)."""
    first = fold(original)
    return first.repaired({name for name, pattern in _TRIGGER_RES.items() if pattern.search(first.text)})


_TRIGGER_RES = {name: re.compile(pattern) for name, pattern in TRIGGERS.items()}


def normalise_text(text: str) -> str:
    return normalise(text).text


def words_of(text: str) -> list[str]:
    return [word for word in _PUNCT_OR_SPACE.split(text) if word]
