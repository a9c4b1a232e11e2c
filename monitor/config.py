"""config.toml → typed, validated settings.

Validation is by building: durations are parsed, cron expressions built into
triggers, regexes compiled, secrets resolved, each account's keys checked by
its own connector's settings model. Any problem becomes one ConfigError that
names the file, the key and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors import connector_class
from connectors.base import AccountSettings
from connectors.credentials import CredentialStoreError, FileCredentialStore
from monitor.durations import Duration
from monitor.errors import ConfigError
from monitor.filter import FilterSettings
from monitor.notify.settings import NotifySettings
from monitor.ownposts import OwnPostSettings
from monitor.schedule import cron_trigger
from monitor.secrets import Secret, unresolved
from monitor.web.settings import ReviewSettings

DEFAULT_CONFIG = Path("config.toml")
SCHEDULE_KEYS = ("enabled", "poll_interval", "jitter")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class OrganisationSettings(Strict):
    name: str = "Our organisation"
    aliases: list[str] = Field(default_factory=list)
    timezone: str = "Europe/London"

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/London'") from None
        return value


class DatabaseSettings(Strict):
    url: str | Secret = "sqlite:///monitor.db"

    @field_validator("url")
    @classmethod
    def _no_password_in_file(cls, value: str | Secret) -> str | Secret:
        if isinstance(value, str) and urlsplit(value).password:
            raise ValueError('a database URL with a password must come from { env = "VAR" }')
        check_database_url(value.reveal() if isinstance(value, Secret) else value)
        return value

    def resolved_url(self, base_dir: Path) -> str:
        url = self.url.reveal() if isinstance(self.url, Secret) else self.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
            url = prefix + str((base_dir / url[len(prefix) :]).resolve())
        return url


def check_database_url(url: str) -> str:
    """Raises ValueError naming what is wrong with a database URL (never showing its password)."""
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ArgumentError, ValueError):
        raise ValueError("not a database URL (e.g. sqlite:///monitor.db, postgresql+psycopg://user@host/db)") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")
    return url


class LoggingSettings(Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class PollDefaults(Strict):
    poll_interval: Duration = timedelta(minutes=5)
    jitter: Duration = timedelta(seconds=30)

    @field_validator("poll_interval")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("must be at least 10s; platforms throttle accounts that poll faster")
        return value


class ServiceSettings(Strict):
    """How running instances share the work (one instance needs no changes here)."""

    # An instance that stops renewing its leases for this long is presumed dead
    # and its accounts are taken over by another.
    lease_ttl: Duration = timedelta(seconds=60)

    @field_validator("lease_ttl")
    @classmethod
    def _sensible(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=15) <= value <= timedelta(minutes=30):
            raise ValueError("must be between 15s and 30m")
        return value


class RetentionSettings(Strict):
    # Comment text and author names are removed this many days after the
    # comment was written; flags, verdicts and the audit trail are kept.
    # None keeps them for ever.
    comment_text_days: int | None = Field(default=None, ge=1)


class MetricsSettings(Strict):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=1, le=65535)

    @property
    def on_every_interface(self) -> bool:
        return self.enabled and self.host in ("0.0.0.0", "::", "")

    @field_validator("enabled")
    @classmethod
    def _installed(cls, value: bool) -> bool:
        from monitor import metrics

        if value and not metrics.available():
            raise ValueError("metrics need prometheus-client: pip install 'care-moderation-monitor[metrics]'")
        return value


class CredentialSettings(Strict):
    """Where tokens the monitor renews itself are kept (YouTube, Instagram Login, LinkedIn refresh tokens)."""

    # In the state directory ($STATE_DIRECTORY, else beside the config) unless absolute; owner-only.
    path: Path = Path("credentials.json")
    # A Fernet key from the environment (`monitor auth --new-key` makes one). With it the file
    # is encrypted; without it the file holds the tokens as JSON.
    key: Secret | None = None

    @field_validator("key")
    @classmethod
    def _usable_key(cls, value: Secret | None) -> Secret | None:
        if value is not None and value.problem is None:  # a key that cannot be read is named when needed
            try:
                FileCredentialStore(Path("unused"), value)
            except CredentialStoreError as exc:
                raise ValueError(str(exc)) from None
        return value

    def store(self, base_dir: Path) -> FileCredentialStore:
        return FileCredentialStore(base_dir / self.path, self.key)


class AccountConfig(Strict):
    """One monitored account: how often to poll it, and its connector's own settings."""

    name: str
    platform: str
    enabled: bool = True
    poll_interval: timedelta
    jitter: timedelta
    connector: AccountSettings


