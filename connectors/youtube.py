"""YouTube channel: comment threads on the channel and its videos (Data API v3).

``commentThreads.list`` with ``allThreadsRelatedToChannelId`` and
``order=time`` lists threads newest first by the time the thread was started;
a new reply does not move an old thread up, and a thread's top-level
``updatedAt`` changes only when that comment is edited. So the poll reads
threads down to the older of two lines: the time watermark (new threads and
edits) and the reply window (``reply_window_days``: threads still watched for
new replies). For the threads in the window the bookmark keeps each one's
``totalReplyCount``; the embedded replies are only a subset, so a thread whose
count moved, or a new one with more replies than were embedded, has its replies
read with ``comments.list``. With nothing new, a poll is one request (while the
reply window fits in one page of 100 threads). Replies on threads older than
the window are not seen. A comment that becomes visible long after its
creation time (held for review, then approved) is already behind the overlap
when it appears, so it is not read either.

Every request costs quota units; ``quota_units`` counts them. The daily quota
resets at midnight Pacific time, which is when a ``quotaExceeded`` account is
next polled.

With ``own_posts`` on, each poll also reads the channel's newest uploads
(``playlistItems.list`` on its uploads playlist: one request, one unit) and
reports each video's title and description as one of the organisation's own
posts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from pydantic import Field, model_validator

from connectors.base import (
    AccountSettings,
    Batch,
    Comment,
    Connector,
    OverlapMinutes,
    OwnPost,
    classify_by_status,
    dig,
    html_to_text,
    objects_of,
    parse_time,
    reason_of,
    text_or_none,
    time_or_none,
)
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import describe, retry_after_seconds
from connectors.pagination import Page, PageToken, page_list, pages
from monitor.secrets import Secret, redact

PAGING = PageToken(("nextPageToken",), "pageToken")
PAGE_SIZE = 100
UNITS_PER_REQUEST = 1

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RETRYABLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"})
AUTH_REASONS = frozenset(
    {
        "keyInvalid",
        "keyExpired",
        "authError",
        "forbidden",
        "insufficientPermissions",
        "accessNotConfigured",
        "ipRefererBlocked",
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
        "API_KEY_SERVICE_BLOCKED",
        "API_KEY_HTTP_REFERRER_BLOCKED",
        "API_KEY_IP_ADDRESS_BLOCKED",
    }
)
AUTH_STATUSES = frozenset({"PERMISSION_DENIED", "UNAUTHENTICATED"})
# A thread or video without comments is not a failure of the account.
UNAVAILABLE_REASONS = frozenset({"commentsDisabled", "commentNotFound", "commentThreadNotFound", "videoNotFound"})


class CommentsUnavailableError(FatalError):
    """Comments are disabled or gone for one video or thread."""


class YouTubeSettings(AccountSettings):
    channel_id: str = Field(min_length=1)
    api_key: Secret | None = None
    access_token: Secret | None = None
    lookback_days: int = Field(14, ge=1, le=365)
    reply_window_days: int = Field(7, ge=0, le=365)
    overlap_minutes: OverlapMinutes = 15
    # Also read the channel's uploads and check their titles and descriptions as the organisation's own posts.
    own_posts: bool = False

    @model_validator(mode="after")
    def _one_credential(self) -> YouTubeSettings:
        if (self.api_key is None) == (self.access_token is None):
            raise ValueError("set exactly one of api_key or access_token")
        return self


@dataclass
class _Poll:
    """What one fetch has learned so far."""

    cutoff: datetime
    reply_horizon: datetime
    newest: datetime | None
    known_counts: Mapping[str, int]
    counts: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


class YouTubeConnector(Connector):
    platform: ClassVar[str] = "youtube"
    settings_model: ClassVar[type[AccountSettings]] = YouTubeSettings
    default_base_url: ClassVar[str] = "https://www.googleapis.com/youtube/v3"

    settings: YouTubeSettings

    def auth_headers(self) -> dict[str, str]:
        token = self.settings.access_token
        return {"Authorization": f"Bearer {token.reveal()}"} if token is not None else {}

    def auth_params(self) -> dict[str, str]:
        key = self.settings.api_key
        return {"key": key.reveal()} if key is not None else {}

    @property
    def quota_units(self) -> int:
        """Quota units spent by this connector's requests (failed ones count too)."""
        return self.http.requests_made * UNITS_PER_REQUEST

    def check(self) -> str:
        body = self.http.get_json("channels", {"part": "id,snippet", "id": self.settings.channel_id})
        items = body.get("items") if isinstance(body, Mapping) else None
        if not isinstance(items, list) or not items:
            raise FatalError(f"YouTube channel {self.settings.channel_id} was not found")
        title = dig(items[0], "snippet", "title") or "(no title)"
        return f"YouTube channel {title} ({self.settings.channel_id})"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        if self.settings.own_posts:
            yield self._uploads()
        started = self.now()
        watermark = time_or_none(bookmark.get("since")) if bookmark else None
        cutoff = (
            watermark - timedelta(minutes=self.settings.overlap_minutes)
            if watermark is not None
            else started - timedelta(days=self.settings.lookback_days)
        )
        poll = _Poll(
            cutoff=cutoff,
            reply_horizon=started - timedelta(days=self.settings.reply_window_days),
            newest=watermark,
            known_counts=counts_of(bookmark),
        )
        stop_before = min(poll.cutoff, poll.reply_horizon)
        params = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": self.settings.channel_id,
            "order": "time",
            "maxResults": PAGE_SIZE,
            "textFormat": "plainText",
        }
        try:
            for page in pages(self.http, "commentThreads", params, PAGING):
                batch = Batch(comments=[])
                threads = objects_of(items_of(page), "thread", batch)
                for thread in threads:
                    self._read_thread(thread, poll, batch)
                if batch.comments or batch.skipped:
                    yield batch
                if any(_thread_time(thread) < stop_before for thread in threads):
                    break
        except CommentsUnavailableError as exc:
            yield Batch(comments=[], skipped=[str(exc)])
            return
        since = poll.newest or cutoff
        yield Batch(comments=[], bookmark={"since": since.isoformat(), "reply_counts": poll.counts})

    def _uploads(self) -> Batch:
        """The channel's newest videos, from its uploads playlist (``UU`` in place of the channel id's ``UC``)."""
        playlist = "UU" + self.settings.channel_id.removeprefix("UC")
        params = {"part": "snippet", "playlistId": playlist, "maxResults": 50}
        batch = Batch(comments=[])
        for item in objects_of(items_of_body(self.http.get_json("playlistItems", params)), "video", batch):
            try:
                batch.posts.append(own_post_from_upload(item))
            except (KeyError, TypeError, ValueError) as exc:
                batch.skipped.append(f"video {dig(item, 'snippet', 'resourceId', 'videoId') or '?'}: {reason_of(exc)}")
        return batch

    def _read_thread(self, thread: Mapping[str, Any], poll: _Poll, batch: Batch) -> None:
        thread_id = str(thread.get("id") or "?")
        context = thread_context(thread, self.settings.channel_id)
        try:
            top = comment_from_record(dig(thread, "snippet", "topLevelComment"), context)
        except (KeyError, TypeError, ValueError) as exc:
            batch.skipped.append(f"thread {thread_id}: {reason_of(exc)}")
            return
        self._keep(top, poll, batch)
        replies = self._replies(thread, top, poll, batch)
        for record in replies:
            try:
                reply = comment_from_record(record, context)
            except (KeyError, TypeError, ValueError) as exc:
                batch.skipped.append(f"reply in thread {thread_id}: {reason_of(exc)}")
                continue
            self._keep(reply, poll, batch)

    def _replies(self, thread: Mapping[str, Any], top: Comment, poll: _Poll, batch: Batch) -> list[Any]:
        """The embedded replies, or all of them when a new thread or a moved count says some are missing."""
        total = dig(thread, "snippet", "totalReplyCount")
        total = total if isinstance(total, int) and not isinstance(total, bool) else 0
        embedded = dig(thread, "replies", "comments")
        replies = embedded if isinstance(embedded, list) else []
        watched = top.created_at >= poll.reply_horizon
        moved = watched and poll.known_counts.get(top.external_id) != total
        if total > len(replies) and (top.created_at >= poll.cutoff or moved):
            try:
                replies = self._all_replies(top.external_id)
            except CommentsUnavailableError as exc:
                batch.skipped.append(f"thread {thread.get('id') or '?'}: {exc}")
                return replies  # its count is not kept, so the next poll tries again
        if total and watched:
            poll.counts[top.external_id] = total
        return replies

    def _all_replies(self, parent_id: str) -> list[Any]:
        params = {"part": "snippet", "parentId": parent_id, "maxResults": PAGE_SIZE, "textFormat": "plainText"}
        return [record for page in pages(self.http, "comments", params, PAGING) for record in items_of(page)]

    @staticmethod
    def _keep(comment: Comment, poll: _Poll, batch: Batch) -> None:
        changed = comment.edited_at or comment.created_at
        if changed < poll.cutoff or comment.external_id in poll.seen:
            return
        poll.seen.add(comment.external_id)
        batch.comments.append(comment)
        poll.newest = max(poll.newest or changed, changed)

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        return classify_google_error(response, self.now())


