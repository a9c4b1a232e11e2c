"""The organisation's own posts against its social media policy.

A post must name, tag, picture or quote only people who gave that kind of
permission (the consent register), must not identify someone receiving care,
must be positive in tone, and must read as the organisation speaking, not as
one person's remarks about a resident or colleague. Each finding is a reason
in plain English; the verdict has the same shape as the comment filter's, so
own-post flags are triaged, sent and reviewed like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from monitor.consent import ConsentRegister, Permission, Person, fold, load_register
from monitor.filter import detectors

if TYPE_CHECKING:
    from monitor.filter import Classifier

Severity = Literal["urgent", "high", "medium", "low"]

CONSENT = "own-post-consent"
IDENTIFYING = "own-post-identifying"
TONE = "own-post-tone"
PERSONAL = "own-post-personal"
CATEGORIES = (CONSENT, IDENTIFYING, TONE, PERSONAL)
SEVERITY_ORDER = ("urgent", "high", "medium", "low")
LONDON = ZoneInfo("Europe/London")
POSITIVE_ONLY = "Our posts should contain only positive material;"

# The filter's categories that make a post not positive, whatever its sentiment score.
# (Misrepresentation is left out: it is about others' claims, and reads the organisation's own offers as scams.)
NOT_POSITIVE = frozenset({"threat", "safeguarding", "hate", "allegation", "abuse", "controversial", "negative"})
# The second word of a place, not a person: "Rose Cottage", "Grace House".
_PLACE = re.compile(
    r"\s(?:House|Cottage|Lodge|Court|Manor|Hall|Gardens?|View|Place|Road|Street|Lane|Centre|Home|Care)$"
)

_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[\w.]*\w)?)")
_TITLED = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Nurse|Auntie|Uncle)\.?\s+[A-Z][a-z'\u2019-]+(?:\s+[A-Z][a-z'\u2019-]+)?"
)
_CAPITALISED = re.compile(r"\b[A-Z][a-z'\u2019-]+(?:\s+[A-Z][a-z'\u2019-]+)?")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,})[\"“”]")
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I\u2019m|I've|I\u2019ve|I'd|I\u2019d|me|my|mine|myself)\b")
_DATE_OF_BIRTH = re.compile(
    r"\b(?:date of birth|d\.?o\.?b\.?|born(?: on)?)\s*:?\s*"
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4})",
    re.IGNORECASE,
)


class OwnPostSettings(BaseModel):
    """The [own_posts] table: whether the organisation's posts are checked, and against what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Unset: on when a consent register is configured. The register is what the main check needs.
    enabled: bool | None = None
    # The consent register (CSV or TOML, see monitor.consent); relative paths are read beside the config.
    consent_register: str | None = None
    # A post whose VADER compound score is below this is not positive.
    tone_threshold: float = Field(default=-0.05, ge=-1.0, le=1.0)
    severity: dict[Literal["consent", "identifying", "tone", "personal"], Severity] = {}

    def severity_of(self, check: str) -> str:
        defaults = {"consent": "urgent", "identifying": "urgent", "tone": "medium", "personal": "high"}
        return self.severity.get(check, defaults[check])  # type: ignore[call-overload,no-any-return]

    @property
    def active(self) -> bool:
        return self.enabled if self.enabled is not None else self.consent_register is not None

    def register_path(self, config_dir: Path) -> Path | None:
        return None if self.consent_register is None else config_dir / self.consent_register


@dataclass(frozen=True, slots=True)
class PostToCheck:
    id: int
    account: str | None
    platform: str
    text: str
    tagged: tuple[str, ...] = ()
    media_text: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OwnPostReason:
    rule: str
    category: str
    severity: str
    explanation: str
    matched: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "explanation": self.explanation,
            "matched": list(self.matched),
            "spans": [list(span) for span in self.spans],
        }


@dataclass(frozen=True, slots=True)
class OwnPostVerdict:
    reasons: tuple[OwnPostReason, ...]
    sentiment: dict[str, float]

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    @property
    def severity(self) -> str | None:
        return self.reasons[0].severity if self.reasons else None

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(reason.category for reason in self.reasons))


@dataclass(frozen=True, slots=True)
class Mention:
    """A person a post names: how it was written, where (None outside the text), and what permission it needs."""

    written: str
    span: tuple[int, int] | None
    needs: Permission


