# The C-level view of normalise.pyx, for the classifier.

cdef class Normalised:
    cdef readonly str original
    cdef readonly str text
    cdef readonly tuple steps
    cdef list _edits  # each step's edits, last step first; worked out by _replayed() unless already known
    cdef tuple _deleted  # an ASCII comment: where the marks fold() dropped were, in the original

    cdef list _replayed(self)
    cdef list _known_edits(self)
    cpdef tuple span_in_original(self, Py_ssize_t start, Py_ssize_t end)
    cdef list spans_in_original(self, list spans)


cpdef Normalised fold(str original)
