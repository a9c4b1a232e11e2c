"""Normalise → scan → sentiment → rules → verdict.

Every regex of every rule goes into one RE2 set and every phrase into one phrase matcher, so a comment is
scanned once however many rules there are; only the rules whose patterns were seen are then looked at one by
one, and only their matches are mapped back to the original text and explained. What a comment was found to
contain is gathered in a _Scan; _decide() is the one place where those signals become a Verdict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.filter.detectors import DETECTOR_DESCRIPTIONS, DETECTOR_HINTS, DETECTORS, detector_text
from monitor.filter.matcher import LEET_TRIGGER, STRETCHED_TRIGGER, Hits, PhraseMatcher
from monitor.filter.model import TextModel, shipped_model
from monitor.filter.model_stage import ModelStage
from monitor.filter.normalise import TRIGGERS, Normalised, fold, normalise_text, words_of
from monitor.filter.packs import load_packs, shared_lists
from monitor.filter.people import PersonFinder
from monitor.filter.settings import AccountOverride, FilterSettings, RuleSettings
from monitor.filter.verdict import CATEGORY_WORDS, CommentContext, Reason, Verdict

Span = tuple[int, int]

COUNTER_SPEECH_NOTE = " It seems to quote or report the words in order to object to them, so it is shown as low."
_NO_CONTEXT = CommentContext()
# The sentiment of a long comment is read from its opening SENTIMENT_TOKENS
# words and symbols; rules still match all of it. VADER's time grows with the
# square of the word count (and it turns each emoji into several words), so
# without a cap one huge comment could stall the service for minutes.
SENTIMENT_TOKENS = 400
_RE2_MAX_MEM = 256 << 20
# A negation counts among the NEGATION_WORDS words before a match, within NEGATION_REACH characters.
NEGATION_WORDS = 3
NEGATION_REACH = 40
_CLAUSE_ENDS = frozenset(".?;,:\n")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# What counts as quoting: text in straight or curly double quotes, curly single quotes, or straight single
# quotes with no letter or digit just outside either mark; 1 to 200 characters inside.
_QUOTED = re.compile(
    "\"[^\"]{1,200}\"|\u201c[^\u201d]{1,200}\u201d|\u2018[^\u2019]{1,200}\u2019|'(?<!\\w')[^']{1,200}'(?!\\w)"
)
_QUOTE_MARKS = ('"', "'", "\u201c", "\u2018")
_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)


class _PatternSet:
    """RE2 patterns scanned in one pass; a pattern that was seen is then searched alone for its spans."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._compiled: list[Any] = []
        self._match: Callable[[bytes], list[int] | None] | None = None

    def add(self, pattern: str) -> int:
        if pattern not in self._ids:
            self._ids[pattern] = len(self._compiled)
            self._compiled.append(re2.compile(pattern))
        return self._ids[pattern]

    def build(self) -> None:
        if not self._ids:
            return
        options = re2.Options()
        options.max_mem = _RE2_MAX_MEM
        patterns = re2.Set.SearchSet(options)
        for pattern in self._ids:
            patterns.Add(pattern)
        patterns.Compile()
        # google-re2's Set.Match is a Python method around its compiled set's Match; two scans run for every
        # comment, and calling the compiled one directly saves a fifth of each. Any other binding: its Match.
        self._match = getattr(patterns, "_set", patterns).Match

    def seen(self, text: str) -> tuple[int, ...]:
        """The ids of the patterns found in ``text``."""
        if self._match is None:
            return ()
        found = self._match(text.encode())
        return tuple(found) if found else ()

    def spans(self, pattern_id: int, text: str) -> list[Span]:
        return regex_spans(self._compiled[pattern_id], text)


