"""The [notify] table: who is told, how, and when."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.secrets import Secret


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: Secret | None = None
    password: Secret | None = None
    timeout: float = Field(default=30.0, gt=0)


class NotifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    recipients: list[str] = Field(default_factory=list)
    sender: str = "monitor@localhost"
    digest_schedule: str = "0 8 * * *"
    urgent_alerts: bool = True
    output_dir: str | None = None
    smtp: SmtpSettings = SmtpSettings()

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(ch in address for ch in "\r\n<>, "):
                raise ValueError(f"{address!r} is not an email address")
        return value
