# cython: language_level=3
"""Find every phrase of every rule in one walk over a comment's words.

Compiled (Cython), because this walk runs on every comment and in Python it cost more than the sentiment
analysis it sits beside. Phrases are indexed by their first word (exact words in a hash table that is read
straight from the comment's text, wildcard stems by their first three letters), so the cost grows with the
comment's length, not with the number of phrases, and a word becomes a str only when a phrase needs it.
"""

import re
from string import ascii_lowercase

cimport cython
from cpython.mem cimport PyMem_Calloc, PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.string cimport memchr
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF
from cpython.unicode cimport (
    PyUnicode_1BYTE_KIND,
    PyUnicode_AsUTF8AndSize,
    PyUnicode_DATA,
    PyUnicode_DecodeASCII,
    PyUnicode_KIND,
    PyUnicode_READ,
)

from monitor.filter.normalise import normalise_text, words_of

cdef enum:
    EXACT = 0
    STEM = 1
    ANY = 2

cdef Py_ssize_t STEM_KEY = 3
cdef enum:
    _SCRATCH = 64  # the longest word whose other readings _some_reading_may_start works out in place
# A word's first three characters, each one of a-z, 0-9, $ or "none" (a shorter word), as a number below
# KEYS. A table by key says, for the phrases' first words, which lengths of exact word start with that key
# (a bit per length, the last bit for 7 and over) and whether a stem does (STEM_BIT), so most words of a
# comment skip the look-ups.
cdef Py_ssize_t SYMBOLS = 38
cdef Py_ssize_t KEYS = SYMBOLS * SYMBOLS * SYMBOLS
cdef unsigned char STEM_BIT = 1 << 7

# RE2 patterns telling find() whether a text has words worth reading another way (see _other_readings).
LEET_TRIGGER = r"[a-z][0-9$]|[0-9$][a-z]"
STRETCHED_TRIGGER = "|".join(letter * 3 for letter in ascii_lowercase)
_LETTER_BY_DIGIT = re.compile(r"[0-9$](?<=[a-z][0-9$])|[0-9$](?=[a-z])")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
# Leetspeak: 0 o, 3 e, 4 a, 5 s, 7 t, 8 b, 9 g, $ s; 1 is read as i, and as l (see _readings).
cdef char LEET[128]
cdef int _code
for _code in range(128):
    LEET[_code] = _code
for _digit, _letter in {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "$": "s"}.items():
    LEET[ord(_digit)] = ord(_letter)


def parse_phrase(str phrase):
    """A rule's phrase → its words as (text, kind): kind 0 an exact word, 1 a stem (word*), 2 any word (*)."""
    elements = []
    for word in phrase.split():
        if word == "*":
            elements.append(("", ANY))
            continue
        tokens = words_of(normalise_text(word.rstrip("*")))
        elements += [(token, EXACT) for token in tokens[:-1]]
        if tokens:
            elements.append((tokens[-1], STEM if word.endswith("*") else EXACT))
    return tuple(elements)


@cython.no_gc
cdef class _Word:
    """A word in the index: a phrase's exact first word, or an exact second word after a given first word."""

    def __cinit__(self):
        self.alone = ()
        self.rest = ()
        self.has_second = False


