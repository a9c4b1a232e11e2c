"""What every connector shares: the Comment record, the Batch it yields,
the settings every account has, and the Connector interface.

A connector is a declaration: which endpoint, where the records are, how to
page, how a platform record becomes a Comment, and how the platform's errors
sort into the three kinds in ``connectors.errors``. The request loop lives in
``connectors.http`` and paging in ``connectors.pagination``.
"""

from __future__ import annotations

import html
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Literal

import requests
from pydantic import BaseModel, ConfigDict, Field

from connectors.credentials import CredentialExpiry, CredentialStore, MemoryCredentialStore
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import HttpClient, describe, retry_after_seconds


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment or reply, as every platform's connector reports it."""

    external_id: str
    text: str
    created_at: datetime
    post_id: str | None = None
    post_url: str | None = None
    post_title: str | None = None
    parent_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    edited_at: datetime | None = None
    permalink: str | None = None
    by_owner: bool = False
    hidden: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.created_at, datetime) or self.created_at.tzinfo is None:
            raise ValueError("Comment.created_at must be a timezone-aware datetime")
        if self.edited_at is not None and not isinstance(self.edited_at, datetime):
            raise TypeError(f"Comment.edited_at is {_kind_of(self.edited_at)}, not a time")
        for name in ("created_at", "edited_at"):
            moment = getattr(self, name)
            if moment is not None and not in_range(moment):
                raise ValueError(f"{name} {moment.isoformat()} is out of range")
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                if not value.isascii():
                    object.__setattr__(self, name, encodable(value))
            elif value is not None or name in _REQUIRED_TEXT:
                raise TypeError(f"Comment.{name} is {_kind_of(value)}, not text")


# Times a comment can carry. Outside them a record is refused here, at the edge, so that nothing
# downstream (local times in any zone, date arithmetic, the digest) meets a year it cannot show.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)


def in_range(moment: datetime) -> bool:
    return EARLIEST_TIME <= moment < LATEST_TIME


def later_than_start(moment: datetime, started: datetime) -> bool:
    """True for a time after the poll began: the platform's clock, or the record, is wrong.

    Such a comment is stored, but no watermark moves to its time, or every
    comment made before then would be behind the watermark and never read.
    """
    return moment > started


def future_note(what: str, moment: datetime) -> str:
    return f"{what} is dated {moment.isoformat()}, after this poll began; stored, and the bookmark not moved to it"


def trusted_watermark(watermark: datetime | None, started: datetime, notes: list[str]) -> datetime | None:
    """A stored watermark, unless it lies after the poll's start (written before future times were held back).

    Such a watermark would hide every comment until that date, so it is dropped
    (and noted) and the poll reads back its whole lookback instead.
    """
    if watermark is None or not later_than_start(watermark, started):
        return watermark
    notes.append(f"the stored bookmark {watermark.isoformat()} is in the future; read again from the lookback")
    return None


def advance(newest: datetime | None, moment: datetime, started: datetime) -> datetime | None:
    """The watermark after reading a comment at ``moment``: the later of the two, but never past the poll's start."""
    if later_than_start(moment, started):
        return newest
    return moment if newest is None or moment > newest else newest


_REQUIRED_TEXT = ("external_id", "text")
_TEXT_FIELDS = (
    *_REQUIRED_TEXT,
    "post_id",
    "post_url",
    "post_title",
    "parent_id",
    "author_id",
    "author_name",
    "permalink",
)


@dataclass(frozen=True, slots=True)
class OwnPost:
    """One post the organisation's own account published, with everything in it that can name a person.

    ``tagged`` holds the people the platform says are tagged (names or handles);
    ``media_text`` the captions and alt text of the post's pictures and videos.
    """

    external_id: str
    text: str
    created_at: datetime
    url: str | None = None
    title: str | None = None
    edited_at: datetime | None = None
    tagged: tuple[str, ...] = ()
    media_text: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.created_at, datetime) or self.created_at.tzinfo is None:
            raise ValueError("OwnPost.created_at must be a timezone-aware datetime")
        for name in ("external_id", "text"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"OwnPost.{name} is {_kind_of(value)}, not text")
            object.__setattr__(self, name, encodable(value))
        for name in ("tagged", "media_text"):
            values = getattr(self, name)
            object.__setattr__(self, name, tuple(encodable(v) for v in values if isinstance(v, str) and v.strip()))


