"""The [notify] table: who is told, how, and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.durations import Duration
from monitor.secrets import Secret

Severity = Literal["urgent", "high", "medium", "low"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class SmtpSettings(Strict):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: Secret | None = None
    password: Secret | None = None
    # A login over security = "none" sends the password as it is; only on the operator's explicit word.
    allow_plaintext_auth: bool = False
    timeout: float = Field(default=30.0, gt=0, allow_inf_nan=False)  # each read or write
    deadline: Duration = timedelta(minutes=5)  # the whole conversation, greeting to goodbye

    @field_validator("username", "password")
    @classmethod
    def _ascii(cls, value: Secret | None) -> Secret | None:
        if value is not None and value.problem is None and not value.reveal().isascii():
            raise ValueError(f"the value from {value.source} has non-ASCII characters, which SMTP login cannot send")
        return value

    @model_validator(mode="after")
    def _deadline_covers_a_step(self) -> SmtpSettings:
        if self.deadline.total_seconds() < self.timeout:
            raise ValueError("deadline: must be at least timeout (the deadline covers the whole conversation)")
        return self

    @model_validator(mode="after")
    def _no_unencrypted_login(self) -> SmtpSettings:
        login = self.username is not None or self.password is not None
        if login and self.security == "none" and not self.allow_plaintext_auth:
            raise ValueError(
                'allow_plaintext_auth: security = "none" would send the username and password unencrypted;'
                ' use "starttls" or "ssl", or set allow_plaintext_auth = true if the network is trusted'
            )
        return self


class WebhookSettings(Strict):
    """A Slack or Microsoft Teams incoming webhook. The URL carries its own key, so it is a secret."""

    url: Secret
    name: str = Field(default="webhook", min_length=1, max_length=64)


class NotifySettings(Strict):
    recipients: list[str] = Field(default_factory=list)
    sender: str = "monitor@localhost"
    digest_schedule: str = "0 8 * * *"
    urgent_alerts: bool = True
    alert_severities: list[Severity] = Field(default_factory=lambda: ["urgent"])
    alert_cap_per_hour: int = Field(default=10, ge=1, le=1000)
    reminder_after: Duration = timedelta(hours=24)
    reminder_severities: list[Severity] = Field(default_factory=lambda: ["urgent", "high"])
    send_all_clear: bool = False
    items_per_post: int = Field(default=5, ge=1)
    max_digest_items: int = Field(default=200, ge=1)
    retry_attempts: int = Field(default=4, ge=1, le=10)
    retry_backoff: Duration = timedelta(seconds=2)
    output_dir: str | None = None
    smtp: SmtpSettings = SmtpSettings()
    slack: WebhookSettings | None = None
    teams: WebhookSettings | None = None

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            _check_address(address)
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        _check_address(value)
        return value

    @field_validator("reminder_after")
    @classmethod
    def _reminders_not_too_often(cls, value: timedelta) -> timedelta:
        if value < timedelta(hours=1):
            raise ValueError("must be at least 1h; reminders more often than that become noise")
        return value


def _check_address(address: str) -> None:
    if "@" not in address or any(ch in address for ch in "\r\n<>,; \t"):
        raise ValueError(f"{address!r} is not an email address")