@cython.no_gc
cdef class Hits:
    """The phrases found in one text: each place a phrase was found, as (phrase id, start, end), once.

    Kept in one C array rather than in Python lists and tuples: a comment's hits live until its verdict, and a
    batch of comments holding thousands of small containers made the cycle collector walk them again and again.
    """

    def __dealloc__(self):
        cdef Py_ssize_t index
        for index in range(self.count):
            Py_XDECREF(self._ids[index])
        PyMem_Free(self._ids)
        PyMem_Free(self._entries)

    def __len__(self) -> int:
        return self.count

    cdef int add(self, object phrase_id, Py_ssize_t start, Py_ssize_t end) except -1:
        cdef Py_ssize_t index, value = phrase_id
        for index in range(0, 3 * self.count, 3):
            if self._entries[index] == value and self._entries[index + 1] == start and self._entries[index + 2] == end:
                return 0
        if self.count == self._capacity:
            self._grow()
        index = 3 * self.count
        self._entries[index] = value
        self._entries[index + 1] = start
        self._entries[index + 2] = end
        Py_INCREF(phrase_id)
        self._ids[self.count] = <PyObject *> phrase_id
        self.count += 1
        return 0

    cdef void _grow(self) except *:
        cdef Py_ssize_t capacity = 2 * self._capacity if self._capacity else 8
        cdef Py_ssize_t *entries = <Py_ssize_t *> PyMem_Realloc(self._entries, 3 * capacity * sizeof(Py_ssize_t))
        if entries == NULL:
            raise MemoryError()
        self._entries = entries
        cdef PyObject **ids = <PyObject **> PyMem_Realloc(self._ids, capacity * sizeof(PyObject *))
        if ids == NULL:
            raise MemoryError()
        self._ids = ids
        self._capacity = capacity

    cdef object phrase_at(self, Py_ssize_t index):
        return <object> self._ids[index]

    cdef bint any_of(self, frozenset phrase_ids):
        cdef Py_ssize_t index
        for index in range(self.count):
            if <object> self._ids[index] in phrase_ids:
                return True
        return False

    cdef list spans_of(self, frozenset phrase_ids):
        """The spans of the phrases in ``phrase_ids``, in the order found."""
        cdef list spans = []
        cdef Py_ssize_t index
        for index in range(self.count):
            if <object> self._ids[index] in phrase_ids:
                spans.append((self._entries[3 * index + 1], self._entries[3 * index + 2]))
        return spans

    def as_dict(self) -> dict[int, list[tuple[int, int]]]:
        """Phrase id → its spans, in the order found."""
        found = {}
        cdef Py_ssize_t index
        for index in range(0, 3 * self.count, 3):
            found.setdefault(self._entries[index], []).append((self._entries[index + 1], self._entries[index + 2]))
        return found