def encodable(value: str) -> str:
    """``value`` with each lone surrogate (JSON can carry ``\\ud800``; UTF-8 cannot) replaced by U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


VISIBLE, HIDDEN, DELETED = "present", "hidden", "deleted"  # what ``Connector.recheck`` reports


@dataclass(slots=True)
class Batch:
    """Comments to store together, and the bookmark that is true once they are.

    ``bookmark`` is None when this batch does not move the bookmark (the final
    watermark is only known at the end of the fetch). ``skipped`` counts
    platform records that could not be read, with the reason for each.
    ``posts`` are the organisation's own posts the connector saw on the way.
    ``notes`` says what was odd about records that were stored all the same
    (a time in the future, a link that was dropped).
    """

    comments: list[Comment]
    bookmark: dict[str, Any] | None = None
    skipped: list[str] = field(default_factory=list)
    posts: list[OwnPost] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# Minutes re-read behind the newest comment time on each poll, for platforms read by a time watermark.
OverlapMinutes = Annotated[
    int,
    Field(
        ge=0,
        le=24 * 60,
        description=(
            "Minutes re-read behind the newest comment time on each poll. A comment that becomes visible "
            "later than this after its creation time (held for review, then approved) is not read."
        ),
    ),
]


class AccountSettings(BaseModel):
    """Keys every account has. Each connector subclasses this with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str
    platform: str
    base_url: str | None = None
    # The day the account's token expires, where the platform cannot renew it and said when
    # (e.g. a Page token from a short-lived user token); the operator is warned 14 days ahead.
    token_expires: date | None = None


# What a re-check found: still there, hidden (held, spam, hidden by a moderator) or deleted.
RecheckState = Literal["present", "hidden", "deleted"]


