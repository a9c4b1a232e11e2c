# cython: language_level=3
"""Normalise → sentiment → rules → verdict.

Compiled (Cython), with the per-comment classes typed, because this runs for every comment beside VADER and
the filter should cost a fraction of what the sentiment analysis does. Every regex of every rule goes into one RE2 set and every phrase into one word index, so a comment is
scanned once however many rules there are; only the rules whose patterns were seen are then looked at one
by one, and only their matches are mapped back to the original text and explained.
"""

cimport cython
from cpython.mem cimport PyMem_Calloc, PyMem_Free
from cpython.unicode cimport Py_UNICODE_ISALNUM
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import re2
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.filter.detectors import DETECTOR_DESCRIPTIONS, DETECTOR_HINTS, DETECTORS, detector_text
from monitor.filter.matcher cimport Hits, PhraseMatcher
from monitor.filter.normalise cimport Normalised, fold
from monitor.filter.verdict cimport Reason, Verdict, reason_of, verdict_of

from monitor.filter.matcher import LEET_TRIGGER, STRETCHED_TRIGGER
from monitor.filter.normalise import TRIGGERS, normalise_text, words_of
from monitor.filter.packs import load_packs, shared_lists
from monitor.filter.people import PersonFinder
from monitor.filter.settings import AccountOverride, FilterSettings, RuleSettings
from monitor.filter.verdict import DEFAULT_CATEGORY_SEVERITY, CommentContext

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
_NO_CONTEXT = CommentContext()
# The sentiment of a long comment is read from its opening SENTIMENT_TOKENS
# words and symbols; rules still match all of it. VADER's time grows with the
# square of the word count (and it turns each emoji into several words), so
# without a cap one huge comment could stall the service for minutes.
SENTIMENT_TOKENS = 400
_RE2_MAX_MEM = 256 << 20
cdef Py_ssize_t _SHAPE_LENGTHS = 16  # the bits of an unsigned short, see Classifier._negation_shapes


cdef class _PatternSet:
    """RE2 patterns scanned in one pass; a pattern that was seen is then searched alone for its spans."""

    cdef dict _ids
    cdef list _compiled
    cdef object _match  # the compiled set's Match, or None when there are no patterns

    def __init__(self) -> None:
        self._ids = {}
        self._compiled = []
        self._match = None

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

    cdef tuple seen(self, str text):
        """The ids of the patterns found in ``text`` (a tuple, which the cycle collector soon stops tracking)."""
        if self._match is None:
            return ()
        found = self._match(text.encode())
        return tuple(found) if found else ()

    cdef list spans(self, pattern_id, str text):
        return regex_spans(self._compiled[pattern_id], text)


cdef frozenset _NOTHING = frozenset()
_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)


cpdef list regex_spans(compiled, str text):
    """The spans finditer() gives for ``compiled`` (a google-re2 pattern) in ``text``.

    google-re2's finditer maps every offset back to characters and builds a match object in Python, about
    7 µs for one match in a short comment. For an ASCII text, whose byte offsets are its character offsets,
    this calls the compiled RE2 object's Match directly, as finditer does, in a quarter of the time. Any other
    text, or a binding without that object, goes through finditer.
    """
    inner = getattr(compiled, "_regexp", None)
    if inner is None or _UNANCHORED is None or not text.isascii():
        return [match.span() for match in compiled.finditer(text)]
    cdef bytes data = text.encode()
    cdef Py_ssize_t position = 0, end = len(data), start, stop
    cdef list spans = []
    while True:
        start, stop = inner.Match(_UNANCHORED, data, position, end)[0]
        if start < 0:
            return spans
        spans.append((start, stop))
        if position == end:
            return spans
        position = position + 1 if stop == position else stop


cdef frozenset _ids(list ids):
    """``ids`` as a set, the shared empty one when there are none: thousands of rules' empty sets would
    otherwise be objects the cycle collector walks for as long as the service runs."""
    return frozenset(ids) if ids else _NOTHING


@cython.no_gc
cdef class _Group:
    cdef readonly frozenset phrases
    cdef readonly frozenset regexes
    cdef readonly frozenset raw
    cdef readonly tuple detectors

    def __init__(self, phrases: frozenset, regexes: frozenset, raw: frozenset, detectors: tuple) -> None:
        self.phrases = phrases
        self.regexes = regexes
        self.raw = raw
        self.detectors = detectors