cdef class PhraseMatcher:
    def __cinit__(self):
        self._ids = {}
        self._entries = []
        self._stem_groups = []
        self._starts = <unsigned char *> PyMem_Calloc(KEYS, 1)
        if self._starts == NULL:
            raise MemoryError()
        self._resize(64)

    def __dealloc__(self):
        PyMem_Free(self._starts)
        PyMem_Free(self._stem_group)
        PyMem_Free(self._slots)

    def add(self, str phrase) -> int:
        elements = parse_phrase(phrase)
        if elements in self._ids:
            return self._ids[elements]
        phrase_id = len(self._ids)
        self._ids[elements] = phrase_id
        (text, kind), rest = elements[0], elements[1:]
        if kind == ANY or not _is_token(text) or (rest and rest[0][1] == EXACT and not _is_token(rest[0][0])):
            # A lone * first, or a first or second word with a character no word of a comment has (a comment's
            # words are [a-z0-9$]+): the phrase matches nothing.
            return phrase_id
        key = _key(text)
        if kind == STEM:
            # A stem shorter than the key can never be looked up: such a rule matches nothing.
            if len(text) >= STEM_KEY:
                self._starts[key] |= STEM_BIT
                self._add_stem(key, (text, phrase_id, rest))
            return phrase_id
        self._starts[key] |= _length_bit(len(text))
        cdef _Word first = self._indexed(None, text)
        if not rest:
            first.alone += (phrase_id,)
        elif rest[0][1] != EXACT:
            first.rest += ((phrase_id, rest),)
        else:
            first.has_second = True
            second = self._indexed(first, rest[0][0])
            second.rest += ((phrase_id, rest[1:]),)
        return phrase_id

    cdef void _add_stem(self, Py_ssize_t key, tuple stem) except *:
        if self._stem_group == NULL:
            self._stem_group = <unsigned short *> PyMem_Calloc(KEYS, sizeof(unsigned short))
            if self._stem_group == NULL:
                raise MemoryError()
        if not self._stem_group[key]:
            self._stem_groups.append(())
            self._stem_group[key] = len(self._stem_groups)
        cdef Py_ssize_t group = self._stem_group[key] - 1
        self._stem_groups[group] = self._stem_groups[group] + (stem,)

    cdef _Word _indexed(self, _Word first, str word):
        """The entry for ``word`` (after ``first``, unless None), added if new."""
        cdef _Word entry = self._entry(first, PyUnicode_KIND(word), PyUnicode_DATA(word), 0, len(word))
        if entry is not None:
            return entry
        entry = _Word()
        entry.word = word.encode("ascii")
        entry.first = first
        entry.hash = _pair_hash(first, _hash(PyUnicode_KIND(word), PyUnicode_DATA(word), 0, len(word)))
        self._entries.append(entry)
        if 2 * len(self._entries) > self._size:
            self._resize(2 * self._size)
        else:
            self._place(len(self._entries) - 1)
        return entry

    cdef void _resize(self, Py_ssize_t size) except *:
        cdef _Slot *slots = <_Slot *> PyMem_Calloc(size, sizeof(_Slot))
        if slots == NULL:
            raise MemoryError()
        PyMem_Free(self._slots)
        self._slots = slots
        self._size = size
        cdef Py_ssize_t index
        for index in range(len(self._entries)):
            self._place(index)

    cdef void _place(self, Py_ssize_t index):
        cdef unsigned long long mask = self._size - 1, code = (<_Word> self._entries[index]).hash
        cdef unsigned long long slot = code & mask
        while self._slots[slot].entry:
            slot = (slot + 1) & mask
        self._slots[slot].entry = index + 1
        self._slots[slot].check = code >> 32

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef _Word _entry(self, _Word first, int kind, void *data, Py_ssize_t start, Py_ssize_t end):
        """The entry for the word text[start:end] (after ``first``, unless None), or None; read from the text,
        with no word object made."""
        cdef unsigned long long mask = self._size - 1, code = _pair_hash(first, _hash(kind, data, start, end))
        cdef unsigned long long slot = code & mask
        cdef unsigned int check = code >> 32
        cdef Py_ssize_t length = end - start, offset
        cdef _Word entry
        cdef const unsigned char *word
        while self._slots[slot].entry:
            if self._slots[slot].check != check:  # most misses end here, without reading the entry
                slot = (slot + 1) & mask
                continue
            entry = <_Word> self._entries[self._slots[slot].entry - 1]
            if entry.hash == code and entry.first is first and len(entry.word) == length:
                word = entry.word
                for offset in range(length):
                    if <Py_UCS4> PyUnicode_READ(kind, data, start + offset) != <Py_UCS4> word[offset]:
                        break
                else:
                    return entry
            slot = (slot + 1) & mask
        return None

    def find(self, str text, leet=None, stretched=None) -> dict[int, list[tuple[int, int]]]:
        """Each phrase found, with its spans in ``text``: hits() as a dict."""
        return self.hits(text, leet, stretched).as_dict()

    cpdef Hits hits(self, str text, leet=None, stretched=None):
        """Each place a phrase was found in ``text``; phrases never run across . ! ? ; or a line break.

        ``leet`` and ``stretched``: whether LEET_TRIGGER and STRETCHED_TRIGGER match ``text``, when known.
        """
        cdef Py_ssize_t length = len(text)
        cdef Py_ssize_t *bounds = <Py_ssize_t *> PyMem_Malloc((length + 1) * sizeof(Py_ssize_t))
        if bounds == NULL:
            raise MemoryError()
        cdef _Walk walk = _Walk.__new__(_Walk)
        walk.text = text
        walk.bounds = bounds
        walk.hits = Hits.__new__(Hits)
        try:
            self._walk(walk, leet, stretched)
        finally:
            PyMem_Free(bounds)
            PyMem_Free(walk.other)
            walk.other = NULL
        return walk.hits

    cdef void _walk(self, _Walk walk, leet, stretched) except *:
        cdef Py_ssize_t size = _tokens(walk.text, walk.bounds)
        if size == 0:
            return
        walk.size = size
        walk.kind = PyUnicode_KIND(walk.text)
        walk.data = PyUnicode_DATA(walk.text)
        _mark_other_readings(walk, leet, stretched)
        cdef Py_ssize_t index, start, end, key
        for index in range(size):
            start = walk.bounds[2 * index]
            end = walk.bounds[2 * index + 1]
            key = self._start_key(walk.kind, walk.data, start, end)
            if key >= 0:
                self._starting(key, None, walk.kind, walk.data, start, end, index, walk)
            if walk.other != NULL and walk.other[index] and self._some_reading_may_start(walk, index):
                for form in walk.readings(index):
                    key = self._start_key(PyUnicode_KIND(form), PyUnicode_DATA(form), 0, len(form))
                    if key >= 0:
                        self._starting(key, form, PyUnicode_KIND(form), PyUnicode_DATA(form), 0, len(form), index, walk)

    cdef inline Py_ssize_t _start_key(self, int kind, void *data, Py_ssize_t start, Py_ssize_t end):
        """The key of the word text[start:end] if some phrase could start with it, else -1: most words end
        here."""
        cdef Py_ssize_t key = _key_of(kind, data, start, end)
        if key < 0:
            return -1
        cdef unsigned char starts = self._starts[key]
        if starts & _length_bit(end - start) or (end - start >= STEM_KEY and starts & STEM_BIT):
            return key
        return -1

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef bint _some_reading_may_start(self, _Walk walk, Py_ssize_t index):
        """Whether some other reading of word ``index`` could start a phrase (see _readings), worked out in
        scratch buffers: most words with other readings are parts of links, which start none, and their
        readings are then never made. A word too long for the buffers is said to."""
        cdef Py_ssize_t start = walk.bounds[2 * index], length = walk.bounds[2 * index + 1] - start
        if length > _SCRATCH:
            return True
        cdef char forms[3][_SCRATCH]  # the word, and its leet readings with 1 as i and as l
        cdef char squeezed[_SCRATCH]
        cdef Py_ssize_t position, count = 1, form, size
        for position in range(length):
            forms[0][position] = <char> PyUnicode_READ(walk.kind, walk.data, start + position)
        if walk.read_leet:
            _leet_into(forms[0], length, b"i", forms[count])
            count += 1
            if memchr(forms[0], b"1", length) != NULL:
                _leet_into(forms[0], length, b"l", forms[count])
                count += 1
            for form in range(1, count):
                if self._start_key(PyUnicode_1BYTE_KIND, forms[form], 0, length) >= 0:
                    return True
        if walk.read_stretched:
            for form in range(count):
                size = _squeeze_into(forms[form], length, 2, squeezed)
                if self._start_key(PyUnicode_1BYTE_KIND, squeezed, 0, size) >= 0:
                    return True
                size = _squeeze_into(forms[form], length, 1, squeezed)
                if self._start_key(PyUnicode_1BYTE_KIND, squeezed, 0, size) >= 0:
                    return True
        return False

    cdef void _starting(
        self,
        Py_ssize_t key,
        str form,
        int kind,
        void *data,
        Py_ssize_t start,
        Py_ssize_t end,
        Py_ssize_t index,
        _Walk walk,
    ) except *:
        """The phrases that start at word ``index``, whose key is ``key``, read as ``form`` (None: as written,
        text[start:end])."""
        cdef Py_ssize_t length = end - start
        cdef unsigned char starts = self._starts[key]
        cdef _Word entry
        cdef object phrase_id
        cdef tuple rest
        cdef Py_ssize_t size = walk.size
        if starts & _length_bit(length):
            entry = self._entry(None, kind, data, start, end)
            if entry is not None:
                for phrase_id in entry.alone:
                    walk.found(phrase_id, index, index)
                if entry.has_second and index + 1 < size:
                    self._by_second(
                        self._entry(entry, walk.kind, walk.data, walk.bounds[2 * index + 2], walk.bounds[2 * index + 3]),
                        index,
                        walk,
                    )
                    if walk.other != NULL and walk.other[index + 1]:
                        for second in walk.readings(index + 1):
                            self._by_second(
                                self._entry(entry, PyUnicode_KIND(second), PyUnicode_DATA(second), 0, len(second)),
                                index,
                                walk,
                            )
                for phrase_id, rest in entry.rest:
                    if _rest_matches(walk, index, rest):
                        walk.found(phrase_id, index, index + len(rest))
        if length < STEM_KEY or not starts & STEM_BIT:
            return
        for stem, phrase_id, rest in <tuple> self._stem_groups[self._stem_group[key] - 1]:
            if _accepts(stem, STEM, kind, data, start, end) and _rest_matches(walk, index, rest):
                walk.found(phrase_id, index, index + len(rest))

    cdef void _by_second(self, _Word second, Py_ssize_t index, _Walk walk) except *:
        """The phrases whose first two words are at ``index`` and after, the second being ``second`` (if any)."""
        if second is None:
            return
        cdef tuple rest
        for phrase_id, rest in second.rest:
            if _rest_matches(walk, index + 1, rest):
                walk.found(phrase_id, index, index + 1 + len(rest))