def regex_spans(compiled: Any, text: str) -> list[Span]:
    """The spans finditer() gives for ``compiled`` (a google-re2 pattern) in ``text``.

    google-re2's finditer maps every offset back to characters and builds a match object in Python. For an
    ASCII text, whose byte offsets are its character offsets, this calls the compiled RE2 object's Match
    directly, as finditer does, in a quarter of the time. Any other text, or a binding without that object,
    goes through finditer.
    """
    inner = getattr(compiled, "_regexp", None)
    if inner is None or _UNANCHORED is None or not text.isascii():
        return [match.span() for match in compiled.finditer(text)]
    data = text.encode()
    position = 0
    end = len(data)
    spans: list[Span] = []
    while True:
        start, stop = inner.Match(_UNANCHORED, data, position, end)[0]
        if start < 0:
            return spans
        spans.append((start, stop))
        if position == end:
            return spans
        position = position + 1 if stop == position else stop


_NOTHING: frozenset[int] = frozenset()
_NO_HITS = Hits()


def _ids(ids: list[int]) -> frozenset[int]:
    return frozenset(ids) if ids else _NOTHING


@dataclass(frozen=True, slots=True)
class _Group:
    phrases: frozenset[int]
    regexes: frozenset[int]
    raw: frozenset[int]
    detectors: tuple[str, ...]


class _Rule:
    """A rule as the classifier reads it for every comment."""

    __slots__ = (
        "above",
        "alone",
        "author_in",
        "author_not_in",
        "below",
        "by_owner",
        "category",
        "conditional",
        "counter_speech",
        "detail",
        "explanation",
        "groups",
        "is_reply",
        "mentions_organisation",
        "mentions_person",
        "name",
        "negatable",
        "pack",
        "parent_author_in",
        "sentiment_below",
        "settings",
        "unless_phrases",
        "unless_regexes",
    )

    def __init__(
        self,
        settings: RuleSettings,
        pack: str | None,
        groups: list[_Group],
        unless_phrases: frozenset[int],
        unless_regexes: frozenset[int],
    ) -> None:
        self.settings = settings
        self.pack = pack  # the pack's name, or None for the operator's own rules
        self.groups = groups
        self.unless_phrases = unless_phrases
        self.unless_regexes = unless_regexes
        self.detail = _detail(settings)  # what the detectors look for, for the default explanation
        self.name = settings.name
        self.category = settings.category
        # the operator's explanation split at each {match}, or None
        self.explanation = tuple(settings.explanation.split("{match}")) if settings.explanation else None
        self.counter_speech = settings.counter_speech
        self.sentiment_below = settings.sentiment_below
        self.below = float("inf") if settings.sentiment_below is None else settings.sentiment_below
        self.above = float("-inf") if settings.sentiment_above is None else settings.sentiment_above
        self.is_reply = settings.is_reply
        self.by_owner = settings.by_owner
        self.mentions_organisation = settings.mentions_organisation
        self.mentions_person = settings.mentions_person
        self.author_in = tuple(settings.author_in)
        self.author_not_in = tuple(settings.author_not_in)
        self.parent_author_in = tuple(settings.parent_author_in)
        self.alone = settings.alone
        self.negatable = settings.negatable
        self.conditional = any(  # conditions other than sentiment (see _evaluate)
            value is not None
            for value in (self.is_reply, self.by_owner, self.mentions_organisation, self.mentions_person)
        ) or bool(self.author_in or self.author_not_in or self.parent_author_in)


@dataclass(slots=True)
class _Scan:
    """What one comment turned out to contain; the costlier parts are worked out when a rule first asks."""

    text: str
    normalised: Normalised
    regexes: tuple[int, ...]  # ids of the normalised-text patterns found
    phrases: Hits = _NO_HITS  # spans in the normalised text
    detector_text: str = ""
    seen_raw: tuple[int, ...] = ()  # ids of the original-text patterns found
    sentiment: dict[str, float] = field(default_factory=dict)
    compound: float = 0.0  # sentiment["compound"]
    context: CommentContext = _NO_CONTEXT
    detected: dict[str, list[Span]] = field(default_factory=dict)  # detector → spans, once a rule needed it
    names_someone: bool | None = None
    quoted: list[Span] | None = None


@dataclass(frozen=True, slots=True)
class _AccountView:
    disabled: frozenset[str]
    severity: dict[str, str]  # rule name → severity


# What the model leaves alone in a comment with a cheerful idiom that sounds violent ("you'll smash it").
CHEERFUL_LEAVES = ("threat", "abuse")