@cython.no_gc
cdef class _Rule:
    cdef readonly object settings  # RuleSettings
    cdef readonly object pack  # the pack's name, or None for the operator's own rules
    cdef readonly list groups
    cdef readonly frozenset unless_phrases
    cdef readonly frozenset unless_regexes
    cdef readonly str detail  # what the detectors look for, for the default explanation
    # read from settings once, for every comment
    cdef readonly str name
    cdef readonly str category
    cdef readonly tuple explanation  # the operator's explanation split at each {match}, or None
    cdef readonly str counter_speech
    cdef readonly bint alone
    cdef readonly bint negatable
    cdef readonly bint conditional
    cdef object sentiment_below
    cdef object sentiment_above
    # the same as C numbers, for the check every candidate rule gets first: -inf and inf when not set
    cdef double below
    cdef double above
    cdef object is_reply
    cdef object by_owner
    cdef object mentions_organisation
    cdef object mentions_person
    cdef tuple author_in
    cdef tuple author_not_in
    cdef tuple parent_author_in

    def __init__(self, settings, pack, list groups, frozenset unless_phrases, frozenset unless_regexes, str detail):
        self.settings = settings
        self.pack = pack
        self.groups = groups
        self.unless_phrases = unless_phrases
        self.unless_regexes = unless_regexes
        self.detail = detail
        self.name = settings.name
        self.category = settings.category
        self.explanation = tuple(settings.explanation.split("{match}")) if settings.explanation else None
        self.counter_speech = settings.counter_speech
        self.sentiment_below = settings.sentiment_below
        self.sentiment_above = settings.sentiment_above
        self.below = float("inf") if self.sentiment_below is None else self.sentiment_below
        self.above = float("-inf") if self.sentiment_above is None else self.sentiment_above
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


@cython.no_gc
cdef class _Scan:
    """What one comment turned out to contain, worked out lazily and at most once."""

    cdef str text
    cdef Normalised normalised
    cdef Hits phrases  # spans in the normalised text
    cdef tuple regexes  # ids of the normalised-text patterns found
    cdef tuple seen_raw  # ids of the original-text patterns found
    cdef dict sentiment
    cdef double compound  # sentiment["compound"]
    cdef object context  # CommentContext
    cdef str detector_text
    cdef dict detected  # detector → spans, once a rule needed it
    cdef int names_someone  # -1 until a rule asks
    cdef list quoted


@cython.no_gc
cdef class _AccountView:
    cdef readonly frozenset disabled
    cdef readonly dict severity  # rule name → severity

    def __init__(self, frozenset disabled, dict severity) -> None:
        self.disabled = disabled
        self.severity = severity