@cython.no_gc
cdef class _Walk:
    """One text's walk: its words, their bounds and other readings, and the hits so far."""

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef str word(self, Py_ssize_t index):
        """Word ``index`` as a str, made the first time it is asked for."""
        if self.words is None:
            self.words = [None] * self.size
        word = self.words[index]
        if word is None:
            word = self.words[index] = self.text[self.bounds[2 * index]:self.bounds[2 * index + 1]]
        return <str> word

    cdef tuple readings(self, Py_ssize_t index):
        """Word ``index``'s other readings (see _readings), made the first time they are asked for."""
        if self.other == NULL or not self.other[index]:
            return ()
        if self.extra is None:
            self.extra = [None] * self.size
        forms = self.extra[index]
        if forms is None:
            forms = self.extra[index] = _readings(self.word(index), self.read_leet, self.read_stretched) or ()
        return <tuple> forms

    cdef void found(self, object phrase_id, Py_ssize_t first, Py_ssize_t last) except *:
        """A phrase from word ``first`` to word ``last``, kept unless a sentence ends inside it."""
        cdef Py_ssize_t position
        cdef Py_UCS4 char
        for position in range(self.bounds[2 * first + 1], self.bounds[2 * last]):
            char = self.text[position]
            if char == u"." or char == u"!" or char == u"?" or char == u";" or char == u"\n":
                return
        self.hits.add(phrase_id, self.bounds[2 * first], self.bounds[2 * last + 1])


