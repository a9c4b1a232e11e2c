"""Normalise → sentiment → rules → verdict.

Every regex of every rule goes into one RE2 set and every phrase into one word index, so a comment is
scanned once however many rules there are; only the rules whose patterns were seen are then looked at one
by one, and only their matches are mapped back to the original text and explained.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import re2
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.filter.detectors import DETECTOR_DESCRIPTIONS, DETECTOR_HINTS, DETECTORS, Span, detector_text
from monitor.filter.matcher import LEET_TRIGGER, STRETCHED_TRIGGER, PhraseMatcher
from monitor.filter.normalise import TRIGGERS, Normalised, fold, normalise_text, words_of
from monitor.filter.packs import load_packs, shared_lists
from monitor.filter.people import PersonFinder
from monitor.filter.settings import AccountOverride, FilterSettings, RuleSettings
from monitor.filter.verdict import DEFAULT_CATEGORY_SEVERITY, CommentContext, Reason, Verdict

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
_CLAUSE_BREAKS = ".?;,:\n"
_QUOTED = re.compile(  # every branch starts with its quote mark, so the scan skips to those
    "\"[^\"]{1,200}\"|\u201c[^\u201d]{1,200}\u201d|\u2018[^\u2019]{1,200}\u2019|'(?<!\\w')[^']{1,200}'(?!\\w)"
)
_NO_CONTEXT = CommentContext()
# The sentiment of a long comment is read from its opening SENTIMENT_TOKENS
# words and symbols; rules still match all of it. VADER's time grows with the
# square of the word count (and it turns each emoji into several words), so
# without a cap one huge comment could stall the service for minutes.
SENTIMENT_TOKENS = 400
_RE2_MAX_MEM = 256 << 20


class _PatternSet:
    """RE2 patterns scanned in one pass; a pattern that was seen is then searched alone for its spans."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._compiled: list[re2._Regexp] = []
        self._set: re2.Set | None = None

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
        self._set = re2.Set.SearchSet(options)
        for pattern in self._ids:
            self._set.Add(pattern)
        self._set.Compile()

    def seen(self, text: str) -> frozenset[int]:
        return frozenset(self._set.Match(text.encode()) or ()) if self._set is not None else frozenset()

    def spans(self, pattern_id: int, text: str) -> list[Span]:
        return [m.span() for m in self._compiled[pattern_id].finditer(text)]


@dataclass(frozen=True)
class _Group:
    phrases: frozenset[int]
    regexes: frozenset[int]
    raw: frozenset[int]
    detectors: tuple[str, ...]


@dataclass
class _Rule:
    settings: RuleSettings
    pack: str | None
    groups: list[_Group]
    unless_phrases: frozenset[int]
    unless_regexes: frozenset[int]
    detail: str  # what the detectors look for, for the default explanation

    @property
    def name(self) -> str:
        return self.settings.name


@dataclass(slots=True)
class _Scan:
    """What one comment turned out to contain, worked out lazily and at most once."""

    text: str
    normalised: Normalised
    phrases: dict[int, list[Span]]  # spans in the normalised text
    regexes: frozenset[int]
    seen_raw: frozenset[int]
    sentiment: dict[str, float]
    context: CommentContext
    detector_text: str
    detected: dict[str, list[Span]] = field(default_factory=dict)
    people: list[Span] | None = None
    quoted: list[Span] | None = None


@dataclass(frozen=True)
class _AccountView:
    disabled: frozenset[str]
    severity: dict[str, str]  # rule name → severity