cdef class Classifier:
    """Thread-safe for classify() and classify_many(): everything is built in the constructor and only read
    afterwards."""

    cdef object _settings
    cdef object _polarity_scores  # VADER's
    cdef PhraseMatcher _matcher
    cdef _PatternSet _normalised
    cdef _PatternSet _raw
    cdef dict _lists
    cdef dict _triggers  # pattern id → repair
    cdef object _leet
    cdef object _stretched
    cdef dict _list_ids
    cdef dict _author_lists
    cdef dict _hint_ids
    cdef list _rules
    cdef frozenset _negations
    # For each first letter, a bit for each length of negation starting with it (see _may_negate). A negation
    # the table cannot hold (a digit first, or too long) makes _odd_negation true, and every word is looked up.
    cdef unsigned short _negation_shapes[26]
    cdef bint _odd_negation
    cdef frozenset _counter_cues
    cdef frozenset _organisation
    cdef frozenset _protected
    cdef object _people
    cdef dict _by_phrase
    cdef dict _by_regex
    cdef dict _by_raw  # raw pattern id → rules, including the rules whose detector that pattern hints at
    cdef tuple _always
    cdef dict _accounts
    cdef _AccountView _no_account

    def __init__(
        self,
        rules: Sequence[tuple[RuleSettings, str | None]],
        lists: dict[str, list[str]],
        settings: FilterSettings,
    ) -> None:
        self._settings = settings
        self._polarity_scores = SentimentIntensityAnalyzer().polarity_scores
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
        self._hint_ids = {name: self._raw.add(pattern) for name, pattern in DETECTOR_HINTS.items()}
        self._rules = [self._compile(rule, pack) for rule, pack in rules if self._can_fire(rule)]
        self._rules.sort(key=lambda rule: -rule.settings.priority)
        self._negations = frozenset(normalise_text(word) for word in lists.get("negations", []))
        for word in self._negations:
            if 0 < len(word) < _SHAPE_LENGTHS and "a" <= word[0] <= "z":
                self._negation_shapes[ord(word[0]) - 97] |= 1 << len(word)
            elif word and all(_is_word_char(char) for char in word):
                self._odd_negation = True
        self._counter_cues = frozenset(self._list_ids.get("counter_speech_cues", []))
        self._organisation = frozenset(self._list_ids.get("organisation", []))
        self._protected = frozenset(self._list_ids.get("protected_names", []))
        self._people = PersonFinder(lists.get("first_names", []))
        self._normalised.build()
        self._raw.build()
        by_phrase, by_regex, by_raw, always = {}, {}, {}, []
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
        # As tuples, which the cycle collector stops tracking (see matcher.pxd).
        self._by_phrase = {pid: tuple(indices) for pid, indices in by_phrase.items()}
        self._by_regex = {pid: tuple(indices) for pid, indices in by_regex.items()}
        self._by_raw = {pid: tuple(indices) for pid, indices in by_raw.items()}
        self._always = tuple(always)
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
            regexes = _ids([self._normalised.add(p) for p in group.regex])
            raw = _ids([self._raw.add(p) for p in group.raw_regex])
            groups.append(_Group(_ids(phrases), regexes, raw, tuple(group.detectors)))
        unless_phrases = _ids([self._matcher.add(p) for p in rule.unless_words])
        unless_regexes = _ids([self._normalised.add(p) for p in rule.unless_regex])
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

    def classify(self, str text not None, context: CommentContext | None = None) -> Verdict:
        cdef _Scan scan = self._scan(text)
        _set_sentiment(scan, self.sentiment(text))
        return self._decide(scan, context)

    def classify_many(
        self, texts: Sequence[str], contexts: Sequence[CommentContext | None] | None = None
    ) -> list[Verdict]:
        """The verdicts classify() gives, for many comments at once, in order.

        Faster than one call per comment: each stage (folding and the RE2 scan, the phrase matcher, the scan
        of the original text, VADER, the rules' decisions) runs over the whole batch in turn, so each finds its
        code and tables still in the processor's caches instead of evicting the others' for every comment.
        """
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(contexts)} contexts")
        cdef list scans = [self._fold_and_search(text) for text in texts]
        cdef _Scan scan
        for scan in scans:
            self._find_phrases(scan)
        for scan in scans:
            self._search_original(scan)
        for scan in scans:
            _set_sentiment(scan, self.sentiment(scan.text))
        if contexts is None:
            contexts = [None] * len(scans)
        return [self._decide(scan, context) for scan, context in zip(scans, contexts)]

    cdef Verdict _decide(self, _Scan scan, context):
        if context is None:
            context = _NO_CONTEXT
        scan.context = context
        cdef _AccountView view = self._accounts.get(context.account or "", self._no_account)
        cdef list reasons = [], alone = [], rules = self._rules
        cdef frozenset disabled = view.disabled
        cdef bint any_disabled = bool(disabled)
        cdef _Rule rule
        for index in self._candidates(scan):
            rule = rules[index]
            if any_disabled and rule.name in disabled:
                continue
            if rule.alone:
                alone.append(rule)
                continue
            reason = self._evaluate(rule, scan, view)
            if reason is not None:
                reasons.append(reason)
        if not reasons and alone:
            for rule in alone:
                reason = self._evaluate(rule, scan, view)
                if reason is not None:
                    reasons.append(reason)
        return verdict_of(reasons, scan.sentiment)

    cpdef dict sentiment(self, str text):
        """VADER's scores for the comment's opening (its cost grows faster than the text does)."""
        return self._polarity_scores(sentiment_window(text))

    cdef _Scan _scan(self, str text):
        """Everything the rules look for in the text; the sentiment and context are filled in after."""
        cdef _Scan scan = self._fold_and_search(text)
        self._find_phrases(scan)
        self._search_original(scan)
        return scan

    cdef _Scan _fold_and_search(self, str text):
        cdef Normalised normalised = fold(text)
        cdef tuple regexes = self._normalised.seen(normalised.text)
        if regexes and not self._triggers.keys().isdisjoint(regexes):
            normalised = normalised.repaired({self._triggers[pid] for pid in regexes if pid in self._triggers})
            regexes = self._normalised.seen(normalised.text)
        cdef _Scan scan = _Scan.__new__(_Scan)
        scan.names_someone = -1
        scan.text = text
        scan.normalised = normalised
        scan.regexes = regexes
        return scan

    cdef void _find_phrases(self, _Scan scan):
        scan.phrases = self._matcher.hits(
            scan.normalised.text, leet=self._leet in scan.regexes, stretched=self._stretched in scan.regexes
        )

    cdef void _search_original(self, _Scan scan):
        scan.detector_text = detector_text(scan.text)
        scan.seen_raw = self._raw.seen(scan.detector_text)

    cdef list _candidates(self, _Scan scan):
        """In order, the rules whose first group saw something; the other groups are checked when the rule is
        evaluated."""
        cdef Py_ssize_t count = len(self._rules), index
        cdef _Marks marks
        marks.marked = <unsigned char *> PyMem_Calloc(count + 1, 1)
        if marks.marked == NULL:
            raise MemoryError()
        marks.lowest = count
        marks.highest = -1
        cdef dict by_phrase = self._by_phrase, by_regex = self._by_regex, by_raw = self._by_raw
        cdef Hits hits = scan.phrases
        try:
            _mark(&marks, self._always)
            for index in range(hits.count):
                _mark(&marks, by_phrase.get(hits.phrase_at(index)))
            for pid in scan.regexes:
                _mark(&marks, by_regex.get(pid))
            for pid in scan.seen_raw:
                _mark(&marks, by_raw.get(pid))
            return [index for index in range(marks.lowest, marks.highest + 1) if marks.marked[index]]
        finally:
            PyMem_Free(marks.marked)

    cdef Reason _evaluate(self, _Rule rule, _Scan scan, _AccountView view):
        if not rule.above < scan.compound < rule.below:  # most rules that are looked at and fail, fail here
            return None
        if rule.unless_phrases and scan.phrases.any_of(rule.unless_phrases):
            return None
        if rule.unless_regexes and not rule.unless_regexes.isdisjoint(scan.regexes):
            return None
        if rule.conditional and not self._conditions_hold(rule, scan):
            return None
        cdef list spans = [], found
        cdef _Group group
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
            note = " It seems to quote or report the words in order to object to them, so it is shown as low."
        spans = _merge(spans)
        cdef str text = scan.text
        cdef Py_ssize_t start, end
        matched = [text[start:end] for start, end in spans]
        return reason_of(rule.name, rule.category, severity, _explain(rule, matched, scan) + note, matched, spans)

    cdef bint _conditions_hold(self, _Rule rule, _Scan scan):
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

    cdef bint _names_someone(self, _Scan scan):
        """A protected name, or a person's name the finder recognises."""
        if scan.names_someone < 0:
            scan.names_someone = scan.phrases.any_of(self._protected) or self._people.names_someone(scan.text)
        return scan.names_someone

    cdef list _group_spans(self, _Group group, _Scan scan, bint negatable):
        cdef Normalised normalised = scan.normalised
        cdef str text = normalised.text
        cdef list found = scan.phrases.spans_of(group.phrases), spans
        if group.regexes and scan.regexes:
            for pid in group.regexes.intersection(scan.regexes):
                found.extend(self._normalised.spans(pid, text))
        if negatable and found and self._negations:
            found = [span for span in found if not self._negated(text, span[0])]
        spans = normalised.spans_in_original(found)
        if group.raw and scan.seen_raw:
            for pid in group.raw.intersection(scan.seen_raw):
                spans.extend(self._raw.spans(pid, scan.detector_text))
        if group.detectors and scan.detected is None:
            scan.detected = {}
        for name in group.detectors:
            if name not in scan.detected:
                hinted = self._hint_ids[name] in scan.seen_raw
                scan.detected[name] = DETECTORS[name](scan.detector_text) if hinted else []
            spans.extend(scan.detected[name])
        return spans

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef bint _negated(self, str text, Py_ssize_t start):
        """A negation among the three words before a match, within the same clause (at most 40 characters)."""
        cdef Py_ssize_t low = start - 40 if start > 40 else 0
        cdef Py_ssize_t position = start, word_end = -1, words = 0
        cdef Py_UCS4 char
        while position > low and words < 3:
            position -= 1
            char = text[position]
            if char == u"." or char == u"?" or char == u";" or char == u"," or char == u":" or char == u"\n":
                break
            if _is_word_char(char):
                if word_end < 0:
                    word_end = position + 1
                if position == low or not _is_word_char(text[position - 1]):
                    if (
                        self._may_negate(text[position], word_end - position)
                        and text[position:word_end] in self._negations
                    ):
                        return True
                    word_end = -1
                    words += 1
        return False

    cdef inline bint _may_negate(self, Py_UCS4 first, Py_ssize_t length):
        """Whether some negation could be a word starting with ``first`` of ``length`` characters: most words
        need no look-up."""
        if self._odd_negation:
            return True
        if not (u"a" <= first <= u"z" and length < _SHAPE_LENGTHS):
            return False
        return self._negation_shapes[<Py_ssize_t> first - 97] & (1 << length)

    cdef bint _is_counter_speech(self, _Scan scan, list spans):
        if scan.phrases.any_of(self._counter_cues):
            return True
        if scan.quoted is None:
            scan.quoted = quotations(scan.text) if _might_quote(scan.text) else []
        if not scan.quoted:
            return False
        cdef Py_ssize_t start, end, quote_start, quote_end
        for start, end in spans:
            for quote_start, quote_end in scan.quoted:
                if quote_start <= start and end <= quote_end:
                    return True
        return False


