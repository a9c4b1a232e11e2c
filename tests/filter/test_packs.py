"""The shipped packs on typical comments of each kind. These are written for this test, in the style of
comments under a care provider's posts; none is taken from the evaluation files."""

from __future__ import annotations

import pytest

from monitor.filter import Classifier, CommentContext, FilterSettings
from monitor.filter.packs import load_packs


def test_every_category_has_a_commented_pack() -> None:
    packs = load_packs()
    categories = {rule.category for pack in packs.values() for rule in pack.rules}
    assert categories == {
        "threat", "safeguarding", "confidentiality", "hate", "allegation", "misrepresentation", "abuse",
        "controversial", "negative",
    }
    assert all(pack.description for pack in packs.values())


@pytest.mark.parametrize(
    "text",
    [
        "Bloody brilliant team!",
        "killing it as always",
        "so sad to hear about the flood",
        "Damn, that bake sale looked amazing",
        "What the hell, I'm signing up for the fun run too!",
        "I hate Mondays but this made me smile",
        "Lovely to see everyone at the summer fair",
        "Can I bring my grandson to the open day?",
        "The talk on dementia awareness was really useful",
        "Sorry to hear about the break-in, awful news, thinking of you all",
        "We are hiring support workers, apply on our website",
        "Our flu clinic runs on Thursday, book at reception",
        "Well done to Sarah for her long service award!",
        "The new sensory room is absolutely stunning",
        "Is there parking at the Leeds office?",
    ],
)
def test_must_not_flag(default_classifier: Classifier, text: str) -> None:
    verdict = default_classifier.classify(text)
    assert not verdict.flagged, verdict.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I know where your manager lives, watch your back", "threat"),
        ("Someone should torch the place", "threat"),
        ("Anyone know where Liam Hart lives now? I'm his birth father", "safeguarding"),
        ("I can't go on any more, nobody would miss me", "safeguarding"),
        ("Mrs Okafor in flat 4 has dementia and forgets to lock her door", "confidentiality"),
        ("Ring his social worker on 07700 900555", "confidentiality"),
        ("His NHS number is 943 476 5919 if that helps", "confidentiality"),
        ("Immigrants shouldn't be allowed to work in care homes", "hate"),
        ("No p4k1s or f@gs in my mum's home thank you", "hate"),
        ("My dad was left in soiled sheets all afternoon", "allegation"),
        ("They gave my brother the wrong medication twice this month", "allegation"),
        ("I've heard they're under investigation for fraud", "misrepresentation"),
        ("Earn £300 a day with JRH, message me on WhatsApp", "misrepresentation"),
        ("You useless pack of idiots", "abuse"),
        ("f u c k this place", "abuse"),
        ("Stop the boats, Farage was right", "controversial"),
    ],
)
def test_typical_comment_of_each_category(default_classifier: Classifier, text: str, category: str) -> None:
    verdict = default_classifier.classify(text)
    assert category in verdict.categories, (text, verdict.categories)


def test_severities_follow_the_design(default_classifier: Classifier) -> None:
    assert default_classifier.classify("I'll burn the place down").severity == "urgent"
    assert default_classifier.classify("my mum was left alone all night").severity == "high"
    assert default_classifier.classify("you bunch of idiots").severity == "medium"
    assert default_classifier.classify("This is the worst, most horrible and awful news ever").severity == "low"


@pytest.mark.parametrize(
    "text",
    ["I don't hate anyone", "I would never hurt you", "We are not closing down, rumours are wrong"],
)
def test_negation_cancels(default_classifier: Classifier, text: str) -> None:
    categories = default_classifier.classify(text).categories
    assert not {"hate", "threat", "misrepresentation"} & set(categories), categories


def test_counter_speech_is_shown_low(default_classifier: Classifier) -> None:
    verdict = default_classifier.classify('A man called our carer a "paki" in the street. That is unacceptable.')
    assert verdict.flagged
    assert verdict.categories == ["hate"]
    assert verdict.severity == "low"
    assert "object to them" in verdict.reasons[0].explanation


def test_explanations_quote_the_original_text(default_classifier: Classifier) -> None:
    text = "Sh1te company run by id1ots"
    verdict = default_classifier.classify(text)
    matched = {m for reason in verdict.reasons for m in reason.matched}
    assert matched == {"Sh1te", "id1ots"}
    for reason in verdict.reasons:
        assert [text[s:e] for s, e in reason.spans] == reason.matched


