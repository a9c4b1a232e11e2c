# The C-level view of verdict.pyx, for the classifier.

cdef class Reason:
    cdef public str rule
    cdef public str category
    cdef public str severity
    cdef public str explanation
    cdef public list matched
    cdef public list spans


cdef class Verdict:
    cdef public bint flagged
    cdef public str severity
    cdef public list categories
    cdef public list reasons
    cdef public dict sentiment


cdef Reason reason_of(str rule, str category, str severity, str explanation, list matched, list spans)
cdef Verdict verdict_of(list reasons, dict sentiment)