cdef Py_ssize_t _key(str word):
    """The key of a word's first three characters, or -1 if one of them is not a word character."""
    return _key_of(PyUnicode_KIND(word), PyUnicode_DATA(word), 0, len(word))


cdef Py_ssize_t _key_of(int kind, void *data, Py_ssize_t start, Py_ssize_t end):
    """_key() of the word text[start:end], read from the text's buffer."""
    cdef Py_ssize_t key = 0, index, symbol
    cdef Py_UCS4 char
    for index in range(start, start + 3):
        if index >= end:
            symbol = SYMBOLS - 1
        else:
            char = PyUnicode_READ(kind, data, index)
            if u"a" <= char <= u"z":
                symbol = <Py_ssize_t> char - 97
            elif u"0" <= char <= u"9":
                symbol = 26 + <Py_ssize_t> char - 48
            elif char == u"$":
                symbol = 36
            else:
                return -1
        key = key * SYMBOLS + symbol
    return key


cdef inline unsigned long long _pair_hash(_Word first, unsigned long long word_hash):
    """The table's hash of a word, after ``first`` unless None."""
    if first is None:
        return word_hash
    return (first.hash * 1099511628211ULL) ^ word_hash ^ 0x9E3779B97F4A7C15ULL


cdef unsigned long long _hash(int kind, void *data, Py_ssize_t start, Py_ssize_t end):
    """FNV-1a of the word text[start:end], read from the text's buffer."""
    cdef unsigned long long code = 14695981039346656037ULL
    cdef Py_ssize_t index
    for index in range(start, end):
        code = (code ^ <unsigned long long> PyUnicode_READ(kind, data, index)) * 1099511628211ULL
    return code


