# The C-level view of matcher.pyx, for the classifier.
# The index holds tuples, not lists: a matcher with thousands of phrases would otherwise add tens of thousands
# of objects for the cycle collector to walk at every full collection, for as long as the service runs.

cdef class _Word:
    cdef bytes word
    cdef _Word first  # for a second word, the first word it follows; None for a first word
    cdef unsigned long long hash  # of first and word, see _pair_hash
    cdef tuple alone  # a first word's one-word phrases: their ids
    # A first word: ((phrase id, the words after the first), ...) where the second is a stem or a lone *.
    # A second word: ((phrase id, the words after the second), ...).
    cdef tuple rest
    cdef bint has_second  # a first word: some phrase continues with an exact second word (an entry of its own)


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
    cdef int kind  # the text's PyUnicode kind and data
    cdef void *data
    cdef Py_ssize_t *bounds  # each word's start and end, in turn
    cdef Py_ssize_t size  # how many words
    cdef list words  # each word as a str or None, made when word() is first asked for one
    cdef unsigned char *other  # for each word, whether it has other readings; NULL when none has
    cdef bint read_leet, read_stretched  # which other readings (see _mark_other_readings)
    cdef list extra  # each word's other readings as a tuple, or None until readings() is asked for them
    cdef Hits hits

    cdef str word(self, Py_ssize_t index)
    cdef tuple readings(self, Py_ssize_t index)

    cdef void found(self, object phrase_id, Py_ssize_t first, Py_ssize_t last) except *


cdef struct _Slot:
    unsigned int entry  # 1 + the index in _entries of the _Word whose hash leads here; 0: an empty slot
    unsigned int check  # that hash's upper half


cdef class PhraseMatcher:
    cdef dict _ids  # parsed phrase → id
    # The exact first words, and the exact second words after each, in an open-addressing table read straight
    # from a comment's text (see _Slot).
    cdef list _entries
    cdef _Slot *_slots
    cdef Py_ssize_t _size  # a power of two, at least twice len(_entries)
    # The stems by the key of their first three letters: _stem_groups[_stem_group[key] - 1] is
    # ((stem, phrase id, the words after the stem), ...); _stem_group[key] is 0 for a key no stem has, and the
    # table is made with the first stem (there are fewer keys than an unsigned short can count).
    cdef list _stem_groups
    cdef unsigned short *_stem_group
    cdef unsigned char *_starts  # by key (see KEYS): the lengths of exact first words, and STEM_BIT

    cpdef Hits hits(self, str text, leet=*, stretched=*)
    cdef _Word _indexed(self, _Word first, str word)
    cdef void _resize(self, Py_ssize_t size) except *
    cdef void _place(self, Py_ssize_t index)
    cdef _Word _entry(self, _Word first, int kind, void *data, Py_ssize_t start, Py_ssize_t end)
    cdef void _walk(self, _Walk walk, leet, stretched) except *
    cdef void _add_stem(self, Py_ssize_t key, tuple stem) except *
    cdef Py_ssize_t _start_key(self, int kind, void *data, Py_ssize_t start, Py_ssize_t end)
    cdef bint _some_reading_may_start(self, _Walk walk, Py_ssize_t index)
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
    ) except *
    cdef void _by_second(self, _Word second, Py_ssize_t index, _Walk walk) except *