class OwnPostChecker:
    def __init__(
        self,
        settings: OwnPostSettings,
        classifier: Classifier,
        *,
        first_names: Iterable[str],
        protected_names: Iterable[str] = (),
        organisation_names: Iterable[str] = (),
        register_path: Path | None = None,
        zone: ZoneInfo = LONDON,
    ) -> None:
        self.zone = zone
        self.settings = settings
        self.classifier = classifier
        self.first_names = frozenset(name.casefold() for name in first_names)
        self.protected = tuple(name.strip() for name in protected_names if name.strip())
        self.organisation = frozenset(fold(name) for name in organisation_names)
        self.register_path = register_path
        self.register_error: str | None = None  # the last problem reading it, logged once until it changes

    def load_register(self) -> ConsentRegister | None:
        return None if self.register_path is None else load_register(self.register_path)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def check(self, posts: Sequence[PostToCheck], register: ConsentRegister | None, day: date) -> list[OwnPostVerdict]:
        from monitor.filter import CommentContext

        contexts = [CommentContext(account=post.account, platform=post.platform) for post in posts]
        filtered = self.classifier.classify_many([post.text for post in posts], contexts)
        return [self._verdict(post, register, day, verdict) for post, verdict in zip(posts, filtered, strict=True)]

    def _verdict(self, post: PostToCheck, register: ConsentRegister | None, day: date, filtered: Any) -> OwnPostVerdict:
        mentions = self.mentions(post, register)
        reasons = [
            *(self._consent(mentions, register, day) if register is not None else []),
            *self._identifying(post.text, mentions, register, filtered),
            *self._tone(filtered),
            *self._personal(post.text, mentions),
        ]
        reasons.sort(key=lambda reason: SEVERITY_ORDER.index(reason.severity))
        return OwnPostVerdict(reasons=tuple(reasons), sentiment=dict(filtered.sentiment))

    # Who the post names

    def mentions(self, post: PostToCheck, register: ConsentRegister | None) -> list[Mention]:
        found = [
            Mention(written, span, Permission.NAMED)
            for written, span in self._names_in(post.text, register)
            if fold(written) not in self.organisation
        ]
        quoted = [match.span() for match in _QUOTE.finditer(post.text)]
        for sentence in _SENTENCE.finditer(post.text):
            if any(start < sentence.end() and end > sentence.start() for start, end in quoted):
                found += [
                    Mention(m.written, m.span, Permission.QUOTED)
                    for m in list(found)
                    if m.span and m.needs is Permission.NAMED and sentence.start() <= m.span[0] < sentence.end()
                ]
        found += [Mention(tag, None, Permission.NAMED) for tag in post.tagged if fold(tag) not in self.organisation]
        for caption in post.media_text:
            found += [
                Mention(written, None, Permission.PICTURED)
                for written, _ in self._names_in(caption, register)
                if fold(written) not in self.organisation
            ]
        return found

    def _names_in(self, text: str, register: ConsentRegister | None) -> list[tuple[str, tuple[int, int]]]:
        spans: list[tuple[int, int]] = [match.span() for match in _MENTION.finditer(text)]
        spans += [match.span() for match in _TITLED.finditer(text)]
        people = register.people if register else ()
        known = [*self.protected, *(key for person in people for key in (person.name, *person.also_known_as))]
        for name in known:
            pattern = re.compile(rf"(?<!\w){re.escape(name.lstrip('@'))}(?!\w)", re.IGNORECASE)
            spans += [match.span() for match in pattern.finditer(text)]
        for match in _CAPITALISED.finditer(text):
            first = match.group().split()[0]
            if first.casefold() in self.first_names:
                spans.append(match.span())
        found = [(text[start:end], (start, end)) for start, end in _outermost(spans)]
        return [(written, span) for written, span in found if not _PLACE.search(written)]

    # The four checks

    def _consent(self, mentions: list[Mention], register: ConsentRegister, day: date) -> list[OwnPostReason]:
        severity = self.settings.severity_of("consent")
        problems: dict[tuple[str, Permission], tuple[str, list[str], list[tuple[int, int]]]] = {}
        for mention in mentions:
            person = register.find(mention.written)
            why = _missing_permission(person, mention, day)
            if why is None:
                continue
            key = (person.name if person else fold(mention.written), mention.needs)
            _, matched, spans = problems.setdefault(key, (why, [], []))
            if mention.written not in matched:
                matched.append(mention.written)
            if mention.span:
                spans.append(mention.span)
        return [
            OwnPostReason("consent register", CONSENT, severity, why, matched, spans)
            for why, matched, spans in problems.values()
        ]

    def _identifying(
        self, text: str, mentions: list[Mention], register: ConsentRegister | None, filtered: Any
    ) -> list[OwnPostReason]:
        severity = self.settings.severity_of("identifying")
        reasons = []
        for rule, found, what in (
            ("NHS number", detectors.nhs_number(text), "an NHS number"),
            ("date of birth", [m.span() for m in _DATE_OF_BIRTH.finditer(text)], "a date of birth"),
        ):
            if found:
                explanation = f"The post contains {what}, which identifies the person it belongs to."
                reasons.append(_reason(rule, IDENTIFYING, severity, explanation, text=text, spans=found))
        if mentions:
            contact = [*detectors.uk_phone(text), *detectors.street_address(text), *detectors.uk_postcode(text)]
            if contact:
                names = _names_of(mentions)
                explanation = f"The post names {names} and gives a phone number or address, which identifies them."
                rule = "name with contact details"
                reasons.append(_reason(rule, IDENTIFYING, severity, explanation, text=text, spans=contact))
        care_names = {fold(name) for name in self.protected}
        if register is not None:
            care_names |= {fold(name) for name in register.names_with_role("service user")}
        cared_for = [m for m in mentions if m.span and _receives_care(m.written, care_names, register)]
        condition = _CONDITION.search(text)
        if cared_for and condition:
            names = _names_of(cared_for)
            explanation = f"The post names {names}, who receives care, together with a health condition."
            spans = [condition.span(), *(m.span for m in cared_for if m.span)]
            reasons.append(OwnPostReason("care with condition", IDENTIFYING, severity, explanation, [], spans))
        return reasons

    def _tone(self, filtered: Any) -> list[OwnPostReason]:
        severity = self.settings.severity_of("tone")
        score = float(filtered.sentiment.get("compound", 0.0))
        categories = [c for c in filtered.categories if c in NOT_POSITIVE]
        if not categories and score >= self.settings.tone_threshold:
            return []
        if categories:
            first = next(r for r in filtered.reasons if r.category in NOT_POSITIVE)
            explanation = f"{POSITIVE_ONLY} this one reads as {categories[0]}: {first.explanation}"
            spans = [tuple(span) for span in first.spans]
            return [OwnPostReason("positive posts only", TONE, severity, explanation, list(first.matched), spans)]
        explanation = f"{POSITIVE_ONLY} this one reads as negative (tone score {score:+.2f})."
        return [OwnPostReason("positive posts only", TONE, severity, explanation)]

    def _personal(self, text: str, mentions: list[Mention]) -> list[OwnPostReason]:
        severity = self.settings.severity_of("personal")
        unquoted = _QUOTE.sub(lambda match: " " * len(match.group()), text)  # a quotation is someone else speaking
        for sentence in _SENTENCE.finditer(unquoted):
            first_person = _FIRST_PERSON.search(sentence.group())
            named = [m for m in mentions if m.span and sentence.start() <= m.span[0] < sentence.end()]
            if first_person and named:
                start = sentence.start() + first_person.start()
                explanation = (
                    f"The post speaks as one person (\u201c{first_person.group()}\u201d) about {_names_of(named)}; "
                    "the organisation's account should speak as the organisation."
                )
                spans = [(start, start + len(first_person.group())), *(m.span for m in named if m.span)]
                matched = [first_person.group()]
                return [OwnPostReason("organisation's voice", PERSONAL, severity, explanation, matched, spans)]
        return []


