# cython: language_level=3, boundscheck=False, wraparound=False
"""Does a comment name a person? Protected names come from the rules; this finds the rest.

Compiled (Cython): two walks over the text in C in place of two regex searches, which tried a match at
every character and took about 4 µs for a short comment. Word characters and white space are the ones Python's
``\\w`` and ``\\s`` mean, so a name is found where those regexes would find it:
``\\b(?:Mr|Mrs|…|Grandad)\\.?\\s+[A-Z][a-z]+`` (a title and a name), and
``\\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\\b`` (a capitalised word, looked up in the list of first names).
"""

from cpython.unicode cimport Py_UNICODE_ISALNUM, Py_UNICODE_ISSPACE

TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Nurse", "Auntie", "Uncle", "Nanna", "Grandad")
cdef unsigned int _TITLE_INITIALS = 0  # a bit for each capital a title starts with (A is bit 0)
for _title in TITLES:
    _TITLE_INITIALS |= 1 << (ord(_title[0]) - ord("A"))


cdef class PersonFinder:
    """Capitalised first names from a list of common names, and titles followed by a name."""

    cdef frozenset _first_names

    def __init__(self, first_names) -> None:
        self._first_names = frozenset(name.strip().lower() for name in first_names if name.strip())

    def names_someone(self, str text not None) -> bool:
        cdef Py_ssize_t length = len(text), start, end
        for start in range(length):
            if _starts_word_with_capital(text, start) and _titled_name_at(text, start):
                return True
        start = 0
        while start < length:
            if _starts_word_with_capital(text, start):
                end = _capitalised_word_end(text, start)
                if end > start:
                    if text[start:end].lower() in self._first_names:
                        return True
                    start = end
                    continue
            start += 1
        return False


cdef inline bint _starts_word_with_capital(str text, Py_ssize_t start):
    return _is_upper(text[start]) and (start == 0 or not _is_word_char(text[start - 1]))


cdef bint _titled_name_at(str text, Py_ssize_t start):
    """A title at ``start``, perhaps a full stop, white space, then a capital and a small letter."""
    cdef Py_ssize_t length = len(text), position
    if not (_TITLE_INITIALS >> (<unsigned int> text[start] - 65)) & 1:  # text[start] is a capital
        return False
    for title in TITLES:
        if not text.startswith(title, start):
            continue
        position = start + len(<str> title)
        if position < length and text[position] == u".":
            position += 1
        if not (position < length and Py_UNICODE_ISSPACE(text[position])):
            continue
        while position < length and Py_UNICODE_ISSPACE(text[position]):
            position += 1
        if position + 1 < length and _is_upper(text[position]) and _is_lower(text[position + 1]):
            return True
    return False


cdef Py_ssize_t _capitalised_word_end(str text, Py_ssize_t start):
    """Where a capitalised word (perhaps two joined by a hyphen) starting at ``start`` ends, or ``start``
    when there is none: the word must be a capital, small letters, and then no other word character."""
    cdef Py_ssize_t length = len(text), end = _small_letters_end(text, start + 1), joined
    if end == start + 1:
        return start
    if end + 1 < length and text[end] == u"-" and _is_upper(text[end + 1]):
        joined = _small_letters_end(text, end + 2)
        if joined > end + 2 and not (joined < length and _is_word_char(text[joined])):
            return joined
    if end < length and _is_word_char(text[end]):
        return start
    return end


cdef Py_ssize_t _small_letters_end(str text, Py_ssize_t position):
    cdef Py_ssize_t length = len(text)
    while position < length and _is_lower(text[position]):
        position += 1
    return position


cdef inline bint _is_upper(Py_UCS4 char):
    return u"A" <= char <= u"Z"


cdef inline bint _is_lower(Py_UCS4 char):
    return u"a" <= char <= u"z"


cdef inline bint _is_word_char(Py_UCS4 char):
    return Py_UNICODE_ISALNUM(char) or char == u"_"
