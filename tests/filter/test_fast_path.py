"""The cheap screens in front of the phrase matcher and the rules: what they let through still flags, with the
same spans, and what they skip could not have matched."""

from __future__ import annotations

import re

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st

from monitor.filter import Classifier, FilterSettings
from monitor.filter.classifier import quotations, regex_spans
from monitor.filter.matcher import LEET_TRIGGER, STRETCHED_TRIGGER, PhraseMatcher
from monitor.filter.normalise import fold, normalise
from monitor.filter.settings import RuleSettings

_LEET = re2.compile(LEET_TRIGGER)
_STRETCHED = re2.compile(STRETCHED_TRIGGER)


def _matcher(*phrases: str) -> tuple[PhraseMatcher, list[int]]:
    matcher = PhraseMatcher()
    return matcher, [matcher.add(phrase) for phrase in phrases]


def test_wildcard_prefix_index_finds_longer_words() -> None:
    matcher, (stab,) = _matcher("stab*")
    assert matcher.find("he was stabbing people") == {stab: [(7, 15)]}
    assert matcher.find("he was stabbed") == {stab: [(7, 14)]}
    assert matcher.find("stab") == {stab: [(0, 4)]}
    assert matcher.find("a stable home") == {stab: [(2, 8)]}
    assert matcher.find("the sta bing") == {}


def test_a_short_stem_is_found_through_its_own_key() -> None:
    matcher, (kill, burn) = _matcher("kil*", "burn* it down")
    assert kill in matcher.find("killers")
    assert burn in matcher.find("burning it down")
    assert burn not in matcher.find("burning it")


def test_longer_phrases_need_their_words_next_to_each_other() -> None:
    matcher, (lot, where) = _matcher("you lot are", "i know where")
    assert lot in matcher.find("honestly you lot are useless")
    assert lot not in matcher.find("you are a lot")
    assert where in matcher.find("i know where you live")
    assert matcher.find("i know you") == {}


def test_a_comment_with_none_of_the_words_finds_nothing() -> None:
    matcher, _ = _matcher("scam", "you lot are", "stab*")
    assert matcher.find("lovely photos from the summer fair, thank you all") == {}


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("sh1te company", "shite"),
        ("stuuuupid people", "stupid"),
        ("y0u lot are useless", "you lot are"),
        ("st4bbing", "stab*"),
    ],
)
def test_readings_follow_the_triggers_the_caller_passes(text: str, phrase: str) -> None:
    matcher, (phrase_id,) = _matcher(phrase)
    normalised = normalise(text).text
    told = matcher.find(
        normalised, leet=bool(_LEET.search(normalised)), stretched=bool(_STRETCHED.search(normalised))
    )
    assert phrase_id in told
    assert told == matcher.find(normalised)


_WORDISH = st.text(alphabet="abeilost013457$ .!@|'*#-", max_size=40)


@given(_WORDISH)
def test_the_re2_triggers_agree_with_the_matchers_own_checks(text: str) -> None:
    matcher, _ = _matcher("shit", "stupid", "you lot are", "stab*", "hope * ok", "lost")
    normalised = normalise(text).text
    told = matcher.find(
        normalised, leet=bool(_LEET.search(normalised)), stretched=bool(_STRETCHED.search(normalised))
    )
    assert told == matcher.find(normalised)
    assert bool(_STRETCHED.search(normalised)) == bool(re.search(r"([a-z])\1\1", normalised))


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("sh!t", "shit"),
        ("sh|t", "shit"),
        ("b@stard", "bastard"),
        ("@ss", "ass"),
        ("@sam hi!", "@sam hi!"),
        ("wow! great", "wow! great"),
        ("a@@ss", "a@ass"),
    ],
)
def test_symbols_inside_words_are_read_as_letters(original: str, expected: str) -> None:
    assert fold(original).text == expected


def test_deleted_marks_map_back_to_the_original() -> None:
    result = fold("#Scam isn't f*cking funny")
    assert result.text == "scam isnt fcking funny"
    start = result.text.index("fcking")
    assert result.quote(start, start + len("fcking")) == "f*cking"
    assert result.quote(0, 4) == "Scam"


@pytest.fixture(scope="module")
def loaded() -> Classifier:
    extra = [
        RuleSettings(name=f"extra-{n}", category="abuse", words=[f"zq{n:04d}word", f"zq{n:04d}stem*"])
        for n in range(300)
    ]
    extra.append(RuleSettings(name="extra-regex", category="controversial", regex=[r"\bvote\w*\s+\d{2,4}\b"]))
    return Classifier.from_settings(FilterSettings(rules=extra))


@pytest.mark.parametrize(
    ("text", "rule", "quoted"),
    [
        ("you lot are a b o l l o c k s and i hate you", "profanity", "b o l l o c k s"),
        ("what a load of sh1t", "profanity", "sh1t"),
        ("F\u200bU\u200bC\u200bK this place", "profanity", "F\u200bU\u200bC\u200bK"),
        ("this lot are \u0455h\u0456te", "profanity", "\u0455h\u0456te"),
        ("total zq0042stemming nonsense", "extra-42", "zq0042stemming"),
        ("ZQ0007WORD!!", "extra-7", "ZQ0007WORD"),
        ("vote 2024 now", "extra-regex", "vote 2024"),
    ],
)
def test_a_comment_matching_only_through_evasion_or_extra_rules_flags(
    loaded: Classifier, text: str, rule: str, quoted: str
) -> None:
    verdict = loaded.classify(text)
    reasons = {reason.rule: reason for reason in verdict.reasons}
    assert rule in reasons, verdict.summary()
    assert quoted in reasons[rule].matched
    for (start, end), matched in zip(reasons[rule].spans, reasons[rule].matched, strict=True):
        assert text[start:end] == matched