class Classifier:
    """Thread-safe for classify() and classify_many(): everything is built in the constructor and only read
    afterwards. A classifier can be pickled, to be used in another process (see batching.classified())."""

    def __init__(
        self,
        rules: Sequence[tuple[RuleSettings, str | None]],
        lists: dict[str, list[str]],
        settings: FilterSettings,
        model: TextModel | None = None,
    ) -> None:
        self._settings = settings
        self._made_from = (list(rules), lists, settings, model)
        self._model = ModelStage(model, settings, lists.get("organisation", [])) if model is not None else None
        self._default_severity = settings.default_severities()
        custom_words = {name: f"Flagged as {label}" for name, label in settings.category_labels().items()}
        self._category_words = {**CATEGORY_WORDS, **custom_words}
        self._polarity_scores: Callable[[str], dict[str, float]] = SentimentIntensityAnalyzer().polarity_scores
        self._matcher = PhraseMatcher()
        self._normalised = _PatternSet()
        self._raw = _PatternSet()
        self._lists = lists
        self._triggers = {self._normalised.add(pattern): name for name, pattern in TRIGGERS.items()}
        self._leet = self._normalised.add(LEET_TRIGGER)
        self._stretched = self._normalised.add(STRETCHED_TRIGGER)
        matched_lists = {name for rule, _ in rules for group in rule.groups() for name in group.lists}
        matched_lists |= {"organisation", "protected_names", "counter_speech_cues", "cheerful_idioms"}
        self._list_ids = {name: [self._matcher.add(p) for p in self._phrases(name)] for name in matched_lists}
        self._author_lists = {name: {_account_key(entry) for entry in entries} for name, entries in lists.items()}
        self._hint_ids = {name: self._raw.add(pattern) for name, pattern in DETECTOR_HINTS.items()}
        self._rules = [self._compile(rule, pack) for rule, pack in rules if self._can_fire(rule)]
        # Rules that read only VADER's sentiment: the model may overrule a flag they alone give.
        self.tone_rules = frozenset(
            rule.name for rule, _ in rules if not list(rule.groups()) and rule.sentiment_below is not None
        )
        self._rules.sort(key=lambda rule: -rule.settings.priority)
        self._negations = frozenset(normalise_text(word) for word in lists.get("negations", []))
        self._counter_cues = frozenset(self._list_ids.get("counter_speech_cues", []))
        self._cheerful = frozenset(self._list_ids.get("cheerful_idioms", []))
        self._organisation = frozenset(self._list_ids.get("organisation", []))
        self._protected = frozenset(self._list_ids.get("protected_names", []))
        self._people = PersonFinder(lists.get("first_names", []))
        self._matcher.build()
        self._normalised.build()
        self._raw.build()
        by_phrase: dict[int, list[int]] = {}
        by_regex: dict[int, list[int]] = {}
        by_raw: dict[int, list[int]] = {}  # raw pattern id → rules, including those whose detector it hints at
        always: list[int] = []
        for index, rule in enumerate(self._rules):
            if not rule.groups:
                always.append(index)
                continue
            first = rule.groups[0]
            for pid in first.phrases:
                by_phrase.setdefault(pid, []).append(index)
            for pid in first.regexes:
                by_regex.setdefault(pid, []).append(index)
            for pid in first.raw:
                by_raw.setdefault(pid, []).append(index)
            for name in first.detectors:
                by_raw.setdefault(self._hint_ids[name], []).append(index)
        self._by_phrase = {pid: tuple(indices) for pid, indices in by_phrase.items()}
        self._by_regex = {pid: tuple(indices) for pid, indices in by_regex.items()}
        self._by_raw = {pid: tuple(indices) for pid, indices in by_raw.items()}
        self._always = tuple(always)
        self._accounts = {name: self._account_view(name) for name in settings.accounts}
        self._no_account = self._account_view(None)

    def __reduce__(self) -> tuple[type[Classifier], tuple[Any, ...]]:
        """Pickled as what it is built from, and built again where it is unpickled (e.g. in a worker process
        started by spawn): its automata and compiled patterns cannot be pickled themselves."""
        return Classifier, self._made_from

    @classmethod
    def from_settings(
        cls,
        settings: FilterSettings,
        organisation_names: Sequence[str] = (),
        base_dir: Path = Path("."),
        model: TextModel | None = None,
    ) -> Classifier:
        """The rules of ``settings``, with the shipped model (or ``model``) unless the settings switch it off."""
        missing = settings.missing_files(base_dir)
        if missing:
            raise ValueError("; ".join(missing))
        packs = load_packs()
        disabled_packs = set(settings.disabled_packs)
        overridden = {rule.name for rule in settings.rules}
        rules: list[tuple[RuleSettings, str | None]] = [
            (_with_threshold(rule, settings) if pack.name == "negative" else rule, pack.name)
            for pack in packs.values()
            if pack.name not in disabled_packs
            for rule in pack.rules
            if rule.name not in overridden
        ]
        rules += [(rule, None) for rule in settings.rules]
        rules = [(rule, pack) for rule, pack in rules if rule.enabled and rule.name not in settings.disabled_rules]
        return cls(rules, _gather_lists(settings, organisation_names, base_dir), settings, _model_for(settings, model))

    # building

    def _phrases(self, list_name: str) -> list[str]:
        return [entry.lstrip("@") for entry in self._lists.get(list_name, []) if words_of(normalise_text(entry))]

    def _can_fire(self, rule: RuleSettings) -> bool:
        """False for a rule that needs a list nobody filled in (e.g. staff accounts when none are configured)."""
        needs = [*rule.author_in, *rule.parent_author_in]
        if needs and not any(self._lists.get(name) for name in needs):
            return False
        return all(
            group.words
            or group.regex
            or group.raw_regex
            or group.detectors
            or any(self._lists.get(name) for name in group.lists)
            for group in rule.groups()
        )

    def _compile(self, rule: RuleSettings, pack: str | None) -> _Rule:
        groups = []
        for group in rule.groups():
            phrases = [self._matcher.add(p) for p in group.words]
            for name in group.lists:
                phrases += self._list_ids.get(name, [])
            regexes = _ids([self._normalised.add(p) for p in group.regex])
            raw = _ids([self._raw.add(p) for p in group.raw_regex])
            groups.append(_Group(_ids(phrases), regexes, raw, tuple(group.detectors)))
        unless_phrases = _ids([self._matcher.add(p) for p in rule.unless_words])
        unless_regexes = _ids([self._normalised.add(p) for p in rule.unless_regex])
        return _Rule(rule, pack, groups, unless_phrases, unless_regexes)

    def _account_view(self, account: str | None) -> _AccountView:
        override = self._settings.accounts.get(account) if account else None
        disabled_packs = set(override.disabled_packs) if override else set()
        disabled = {rule.name for rule in self._rules if rule.pack in disabled_packs}
        if override:
            disabled |= set(override.disabled_rules)
        severity = {rule.name: self._severity_of(rule.settings, override) for rule in self._rules}
        return _AccountView(frozenset(disabled), severity)

    def _severity_of(self, rule: RuleSettings, override: AccountOverride | None) -> str:
        if override is not None:
            if rule.name in override.rule_severity:
                return override.rule_severity[rule.name]
            if rule.severity is None and rule.category in override.category_severity:
                return override.category_severity[rule.category]
        if rule.severity is not None:
            return rule.severity
        return self._default_severity[rule.category]

    # classifying

    @property
    def rule_names(self) -> list[str]:
        return [rule.name for rule in self._rules]

    def classify(self, text: str, context: CommentContext | None = None) -> Verdict:
        if not isinstance(text, str):
            raise TypeError(f"a comment's text must be a str, not {type(text).__name__}")
        scan = self._fold_and_search(text)
        self._find_phrases(scan)
        self._search_original(scan)
        self._read_sentiment(scan)
        return self._decide(scan, context)

    def classify_many(
        self, texts: Sequence[str], contexts: Sequence[CommentContext | None] | None = None
    ) -> list[Verdict]:
        """The verdicts classify() gives, for many comments at once, in order.

        Each stage (folding and the RE2 scan, the phrase matcher, the scan of the original text, VADER, the
        rules' decisions) runs over the whole batch in turn, so each finds its code and tables still in the
        processor's caches instead of evicting the others' for every comment.
        """
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(contexts)} contexts")
        scans = [self._fold_and_search(text) for text in texts]
        for scan in scans:
            self._find_phrases(scan)
        for scan in scans:
            self._search_original(scan)
        for scan in scans:
            self._read_sentiment(scan)
        if contexts is None:
            return [self._decide(scan, None) for scan in scans]
        return [self._decide(scan, context) for scan, context in zip(scans, contexts, strict=True)]

    def sentiment(self, text: str) -> dict[str, float]:
        """VADER's scores for the comment's opening (its cost grows faster than the text does)."""
        return self._polarity_scores(sentiment_window(text))

    # the signals of one comment

    def _fold_and_search(self, text: str) -> _Scan:
        normalised = fold(text)
        regexes = self._normalised.seen(normalised.text)
        if regexes and not self._triggers.keys().isdisjoint(regexes):
            normalised = normalised.repaired({self._triggers[pid] for pid in regexes if pid in self._triggers})
            regexes = self._normalised.seen(normalised.text)
        return _Scan(text, normalised, regexes)

    def _find_phrases(self, scan: _Scan) -> None:
        scan.phrases = self._matcher.hits(
            scan.normalised.text, leet=self._leet in scan.regexes, stretched=self._stretched in scan.regexes
        )

    def _search_original(self, scan: _Scan) -> None:
        scan.detector_text = detector_text(scan.text)
        scan.seen_raw = self._raw.seen(scan.detector_text)

    def _read_sentiment(self, scan: _Scan) -> None:
        scan.sentiment = self.sentiment(scan.text)
        scan.compound = scan.sentiment["compound"]

    # the verdict

    def _decide(self, scan: _Scan, context: CommentContext | None) -> Verdict:
        """The one place where a comment's signals become its verdict: each candidate rule is evaluated
        (rules marked ``alone`` only when no other fired), and the reasons are ordered by severity."""
        scan.context = _NO_CONTEXT if context is None else context
        view = self._accounts.get(scan.context.account or "", self._no_account)
        reasons: list[Reason] = []
        alone: list[_Rule] = []
        for index in self._candidates(scan):
            rule = self._rules[index]
            if rule.name in view.disabled:
                continue
            if rule.alone:
                alone.append(rule)
                continue
            reason = self._evaluate(rule, scan, view)
            if reason is not None:
                reasons.append(reason)
        if not reasons:
            for rule in alone:
                reason = self._evaluate(rule, scan, view)
                if reason is not None:
                    reasons.append(reason)
        if self._model is not None:
            cheerful = bool(self._cheerful) and scan.phrases.any_of(self._cheerful)
            reasons += self._model.reasons(scan.text, scan.context, reasons, CHEERFUL_LEAVES if cheerful else ())
            tone_alone = reasons and all(reason.rule in self.tone_rules for reason in reasons)
            if tone_alone and self._model.overrules_tone(scan.text, scan.context):
                reasons = []
        return Verdict.from_reasons(reasons, scan.sentiment)

    def _candidates(self, scan: _Scan) -> list[int]:
        """In order, the rules whose first group saw something; the other groups are checked when the rule is
        evaluated."""
        marked = set(self._always)
        by_phrase = self._by_phrase
        for pid in scan.phrases.phrase_ids():
            marked.update(by_phrase.get(pid, ()))
        for pid in scan.regexes:
            marked.update(self._by_regex.get(pid, ()))
        for pid in scan.seen_raw:
            marked.update(self._by_raw.get(pid, ()))
        return sorted(marked)

    def _evaluate(self, rule: _Rule, scan: _Scan, view: _AccountView) -> Reason | None:
        if not rule.above < scan.compound < rule.below:  # most rules that are looked at and fail, fail here
            return None
        if rule.unless_phrases and scan.phrases.any_of(rule.unless_phrases):
            return None
        if rule.unless_regexes and not rule.unless_regexes.isdisjoint(scan.regexes):
            return None
        if rule.conditional and not self._conditions_hold(rule, scan):
            return None
        spans: list[Span] = []
        for group in rule.groups:
            found = self._group_spans(group, scan, rule.negatable)
            if not found:
                return None
            spans.extend(found)
        severity = view.severity[rule.name]
        note = ""
        if rule.counter_speech != "ignore" and self._is_counter_speech(scan, spans):
            if rule.counter_speech == "cancel":
                return None
            severity = "low"
            note = COUNTER_SPEECH_NOTE
        spans = _merge(spans)
        matched = [scan.text[start:end] for start, end in spans]
        explanation = _explain(rule, matched, scan, self._category_words[rule.category])
        return Reason(rule.name, rule.category, severity, explanation + note, matched, spans)

    def _conditions_hold(self, rule: _Rule, scan: _Scan) -> bool:
        context = scan.context
        if rule.is_reply is not None and rule.is_reply != context.is_reply:
            return False
        if rule.by_owner is not None and rule.by_owner != context.by_owner:
            return False
        if rule.author_in and not any(self._author_on(name, context) for name in rule.author_in):
            return False
        if rule.author_not_in and any(self._author_on(name, context) for name in rule.author_not_in):
            return False
        if rule.parent_author_in and not any(
            _account_key(context.parent_author_id or "") in self._author_lists.get(name, ())
            for name in rule.parent_author_in
        ):
            return False
        if rule.mentions_organisation is not None:
            mentioned = scan.phrases.any_of(self._organisation)
            if mentioned != rule.mentions_organisation:
                return False
        return rule.mentions_person is None or rule.mentions_person == self._names_someone(scan)

    def _author_on(self, list_name: str, context: CommentContext) -> bool:
        members = self._author_lists.get(list_name, set())
        keys = {_account_key(value) for value in (context.author_id, context.author_name) if value}
        return bool(keys & members)

    def _names_someone(self, scan: _Scan) -> bool:
        """A protected name, or a person's name the finder recognises."""
        if scan.names_someone is None:
            scan.names_someone = scan.phrases.any_of(self._protected) or self._people.names_someone(scan.text)
        return scan.names_someone

    def _group_spans(self, group: _Group, scan: _Scan, negatable: bool) -> list[Span]:
        normalised = scan.normalised
        text = normalised.text
        found = scan.phrases.spans_of(group.phrases)
        if group.regexes and scan.regexes:
            for pid in group.regexes.intersection(scan.regexes):
                found.extend(self._normalised.spans(pid, text))
        if negatable and found and self._negations:
            found = [span for span in found if not self._negated(text, span[0])]
        spans = normalised.spans_in_original(found)
        if group.raw and scan.seen_raw:
            for pid in group.raw.intersection(scan.seen_raw):
                spans.extend(self._raw.spans(pid, scan.detector_text))
        for name in group.detectors:
            if name not in scan.detected:
                hinted = self._hint_ids[name] in scan.seen_raw
                scan.detected[name] = DETECTORS[name](scan.detector_text) if hinted else []
            spans.extend(scan.detected[name])
        return spans

    def _negated(self, text: str, start: int) -> bool:
        """A negation among the NEGATION_WORDS words before a match, within the same clause and at most
        NEGATION_REACH characters back."""
        low = max(start - NEGATION_REACH, 0)
        position = start
        word_end = -1
        words = 0
        while position > low and words < NEGATION_WORDS:
            position -= 1
            char = text[position]
            if char in _CLAUSE_ENDS:
                break
            if char not in _WORD_CHARS:
                continue
            if word_end < 0:
                word_end = position + 1
            if position == low or text[position - 1] not in _WORD_CHARS:
                if text[position:word_end] in self._negations:
                    return True
                word_end = -1
                words += 1
        return False

    def _is_counter_speech(self, scan: _Scan, spans: list[Span]) -> bool:
        if scan.phrases.any_of(self._counter_cues):
            return True
        if scan.quoted is None:
            scan.quoted = quotations(scan.text) if any(mark in scan.text for mark in _QUOTE_MARKS) else []
        return any(
            quote_start <= start and end <= quote_end for start, end in spans for quote_start, quote_end in scan.quoted
        )


