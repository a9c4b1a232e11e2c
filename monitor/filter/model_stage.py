"""The learned model's part in a verdict: a reason for each category it is sure enough of that no rule gave.

Rules stay authoritative where they are precise (contact details, protected names, cheerful swearing): the
model only adds categories the rules did not find. Each category's threshold, and whether the model is used at
all, come from [filter.model] and each account's override of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.filter.features import name_words
from monitor.filter.model import TextModel, Weighed
from monitor.filter.settings import FilterSettings, ModelSettings
from monitor.filter.verdict import CATEGORY_WORDS, CommentContext, Reason

MODEL_RULE = "model"  # a model reason's rule name is "model:<category>"
# Below this, for every category, the model overrules a flag for tone alone (set on the validation split).
TONE_ONLY_BELOW = 0.2
# The rules' words, but the model cannot tell a scam from a false claim, so it says both.
MODEL_CATEGORY_WORDS = {
    **CATEGORY_WORDS,
    "misrepresentation": f"{CATEGORY_WORDS['misrepresentation']} (or looks like a scam)",
}


def how_sure(probability: float) -> str:
    """A probability in words a General Manager can weigh."""
    if probability >= 0.85:
        return "very sure"
    if probability >= 0.65:
        return "fairly sure"
    return "not certain, but thinks it more likely than not"


@dataclass(frozen=True)
class _View:
    thresholds: dict[str, float]  # category → threshold, for the categories the model may flag
    severity: dict[str, str]  # category → severity
    tone_only_below: float = 0.0


class ModelStage:
    def __init__(self, model: TextModel, settings: FilterSettings, organisation_names: Sequence[str] = ()) -> None:
        self._model = model
        self._left_out = name_words(tuple(organisation_names))
        self._default = self._view(settings.model, settings, None)
        self._accounts = {
            name: self._view(override.model.over(settings.model), settings, name)
            for name, override in settings.accounts.items()
        }

    def _view(self, model_settings: ModelSettings, settings: FilterSettings, account: str | None) -> _View:
        override = settings.accounts.get(account) if account else None
        defaults = settings.default_severities()
        severity = {
            category: (override.category_severity.get(category) if override else None) or defaults[category]
            for category in self._model.categories
        }
        if model_settings.enabled is False:
            return _View({}, severity)
        tone_only_below = TONE_ONLY_BELOW if model_settings.tone_only_below is None else model_settings.tone_only_below
        thresholds: dict[str, float] = {}
        for category in self._model.categories:
            chosen = model_settings.categories.get(category)  # type: ignore[call-overload]
            if chosen is not None and chosen.enabled is False:
                continue
            threshold = chosen.threshold if chosen is not None else None
            thresholds[category] = self._model.thresholds[category] if threshold is None else threshold
        return _View(thresholds, severity, tone_only_below)

    def reasons(
        self, text: str, context: CommentContext, found: Sequence[Reason], leave: Sequence[str] = ()
    ) -> list[Reason]:
        """The model's reasons for ``text``, beside the rules' reasons ``found``, in no category of ``leave``."""
        view = self._accounts.get(context.account or "", self._default)
        if not view.thresholds or context.by_owner or not text.strip():  # the organisation's own words aren't flagged
            return []
        probabilities = self._model.probabilities(text, self._left_out)
        given = {reason.category for reason in found} | set(leave)
        reasons: list[Reason] = []
        for column, category in enumerate(self._model.categories):
            probability = float(probabilities[column])
            threshold = view.thresholds.get(category)
            if threshold is None or probability < threshold or category in given:
                continue
            weighed = self._model.weighed_most(text, category, left_out=self._left_out)
            reasons.append(_reason(text, category, view.severity[category], probability, weighed))
        return reasons

    def overrules_tone(self, text: str, context: CommentContext) -> bool:
        """Whether the model is sure enough that ``text``, flagged for its tone alone, is in no category."""
        view = self._accounts.get(context.account or "", self._default)
        if not view.tone_only_below or not view.thresholds or context.by_owner:
            return False
        return bool(self._model.probabilities(text, self._left_out).max() < view.tone_only_below)


def _reason(text: str, category: str, severity: str, probability: float, weighed: list[Weighed]) -> Reason:
    quoted = ", ".join(f"“{text[start:end]}”" for start, end in (phrase.span for phrase in weighed))
    spans = sorted(phrase.span for phrase in weighed)
    words = f"; the words that weighed most: {quoted}" if quoted else ""
    explanation = (
        f"{MODEL_CATEGORY_WORDS[category]}. The model is {how_sure(probability)} ({probability:.0%}){words}."
    )
    return Reason(
        f"{MODEL_RULE}:{category}",
        category,
        severity,
        explanation,
        [text[start:end] for start, end in spans],
        spans,
        round(probability, 4),
    )