cdef inline void _set_sentiment(_Scan scan, dict sentiment) except *:
    scan.sentiment = sentiment
    scan.compound = sentiment["compound"]


cdef struct _Marks:
    # A set of rule indices below a known count, read back in order.
    unsigned char *marked
    Py_ssize_t lowest, highest


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _mark(_Marks *marks, tuple indices):
    if indices is None:
        return
    cdef Py_ssize_t index
    for index in indices:
        marks.marked[index] = 1
        if index < marks.lowest:
            marks.lowest = index
        if index > marks.highest:
            marks.highest = index


cdef inline bint _is_word_char(Py_UCS4 char):
    return (u"a" <= char <= u"z") or (u"0" <= char <= u"9")


cpdef list quotations(str text):
    """The spans of what is in quotation marks: "…", “…”, ‘…’, or '…' with no letter or digit just outside
    either mark; 1 to 200 characters inside, found left to right without overlapping (as a regex would)."""
    cdef list spans = []
    cdef Py_ssize_t length = len(text), position = 0, close, limit
    cdef Py_UCS4 char, closing
    while position < length:
        char = text[position]
        if char == u'"':
            closing = u'"'
        elif char == u"\u201c":
            closing = u"\u201d"
        elif char == u"\u2018":
            closing = u"\u2019"
        elif char == u"'" and not (position > 0 and _is_regex_word_char(text[position - 1])):
            closing = u"'"
        else:
            position += 1
            continue
        close = position + 1
        limit = min(length, position + 202)
        while close < limit and text[close] != closing:
            close += 1
        if (
            position + 1 < close < limit
            and not (closing == u"'" and close + 1 < length and _is_regex_word_char(text[close + 1]))
        ):
            spans.append((position, close + 1))
            position = close + 1
        else:
            position += 1
    return spans