class Classifier:
    """Thread-safe for classify(): everything is built in the constructor and only read afterwards."""

    def __init__(
        self,
        rules: Sequence[tuple[RuleSettings, str | None]],
        lists: dict[str, list[str]],
        settings: FilterSettings,
    ) -> None:
        self._settings = settings
        self._analyzer = SentimentIntensityAnalyzer()
        self._matcher = PhraseMatcher()
        self._normalised = _PatternSet()
        self._raw = _PatternSet()
        self._lists = lists
        self._triggers = {self._normalised.add(pattern): name for name, pattern in TRIGGERS.items()}
        self._leet = self._normalised.add(LEET_TRIGGER)
        self._stretched = self._normalised.add(STRETCHED_TRIGGER)
        matched_lists = {name for rule, _ in rules for group in rule.groups() for name in group.lists}
        matched_lists |= {"organisation", "protected_names", "counter_speech_cues"}
        self._list_ids = {name: [self._matcher.add(p) for p in self._phrases(name)] for name in matched_lists}
        self._author_lists = {name: {_account_key(entry) for entry in entries} for name, entries in lists.items()}
        self._hints = {self._raw.add(pattern): name for name, pattern in DETECTOR_HINTS.items()}
        self._hint_ids = {name: pid for pid, name in self._hints.items()}
        self._rules = [self._compile(rule, pack) for rule, pack in rules if self._can_fire(rule)]
        self._rules.sort(key=lambda rule: -rule.settings.priority)
        self._negations = frozenset(normalise_text(word) for word in lists.get("negations", []))
        self._counter_cues = frozenset(self._list_ids.get("counter_speech_cues", []))
        self._organisation = frozenset(self._list_ids.get("organisation", []))
        self._protected = frozenset(self._list_ids.get("protected_names", []))
        self._people = PersonFinder(lists.get("first_names", []))
        self._normalised.build()
        self._raw.build()
        self._by_phrase: dict[int, list[int]] = {}
        self._by_regex: dict[int, list[int]] = {}
        self._by_raw: dict[int, list[int]] = {}
        self._by_detector: dict[str, list[int]] = {}
        self._always: list[int] = []
        for index, rule in enumerate(self._rules):
            if not rule.groups:
                self._always.append(index)
                continue
            first = rule.groups[0]
            for pid in first.phrases:
                self._by_phrase.setdefault(pid, []).append(index)
            for pid in first.regexes:
                self._by_regex.setdefault(pid, []).append(index)
            for pid in first.raw:
                self._by_raw.setdefault(pid, []).append(index)
            for name in first.detectors:
                self._by_detector.setdefault(name, []).append(index)
        self._accounts = {name: self._account_view(name) for name in settings.accounts}
        self._no_account = self._account_view(None)

    @classmethod
    def from_settings(
        cls, settings: FilterSettings, organisation_names: Sequence[str] = (), base_dir: Path = Path(".")
    ) -> Classifier:
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
        rules = [
            (rule, pack)
            for rule, pack in rules
            if rule.enabled and rule.name not in settings.disabled_rules
        ]
        return cls(rules, _gather_lists(settings, organisation_names, base_dir), settings)

    # building

    def _phrases(self, list_name: str) -> list[str]:
        return [entry.lstrip("@") for entry in self._lists.get(list_name, []) if words_of(normalise_text(entry))]

    def _can_fire(self, rule: RuleSettings) -> bool:
        """False for a rule that needs a list nobody filled in (e.g. staff accounts when none are configured)."""
        needs = [*rule.author_in, *rule.parent_author_in]
        if needs and not any(self._lists.get(name) for name in needs):
            return False
        return all(
            group.words or group.regex or group.raw_regex or group.detectors
            or any(self._lists.get(name) for name in group.lists)
            for group in rule.groups()
        )

    def _compile(self, rule: RuleSettings, pack: str | None) -> _Rule:
        groups = []
        for group in rule.groups():
            phrases = [self._matcher.add(p) for p in group.words]
            for name in group.lists:
                phrases += self._list_ids.get(name, [])
            regexes = frozenset(self._normalised.add(p) for p in group.regex)
            raw = frozenset(self._raw.add(p) for p in group.raw_regex)
            groups.append(_Group(frozenset(phrases), regexes, raw, tuple(group.detectors)))
        unless_phrases = frozenset(self._matcher.add(p) for p in rule.unless_words)
        unless_regexes = frozenset(self._normalised.add(p) for p in rule.unless_regex)
        return _Rule(rule, pack, groups, unless_phrases, unless_regexes, _detail(rule))

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
        return self._settings.category_severity.get(rule.category, DEFAULT_CATEGORY_SEVERITY[rule.category])

    # classifying

    @property
    def rule_names(self) -> list[str]:
        return [rule.name for rule in self._rules]

    def classify(self, text: str, context: CommentContext | None = None) -> Verdict:
        context = context or _NO_CONTEXT
        scan = self._scan(text, context)
        view = self._accounts.get(context.account or "", self._no_account)
        reasons: list[Reason] = []
        alone: list[_Rule] = []
        rules, disabled = self._rules, view.disabled
        for index in sorted(self._candidates(scan)):
            rule = rules[index]
            if rule.settings.name in disabled:
                continue
            if rule.settings.alone:
                alone.append(rule)
                continue
            reason = self._evaluate(rule, scan, view)
            if reason is not None:
                reasons.append(reason)
        if not reasons and alone:
            reasons = [r for r in (self._evaluate(rule, scan, view) for rule in alone) if r is not None]
        return Verdict.from_reasons(reasons, scan.sentiment)

    def sentiment(self, text: str) -> dict[str, float]:
        """VADER's scores for the comment's opening (its cost grows faster than the text does)."""
        return self._analyzer.polarity_scores(sentiment_window(text))

    def _scan(self, text: str, context: CommentContext) -> _Scan:
        normalised = fold(text)
        regexes = self._normalised.seen(normalised.text)
        if not regexes.isdisjoint(self._triggers):
            normalised = normalised.repaired({self._triggers[pid] for pid in regexes if pid in self._triggers})
            regexes = self._normalised.seen(normalised.text)
        raw_text = detector_text(text)
        phrases = self._matcher.find(
            normalised.text, leet=self._leet in regexes, stretched=self._stretched in regexes
        )
        return _Scan(
            text=text,
            normalised=normalised,
            phrases=phrases,
            regexes=regexes,
            seen_raw=self._raw.seen(raw_text),
            sentiment=self.sentiment(text),
            context=context,
            detector_text=raw_text,
        )

    def _candidates(self, scan: _Scan) -> set[int]:
        """Rules whose first group saw something; the other groups are checked when the rule is evaluated."""
        candidates = set(self._always)
        by_phrase, by_regex, by_raw = self._by_phrase, self._by_regex, self._by_raw
        for pid in scan.phrases:
            if pid in by_phrase:
                candidates.update(by_phrase[pid])
        for pid in scan.regexes:
            if pid in by_regex:
                candidates.update(by_regex[pid])
        for pid in scan.seen_raw:
            if pid in by_raw:
                candidates.update(by_raw[pid])
            if pid in self._hints:
                candidates.update(self._by_detector.get(self._hints[pid], ()))
        return candidates

    def _evaluate(self, rule: _Rule, scan: _Scan, view: _AccountView) -> Reason | None:
        settings = rule.settings
        if not (rule.unless_phrases.isdisjoint(scan.phrases.keys()) and rule.unless_regexes.isdisjoint(scan.regexes)):
            return None
        if not self._conditions_hold(settings, scan):
            return None
        spans: list[Span] = []
        for group in rule.groups:
            found = self._group_spans(group, scan, negatable=settings.negatable)
            if not found:
                return None
            spans.extend(found)
        severity = view.severity[rule.name]
        note = ""
        if settings.counter_speech != "ignore" and self._is_counter_speech(scan, spans):
            if settings.counter_speech == "cancel":
                return None
            severity = "low"
            note = " It seems to quote or report the words in order to object to them, so it is shown as low."
        spans = _merge(spans)
        matched = [scan.text[start:end] for start, end in spans]
        return Reason(
            rule=settings.name,
            category=settings.category,
            severity=severity,
            explanation=_explain(rule, matched, scan) + note,
            matched=matched,
            spans=spans,
        )

    def _conditions_hold(self, rule: RuleSettings, scan: _Scan) -> bool:
        compound = scan.sentiment["compound"]
        context = scan.context
        if rule.sentiment_below is not None and not compound < rule.sentiment_below:
            return False
        if rule.sentiment_above is not None and not compound > rule.sentiment_above:
            return False
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
            mentioned = not self._organisation.isdisjoint(scan.phrases.keys())
            if mentioned != rule.mentions_organisation:
                return False
        return rule.mentions_person is None or rule.mentions_person == bool(self._people_in(scan))

    def _author_on(self, list_name: str, context: CommentContext) -> bool:
        members = self._author_lists.get(list_name, set())
        keys = {_account_key(value) for value in (context.author_id, context.author_name) if value}
        return bool(keys & members)

    def _people_in(self, scan: _Scan) -> list[Span]:
        if scan.people is None:
            protected = [
                scan.normalised.span_in_original(start, end)
                for pid in self._protected & scan.phrases.keys()
                for start, end in scan.phrases[pid]
            ]
            scan.people = protected + self._people.find(scan.text)
        return scan.people

    def _group_spans(self, group: _Group, scan: _Scan, *, negatable: bool) -> list[Span]:
        normalised = scan.normalised
        text = normalised.text
        phrases = scan.phrases
        found = [span for pid in group.phrases & phrases.keys() for span in phrases[pid]]
        if group.regexes and scan.regexes:
            found += [span for pid in group.regexes & scan.regexes for span in self._normalised.spans(pid, text)]
        if negatable and found:
            found = [(start, end) for start, end in found if not self._negated(text, start)]
        spans = [normalised.span_in_original(start, end) for start, end in found]
        if group.raw and scan.seen_raw:
            for pid in group.raw & scan.seen_raw:
                spans.extend(self._raw.spans(pid, scan.detector_text))
        for name in group.detectors:
            if name not in scan.detected:
                hinted = self._hint_ids[name] in scan.seen_raw
                scan.detected[name] = DETECTORS[name](scan.detector_text) if hinted else []
            spans.extend(scan.detected[name])
        return spans

    def _negated(self, text: str, start: int) -> bool:
        """A negation among the three words before a match, within the same clause."""
        window = text[max(0, start - 40) : start]
        clause = window[max(map(window.rfind, _CLAUSE_BREAKS)) + 1 :]
        return not self._negations.isdisjoint(words_of(clause)[-3:])

    def _is_counter_speech(self, scan: _Scan, spans: list[Span]) -> bool:
        if not self._counter_cues.isdisjoint(scan.phrases.keys()):
            return True
        if scan.quoted is None:
            scan.quoted = [m.span() for m in _QUOTED.finditer(scan.text)]
        return any(qs <= s and e <= qe for s, e in spans for qs, qe in scan.quoted)


def _account_key(value: str) -> str:
    return value.strip().lstrip("@").casefold()


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(set(spans)):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _detail(rule: RuleSettings) -> str:
    groups = rule.groups()
    detectors = [DETECTOR_DESCRIPTIONS[d] for g in groups for d in g.detectors]
    return f" ({' or '.join(detectors)})" if detectors and len(groups) == 1 else ""


def _explain(rule: _Rule, matched: list[str], scan: _Scan) -> str:
    settings = rule.settings
    quoted = ", ".join(f"“{text}”" for text in matched[:3] if text)
    if settings.explanation:
        return settings.explanation.replace("{match}", quoted)
    words = CATEGORY_WORDS[settings.category]
    if settings.sentiment_below is not None and not quoted:
        return f"{words} (sentiment {scan.sentiment['compound']:+.2f})."
    return f"{words}{rule.detail}: {quoted}." if quoted else f"{words}."


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
        for name, values in pack.lists.items():
            lists.setdefault(name, []).extend(values)
    for name, values in settings.lists.items():
        lists[name] = list(values)
    for name, path in settings.list_files.items():
        lists[name] = _read_names(base_dir / path)
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
