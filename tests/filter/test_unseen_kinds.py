"""The shipped packs on kinds of comment they were not first written for, and on the harmless comments that
look like them. Each comment is written for this test in the voice of a UK care provider's page; none is
taken from the sample data or the evaluation files."""

from __future__ import annotations

import pytest

from monitor.filter import Classifier, FilterSettings

CENSORED_PROFANITY = [
    "You're all a bunch of f*cking amateurs",
    "What a sh*tshow this company has become",
    "Your office staff are useless b*stards",
    "Tell your area manager she's a c**t",
    "Load of b*llocks, nobody believes your PR any more",
    "Your rota team are a f-ing disgrace",
    "The receptionist is a complete a**hole to families",
    "Sh-t service and p*ss poor management",
    "What the f*** is wrong with the people running this place",
    "Stop posting this cr*p and answer my emails, you tw*ts",
    "Your coordinator is a lying f#cker",
    "Your head office are a bunch of sh*tbags",
    "Tell that so-called manager to get f*cked",
]

GROUP_HATE = [
    "Polish carers are all the same, can't speak a word of English and couldn't care less",
    "Keep the Muslims away from my dad, they don't share our values",
    "Eastern Europeans are filthy, I've seen how they live",
    "Why let gays work with vulnerable people? They shouldn't be anywhere near them",
    "Half your staff are foreigners who can barely speak English, send them home",
    "Black carers are lazy, everyone knows it",
    "Trans people have no business working in care, it's a mental illness",
    "Wouldn't trust a Romanian with my nan's purse, they're all thieves",
    "Indians running the place now and the whole building stinks",
    "Disabled people shouldn't be working in care, they're a liability",
    "Old people are a drain on the rest of us, should just be put down",
    "Africans shouldn't be allowed to work with our elderly",
    "The disabled lot you employ are useless, a liability to everyone",
]

PERSON_IN_DANGER = [
    "Elderly lady sat outside Tesco in just her nightie, she seems very confused, is she one of yours?",
    "Just seen an old man lying in the road near the church, he's had a fall and can't get up",
    "My neighbour is 89 and nobody has seen her for three days, her curtains are still shut",
    "A gentleman with dementia has wandered off from the home on Mill Lane, he's in pyjamas and it's freezing",
    "There's an old chap walking along the dual carriageway in the dark, looks lost",
    "Confused elderly woman knocking on doors on Station Road asking for her husband, no coat on",
    "Anyone missing a resident? Older gent found on the towpath soaking wet",
    "Pensioner next door isn't answering the door and her lights have been on all night, very worried",
    "Someone's elderly dad is sitting at the bus stop in the snow with no shoes on",
    "Old boy collapsed outside the chemist on the high street, is anyone from your team nearby?",
    "Elderly chap in a dressing gown at the train station asking where he lives, anyone know him?",
]

HOT_BUTTON = [
    "Maybe if Labour hadn't hammered employers with national insurance you could pay more",
    "The Tories spent 14 years running social care into the ground",
    "Care should be run by the state, not private companies skimming profits",
    "Net migration is out of control and care firms are the worst for it",
    "Staff who refused the covid jab were sacked, I'll never forgive that mandate",
    "Starmer and his cronies couldn't care less about pensioners",
    "Vote Reform and put British workers first",
    "The winter fuel payment cut did more harm to pensioners than anything",
    "Your CEO's pay would fund ten carers. Tax the rich and fix social care",
    "Why are care workers coming over on visas when our own kids can't get jobs? Close the borders",
    "This is what years of austerity does to councils and the people who rely on them",
    "The government has abandoned social care, they should all resign",
    "Private equity has ruined care in this country",
    "If you voted Brexit, this staff shortage is on you",
]

PLAINLY_NEGATIVE = [
    "Very disappointing. Expected so much more from a company with your reputation.",
    "Shambolic from start to finish, would not recommend to anyone.",
    "Appalling communication, we are constantly chasing for updates.",
    "Worst agency we've ever dealt with. Avoid.",
    "I'm fuming. Third change of rota this week and it's chaos.",
    "Terrible experience, we will never use them again.",
    "Sorry but this is just not good enough. Families deserve better.",
    "Dreadful organisation, the office have no idea what they're doing.",
    "Massively let down by the standard of care lately.",
    "Absolutely gutted with how this has been handled. Not what we were promised at all.",
    "Utterly shambolic organisation. Avoid at all costs.",
    "The worst customer service I have ever experienced",
]

