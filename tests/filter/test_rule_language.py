from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from monitor.filter import Classifier, CommentContext, FilterSettings


def build(tmp_path: Path | None = None, organisation: tuple[str, ...] = (), **filter_table: Any) -> Classifier:
    """The rules alone: these tests are about the rule language, not the learned model."""
    filter_table.setdefault("model", {"enabled": False})
    settings = FilterSettings.model_validate(filter_table)
    return Classifier.from_settings(settings, organisation, tmp_path or Path("."))


def rules_hit(classifier: Classifier, text: str, context: CommentContext | None = None) -> list[str]:
    return [reason.rule for reason in classifier.classify(text, context).reasons]


def rule(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "category": "controversial", **fields}


def test_words_with_prefix_wildcards_and_any_word() -> None:
    classifier = build(rules=[rule("fireworks", words=["firework* display", "too * noisy"])])
    assert rules_hit(classifier, "The fireworks display was late") == ["fireworks"]
    assert rules_hit(classifier, "it was too very noisy") == ["fireworks"]
    assert "fireworks" not in rules_hit(classifier, "a display of fireworks")


def test_regex_runs_on_normalised_text_and_raw_regex_on_the_original() -> None:
    classifier = build(
        rules=[
            rule("ref", regex=[r"\bref \d{4}\b"]),
            rule("shouting", raw_regex=[r"\b[A-Z]{6,}\b"]),
        ]
    )
    assert rules_hit(classifier, "REF 1234 please") == ["ref"]
    assert rules_hit(classifier, "this is OUTRAGEOUS") == ["shouting"]
    assert rules_hit(classifier, "this is outrageous") == []


def test_named_lists_and_the_protected_names_file(tmp_path: Path) -> None:
    (tmp_path / "protected.txt").write_text("# people we support\nZebedee Quill\n", encoding="utf-8")
    classifier = build(
        tmp_path,
        protected_names_file="protected.txt",
        lists={"places": ["Rose Cottage", "Elm Lodge"]},
        rules=[rule("place", lists=["places"]), rule("who", category="confidentiality", lists=["protected_names"])],
    )
    verdict = classifier.classify("Saw zebedee quill at elm lodge")
    assert {r.rule for r in verdict.reasons} == {"place", "who"}
    assert next(r for r in verdict.reasons if r.rule == "who").matched == ["zebedee quill"]


def test_missing_protected_names_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"filter\.protected_names_file"):
        build(tmp_path, protected_names_file="nope.txt")


def test_detectors_in_a_rule() -> None:
    classifier = build(disabled_packs=_all_packs(), rules=[rule("nhs", detectors=["nhs_number"])])
    verdict = classifier.classify("my NHS no is 943 476 5919")
    assert verdict.reasons[0].matched == ["943 476 5919"]
    assert rules_hit(classifier, "ring 943 476 5918") == []  # ten digits alone must pass the check digit
    assert rules_hit(classifier, "my NHS no is 943 476 5918") == ["nhs"]  # called an NHS number, it is one


def test_conditions_sentiment_organisation_person_author_reply() -> None:
    classifier = build(
        organisation=("Seven Steps",),
        staff_accounts=["@carer.kim"],
        disabled_packs=_all_packs(),
        rules=[
            rule("angry-about-us", words=["service"], sentiment_below=-0.3, mentions_organisation=True),
            rule("about-someone", words=["party"], mentions_person=True),
            rule("staff-says", words=["party"], author_in=["staff"]),
            rule("public-says", words=["party"], author_not_in=["staff"]),
            rule("reply", words=["party"], is_reply=True),
        ],
    )
    assert rules_hit(classifier, "Seven Steps service is terrible and awful") == ["angry-about-us"]
    assert rules_hit(classifier, "Some service is terrible and awful") == []
    assert rules_hit(classifier, "Seven Steps service is great") == []
    staff_reply = CommentContext(author_name="carer.kim", is_reply=True)
    expected = ["about-someone", "reply", "staff-says"]
    assert sorted(rules_hit(classifier, "Emma loved the party", staff_reply)) == expected
    assert rules_hit(classifier, "the party", CommentContext(author_id="someone")) == ["public-says"]


def test_exceptions_cancel_a_rule() -> None:
    classifier = build(rules=[rule("fire", words=["fire"], unless_words=["fire drill"], unless_regex=[r"fire ?works"])])
    assert rules_hit(classifier, "there was a fire") == ["fire"]
    assert rules_hit(classifier, "fire drill at 10, there was no fire") == []
    assert rules_hit(classifier, "the fireworks and fire") == []


def test_also_groups_must_all_match() -> None:
    classifier = build(disabled_packs=_all_packs(), rules=[rule("both", words=["minibus"], also=[{"words": ["late"]}])])
    assert rules_hit(classifier, "the minibus was late") == ["both"]
    assert rules_hit(classifier, "the minibus was lovely") == []