class Connector(ABC):
    """One account on one platform."""

    platform: ClassVar[str]
    settings_model: ClassVar[type[AccountSettings]] = AccountSettings
    default_base_url: ClassVar[str] = ""
    # Comments a single re-check request can ask about; 0 where the platform cannot say cheaply.
    recheck_batch: ClassVar[int] = 0

    def __init__(
        self,
        settings: AccountSettings,
        http: HttpClient | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        credentials: CredentialStore | None = None,
    ) -> None:
        self.settings = settings
        self.now = now
        self.credentials: CredentialStore = credentials if credentials is not None else MemoryCredentialStore()
        self.http = http or HttpClient(
            base_url=settings.base_url or self.default_base_url,
            classify_error=self.classify_error,
            rate_limit_delay=self.rate_limit_delay,
        )
        self.http.auth_headers.update(self.auth_headers())
        self.http.auth_params.update(self.auth_params())

    def auth_headers(self) -> dict[str, str]:
        return {}

    def auth_params(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        """Yield batches of comments newer than ``bookmark`` (all recent ones when None)."""

    @abstractmethod
    def check(self) -> str:
        """Make one cheap authenticated call; return what it saw (e.g. the page name)."""

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """What became of these comments (ids as the connector reported them), in ``recheck_batch``-sized requests.

        An id left out of the answer is one the platform could not speak for
        (an error, or a state it does not reveal to this token). The default
        knows nothing.
        """
        return {}

    def credential_expiry(self) -> CredentialExpiry | None:
        """When this account's credentials stop working, where that is known.

        Connectors that renew their tokens override this; otherwise it is the
        operator's ``token_expires`` (the end of that day, UTC).
        """
        day = self.settings.token_expires
        if day is None:
            return None
        return CredentialExpiry(datetime.combine(day, time(), UTC) + timedelta(days=1), "access token", False)

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        """Sort a response into ok (None) or one of the error kinds. Override per platform."""
        return classify_by_status(response)

    def rate_limit_delay(self, response: requests.Response) -> float | None:
        """Seconds to leave before this account's next poll, from a successful response."""
        return None


def classify_by_status(response: requests.Response, detail: str = "") -> ConnectorError | None:
    """The default sorting by HTTP status, for platforms without error codes of their own."""
    status = response.status_code
    if status < 400:
        return None
    where = describe(response)
    suffix = f": {detail}" if detail else ""
    if status in (401, 403):
        return AuthError(f"{where} was refused ({status}){suffix}")
    if status in (408, 425, 429) or status >= 500:
        return RetryableError(f"{where} failed ({status}){suffix}", retry_after_seconds(response))
    return FatalError(f"{where} failed ({status}){suffix}")


def seconds_until_header_time(response: requests.Response, header: str, now: datetime) -> float | None:
    """Seconds from ``now`` until the time a rate-limit header names (epoch seconds or ISO 8601)."""
    value = response.headers.get(header, "").strip()
    if not value:
        return None
    try:
        moment = parse_time(int(value) if value.isdigit() else value)
    except ValueError:
        return None
    return max(0.0, (moment - now).total_seconds())


def wait_when_nearly_spent(
    response: requests.Response, remaining_header: str, reset_header: str, now: datetime, below: int
) -> float | None:
    """Until the reset time, once fewer than ``below`` requests remain in the platform's window."""
    remaining = response.headers.get(remaining_header, "")
    if not remaining.isdigit() or int(remaining) >= below:
        return None
    return seconds_until_header_time(response, reset_header, now)


_COMPACT_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_time(value: Any) -> datetime:
    """Platform time (ISO 8601 with or without zone, or epoch seconds/ms) → aware UTC."""
    try:
        return _as_utc(value)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"time {value!r} is out of range") from exc


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    elif isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        # Graph API writes +0000; fromisoformat in 3.11 wants +00:00.
        text = _COMPACT_OFFSET.sub(r"\1:\2", text)
        moment = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a time: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    """Plain text from the small HTML platforms put in comments (Mastodon, WordPress)."""
    text = _BREAK.sub("\n", markup)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def dig(record: Mapping[str, Any], *path: str) -> Any:
    """``record[a][b]...`` or None where any step is missing or not a mapping."""
    current: Any = record
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def as_object(record: Any, what: str) -> Mapping[str, Any]:
    """``record`` when it is a JSON object; otherwise TypeError naming what it is instead."""
    if not isinstance(record, Mapping):
        raise TypeError(f"{what} is {_kind_of(record)}, not an object")
    return record


def objects_of(records: list[Any], what: str, batch: Batch) -> list[Mapping[str, Any]]:
    """The records that are objects; each one that is not is noted in ``batch.skipped``."""
    objects: list[Mapping[str, Any]] = []
    for record in records:
        try:
            objects.append(as_object(record, what))
        except TypeError as exc:
            batch.skipped.append(reason_of(exc))
    return objects


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    kind = type(value).__name__
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def text_or_none(value: Any) -> str | None:
    """``str(value)``, or None where the value is missing or empty."""
    if value is None or value == "":
        return None
    return str(value)


def time_or_none(value: Any) -> datetime | None:
    """``parse_time(value)``, or None where the value is not a readable time."""
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        return None


def reason_of(exc: Exception) -> str:
    """Why a record was skipped: the exception's message, or its kind when it has none."""
    return str(exc.args[0]) if exc.args else type(exc).__name__


TITLE_LENGTH = 80


def post_title(message: Any) -> str | None:
    """The first line of a post's text, shortened to ``TITLE_LENGTH`` characters."""
    if not isinstance(message, str) or not message.strip():
        return None
    line = message.strip().splitlines()[0].strip()
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