def quotations(text: str) -> list[Span]:
    """The spans of what is in quotation marks (see _QUOTED), found left to right without overlapping."""
    return [match.span() for match in _QUOTED.finditer(text)]


def _account_key(value: str) -> str:
    return value.strip().lstrip("@").casefold()


def _merge(spans: list[Span]) -> list[Span]:
    """The spans in order, overlapping ones joined."""
    if len(spans) == 1:
        return spans
    merged: list[Span] = []
    for start, end in sorted(set(spans)):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _detail(rule: RuleSettings) -> str:
    groups = rule.groups()
    detectors = [DETECTOR_DESCRIPTIONS[d] for g in groups for d in g.detectors]
    return f" ({' or '.join(detectors)})" if detectors and len(groups) == 1 else ""


def _explain(rule: _Rule, matched: list[str], scan: _Scan, words: str) -> str:
    quoted = _quoted(matched)
    if rule.explanation is not None:
        return quoted.join(rule.explanation)
    if rule.sentiment_below is not None and not quoted:
        return f"{words} (sentiment {scan.compound:+.2f})."
    return f"{words}{rule.detail}: {quoted}." if quoted else f"{words}."


def _quoted(matched: list[str]) -> str:
    """Of the first three matches, each that is not empty in quotation marks, separated by commas."""
    pieces = [piece for piece in matched[:3] if piece]
    return f"“{'”, “'.join(pieces)}”" if pieces else ""