@dataclass(frozen=True, slots=True)
class ThreadContext:
    """What a comment needs from its thread: the video (or channel) it belongs to."""

    channel_id: str
    video_id: str | None
    thread_channel_id: str | None


def own_post_from_upload(item: Mapping[str, Any]) -> OwnPost:
    """One uploads-playlist item: the video's title and description."""
    video_id = dig(item, "snippet", "resourceId", "videoId")
    if not isinstance(video_id, str) or not video_id:
        raise KeyError("playlist item has no videoId")
    published = dig(item, "snippet", "publishedAt")
    if not published:
        raise KeyError(f"video {video_id} has no publishedAt")
    title = str(dig(item, "snippet", "title") or "").strip()
    description = str(dig(item, "snippet", "description") or "").strip()
    return OwnPost(
        external_id=video_id,
        text="\n\n".join(part for part in (title, description) if part),
        created_at=parse_time(published),
        url=f"https://www.youtube.com/watch?v={video_id}",
        title=title or None,
    )


def items_of_body(body: Any) -> list[Any]:
    items = body.get("items") if isinstance(body, Mapping) else None
    return items if isinstance(items, list) else []


def thread_context(thread: Mapping[str, Any], channel_id: str) -> ThreadContext:
    return ThreadContext(
        channel_id=channel_id,
        video_id=text_or_none(dig(thread, "snippet", "videoId")),
        thread_channel_id=text_or_none(dig(thread, "snippet", "channelId")),
    )


