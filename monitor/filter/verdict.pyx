# cython: language_level=3
"""What the filter says about one comment, and why.

Reason and Verdict are compiled (cdef classes), because the classifier makes a verdict for every comment and a
reason for every rule that fires: as dataclasses they cost as much as the rules' decisions around them. What
they hold (strings, numbers, a verdict's reasons, and lists and dicts of those) cannot lead back to them, so
they are never part of a reference cycle and the cycle collector need not track them.
"""

from __future__ import annotations

cimport cython

from dataclasses import dataclass
from typing import Any, Literal, get_args

Severity = Literal["urgent", "high", "medium", "low"]
Category = Literal[
    "threat",
    "safeguarding",
    "confidentiality",
    "hate",
    "allegation",
    "misrepresentation",
    "abuse",
    "controversial",
    "negative",
]
SEVERITIES: tuple[str, ...] = get_args(Severity)
CATEGORIES: tuple[str, ...] = get_args(Category)
DEFAULT_CATEGORY_SEVERITY = {
    "threat": "urgent",
    "safeguarding": "urgent",
    "confidentiality": "urgent",
    "hate": "high",
    "allegation": "high",
    "misrepresentation": "high",
    "abuse": "medium",
    "controversial": "medium",
    "negative": "low",
}


cdef dict _RANK = {severity: len(SEVERITIES) - index for index, severity in enumerate(SEVERITIES)}


def severity_rank(severity: str | None) -> int:
    """Higher is more severe: urgent 4, high 3, medium 2, low 1, none 0."""
    return 0 if severity is None else _RANK[severity]


@dataclass(frozen=True)
class CommentContext:
    """Who wrote a comment and where; every field is optional."""

    account: str | None = None
    platform: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    is_reply: bool = False
    parent_author_id: str | None = None
    by_owner: bool = False


@cython.no_gc
@cython.freelist(16)
cdef class Reason:
    """One rule that fired, in words a General Manager can read."""

    def __init__(
        self,
        str rule not None,
        str category not None,
        str severity not None,
        str explanation not None,
        list matched = None,
        list spans = None,
    ) -> None:
        self.rule = rule
        self.category = category
        self.severity = severity
        self.explanation = explanation
        self.matched = [] if matched is None else matched
        self.spans = [] if spans is None else spans

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "explanation": self.explanation,
            "matched": list(self.matched),
            "spans": [list(span) for span in self.spans],
        }

    def _fields(self) -> tuple:
        return (self.rule, self.category, self.severity, self.explanation, self.matched, self.spans)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reason):
            return NotImplemented
        return self._fields() == (<Reason> other)._fields()

    __hash__ = None  # mutable, as a dataclass would be

    def __repr__(self) -> str:
        return (
            f"Reason(rule={self.rule!r}, category={self.category!r}, severity={self.severity!r}, "
            f"explanation={self.explanation!r}, matched={self.matched!r}, spans={self.spans!r})"
        )


cdef Reason reason_of(str rule, str category, str severity, str explanation, list matched, list spans):
    """Reason(...) for the classifier, without the call through Python."""
    cdef Reason reason = Reason.__new__(Reason)
    reason.rule = rule
    reason.category = category
    reason.severity = severity
    reason.explanation = explanation
    reason.matched = matched
    reason.spans = spans
    return reason


@cython.no_gc
@cython.freelist(16)
cdef class Verdict:
    """The reasons, most severe first; the verdict's severity is the first reason's, and its categories are
    the reasons' categories in that order, each once."""

    def __init__(
        self,
        bint flagged,
        str severity,
        list categories not None,
        list reasons not None,
        dict sentiment not None,
    ) -> None:
        self.flagged = flagged
        self.severity = severity
        self.categories = categories
        self.reasons = reasons
        self.sentiment = sentiment

    @classmethod
    def from_reasons(cls, list reasons not None, dict sentiment not None) -> Verdict:
        return verdict_of(list(reasons), sentiment)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": self.flagged,
            "severity": self.severity,
            "categories": list(self.categories),
            "reasons": [reason.to_dict() for reason in self.reasons],
            "sentiment": dict(self.sentiment),
        }

    def summary(self) -> str:
        if not self.flagged:
            return "Not flagged."
        first = self.reasons[0]
        more = len(self.reasons) - 1
        tail = f" (and {more} more reason{'s' if more > 1 else ''})" if more else ""
        severity = (self.severity or "").capitalize()
        return f"{severity} ({first.category}): {first.explanation}{tail}"

    def _fields(self) -> tuple:
        return (self.flagged, self.severity, self.categories, self.reasons, self.sentiment)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        return self._fields() == (<Verdict> other)._fields()

    __hash__ = None

    def __repr__(self) -> str:
        return (
            f"Verdict(flagged={self.flagged!r}, severity={self.severity!r}, categories={self.categories!r}, "
            f"reasons={self.reasons!r}, sentiment={self.sentiment!r})"
        )


cdef Verdict verdict_of(list reasons, dict sentiment):
    """The verdict of ``reasons`` (which it may reorder in place), with the comment's sentiment."""
    cdef Verdict verdict = Verdict.__new__(Verdict)
    verdict.reasons = reasons
    verdict.sentiment = sentiment
    verdict.categories = []
    if not reasons:
        verdict.flagged = False
        verdict.severity = None
        return verdict
    if len(reasons) > 1:
        reasons.sort(key=_most_severe_first)
    cdef Reason reason
    for reason in reasons:
        if reason.category not in verdict.categories:
            verdict.categories.append(reason.category)
    verdict.flagged = True
    verdict.severity = (<Reason> reasons[0]).severity
    return verdict


def _most_severe_first(Reason reason) -> int:
    return -_RANK[reason.severity]