class Settings(Strict):
    organisation: OrganisationSettings = OrganisationSettings()
    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    polling: PollDefaults = PollDefaults()
    service: ServiceSettings = ServiceSettings()
    retention: RetentionSettings = RetentionSettings()
    metrics: MetricsSettings = MetricsSettings()
    credentials: CredentialSettings = CredentialSettings()
    filter: FilterSettings = FilterSettings()
    notify: NotifySettings = NotifySettings()
    review: ReviewSettings | None = None  # the review page and the signed links in emails
    own_posts: OwnPostSettings = OwnPostSettings()
    accounts: list[AccountConfig] = Field(default_factory=list)
    config_path: Path = DEFAULT_CONFIG

    @property
    def config_dir(self) -> Path:
        return self.config_path.parent

    @property
    def state_dir(self) -> Path:
        """Where relative data paths land: $STATE_DIRECTORY (systemd's StateDirectory=, the image's /data),
        else the config file's folder."""
        given = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        return Path(given) if given else self.config_dir

    @property
    def output_dir(self) -> Path | None:
        """[notify] output_dir, relative to state_dir: where copies of every message are written."""
        return self.state_dir / self.notify.output_dir if self.notify.output_dir else None

    @property
    def database_url(self) -> str:
        """$MONITOR_DATABASE_URL when the operator sets it, else [database] url, relative to state_dir."""
        override = os.environ.get("MONITOR_DATABASE_URL")
        if override:
            try:
                return check_database_url(override)
            except ValueError as exc:
                raise ConfigError(f"$MONITOR_DATABASE_URL: {exc}") from None
        return self.database.resolved_url(self.state_dir)

    def missing_secrets(self, accounts: Sequence[AccountConfig] = (), notify: bool = False) -> list[str]:
        """``file: key: problem`` for each secret the given accounts (and the notifier) need but cannot read."""
        problems = unresolved(self.database, "database")
        if notify:
            problems += unresolved(self.notify, "notify")
        for account in accounts:
            index = self.accounts.index(account)
            problems += unresolved(account.connector, f"accounts[{index}] ({account.name})")
        return [f"{self.config_path}: {problem}" for problem in problems]

    def require_secrets(self, accounts: Sequence[AccountConfig] = (), notify: bool = False) -> None:
        """Stop with every missing secret named at once, before any work starts."""
        problems = self.missing_secrets(accounts, notify)
        if problems:
            raise ConfigError("\n".join(problems))

    @property
    def warnings(self) -> list[str]:
        """Settings that work but that the operator should know are risky."""
        found = []
        if self.metrics.on_every_interface:
            found.append(
                f"{self.config_path}: metrics.host = {self.metrics.host!r} serves the metrics on every network"
                " interface; use 127.0.0.1 unless a firewall keeps others out"
            )
        return found

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(f"{self.config_path}: no account named {name!r} (accounts: {known})")

    @model_validator(mode="after")
    def _digest_schedule_builds(self) -> Settings:
        try:
            cron_trigger(self.notify.digest_schedule, self.organisation.zone)
        except ValueError as exc:
            raise ValueError(f"notify.digest_schedule: {exc}") from None
        return self


def config_path_from(argument: str | None) -> Path:
    return Path(argument or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG)


def load(path: Path) -> Settings:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (copy config.example.toml to start)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; give the path of the config file itself") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_mapping(raw, path)


def from_mapping(raw: Mapping[str, Any], path: Path = DEFAULT_CONFIG) -> Settings:
    data = dict(raw)
    raw_accounts = data.pop("accounts", [])
    if not isinstance(raw_accounts, list):
        raise ConfigError(f"{path}: accounts: must be an array of tables ([[accounts]])")
    try:
        settings = Settings.model_validate({**data, "config_path": path})
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    missing = settings.filter.missing_files(path.parent)
    if missing:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in missing))
    register = settings.own_posts.register_path(path.parent)
    if register is not None:
        from monitor.consent import ConsentRegisterError, load_register

        try:
            load_register(register)
        except ConsentRegisterError as exc:
            raise ConfigError(f"{path}: own_posts.consent_register: {exc}") from None
    accounts = [_account(path, index, entry, settings.polling) for index, entry in enumerate(raw_accounts)]
    names = [account.name for account in accounts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"{path}: accounts: names must be unique; repeated: {', '.join(duplicates)}")
    return settings.model_copy(update={"accounts": accounts})


def _account(path: Path, index: int, entry: Any, defaults: PollDefaults) -> AccountConfig:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{path}: accounts[{index}]: must be a table")
    label = f"accounts[{index}]" + (f" ({entry['name']})" if isinstance(entry.get("name"), str) else "")
    for key in ("name", "platform"):
        if not isinstance(entry.get(key), str) or not entry.get(key):
            raise ConfigError(f"{path}: {label}.{key}: required, a non-empty string")
    try:
        model = connector_class(entry["platform"]).settings_model
    except ValueError as exc:
        raise ConfigError(f"{path}: {label}.platform: {exc}") from None
    schedule = {key: entry[key] for key in SCHEDULE_KEYS if key in entry}
    connector_keys = {key: value for key, value in entry.items() if key not in SCHEDULE_KEYS}
    try:
        timing = PollDefaults.model_validate(
            {
                "poll_interval": schedule.get("poll_interval", defaults.poll_interval),
                "jitter": schedule.get("jitter", defaults.jitter),
            }
        )
        connector = model.model_validate(connector_keys, context={"config_dir": path.parent})
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc, prefix=label)) from None
    enabled = schedule.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{path}: {label}.enabled: must be true or false")
    return AccountConfig(
        name=entry["name"],
        platform=entry["platform"],
        enabled=enabled,
        poll_interval=timing.poll_interval,
        jitter=timing.jitter,
        connector=connector,
    )


def _describe(path: Path, exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for error in exc.errors():
        key = _dotted(error["loc"])
        key = f"{prefix}.{key}" if prefix and key else prefix or key
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against config.example.toml)"
        elif error["type"] == "missing":
            message = "required, but not set"
        # A check across several keys (a model validator) names its key in the message itself.
        lines.append(f"{path}: {key}: {message}" if key else f"{path}: {message}")
    return "\n".join(lines)


def _dotted(location: Sequence[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
