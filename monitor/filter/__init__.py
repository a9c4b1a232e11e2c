"""The comment filter: normalise, score sentiment, apply the rule packs, explain the verdict."""

from __future__ import annotations

from monitor.filter.classifier import Classifier
from monitor.filter.settings import FilterSettings
from monitor.filter.verdict import SEVERITIES, CommentContext, Reason, Verdict, severity_rank

__all__ = [
    "SEVERITIES",
    "Classifier",
    "CommentContext",
    "FilterSettings",
    "Reason",
    "Verdict",
    "severity_rank",
]