def test_priority_orders_reasons_of_equal_severity() -> None:
    classifier = build(
        disabled_packs=_all_packs(),
        rules=[rule("low-priority", words=["cake"]), rule("high-priority", words=["cake"], priority=10)],
    )
    assert rules_hit(classifier, "cake") == ["high-priority", "low-priority"]


def test_a_user_rule_replaces_a_pack_rule_of_the_same_name() -> None:
    classifier = build(rules=[{"name": "threat-arson-damage", "category": "threat", "words": ["smoke bomb"]}])
    assert "threat-arson-damage" not in rules_hit(classifier, "I'll burn the place down")
    assert rules_hit(classifier, "a smoke bomb") == ["threat-arson-damage"]


def test_packs_and_rules_switched_off() -> None:
    assert build(disabled_packs=["abuse"]).classify("you absolute wanker").flagged is False
    assert build(disabled_rules=["profanity", "profanity-cheerful"]).classify("you wanker").flagged is False


def test_per_account_overrides() -> None:
    classifier = build(
        accounts={
            "facebook-page": {
                "disabled_packs": ["controversial"],
                "category_severity": {"abuse": "low"},
                "rule_severity": {"threat-arson-damage": "high"},
            }
        }
    )
    page = CommentContext(account="facebook-page")
    assert classifier.classify("Brexit again", page).flagged is False
    assert classifier.classify("Brexit again").flagged is True
    assert classifier.classify("you wanker", page).severity == "low"
    assert classifier.classify("you wanker").severity == "medium"
    assert classifier.classify("I'll burn the place down", page).severity == "high"


def test_category_severity_override() -> None:
    assert build(category_severity={"controversial": "high"}).classify("Brexit again").severity == "high"


def test_negative_threshold_setting() -> None:
    text = "This is bad and sad."
    assert build().classify(text).categories == ["negative"]
    assert build(negative_threshold=-0.9).classify(text).flagged is False


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rules": [rule("broken", regex=["(unclosed"])]}, "rule 'broken': regex '(unclosed' does not compile"),
        ({"rules": [rule("lookbehind", regex=["(?<=a)b"])]}, "rule 'lookbehind'"),
        ({"rules": [rule("empty")]}, "rule 'empty' matches nothing"),
        ({"rules": [rule("x", lists=["nope"])]}, "uses list 'nope'"),
        ({"rules": [rule("x", detectors=["iban"])]}, "unknown detector 'iban'"),
        ({"disabled_packs": ["nope"]}, "disabled_packs: unknown name 'nope'"),
        ({"disabled_rules": ["nope"]}, "disabled_rules: unknown name 'nope'"),
        ({"negative_threshold": 0.5}, "negative_threshold"),
        ({"colour": "red"}, "colour"),
        ({"rules": [rule("x", words=["a"]), rule("x", words=["b"])]}, "two rules are named 'x'"),
        ({"accounts": {"fb": {"disabled_packs": ["nope"]}}}, "accounts.fb.disabled_packs"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FilterSettings.model_validate(table)
    assert message in str(caught.value)


def test_an_absent_filter_table_is_valid() -> None:
    assert FilterSettings().disabled_packs == []


def _all_packs() -> list[str]:
    from monitor.filter.packs import load_packs

    return list(load_packs())


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("we never shut the office", True),  # a shipped negation
        ("we nae shut the office", True),  # the operator's own
        ("we 2nae shut the office", True),  # one starting with a digit
        ("we notwithstandingly shut the office", True),  # one longer than fifteen letters
        ("we nay shut the office", False),
        ("we nae, though, shut the office", False),  # another clause
        ("nae we really truly did shut the office", False),  # more than three words before
    ],
)
def test_the_operators_negations_cancel_a_match_just_after_them(text: str, negated: bool) -> None:
    negations = ["never", "nae", "2nae", "notwithstandingly"]
    classifier = build(lists={"negations": negations}, rules=[rule("shut", words=["shut* the office"])])
    assert rules_hit(classifier, text) == ([] if negated else ["shut"])


@pytest.mark.parametrize("phrase", ["*2 dbs", "dbs *3", "*"])
def test_a_phrase_cannot_start_or_end_with_a_gap(phrase: str) -> None:
    with pytest.raises(ValidationError, match=r"cannot start or end with a lone \* or \*N|no letters"):
        build(rules=[{"name": "gap", "category": "allegation", "words": [phrase]}])


def test_a_rule_with_a_gap_and_inflections(tmp_path: Path) -> None:
    classifier = build(rules=[{"name": "no-dbs", "category": "misrepresentation", "words": ["don't *3 dbs check~"]}])
    assert rules_hit(classifier, "They don't even do DBS checks on agency staff") == ["no-dbs"]
    assert rules_hit(classifier, "They don't do any proper DBS checking") == ["no-dbs"]
    assert "no-dbs" not in rules_hit(classifier, "Don't forget your DBS renewal, it's due")