def _model_for(settings: FilterSettings, model: TextModel | None) -> TextModel | None:
    """``model`` or the shipped one, unless [filter.model] and every account switch it off."""
    wanted = [settings.model.enabled, *(a.model.over(settings.model).enabled for a in settings.accounts.values())]
    if all(enabled is False for enabled in wanted):
        return None
    return model if model is not None else shipped_model()


def _with_threshold(rule: RuleSettings, settings: FilterSettings) -> RuleSettings:
    """The negative pack's sentiment cut-off is the operator's filter.negative_threshold."""
    if rule.sentiment_below is None:
        return rule
    return rule.model_copy(update={"sentiment_below": settings.negative_threshold})


def _read_names(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _gather_lists(settings: FilterSettings, organisation_names: Sequence[str], base_dir: Path) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {name: list(values) for name, values in shared_lists().items()}
    for pack in load_packs().values():
        for name, entries in pack.lists.items():
            lists.setdefault(name, []).extend(entries)
    for name, values in settings.lists.items():
        lists[name] = list(values)
    for name, path in settings.list_files.items():
        lists[name] = _read_names(base_dir / path)
    for name, words in settings.extra_words.items():
        lists.setdefault(name, []).extend(words)
    for name, words in settings.disabled_words.items():
        stopped = {word.casefold() for word in words}
        lists[name] = [entry for entry in lists.get(name, []) if entry.casefold() not in stopped]
    lists["organisation"] = [
        *organisation_names,
        *settings.organisation_aliases,
        *settings.lists.get("organisation", []),
    ]
    lists["protected_names"] = [
        *(_read_names(base_dir / settings.protected_names_file) if settings.protected_names_file else []),
        *settings.lists.get("protected_names", []),
    ]
    lists["staff"] = [*settings.staff_accounts, *settings.lists.get("staff", [])]
    lists["service_users"] = [*settings.service_user_accounts, *settings.lists.get("service_users", [])]
    return lists


def sentiment_window(text: str) -> str:
    """The opening of ``text`` holding at most SENTIMENT_TOKENS words and non-ASCII symbols."""
    if len(text) <= SENTIMENT_TOKENS:
        return text
    tokens = 0
    in_word = False
    for position, character in enumerate(text):
        if character.isspace():
            in_word = False
            continue
        if not character.isascii() and unicodedata.category(character) in ("So", "Sk", "Cs"):
            tokens += 1
        elif not in_word:
            tokens += 1
            in_word = True
        if tokens > SENTIMENT_TOKENS:
            return text[:position]
    return text
