"""What the filter says about one comment, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
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
# How an explanation names each category, as the start of a sentence.
CATEGORY_WORDS = {
    "threat": "Sounds like a threat",
    "safeguarding": "May be a safeguarding concern",
    "confidentiality": "May identify someone or share private details",
    "hate": "Attacks people for who they are",
    "allegation": "Makes a complaint or allegation about our care",
    "misrepresentation": "Makes a claim about us, or uses our name, that may be false",
    "abuse": "Abusive or offensive language",
    "controversial": "Starts a heated argument on our page",
    "negative": "Strongly negative",
}
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
_RANK = {severity: len(SEVERITIES) - index for index, severity in enumerate(SEVERITIES)}

Span = tuple[int, int]


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


@dataclass(slots=True)
class Reason:
    """One rule that fired, in words a General Manager can read."""

    rule: str
    category: str
    severity: str
    explanation: str
    matched: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    confidence: float = 1.0  # a rule is sure when it fires; the model says how likely it thinks it is

    def __post_init__(self) -> None:
        for name in ("rule", "category", "severity", "explanation"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"Reason.{name} must be a str, not {type(getattr(self, name)).__name__}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "explanation": self.explanation,
            "matched": list(self.matched),
            "spans": [list(span) for span in self.spans],
            "confidence": round(self.confidence, 4),
        }


@dataclass(slots=True)
class Verdict:
    """The reasons, most severe first (within a severity, safeguarding and threats first, then the surest);
    the verdict's severity is the first reason's, and its categories are
    the reasons' categories in that order, each once."""

    flagged: bool
    severity: str | None
    categories: list[str]
    reasons: list[Reason]
    sentiment: dict[str, float]

    @classmethod
    def from_reasons(cls, reasons: list[Reason], sentiment: dict[str, float]) -> Verdict:
        ordered = sorted(reasons, key=_most_severe_first)
        categories: list[str] = []
        for reason in ordered:
            if reason.category not in categories:
                categories.append(reason.category)
        severity = ordered[0].severity if ordered else None
        return cls(bool(ordered), severity, categories, ordered, sentiment)

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


PRESSING_CATEGORIES = ("safeguarding", "threat")


def _most_severe_first(reason: Reason) -> tuple[int, int, float]:
    return (-_RANK[reason.severity], reason.category not in PRESSING_CATEGORIES, -reason.confidence)
