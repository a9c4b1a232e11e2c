# The C-level view of matcher.pyx, for the classifier.
# The index holds tuples, not lists: a matcher with thousands of phrases would otherwise add tens of thousands
# of objects for the cycle collector to walk at every full collection, for as long as the service runs.

cdef class _FirstWord:
    cdef tuple alone  # phrase ids
    cdef dict by_second  # second word → ((phrase id, the words after the second), ...), or None
    cdef tuple other  # ((phrase id, the words after the first), ...) where the second is a stem or a lone *


from cpython.ref cimport PyObject


cdef class Hits:
    cdef readonly Py_ssize_t count
    cdef Py_ssize_t _capacity
    cdef Py_ssize_t *_entries  # phrase id, start, end, for each hit
    cdef PyObject **_ids  # each hit's phrase id as the matcher's own int object, so look-ups need not make one

    cdef int add(self, object phrase_id, Py_ssize_t start, Py_ssize_t end) except -1
    cdef void _grow(self) except *
    cdef object phrase_at(self, Py_ssize_t index)
    cdef bint any_of(self, frozenset phrase_ids)
    cdef list spans_of(self, frozenset phrase_ids)


cdef class _Walk:
    cdef str text
    cdef Py_ssize_t *bounds  # each word's start and end, in turn
    cdef list words
    cdef list extra  # see _other_readings
    cdef Hits hits

    cdef void found(self, object phrase_id, Py_ssize_t first, Py_ssize_t last) except *


cdef class PhraseMatcher:
    cdef dict _ids  # parsed phrase → id
    cdef dict _first  # first word → _FirstWord
    cdef dict _stems  # key of a stem's first three letters → ((stem, phrase id, the words after the stem), ...)
    cdef unsigned char *_starts  # by key (see KEYS): the lengths of exact first words, and STEM_BIT

    cpdef Hits hits(self, str text, leet=*, stretched=*)
    cdef void _walk(self, _Walk walk, leet, stretched) except *
    cdef void _starting(self, str form, Py_ssize_t index, _Walk walk) except *
    cdef void _by_second(self, _FirstWord entry, second, Py_ssize_t index, _Walk walk) except *
