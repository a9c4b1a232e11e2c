"""The [filter] table of config.toml, checked by building everything it names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import re2
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from monitor.filter.detectors import DETECTORS
from monitor.filter.normalise import words_of
from monitor.filter.verdict import CATEGORIES, DEFAULT_CATEGORY_SEVERITY, Severity

BUILTIN_LISTS = ("organisation", "protected_names", "staff", "service_users")
CATEGORY_NAME = r"^[a-z][a-z0-9_-]{0,39}$"


def _rule_label(info: ValidationInfo) -> str:
    name = info.data.get("name")
    return f"rule {name!r}: " if name else ""


def re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    return options


def check_regex(pattern: str) -> str:
    try:
        re2.compile(pattern, re2_options())
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"regex {pattern!r} does not compile (RE2 syntax): {detail}") from None
    return pattern


def check_phrase(phrase: str) -> str:
    words = phrase.split()
    if not any(words_of(word.rstrip("*~")) for word in words):
        raise ValueError(f"phrase {phrase!r} has no letters or digits to match")
    if _is_wildcard(words[0]) or _is_wildcard(words[-1]):
        raise ValueError(f"phrase {phrase!r} cannot start or end with a lone * or *N")
    return phrase


def _is_wildcard(word: str) -> bool:
    return word == "*" or (len(word) == 2 and word[0] == "*" and word[1] in "123456789")


class MatchGroup(BaseModel):
    """What to look for; any one of these entries is enough for the group to match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    words: list[str] = []
    regex: list[str] = []
    raw_regex: list[str] = []
    lists: list[str] = []
    detectors: list[str] = []

    @field_validator("words")
    @classmethod
    def _phrases(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for phrase in value:
            try:
                check_phrase(phrase)
            except ValueError as exc:
                raise ValueError(f"{_rule_label(info)}{exc}") from None
        return value

    @field_validator("regex", "raw_regex")
    @classmethod
    def _regexes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for pattern in value:
            try:
                check_regex(pattern)
            except ValueError as exc:
                raise ValueError(f"{_rule_label(info)}{exc}") from None
        return value

    @field_validator("detectors")
    @classmethod
    def _detectors(cls, value: list[str], info: ValidationInfo) -> list[str]:
        unknown = sorted(set(value) - set(DETECTORS))
        if unknown:
            raise ValueError(f"{_rule_label(info)}unknown detector {unknown[0]!r}; known: {', '.join(DETECTORS)}")
        return value

    def is_empty(self) -> bool:
        return not (self.words or self.regex or self.raw_regex or self.lists or self.detectors)


class _Named(BaseModel):
    """Declared before the match fields so that their validators can name the rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    # One of CATEGORIES, or a category the operator declares under [[filter.categories]].
    category: str = Field(pattern=CATEGORY_NAME)


class RuleSettings(MatchGroup, _Named):
    """One rule. The fields of MatchGroup are its first group; ``also`` adds groups that must all match too."""

    severity: Severity | None = None
    priority: int = 0
    explanation: str | None = None
    enabled: bool = True
    also: list[MatchGroup] = []
    unless_words: list[str] = []
    unless_regex: list[str] = []
    sentiment_below: float | None = Field(default=None, ge=-1.0, le=1.0)
    sentiment_above: float | None = Field(default=None, ge=-1.0, le=1.0)
    mentions_organisation: bool | None = None
    mentions_person: bool | None = None
    author_in: list[str] = []
    author_not_in: list[str] = []
    parent_author_in: list[str] = []
    is_reply: bool | None = None
    by_owner: bool | None = None
    negatable: bool = True
    counter_speech: Literal["ignore", "downgrade", "cancel"] = "ignore"
    alone: bool = False

    @field_validator("unless_words")
    @classmethod
    def _unless_phrases(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return cls._phrases(value, info)

    @field_validator("unless_regex")
    @classmethod
    def _unless_regexes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return cls._regexes(value, info)

    @model_validator(mode="after")
    def _has_something_to_check(self) -> RuleSettings:
        conditions = (
            self.sentiment_below,
            self.sentiment_above,
            self.mentions_organisation,
            self.mentions_person,
            self.is_reply,
            self.by_owner,
        )
        has_condition = any(c is not None for c in conditions) or self.author_in or self.parent_author_in
        if self.is_empty() and not self.also and not has_condition:
            raise ValueError(f"rule {self.name!r} matches nothing: give words, regex, lists, detectors or a condition")
        return self

    def groups(self) -> list[MatchGroup]:
        first = MatchGroup(
            words=self.words, regex=self.regex, raw_regex=self.raw_regex, lists=self.lists, detectors=self.detectors
        )
        return [group for group in (first, *self.also) if not group.is_empty()]

    def list_names(self) -> set[str]:
        names = {name for group in self.groups() for name in group.lists}
        return names | set(self.author_in) | set(self.author_not_in) | set(self.parent_author_in)


ModelCategory = Literal[
    "threat", "safeguarding", "confidentiality", "hate", "allegation", "misrepresentation", "abuse", "controversial"
]


class ModelCategorySettings(BaseModel):
    """One category of the learned model, e.g. [filter.model.categories.hate]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool | None = None
    # How likely (0-1) the model must think a comment belongs here to flag it; unset: the shipped threshold.
    threshold: float | None = Field(default=None, gt=0.0, lt=1.0)


class ModelSettings(BaseModel):
    """The learned model beside the rules ([filter.model]); an account's own [filter.accounts.X.model] is
    laid over it, key by key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool | None = None
    categories: dict[ModelCategory, ModelCategorySettings] = {}
    # A comment flagged for its tone alone (VADER's sentiment, no words of any rule) is left unflagged when the
    # model gives every category less than this; 0 keeps every such flag. Unset: TONE_ONLY_BELOW.
    tone_only_below: float | None = Field(default=None, ge=0.0, lt=1.0)

    def over(self, base: ModelSettings) -> ModelSettings:
        """These settings laid over ``base``: what is set here wins."""
        categories = dict(base.categories)
        for name, mine in self.categories.items():
            theirs = categories.get(name, ModelCategorySettings())
            categories[name] = ModelCategorySettings(
                enabled=theirs.enabled if mine.enabled is None else mine.enabled,
                threshold=theirs.threshold if mine.threshold is None else mine.threshold,
            )
        return ModelSettings(
            enabled=base.enabled if self.enabled is None else self.enabled,
            categories=categories,
            tone_only_below=base.tone_only_below if self.tone_only_below is None else self.tone_only_below,
        )


class AccountOverride(BaseModel):
    """Changes for one account, e.g. [filter.accounts."facebook-page"]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disabled_packs: list[str] = []
    disabled_rules: list[str] = []
    category_severity: dict[str, Severity] = {}
    rule_severity: dict[str, Severity] = {}
    model: ModelSettings = ModelSettings()


class CustomCategory(BaseModel):
    """A category of the operator's own, e.g. [[filter.categories]] name = "fundraising"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=CATEGORY_NAME)
    # How the email names a flag of this category: "Flagged as {label}".
    label: str = Field(min_length=1, max_length=60)
    severity: Severity = "medium"

    @field_validator("name")
    @classmethod
    def _not_built_in(cls, value: str) -> str:
        if value in CATEGORIES:
            raise ValueError(f"{value!r} is a built-in category; change its severity with category_severity instead")
        return value


class FilterSettings(BaseModel):
    """The [filter] table. Everything has a default, so a config without [filter] gets the shipped packs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disabled_packs: list[str] = []
    disabled_rules: list[str] = []
    rules: list[RuleSettings] = []
    lists: dict[str, list[str]] = {}
    list_files: dict[str, str] = {}
    # Change one entry of a shipped list without copying the whole list: { profanity = ["numpty"] }.
    extra_words: dict[str, list[str]] = {}
    disabled_words: dict[str, list[str]] = {}
    protected_names_file: str | None = None
    organisation_aliases: list[str] = []
    staff_accounts: list[str] = []
    service_user_accounts: list[str] = []
    categories: list[CustomCategory] = []
    category_severity: dict[str, Severity] = {}
    negative_threshold: float = Field(default=-0.6, ge=-1.0, le=0.0)
    model: ModelSettings = ModelSettings()
    accounts: dict[str, AccountOverride] = {}

    @field_validator("protected_names_file")
    @classmethod
    def _protected_file_exists(cls, value: str | None) -> str | None:
        if value is not None and Path(value).is_absolute() and not Path(value).is_file():
            raise ValueError(f"protected names file {value!r} does not exist")
        return value

    @field_validator("list_files")
    @classmethod
    def _list_files_exist(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if Path(path).is_absolute() and not Path(path).is_file():
                raise ValueError(f"list file for {name!r} ({path!r}) does not exist")
        return value

    @field_validator("extra_words", "disabled_words")
    @classmethod
    def _word_changes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for words in value.values():
            for word in words:
                check_phrase(word)
        return value

    @model_validator(mode="after")
    def _names_are_known(self) -> FilterSettings:
        from monitor.filter.packs import load_packs, shared_lists

        packs = load_packs()
        pack_rules = {rule.name for pack in packs.values() for rule in pack.rules}
        rule_names = pack_rules | {rule.name for rule in self.rules}
        known_lists = set(BUILTIN_LISTS) | set(self.lists) | set(self.list_files)
        known_lists |= {name for pack in packs.values() for name in pack.lists} | set(shared_lists())
        categories = set(CATEGORIES) | {category.name for category in self.categories}
        if len(categories) < len(CATEGORIES) + len(self.categories):
            raise ValueError("categories: two custom categories have the same name")
        _reject_unknown("category_severity", list(self.category_severity), categories)
        for index, rule in enumerate(self.rules):
            _reject_unknown(f"rules[{index}] ({rule.name!r}).category", [rule.category], categories)
        _reject_unknown("disabled_packs", self.disabled_packs, set(packs))
        _reject_unknown("disabled_rules", self.disabled_rules, rule_names)
        for account, override in self.accounts.items():
            _reject_unknown(f"accounts.{account}.disabled_packs", override.disabled_packs, set(packs))
            _reject_unknown(f"accounts.{account}.disabled_rules", override.disabled_rules, rule_names)
            _reject_unknown(f"accounts.{account}.rule_severity", list(override.rule_severity), rule_names)
            _reject_unknown(f"accounts.{account}.category_severity", list(override.category_severity), categories)
        for key in ("extra_words", "disabled_words"):
            _reject_unknown(key, list(getattr(self, key)), known_lists - set(BUILTIN_LISTS))
        entries: dict[str, set[str]] = {}
        sources: list[Mapping[str, Sequence[str]]] = [shared_lists(), *(p.lists for p in packs.values()), self.lists]
        for source in sources:
            for name, values in source.items():
                entries.setdefault(name, set()).update(value.casefold() for value in values)
        for name, words in self.disabled_words.items():
            absent = [word for word in words if word.casefold() not in entries.get(name, set())]
            if absent:
                raise ValueError(f"disabled_words.{name}: {absent[0]!r} is not in the list (see `monitor rules show`)")
        for index, rule in enumerate(self.rules):
            missing = sorted(rule.list_names() - known_lists)
            if missing:
                raise ValueError(
                    f"rules[{index}] ({rule.name!r}) uses list {missing[0]!r}, which is not defined "
                    f"(define it under [filter.lists] or list_files)"
                )
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rules: two rules are named {rule.name!r}")
            seen.add(rule.name)
        return self

    def category_labels(self) -> dict[str, str]:
        """The operator's categories and how the email names them."""
        return {category.name: category.label for category in self.categories}

    def default_severities(self) -> dict[str, str]:
        """Each category's severity before any rule or account says otherwise."""
        custom = {category.name: category.severity for category in self.categories}
        return {**DEFAULT_CATEGORY_SEVERITY, **custom, **self.category_severity}

    def missing_files(self, base_dir: Path) -> list[str]:
        """Each configured file that does not exist, as 'key: path' (relative paths resolve from base_dir)."""
        files = dict(self.list_files)
        missing: list[str] = []
        if self.protected_names_file:
            files = {"protected_names_file": self.protected_names_file, **files}
        for key, path in files.items():
            label = key if key == "protected_names_file" else f"list_files.{key}"
            if not (base_dir / path).is_file():
                missing.append(f"filter.{label}: file {str(base_dir / path)!r} does not exist")
        return missing


def _reject_unknown(key: str, names: list[str], known: set[str]) -> None:
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"{key}: unknown name {unknown[0]!r}; known: {', '.join(sorted(known))}")