cdef inline bint _is_regex_word_char(Py_UCS4 char):
    return Py_UNICODE_ISALNUM(char) or char == u"_"


cdef bint _might_quote(str text):
    return "\"" in text or "'" in text or "\u201c" in text or "\u2018" in text


def _account_key(value: str) -> str:
    return value.strip().lstrip("@").casefold()


cdef list _merge(list spans):
    """The spans in order, overlapping ones joined."""
    if len(spans) == 1:
        return spans
    cdef list merged = []
    cdef Py_ssize_t start, end, first = -1, last = -1, previous_start = -1, previous_end = -1
    for start, end in sorted(spans):
        if start == previous_start and end == previous_end:
            continue
        previous_start, previous_end = start, end
        if first >= 0 and start < last:
            last = max(last, end)
            continue
        if first >= 0:
            merged.append((first, last))
        first, last = start, end
    if first >= 0:
        merged.append((first, last))
    return merged


def _detail(rule: RuleSettings) -> str:
    groups = rule.groups()
    detectors = [DETECTOR_DESCRIPTIONS[d] for g in groups for d in g.detectors]
    return f" ({' or '.join(detectors)})" if detectors and len(groups) == 1 else ""


cdef str _explain(_Rule rule, list matched, _Scan scan):
    cdef str quoted = _quoted(matched)
    if rule.explanation is not None:
        return quoted.join(rule.explanation)
    words = CATEGORY_WORDS[rule.category]
    if rule.sentiment_below is not None and not quoted:
        return f"{words} (sentiment {scan.compound:+.2f})."
    return f"{words}{rule.detail}: {quoted}." if quoted else f"{words}."


cdef str _quoted(list matched):
    """Of the first three matches, each that is not empty in quotation marks, separated by commas."""
    cdef list pieces = []
    cdef Py_ssize_t index
    for index in range(min(3, len(matched))):
        if matched[index]:
            pieces.append("”, “" if pieces else "“")
            pieces.append(matched[index])
    if pieces:
        pieces.append("”")
    return "".join(pieces)


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


cpdef str sentiment_window(str text):
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