def comment_from_record(record: Any, context: ThreadContext) -> Comment:
    """One YouTube comment (a thread's top-level comment or a reply) as a Comment.

    ``textOriginal`` is the plain text; ``textDisplay`` is HTML and used only
    when the original is withheld. Threads without a video are discussions on
    the channel itself and link to the channel.
    """
    if not isinstance(record, Mapping):
        raise TypeError("comment is missing or not an object")
    comment_id = text_or_none(record.get("id"))
    if comment_id is None:
        raise KeyError("comment has no id")
    snippet = record.get("snippet")
    if not isinstance(snippet, Mapping):
        raise KeyError(f"comment {comment_id} has no snippet")
    if snippet.get("publishedAt") is None:
        raise KeyError(f"comment {comment_id} has no publishedAt")
    created_at = parse_time(snippet["publishedAt"])
    updated = time_or_none(snippet.get("updatedAt"))
    author_id = text_or_none(dig(snippet, "authorChannelId", "value"))
    video_id = text_or_none(snippet.get("videoId")) or context.video_id
    status = snippet.get("moderationStatus")
    return Comment(
        external_id=comment_id,
        text=comment_text(snippet),
        created_at=created_at,
        post_id=video_id or context.thread_channel_id or context.channel_id,
        post_url=video_url(video_id) if video_id else channel_url(context),
        parent_id=text_or_none(snippet.get("parentId")),
        author_id=author_id,
        author_name=text_or_none(snippet.get("authorDisplayName")),
        edited_at=updated if updated is not None and updated > created_at else None,
        permalink=f"{video_url(video_id)}&lc={comment_id}" if video_id else channel_url(context),
        by_owner=author_id == context.channel_id,
        hidden=status not in (None, "published"),
    )