cdef inline unsigned char _length_bit(Py_ssize_t length):
    return 1 << (min(length, 7) - 1)


cdef inline bint _is_token_char(Py_UCS4 char):
    return (u"a" <= char <= u"z") or (u"0" <= char <= u"9") or char == u"$"


cdef bint _is_token(str word):
    cdef Py_UCS4 char
    for char in word:
        if not _is_token_char(char):
            return False
    return True


# _is_token_char by byte, for the usual text: one whose characters are all below 256.
cdef bint TOKEN_BYTE[256]
for _code in range(256):
    TOKEN_BYTE[_code] = _is_token_char(_code)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _tokens(str text, Py_ssize_t *bounds):
    """How many words ([a-z0-9$]+) ``text`` has; bounds gets each word's start and end, in turn."""
    cdef Py_ssize_t length = len(text), position = 0, start, slots = 0
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef const unsigned char *chars
    if kind == PyUnicode_1BYTE_KIND:
        chars = <const unsigned char *> data
        while position < length:
            if not TOKEN_BYTE[chars[position]]:
                position += 1
                continue
            start = position
            while position < length and TOKEN_BYTE[chars[position]]:
                position += 1
            bounds[slots] = start
            bounds[slots + 1] = position
            slots += 2
        return slots // 2
    while position < length:
        if not _is_token_char(PyUnicode_READ(kind, data, position)):
            position += 1
            continue
        start = position
        while position < length and _is_token_char(PyUnicode_READ(kind, data, position)):
            position += 1
        bounds[slots] = start
        bounds[slots + 1] = position
        slots += 2
    return slots // 2


@cython.boundscheck(False)
@cython.wraparound(False)
cdef bint _accepts(str element, int how, int kind, void *data, Py_ssize_t start, Py_ssize_t end):
    """Whether a phrase's word ``element`` (its kind ``how``: EXACT, STEM or ANY) accepts the word
    text[start:end], read from the text's buffer."""
    if how == ANY:
        return True
    cdef Py_ssize_t length = len(element), offset
    if end - start < length or (how == EXACT and end - start != length):
        return False
    cdef int element_kind = PyUnicode_KIND(element)
    cdef void *element_data = PyUnicode_DATA(element)
    for offset in range(length):
        if PyUnicode_READ(kind, data, start + offset) != PyUnicode_READ(element_kind, element_data, offset):
            return False
    return True


cdef bint _rest_matches(_Walk walk, Py_ssize_t index, tuple rest) except -1:
    cdef Py_ssize_t size = len(rest), offset, position
    cdef str element
    cdef int how
    if index + size >= walk.size:
        return size == 0
    for offset in range(size):
        element, how = rest[offset]
        position = index + offset + 1
        if _accepts(element, how, walk.kind, walk.data, walk.bounds[2 * position], walk.bounds[2 * position + 1]):
            continue
        for form in walk.readings(position):
            if _accepts(element, how, PyUnicode_KIND(form), PyUnicode_DATA(form), 0, len(form)):
                break
        else:
            return False
    return True


cdef void _mark_other_readings(_Walk walk, leet, stretched) except *:
    """Mark each word that has other readings; they are made only when a phrase could use them.

    Leetspeak (1 as i, then as l) is read only when some letter in the text touches a digit, and then in
    every word that mixes letters with digits or $; stretched letters ("stuuupid" as "stuupid" and "stupid")
    only when some word has three of a letter in a row. ``leet`` and ``stretched`` say so when the caller
    already knows.
    """
    if leet is None:
        leet = _LETTER_BY_DIGIT.search(walk.text) is not None
    if stretched is None:
        stretched = _STRETCHED.search(walk.text) is not None
    if not (leet or stretched):
        return
    walk.read_leet = leet
    walk.read_stretched = stretched
    walk.other = <unsigned char *> PyMem_Calloc(walk.size, 1)
    if walk.other == NULL:
        raise MemoryError()
    cdef Py_ssize_t index, start, end
    for index in range(walk.size):
        start = walk.bounds[2 * index]
        end = walk.bounds[2 * index + 1]
        walk.other[index] = (
            (walk.read_leet and _mixes_letters_and_digits(walk.kind, walk.data, start, end))
            or (walk.read_stretched and _has_run_of_three(walk.kind, walk.data, start, end))
        )