MISCONDUCT_INCIDENT = [
    "Heard a carer mocking my dad's speech when she thought no one was listening",
    "Your carer grabbed mum's arm so hard it left marks",
    "The night nurse told my grandad to shut up and stop whinging",
    "One of the carers was swearing at my uncle when I walked in",
    "Watched a member of staff laugh at my mum when she asked for the toilet",
    "Your staff member shoved my sister back into her chair and snapped at her",
    "A carer called my father a pathetic old man to his face",
    "Caught one of the team yelling at a resident in the lounge",
    "The agency worker was rough with my nan and ignored her when she cried",
    "A member of your staff threatened to take my son's phone away if he complained again",
    "Your staff member made fun of my son's autism in front of other residents",
]

HARMLESS = [
    "Bloody brilliant day out, thank you all",
    "You lot are killing it with these fundraisers",
    "Sick photos from sports day!",
    "So sad to hear about Margaret, she was a lovely lady. Thinking of you all",
    "Sorry for your loss, the staff were amazing with her right to the end",
    "Rest in peace Frank, he was the life and soul of the place",
    "The councillor came to open the garden, lovely afternoon",
    "Our local MP popped in for the summer fete and had a go on the tombola",
    "The council's coffee morning was a great place to find out about your services",
    "Thanks to Priya and Tom for everything they did for dad",
    "Our Muslim staff organised an Eid lunch, lovely",
    "Lovely to see the residents enjoying the Diwali celebrations",
    "The Polish carers who looked after dad were wonderful",
    "My dad has dementia and the team are wonderful with him",
    "Our disabled daughter loves the new sensory garden, thank you",
    "Parking is round the back, follow the signs to the main entrance",
    "The open day is at the village hall from 10 till 2, everyone welcome",
    "What time does the Christmas fair start? Is it at the community centre?",
    "Thank you Willow House for making mum's birthday so special",
    "Huge thanks to everyone at Beech Lodge, you're stars",
    "Well done Oak Court on the garden award!",
    "The staff at Rose Cottage were lifesavers when mum came home from hospital",
    "Don't listen to him, the carers at this place are angels",
    "That's uncalled for, these girls work so hard for our families",
    "Steve that's out of order, they looked after my mum like she was their own",
    "Disgusting comment. Leave the carers alone, they do an amazing job",
    "Insanely good cake at the coffee morning",
    "Brilliant news about the Good rating, well deserved",
    "Proper chuffed for the team, what a year",
    "The minibus trip to Weston was wicked, mum loved it",
    "Mum had her flu jab at the clinic today, quick and painless",
    "My dad's been with you five years and we've never once been let down",
    "Gutted I missed the summer fair, hope there's another one soon",
    "Damn those scones looked good",
    "Hell of a turnout for the charity walk!",
    "My grandad wandered round the garden for ages picking tomatoes, he loved it",
    "The old gentleman who played piano at the tea dance was fantastic",
    "Dad got lost in the music at the singalong, lovely to see",
    "Rainy day but the residents still made it to the garden centre",
    "We vote Brightwater the best care company in the county!",
    "Can I vote for carer of the year online?",
    "Keep up the amazing work, you're a credit to the company",
    "Is the job still open? I've got my DBS and NVQ level 3",
    "Thank you for all the hard labour on the garden, it looks amazing",
    "The reform of the visiting rules is so welcome, thank you",
    "Nan's face when the choir came in, absolutely priceless",
    "Mum's carer is an absolute legend, nothing is too much trouble",
    "Skimming through the newsletter, lovely to see mum in the photos",
    "The residents had great fun at the pub quiz, staff were shouting at the telly",
    "Dementia friendly walk on Saturday, meet by the roundabout at 10",
    "Lovely to see the disabled residents get out on the new accessible bus, they're all smiles",
    "The carer threatened to beat mum at Scrabble next week 😂",
    "All the same, the Polish carers were lovely to dad",
    "Our Nigerian nurses, all of them are wonderful",
    "Mum's Polish carer had no English at first but now they chat all day",
    "Avoid the A38 today if you're coming to the fair, there's roadworks",
    "Please stay away if you have a cold, we have residents with low immunity",
    "The carers had mum in stitches with their jokes",
    "Thanks to our local Labour and Conservative councillors for supporting the fundraiser",
    "Shout out to the team at Birch Court, mum loved the party",
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The packs alone: the learned model is measured on the same comments at the end of this file."""
    return Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}}), ["Brightwater Care"])


def _cases(category: str, texts: list[str]) -> list[tuple[str, str]]:
    return [(text, category) for text in texts]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        *_cases("abuse", CENSORED_PROFANITY),
        *_cases("hate", GROUP_HATE),
        *_cases("safeguarding", PERSON_IN_DANGER),
        *_cases("controversial", HOT_BUTTON),
        *_cases("negative", PLAINLY_NEGATIVE),
        *_cases("allegation", MISCONDUCT_INCIDENT),
    ],
)
def test_flags_the_kind(classifier: Classifier, text: str, category: str) -> None:
    verdict = classifier.classify(text)
    assert verdict.flagged, text
    assert category in verdict.categories, (text, verdict.categories, [r.rule for r in verdict.reasons])


@pytest.mark.parametrize("text", HARMLESS)
def test_leaves_the_look_alike(classifier: Classifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert not verdict.flagged, (text, [(r.rule, r.matched) for r in verdict.reasons])


@pytest.mark.parametrize(
    "text",
    [
        "Bloody brilliant team, killing it as always!",
        "Damn proud of you lot, smashing it at the summer fair",
        "You lot are bloody legends, nailed it again",
        "Bloody marvellous staff, absolutely on fire this week",
    ],
)
def test_swearing_that_cheers_the_team_on_is_not_abuse(classifier: Classifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert not verdict.flagged, verdict.summary()


def test_swearing_at_the_team_is_still_abuse(classifier: Classifier) -> None:
    verdict = classifier.classify("Your bloody useless team never answers the phone, pathetic")
    assert verdict.flagged and "abuse" in verdict.categories


@pytest.mark.parametrize(
    "text",
    [
        "Staff left my mother in a wet bed all night and nobody checked on her",
        "Dad pressed his buzzer for an hour and it was ignored",
        "They left nan in her chair for hours, nobody came to check",
        "No one checked on my aunt once during the night shift",
    ],
)
def test_neglect_told_as_what_happened_is_an_allegation(classifier: Classifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert verdict.flagged and "allegation" in verdict.categories, verdict.summary()


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to find out where your manager lives and make her pay",
        "You lot are going to pay for what you did to my dad",
    ],
)
def test_making_someone_pay_is_a_threat(classifier: Classifier, text: str) -> None:
    assert "threat" in classifier.classify(text).categories


PAYING_LOOK_ALIKES = [
    "The staff checked on mum every hour through the night, so reassuring",
    "Left the party all smiles, thank you for a lovely afternoon",
    "We'll pay for the raffle tickets at the door",
]
HAPPY_DAYS = [
    "We left them all day at the fair and they had a wonderful time",
    "The fire alarm test is on Tuesday at 10am, no need to worry",
]


@pytest.mark.parametrize("text", PAYING_LOOK_ALIKES)
def test_their_harmless_look_alikes_are_not_flagged(classifier: Classifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert not verdict.flagged, verdict.summary()


@pytest.mark.parametrize("text", HAPPY_DAYS)
def test_happy_days_and_notices_are_not_flagged(classifier: Classifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert not verdict.flagged, verdict.summary()


def test_with_the_model_the_filter_still_flags_every_kind_and_leaves_nine_in_ten_look_alikes() -> None:
    """The model only adds categories, so every kind above is still flagged; it also adds some false alarms
    (topic words such as "staff", "night", "Nigerian" carry weight for allegation and hate, see
    docs/model.md), and this holds them to at most one harmless comment in ten."""
    full = Classifier.from_settings(FilterSettings(), ["Brightwater Care"])
    kinds = [*CENSORED_PROFANITY, *GROUP_HATE, *PERSON_IN_DANGER, *HOT_BUTTON, *PLAINLY_NEGATIVE, *MISCONDUCT_INCIDENT]
    assert all(verdict.flagged for verdict in full.classify_many(kinds))
    harmless = [*HARMLESS, *PAYING_LOOK_ALIKES, *HAPPY_DAYS]
    false_alarms = [
        text for text, verdict in zip(harmless, full.classify_many(harmless), strict=True) if verdict.flagged
    ]
    assert len(false_alarms) <= len(harmless) // 10, false_alarms
