"""Reason and Verdict: what callers read from them, and that they behave as plain values."""

from __future__ import annotations

import json

import pytest

from monitor.filter import Reason, Verdict


def _reason(rule: str, category: str, severity: str) -> Reason:
    return Reason(rule, category, severity, f"{rule} fired.")


def test_a_verdict_puts_the_most_severe_reason_first_and_keeps_ties_in_order() -> None:
    reasons = [
        _reason("rude", "abuse", "medium"),
        _reason("harm", "threat", "urgent"),
        _reason("slur", "hate", "high"),
        _reason("swear", "abuse", "medium"),
        _reason("leak", "confidentiality", "urgent"),
    ]
    verdict = Verdict.from_reasons(reasons, {"compound": -0.5})
    assert [reason.rule for reason in verdict.reasons] == ["harm", "leak", "slur", "rude", "swear"]
    assert verdict.flagged
    assert verdict.severity == "urgent"
    assert verdict.categories == ["threat", "confidentiality", "hate", "abuse"]
    assert [reason.rule for reason in reasons] == ["rude", "harm", "slur", "swear", "leak"], "caller's list reordered"


def test_a_verdict_without_reasons_is_not_flagged() -> None:
    verdict = Verdict.from_reasons([], {"compound": 0.2})
    assert (verdict.flagged, verdict.severity, verdict.categories, verdict.reasons) == (False, None, [], [])
    assert verdict.summary() == "Not flagged."
    assert verdict.sentiment == {"compound": 0.2}


def test_the_summary_names_the_first_reason_and_counts_the_rest() -> None:
    one = Verdict.from_reasons([_reason("harm", "threat", "urgent")], {})
    assert one.summary() == "Urgent (threat): harm fired."
    three = Verdict.from_reasons(
        [_reason("a", "abuse", "low"), _reason("b", "hate", "high"), _reason("c", "hate", "low")], {}
    )
    assert three.summary() == "High (hate): b fired. (and 2 more reasons)"


def test_reasons_compare_by_every_field() -> None:
    reason = Reason("r", "abuse", "low", "Why.", ["scum"], [(4, 8)])
    assert reason == Reason(
        rule="r", category="abuse", severity="low", explanation="Why.", matched=["scum"], spans=[(4, 8)]
    )
    assert reason != Reason("r", "abuse", "low", "Why.", ["scum"], [(4, 9)])
    assert reason != Reason("r", "abuse", "medium", "Why.", ["scum"], [(4, 8)])
    assert Reason("r", "abuse", "low", "Why.") == Reason("r", "abuse", "low", "Why.", [], [])
    assert "spans=[(4, 8)]" in repr(reason)


def test_verdicts_compare_by_every_field() -> None:
    reason = _reason("harm", "threat", "urgent")
    verdict = Verdict.from_reasons([reason], {"compound": -0.4})
    assert verdict == Verdict(True, "urgent", ["threat"], [_reason("harm", "threat", "urgent")], {"compound": -0.4})
    assert verdict != Verdict.from_reasons([reason], {"compound": -0.3})
    assert verdict != Verdict.from_reasons([], {"compound": -0.4})


def test_a_verdict_as_a_dict_is_json_with_spans_as_pairs() -> None:
    verdict = Verdict.from_reasons([Reason("r", "abuse", "low", "Why.", ["scum"], [(4, 8)])], {"compound": -0.4})
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data == {
        "flagged": True,
        "severity": "low",
        "categories": ["abuse"],
        "reasons": [
            {
                "rule": "r",
                "category": "abuse",
                "severity": "low",
                "explanation": "Why.",
                "matched": ["scum"],
                "spans": [[4, 8]],
                "confidence": 1.0,
            }
        ],
        "sentiment": {"compound": -0.4},
    }


def test_within_a_severity_safeguarding_and_threats_come_first_then_the_surest() -> None:
    reasons = [
        Reason("leak", "confidentiality", "urgent", "x", confidence=0.6),
        Reason("leak-sure", "confidentiality", "urgent", "x", confidence=0.9),
        Reason("model:threat", "threat", "urgent", "x", confidence=0.55),
        Reason("tracing", "safeguarding", "urgent", "x"),
        Reason("slur", "hate", "high", "x"),
    ]
    verdict = Verdict.from_reasons(reasons, {})
    assert [reason.rule for reason in verdict.reasons] == ["tracing", "model:threat", "leak-sure", "leak", "slur"]
    assert verdict.categories == ["safeguarding", "threat", "confidentiality", "hate"]


def test_a_reason_needs_its_words() -> None:
    with pytest.raises(TypeError):
        Reason("r", "abuse", None, "Why.")  # type: ignore[arg-type]
