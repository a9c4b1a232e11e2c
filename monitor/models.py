"""The tables. One row per account, post, comment, verdict, flag, bookmark and sent notification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, String, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utc_column(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def json_column() -> Any:
    return Field(default=None, sa_column=Column(JSON))


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    platform: str
    status: str = "ok"  # ok | failing | auth_failed
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    failing_since: datetime | None = utc_column()
    last_attempt_at: datetime | None = utc_column()
    last_success_at: datetime | None = utc_column()
    not_before: datetime | None = utc_column()  # the platform asked us to wait until then


class Bookmark(SQLModel, table=True):
    account_id: int = Field(foreign_key="account.id", primary_key=True)
    value: dict[str, Any] | None = json_column()
    updated_at: datetime | None = utc_column()


class Post(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    external_id: str
    url: str | None = None
    title: str | None = Field(default=None, sa_column=Column(Text))


class Comment(SQLModel, table=True):
    # Ids are unique per account, not per platform: two blogs or two Mastodon servers reuse the same ids.
    __table_args__ = (UniqueConstraint("account_id", "external_id", name="uq_comment_account_external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    platform: str
    external_id: str
    # "comment", or "post": the organisation's own post, checked against its policy (monitor.ownposts)
    kind: str = Field(default="comment", sa_column=Column(String, nullable=False, server_default="comment"))
    tagged: list[str] | None = json_column()  # own posts: the people the platform says are tagged
    media_text: list[str] | None = json_column()  # own posts: captions and alt text of pictures and videos
    post_id: int | None = Field(default=None, foreign_key="post.id")
    parent_external_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    text: str | None = Field(default=None, sa_column=Column(Text))
    permalink: str | None = None
    by_owner: bool = False
    hidden: bool = False
    created_at: datetime | None = utc_column(nullable=False, index=True)
    edited_at: datetime | None = utc_column()
    first_seen_at: datetime | None = utc_column()
    updated_at: datetime | None = utc_column()
    classified_at: datetime | None = utc_column(index=True)  # None: waiting for the filter


class Verdict(SQLModel, table=True):
    """The filter's latest verdict on a comment, with everything that explains it."""

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(foreign_key="comment.id", unique=True)
    flagged: bool
    severity: str | None = None
    categories: list[str] | None = json_column()
    reasons: list[dict[str, Any]] | None = json_column()
    sentiment: dict[str, float] | None = json_column()
    classified_at: datetime | None = utc_column()


class Flag(SQLModel, table=True):
    """A flagged comment the General Manager should see; the unit of notification."""

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(foreign_key="comment.id", unique=True)
    severity: str = Field(index=True)
    categories: list[str] | None = json_column()
    status: str = Field(default="open", index=True)  # open | resolved | dismissed
    created_at: datetime | None = utc_column(index=True)
    updated_at: datetime | None = utc_column()
    resolved_at: datetime | None = utc_column()
    resolution: str | None = Field(default=None, sa_column=Column(Text))
    reopened_at: datetime | None = utc_column()  # sends before this told of the flag before it reopened


class NotificationLog(SQLModel, table=True):
    """A send the server accepted. Written only after it did."""

    __table_args__ = (UniqueConstraint("flag_id", "channel", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="flag.id", index=True)
    channel: str  # email | slack | teams
    recipient: str
    kind: str  # alert | digest | reminder
    severity: str | None = None  # the flag's severity when it was last sent
    message_id: str | None = None
    sent_at: datetime | None = utc_column()
    send_count: int = 1


class FlagEvent(SQLModel, table=True):
    """The audit trail: every change to a flag, who made it, when and why."""

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="flag.id", index=True)
    at: datetime | None = utc_column(nullable=False)
    actor: str  # a person's name, or "monitor" for automatic changes
    action: str  # one of monitor.lifecycle.Action
    note: str | None = Field(default=None, sa_column=Column(Text))


class JobStatus(SQLModel, table=True):
    """The last outcome of a scheduled job that is not an account poll (the digest)."""

    name: str = Field(primary_key=True)
    last_run_at: datetime | None = utc_column()
    last_ok_at: datetime | None = utc_column()
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class Lease(SQLModel, table=True):
    """Which running instance polls an account (``account:NAME``) or sends notifications (``notifier``)."""

    name: str = Field(primary_key=True)
    owner: str
    expires_at: datetime | None = utc_column(nullable=False, index=True)


class ConsentState(SQLModel, table=True):
    """What the consent register allowed when the organisation's posts were last checked against it."""

    name: str = Field(primary_key=True)  # "register"
    fingerprint: str
    changed_at: datetime | None = utc_column()