cdef tuple _readings(str word, bint leet, bint stretched):
    """In order: leet with 1 as i, with 1 as l; each of the word and those with runs of a letter cut to two,
    then to one; without repeats or the word itself. (Words are ASCII: [a-z0-9$]+.)"""
    cdef list forms = []
    if leet:
        forms.append(_leet(word, b"i"))
        if "1" in word:
            forms.append(_leet(word, b"l"))
    if stretched:
        bases = [word, *forms]
        forms += [_squeezed(base, 2) for base in bases]
        forms += [_squeezed(base, 1) for base in bases]
    cdef list distinct = []
    for form in forms:
        if form != word and form not in distinct:
            distinct.append(form)
    return tuple(distinct) if distinct else None


cdef str _leet(str word, char one):
    cdef Py_ssize_t length
    cdef const char *source = PyUnicode_AsUTF8AndSize(word, &length)
    cdef bytearray read = bytearray(length)
    _leet_into(source, length, one, read)
    return PyUnicode_DecodeASCII(read, length, NULL)


cdef void _leet_into(const char *source, Py_ssize_t length, char one, char *target):
    """The word source[:length] read as leetspeak, with 1 as ``one``, into ``target``."""
    cdef Py_ssize_t index
    cdef char c
    for index in range(length):
        c = source[index]
        target[index] = one if c == b"1" else LEET[c & 127]


cdef str _squeezed(str word, Py_ssize_t keep):
    """``word`` with every run of three or more of one letter cut to ``keep`` letters."""
    cdef Py_ssize_t length
    cdef const char *source = PyUnicode_AsUTF8AndSize(word, &length)
    cdef bytearray squeezed = bytearray(length)
    cdef Py_ssize_t size = _squeeze_into(source, length, keep, squeezed)
    if size == length:
        return word
    return PyUnicode_DecodeASCII(squeezed, size, NULL)


cdef Py_ssize_t _squeeze_into(const char *source, Py_ssize_t length, Py_ssize_t keep, char *target):
    """_squeezed() of the word source[:length], into ``target``; returns its length."""
    cdef Py_ssize_t index = 0, run, size = 0, kept
    cdef char c
    while index < length:
        c = source[index]
        run = 1
        while index + run < length and source[index + run] == c:
            run += 1
        kept = keep if run >= 3 and b"a" <= c <= b"z" else run
        for _ in range(kept):
            target[size] = c
            size += 1
        index += run
    return size


cdef bint _mixes_letters_and_digits(int kind, void *data, Py_ssize_t start, Py_ssize_t end):
    """Leetspeak: a word (text[start:end]) with a letter and a digit or $ (a plain number such as 8220 has no
    other reading)."""
    cdef bint letter = False, digit = False
    cdef Py_UCS4 char
    cdef Py_ssize_t index
    for index in range(start, end):
        char = PyUnicode_READ(kind, data, index)
        if u"a" <= char <= u"z":
            letter = True
        else:
            digit = True
        if letter and digit:
            return True
    return False


cdef bint _has_run_of_three(int kind, void *data, Py_ssize_t start, Py_ssize_t end):
    """A word (text[start:end]) with three of a letter in a row."""
    cdef Py_ssize_t index
    cdef Py_UCS4 char
    for index in range(start + 2, end):
        char = PyUnicode_READ(kind, data, index)
        if (
            u"a" <= char <= u"z"
            and char == <Py_UCS4> PyUnicode_READ(kind, data, index - 1)
            and char == <Py_UCS4> PyUnicode_READ(kind, data, index - 2)
        ):
            return True
    return False
