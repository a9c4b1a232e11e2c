# The C-level view of matcher.pyx, for the classifier.

cdef class _FirstWord:
    cdef list alone  # phrase ids
    cdef dict by_second  # second word → [(phrase id, the words after the second)]
    cdef list other  # [(phrase id, the words after the first)] where the second is a stem or a lone *


cdef class Hits:
    cdef readonly Py_ssize_t count
    cdef Py_ssize_t _capacity
    cdef Py_ssize_t *_entries  # phrase id, start, end, for each hit

    cdef int add(self, Py_ssize_t phrase_id, Py_ssize_t start, Py_ssize_t end) except -1
    cdef void _grow(self) except *
    cdef Py_ssize_t phrase_at(self, Py_ssize_t index)
    cdef bint any_of(self, frozenset phrase_ids)
    cdef list spans_of(self, frozenset phrase_ids)


cdef class _Walk:
    cdef str text
    cdef Py_ssize_t *bounds  # each word's start and end, in turn
    cdef list words
    cdef list extra  # see _other_readings
    cdef Hits hits

    cdef void found(self, Py_ssize_t phrase_id, Py_ssize_t first, Py_ssize_t last) except *


cdef class PhraseMatcher:
    cdef dict _ids  # parsed phrase → id
    cdef dict _first  # first word → _FirstWord
    cdef dict _stems  # key of a stem's first three letters → [(stem, phrase id, the words after the stem)]
    cdef unsigned char *_starts  # by key (see KEYS): the lengths of exact first words, and STEM_BIT

    cpdef Hits hits(self, str text, leet=*, stretched=*)
    cdef void _walk(self, _Walk walk, leet, stretched) except *
    cdef void _starting(self, str form, Py_ssize_t index, _Walk walk) except *
    cdef void _by_second(self, _FirstWord entry, second, Py_ssize_t index, _Walk walk) except *