def test_a_clean_comment_is_not_flagged_however_many_rules(loaded: Classifier) -> None:
    verdict = loaded.classify("Lovely photos from the summer fair, thank you all so much")
    assert not verdict.flagged
    assert verdict.sentiment["compound"] > 0


def test_counter_speech_needs_a_real_quotation(default_classifier: Classifier) -> None:
    quoting = default_classifier.classify("He called the carers 'lazy bitches' and that is not on")
    assert {r.severity for r in quoting.reasons if r.rule == "profanity"} == {"low"}
    not_quoting = default_classifier.classify("Carer's lazy bitches the lot of them'")
    assert {r.severity for r in not_quoting.reasons if r.rule == "profanity"} == {"medium"}


# What counts as quoting, written as a regex; quotations() finds the same spans in one pass.
_QUOTED = re.compile(
    "\"[^\"]{1,200}\"|\u201c[^\u201d]{1,200}\u201d|\u2018[^\u2019]{1,200}\u2019|'(?<!\\w')[^']{1,200}'(?!\\w)"
)


@given(st.text(alphabet="ab_\u00e9 .\"'\u201c\u201d\u2018\u2019", max_size=60))
def test_quotations_are_what_the_quoting_regex_finds(text: str) -> None:
    assert quotations(text) == [match.span() for match in _QUOTED.finditer(text)]


@pytest.mark.parametrize("inside", [1, 199, 200, 201, 250])
@pytest.mark.parametrize(("opening", "closing"), [('"', '"'), ("\u201c", "\u201d"), ("'", "'")])
def test_a_quotation_holds_at_most_200_characters(inside: int, opening: str, closing: str) -> None:
    text = f"he said {opening}{'x' * inside}{closing} today"
    assert quotations(text) == [match.span() for match in _QUOTED.finditer(text)]
    assert bool(quotations(text)) == (inside <= 200)


_SPAN_PATTERNS = [re2.compile(p) for p in (r"\bscam\w*", r"a*", r"\b", r"(?i)f[*#]+k", r"\d{3}\s?\d{4}", "é+")]


@given(st.sampled_from(_SPAN_PATTERNS), st.text(alphabet="abcmsF*#k 0123é.", max_size=30))
def test_regex_spans_are_finditers_spans(pattern: re2._Regexp, text: str) -> None:
    expected = [match.span() for match in pattern.finditer(text)]
    assert regex_spans(pattern, text) == expected


class _FinditerOnly:
    """A pattern from a binding without google-re2's compiled object: regex_spans must use finditer."""

    def __init__(self, pattern: str) -> None:
        self._compiled = re2.compile(pattern)

    def finditer(self, text: str):  # type: ignore[no-untyped-def]
        return self._compiled.finditer(text)


def test_regex_spans_falls_back_to_finditer() -> None:
    assert regex_spans(_FinditerOnly(r"\bscam\w*"), "scams and scammers") == [(0, 5), (10, 18)]


def test_the_installed_binding_takes_the_direct_path() -> None:
    # If a google-re2 upgrade moves its compiled object, spans still come out right (the fallback), but about
    # four times slower: this test says so.
    compiled = re2.compile("x")
    assert callable(getattr(getattr(compiled, "_regexp", None), "Match", None))
    assert getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None) is not None


_GOOGLE_SET = re2.Set


class _SetWithoutCompiledSet:
    """re2.Set as another binding might offer it: Add, Compile and Match, with no compiled set inside."""

    def __init__(self, options: re2.Options) -> None:
        self._patterns = _GOOGLE_SET.SearchSet(options)

    @classmethod
    def SearchSet(cls, options: re2.Options) -> _SetWithoutCompiledSet:  # noqa: N802 (google-re2's name)
        return cls(options)

    def Add(self, pattern: str) -> int:  # noqa: N802
        return self._patterns.Add(pattern)

    def Compile(self) -> None:  # noqa: N802
        self._patterns.Compile()

    def Match(self, text: bytes) -> list[int] | None:  # noqa: N802
        return self._patterns.Match(text)


def test_a_set_without_the_compiled_set_inside_gives_the_same_verdicts(
    default_classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [
        "You are all scum and I know where you live",
        "Call 07700 900123 about Mary's room at 12 Oak Road",
        "lovely day out, thank you",
        "",
    ]
    monkeypatch.setattr(re2, "Set", _SetWithoutCompiledSet)
    through_match = Classifier.from_settings(FilterSettings())
    expected = [verdict.to_dict() for verdict in default_classifier.classify_many(texts)]
    assert [verdict.to_dict() for verdict in through_match.classify_many(texts)] == expected
    assert sum(verdict["flagged"] for verdict in expected) == 2


def test_the_installed_binding_scans_through_its_compiled_set() -> None:
    # As above: if an upgrade moves it, verdicts stay the same (Set.Match is used) but every scan is slower.
    assert callable(getattr(getattr(re2.Set.SearchSet(), "_set", None), "Match", None))