_CONDITION = re.compile(
    r"\b(?:dementia|alzheimer'?s|parkinson'?s|stroke|diabetes|diabetic|cancer|epilep\w*|autis\w*|"
    r"learning disabilit\w*|mental health|schizophreni\w*|bipolar|depression|end of life|palliative|"
    r"incontinen\w*|fall|fell|hospital|wheelchair|blind|deaf)\b",
    re.IGNORECASE,
)


def _receives_care(written: str, care_names: set[str], register: ConsentRegister | None) -> bool:
    if fold(written) in care_names:
        return True
    person = register.find(written) if register is not None else None
    return person is not None and person.role == "service user"


def _missing_permission(person: Person | None, mention: Mention, day: date) -> str | None:
    if person is None:
        return f"The post {_verb(mention.needs)} {mention.written}, who is not in the consent register."
    why = person.permission_on(mention.needs, day)
    if why is None:
        return None
    return f"The post {_verb(mention.needs)} {person.name}, who {why}."


def _verb(kind: Permission) -> str:
    return {Permission.NAMED: "names", Permission.PICTURED: "pictures", Permission.QUOTED: "quotes"}[kind]


def _names_of(mentions: Iterable[Mention]) -> str:
    names = list(dict.fromkeys(m.written for m in mentions))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _reason(
    rule: str, category: str, severity: str, explanation: str, *, text: str, spans: list[tuple[int, int]]
) -> OwnPostReason:
    return OwnPostReason(rule, category, severity, explanation, [text[start:end] for start, end in spans], spans)


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans not inside a longer one, in order."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


def read_names(path: Path) -> list[str]:
    """One name a line; blank lines and lines starting with # are skipped."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