def test_person_with_condition_explains_in_plain_english(default_classifier: Classifier) -> None:
    verdict = default_classifier.classify("That's Olivia from the Beeches, she has epilepsy")
    reason = next(r for r in verdict.reasons if r.rule == "person-and-condition")
    assert reason.explanation.startswith("Names a person and a health condition")
    assert "epilepsy" in reason.matched


def test_staff_boundary_needs_configured_accounts() -> None:
    classifier = Classifier.from_settings(
        FilterSettings(staff_accounts=["kim.support"], service_user_accounts=["jamie_b"])
    )
    reply = CommentContext(author_id="kim.support", is_reply=True, parent_author_id="jamie_b")
    assert "staff-boundary-reply" in [r.rule for r in classifier.classify("see you later x", reply).reasons]
    mention = CommentContext(author_id="kim.support")
    assert "staff-boundary-mention" in [r.rule for r in classifier.classify("@jamie_b love this", mention).reasons]
    stranger = CommentContext(author_id="someone", is_reply=True, parent_author_id="jamie_b")
    assert not classifier.classify("see you later x", stranger).flagged


def test_the_organisations_own_number_is_not_flagged_when_it_posts(default_classifier: Classifier) -> None:
    text = "Call us on 0113 496 0000 to apply"
    assert default_classifier.classify(text).flagged
    assert not default_classifier.classify(text, CommentContext(by_owner=True)).flagged


def test_verdict_serialises(default_classifier: Classifier) -> None:
    verdict = default_classifier.classify("you idiots")
    data = verdict.to_dict()
    assert data["flagged"] is True
    assert data["reasons"][0]["spans"] == [[4, 10]]
    assert set(data["sentiment"]) == {"neg", "neu", "pos", "compound"}
    assert verdict.summary().startswith("Medium (abuse): ")


@pytest.mark.parametrize(
    ("text", "category", "not_category"),
    [
        ("I know where your manager lives and I'll be waiting for her", "threat", "safeguarding"),
        ("I found out which house she lives in now, I'll be paying her a visit", "threat", "safeguarding"),
        ("Trying to find my sister, does anyone know where she lives now", "safeguarding", "threat"),
        ("Anyone know where my dad is living now? He was moved from your home last year", "safeguarding", "threat"),
    ],
)
def test_a_threat_is_not_labelled_tracing_nor_tracing_a_threat(text: str, category: str, not_category: str) -> None:
    rules = Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}}))
    categories = rules.classify(text).categories
    assert category in categories and not_category not in categories, categories


RULES_ONLY = FilterSettings.model_validate({"model": {"enabled": False}})


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Mum's DOB is 12/03/1941 if the office needs it", "date-of-birth"),
        ("the lady in room 6 has dementia and nobody checks on her", "place-and-condition"),
        ("Tina's off on sick leave again, her third miscarriage apparently", "person-and-condition"),
        ("word is the Leeds branch is shutting after the inspection", "passed-on-rumour"),
        ("my mate says the owners are selling up to a big chain", "passed-on-rumour"),
        ("Heard they lost the council contract, staff all being let go", "false-claims"),
        ("Urgent vacancies! No experience needed, just send £45 for your DBS and start Monday", "job-fee-scam"),
        ("Sponsorship available for senior carers, £3000 fee for the certificate of sponsorship", "job-fee-scam"),
    ],
)
def test_the_rules_alone_catch_each_kind(text: str, rule: str) -> None:
    verdict = Classifier.from_settings(RULES_ONLY).classify(text)
    assert rule in [reason.rule for reason in verdict.reasons], (text, verdict.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "I was born on 3rd March 1950 and I still do my own shopping",
        "Room 6 is being decorated for dementia awareness week",
        "The police came to do a talk on scams for the residents, so useful",
        "Is there a registration fee for the bank staff job? A friend asked me",
        "Never pay a fee for a job, we never charge applicants. Scammers are using our name",
        "Is there any jobs going? 5 years experience, 07700 900418",
    ],
)
def test_the_rules_alone_leave_the_look_alikes(text: str) -> None:
    verdict = Classifier.from_settings(RULES_ONLY).classify(text)
    assert not any(reason.severity in ("urgent", "high") for reason in verdict.reasons), (text, verdict.reasons)