def comment_text(snippet: Mapping[str, Any]) -> str:
    original = snippet.get("textOriginal")
    if isinstance(original, str):
        return original.strip()
    display = snippet.get("textDisplay")
    if isinstance(display, str):
        return html_to_text(display)
    raise KeyError("comment has neither textOriginal nor textDisplay")


def video_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def channel_url(context: ThreadContext) -> str:
    return f"https://www.youtube.com/channel/{context.thread_channel_id or context.channel_id}"


def classify_google_error(response: requests.Response, now: datetime) -> ConnectorError | None:
    """Sort a Google API response: ``{error: {code, message, errors[{domain, reason}], status}}``."""
    status = response.status_code
    if status < 400:
        return None
    error = google_error(response)
    if error is None:
        return classify_by_status(response)
    reasons = reasons_of(error)
    message = f"{describe(response)} failed ({status}): {describe_google_error(error, reasons)}"
    if reasons & QUOTA_REASONS:
        return RetryableError(message, seconds_until_quota_reset(now))
    if status == 429 or status >= 500 or reasons & RETRYABLE_REASONS:
        return RetryableError(message, retry_after_seconds(response))
    if status == 401 or reasons & AUTH_REASONS or error.get("status") in AUTH_STATUSES:
        return AuthError(message)
    if reasons & UNAVAILABLE_REASONS:
        return CommentsUnavailableError(message)
    return FatalError(message)


def google_error(response: requests.Response) -> Mapping[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else None


def reasons_of(error: Mapping[str, Any]) -> set[str]:
    """The ``reason`` of each entry in ``errors`` (v3 style) and ``details`` (google.rpc style)."""
    entries = [*(error.get("errors") or []), *(error.get("details") or [])]
    return {str(entry["reason"]) for entry in entries if isinstance(entry, Mapping) and entry.get("reason")}


def describe_google_error(error: Mapping[str, Any], reasons: set[str]) -> str:
    kind = ", ".join(sorted(reasons)) or str(error.get("status") or "error")
    return f"{kind}: {redact(str(error.get('message') or 'no message'))[:300]}"


def pacific() -> timezone | ZoneInfo:
    """The quota's time zone; without a time zone database, standard time (a late retry, never early)."""
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-8), "PST")


def seconds_until_quota_reset(now: datetime) -> float:
    """Seconds from ``now`` to the next midnight in Pacific time, when the daily quota resets."""
    local = now.astimezone(pacific())
    next_day = (local + timedelta(days=1)).date()
    midnight = datetime(next_day.year, next_day.month, next_day.day, tzinfo=local.tzinfo)
    return max(0.0, (midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds())


def items_of(page: Page) -> list[Any]:
    return page_list(page, "items")


def counts_of(bookmark: Mapping[str, Any] | None) -> dict[str, int]:
    counts = bookmark.get("reply_counts") if bookmark else None
    if not isinstance(counts, Mapping):
        return {}
    return {str(key): value for key, value in counts.items() if isinstance(value, int)}


def _thread_time(thread: Mapping[str, Any]) -> datetime:
    moment = time_or_none(dig(thread, "snippet", "topLevelComment", "snippet", "publishedAt"))
    return moment if moment is not None else datetime.max.replace(tzinfo=UTC)
