"""Categories of the operator's own: declared in the config, used by rules, named in the email."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from monitor.filter import Classifier, FilterSettings
from monitor.notify.present import Presenter, describe_categories

FUNDRAISING = {"name": "fundraising", "label": "a question about our fundraising", "severity": "low"}
RAFFLE_RULE = {"name": "raffle", "category": "fundraising", "words": ["raffle ticket*"]}


def build(**filter_table: object) -> Classifier:
    """The rules alone: these tests are about the operator's rules, not the learned model."""
    filter_table.setdefault("model", {"enabled": False})
    return Classifier.from_settings(FilterSettings.model_validate(filter_table), (), Path("."))


def test_a_rule_can_use_a_declared_category_with_its_own_severity_and_label() -> None:
    classifier = build(categories=[FUNDRAISING], rules=[RAFFLE_RULE])
    verdict = classifier.classify("Where do I buy raffle tickets for the summer fair?")
    assert verdict.flagged and verdict.categories == ["fundraising"] and verdict.severity == "low"
    [reason] = verdict.reasons
    assert reason.explanation == "Flagged as a question about our fundraising: “raffle tickets”."


def test_category_severity_changes_a_custom_category_too() -> None:
    classifier = build(categories=[FUNDRAISING], rules=[RAFFLE_RULE], category_severity={"fundraising": "high"})
    assert classifier.classify("raffle ticket please").severity == "high"


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"rules": [RAFFLE_RULE]}, "rules[0] ('raffle').category: unknown name 'fundraising'"),
        ({"categories": [{**FUNDRAISING, "name": "threat"}]}, "'threat' is a built-in category"),
        ({"categories": [FUNDRAISING, FUNDRAISING]}, "two custom categories have the same name"),
        ({"categories": [{**FUNDRAISING, "name": "Fund Raising"}]}, "should match pattern"),
        ({"category_severity": {"fundraising": "low"}}, "category_severity: unknown name 'fundraising'"),
    ],
)
def test_mistakes_in_categories_are_named(table: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FilterSettings.model_validate(table)
    assert problem in str(caught.value)


def test_the_email_names_a_custom_category_by_its_label() -> None:
    labels = FilterSettings.model_validate({"categories": [FUNDRAISING]}).category_labels()
    presenter = Presenter(zone=ZoneInfo("Europe/London"), platform_labels={}, account_hosts={}, category_labels=labels)
    assert describe_categories(["fundraising", "threat"], presenter.category_labels) == (
        "a question about our fundraising and a threat"
    )


def test_one_word_is_added_to_or_stopped_in_a_shipped_list_without_copying_it() -> None:
    shipped = build()
    assert [r.rule for r in shipped.classify("the new manager is a muppet").reasons] == ["insults"]
    assert not shipped.classify("the new manager is a plonker").flagged

    changed = build(extra_words={"insults": ["plonker*"]}, disabled_words={"insults": ["muppet*"]})
    assert [r.rule for r in changed.classify("the new manager is a plonker").reasons] == ["insults"]
    assert not changed.classify("the new manager is a muppet").flagged
    assert [r.rule for r in changed.classify("the new manager is an idiot").reasons] == ["insults"]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"disabled_words": {"insults": ["angel"]}}, "disabled_words.insults: 'angel' is not in the list"),
        ({"extra_words": {"insultz": ["plonker"]}}, "extra_words: unknown name 'insultz'"),
        ({"extra_words": {"insults": ["!!"]}}, "phrase '!!' has no letters or digits"),
    ],
)
def test_mistakes_in_word_changes_are_named(table: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FilterSettings.model_validate(table)
    assert problem in str(caught.value)
