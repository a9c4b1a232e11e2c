# The C-level view of matcher.pyx, for the classifier.

cdef class _FirstWord:
    cdef list alone  # phrase ids
    cdef dict by_second  # second word → [(phrase id, the words after the second)]
    cdef list other  # [(phrase id, the words after the first)] where the second is a stem or a lone *


cdef class PhraseMatcher:
    cdef dict _ids  # parsed phrase → id
    cdef dict _first  # first word → _FirstWord
    cdef dict _stems  # key of a stem's first three letters → [(stem, phrase id, the words after the stem)]
    cdef unsigned char *_starts  # by key (see KEYS): the lengths of exact first words, and STEM_BIT

    cpdef dict find(self, str text, leet=*, stretched=*)
    cdef dict _find(self, str text, Py_ssize_t *bounds, leet, stretched)
    cdef void _starting(self, str form, Py_ssize_t index, list words, list extra, list found)
    cdef void _by_second(self, _FirstWord entry, second, Py_ssize_t index, list words, list extra, list found)
