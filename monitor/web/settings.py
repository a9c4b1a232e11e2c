"""The [review] table: where the review page listens, the address its links use, and the key that signs them."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.durations import Duration
from monitor.secrets import Secret

KEY_MIN_CHARS = 32


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class AutoHideSettings(Strict):
    """Comments hidden on the platform as soon as they are flagged (off unless categories are named)."""

    categories: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)  # empty: every account whose platform can hide

    def applies(self, account: str, categories: list[str] | tuple[str, ...]) -> bool:
        if not self.categories or (self.accounts and account not in self.accounts):
            return False
        return any(category in self.categories for category in categories)


class ReviewSettings(Strict):
    # The address people reach the page at (behind the reverse proxy), used in every link.
    base_url: str
    host: str = "127.0.0.1"
    port: int = Field(default=8750, ge=1, le=65535)
    link_lifetime: Duration = timedelta(days=14)
    key: Secret
    auto_hide: AutoHideSettings = AutoHideSettings()

    @field_validator("base_url")
    @classmethod
    def _an_address(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be the page's address, e.g. https://monitor.example.org")
        return value.rstrip("/")

    @field_validator("link_lifetime")
    @classmethod
    def _sensible_lifetime(cls, value: timedelta) -> timedelta:
        if not timedelta(hours=1) <= value <= timedelta(days=90):
            raise ValueError("must be between 1h and 90d")
        return value

    @field_validator("key")
    @classmethod
    def _long_enough(cls, value: Secret) -> Secret:
        if len(value.reveal()) < KEY_MIN_CHARS:
            raise ValueError(f"the key must be at least {KEY_MIN_CHARS} characters (e.g. `openssl rand -hex 32`)")
        return value
