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
read with ``comments.list`` (only when the count moved, so a thread inside the
overlap costs nothing more). With nothing new, a poll is one request (while the
reply window fits in one page of 100 threads). Replies on threads older than
the window are not seen. A comment that becomes visible long after its
creation time (held for review, then approved) is already behind the overlap
when it appears, so it is not read either.

With the channel owner's OAuth token, the review queues (comments held for
review and likely spam, ``moderationStatus``) are read too, every
``held_every_minutes``, and their comments kept as hidden: these are often the
ones most worth a look. An API key cannot see them. The hour-long access token
is renewed with the refresh token (``connectors.credentials``).

Every request costs quota units; ``quota_units`` counts them. The daily quota
resets at midnight Pacific time, which is when a ``quotaExceeded`` account is
next polled.

With ``own_posts`` on, each poll also reads the channel's newest uploads
(``playlistItems.list`` on its uploads playlist: one request, one unit) and
reports each video's title and description as one of the organisation's own
posts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cached_property
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
    RecheckState,
    advance,
    chunks,
    classify_by_status,
    dig,
    future_note,
    html_to_text,
    later_than_start,
    objects_of,
    parse_time,
    reason_of,
    text_or_none,
    time_or_none,
    trusted_watermark,
)
from connectors.credentials import CredentialExpiry, TokenKeeper, TokenState, fingerprint
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import describe, excerpt, retry_after_seconds
from connectors.oauth import Client, refresh_google
from connectors.pagination import Page, PageToken, page_list, pages
from monitor.secrets import Secret

PAGING = PageToken(("nextPageToken",), "pageToken")
PAGE_SIZE = 100
UNITS_PER_REQUEST = 1
# YouTube Studio's review queues, listable by the channel's owner (commentThreads.list moderationStatus).
HELD_STATUSES = ("heldForReview", "likelySpam")
HELD_MAX_PAGES = 5
# An access token lasts about an hour; it is renewed this long before it runs out.
RENEW_MARGIN = timedelta(minutes=5)

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
    """An API key (public comments only), or the channel owner's OAuth consent.

    With OAuth, ``client_id`` and ``client_secret`` are the Google Cloud app's;
    ``refresh_token`` (from ``monitor auth``, in the config or the credential
    store) lets the monitor renew the hour-long access token itself.
    """

    channel_id: str = Field(min_length=1)
    api_key: Secret | None = None
    access_token: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None
    lookback_days: int = Field(14, ge=1, le=365)
    reply_window_days: int = Field(7, ge=0, le=365)
    # With OAuth: how often the review queues (held for review, likely spam) are read; 0 never.
    held_every_minutes: int = Field(30, ge=0, le=24 * 60)
    overlap_minutes: OverlapMinutes = 15
    # Also read the channel's uploads and check their titles and descriptions as the organisation's own posts.
    own_posts: bool = False

    @property
    def oauth(self) -> bool:
        return self.access_token is not None or self.refresh_token is not None or self.client_id is not None

    @model_validator(mode="after")
    def _one_credential(self) -> YouTubeSettings:
        if (self.api_key is None) == (not self.oauth):
            raise ValueError("set exactly one of api_key or access_token (or OAuth: client_id and client_secret)")
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("set both client_id and client_secret, or neither")
        if self.refresh_token is not None and self.client_id is None:
            raise ValueError("a refresh_token needs the app's client_id and client_secret")
        return self


@dataclass
class _Poll:
    """What one fetch has learned so far."""

    cutoff: datetime
    started: datetime
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
    @cached_property
    def tokens(self) -> TokenKeeper | None:
        """The OAuth token, renewed with the refresh token a few minutes before its hour is up."""
        settings = self.settings
        if not settings.oauth:
            return None
        configured = TokenState(
            access_token=settings.access_token or Secret("", "none configured"),
            refresh_token=settings.refresh_token,
            configured=fingerprint(settings.refresh_token or settings.access_token),
        )
        renew = None
        if settings.client_id is not None and settings.client_secret is not None:
            client = Client(settings.client_id, settings.client_secret)
            renew = lambda state: refresh_google(self.http.session, client, state, self.now())  # noqa: E731
        return TokenKeeper(settings.name, self.credentials, configured, renew, self.now, margin=RENEW_MARGIN)

    def _authorise(self) -> None:
        if self.tokens is not None:
            self.http.auth_headers["Authorization"] = f"Bearer {self.tokens.current().reveal()}"

    def credential_expiry(self) -> CredentialExpiry | None:
        expiry = self.tokens.expiry() if self.tokens is not None else None
        return expiry or super().credential_expiry()

    def auth_params(self) -> dict[str, str]:
        key = self.settings.api_key
        return {"key": key.reveal()} if key is not None else {}

    @property
    def quota_units(self) -> int:
        """Quota units spent by this connector's requests (failed ones count too)."""
        return self.http.requests_made * UNITS_PER_REQUEST

    def check(self) -> str:
        self._authorise()
        body = self.http.get_json("channels", {"part": "id,snippet", "id": self.settings.channel_id})
        items = body.get("items") if isinstance(body, Mapping) else None
        if not isinstance(items, list) or not items:
            raise FatalError(f"YouTube channel {self.settings.channel_id} was not found")
        title = dig(items[0], "snippet", "title") or "(no title)"
        return f"YouTube channel {title} ({self.settings.channel_id})"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        self._authorise()
        if self.settings.own_posts:
            yield self._uploads()
        started = self.now()
        notes: list[str] = []
        watermark = trusted_watermark(time_or_none(bookmark.get("since")) if bookmark else None, started, notes)
        cutoff = (
            watermark - timedelta(minutes=self.settings.overlap_minutes)
            if watermark is not None
            else started - timedelta(days=self.settings.lookback_days)
        )
        poll = _Poll(
            cutoff=cutoff,
            started=started,
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
            yield Batch(comments=[], skipped=[str(exc)], notes=notes)
            return
        held_read_at = time_or_none(bookmark.get("held_read_at")) if bookmark else None
        if self._held_due(held_read_at, started):
            yield from self._held(started)
            held_read_at = started
        since = poll.newest or cutoff
        mark: dict[str, Any] = {"since": since.isoformat(), "reply_counts": poll.counts}
        if held_read_at is not None:
            mark["held_read_at"] = held_read_at.isoformat()
        yield Batch(comments=[], bookmark=mark, notes=notes)

    def _held_due(self, last: datetime | None, started: datetime) -> bool:
        """Held and likely-spam comments are listable by the channel's owner only (OAuth), every few polls."""
        if self.tokens is None or self.settings.held_every_minutes == 0:
            return False
        return last is None or started - last >= timedelta(minutes=self.settings.held_every_minutes)

    def _held(self, started: datetime) -> Iterator[Batch]:
        """Every thread waiting in YouTube Studio's review queues (``moderationStatus``), marked hidden.

        Held comments are never public, so they are read whole each time (the
        queue is short) and the store's upsert drops the ones already kept; a
        comment is as old as when it was written, not when it was held, so no
        time watermark applies. Replies held on their own are not listed by this
        call (only threads whose top comment is held).
        """
        horizon = started - timedelta(days=self.settings.lookback_days)
        for status in HELD_STATUSES:
            params = {
                "part": "snippet",
                "allThreadsRelatedToChannelId": self.settings.channel_id,
                "moderationStatus": status,
                "maxResults": PAGE_SIZE,
                "textFormat": "plainText",
            }
            for page in pages(self.http, "commentThreads", params, PAGING, max_pages=HELD_MAX_PAGES):
                batch = Batch(comments=[])
                for thread in objects_of(items_of(page), "thread", batch):
                    context = thread_context(thread, self.settings.channel_id)
                    try:
                        top = comment_from_record(dig(thread, "snippet", "topLevelComment"), context)
                    except (KeyError, TypeError, ValueError) as exc:
                        batch.skipped.append(f"{status} thread {thread.get('id') or '?'}: {reason_of(exc)}")
                        continue
                    if top.created_at >= horizon:
                        batch.comments.append(replace(top, hidden=True))
                if batch.comments or batch.skipped:
                    yield batch

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
        """The embedded replies, or all of them when the reply count moved since the last poll (or is new).

        A thread whose count is as the bookmark left it costs nothing more, even
        while its top comment is still inside the overlap window.
        """
        total = dig(thread, "snippet", "totalReplyCount")
        total = total if isinstance(total, int) and not isinstance(total, bool) else 0
        embedded = dig(thread, "replies", "comments")
        replies = embedded if isinstance(embedded, list) else []
        in_view = top.created_at >= poll.reply_horizon or top.created_at >= poll.cutoff
        moved = poll.known_counts.get(top.external_id) != total
        if total > len(replies) and in_view and moved:
            try:
                replies = self._all_replies(top.external_id)
            except CommentsUnavailableError as exc:
                batch.skipped.append(f"thread {thread.get('id') or '?'}: {exc}")
                return replies  # its count is not kept, so the next poll tries again
        if total and in_view:
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
        if later_than_start(changed, poll.started):
            batch.notes.append(future_note(f"comment {comment.external_id}", changed))
        poll.newest = advance(poll.newest, changed, poll.started)

    recheck_batch: ClassVar[int] = 50

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """``comments.list`` by id, 50 a request (1 quota unit each).

        A comment left out of the answer is deleted when the owner's token asks
        (the owner sees held and spam comments too); with an API key it may be
        held or rejected instead, so it is reported hidden (no longer public).
        """
        self._authorise()
        missing: RecheckState = "deleted" if self.tokens is not None else "hidden"
        states: dict[str, RecheckState] = {}
        for chunk in chunks(external_ids, self.recheck_batch):
            params = {"part": "snippet", "id": ",".join(chunk), "textFormat": "plainText"}
            body = self.http.get_json("comments", params)
            found = {str(item.get("id")): item for item in items_of_body(body) if isinstance(item, Mapping)}
            for comment_id in chunk:
                record = found.get(comment_id)
                if record is None:
                    states[comment_id] = missing
                    continue
                status = dig(record, "snippet", "moderationStatus")
                states[comment_id] = "present" if status in (None, "published") else "hidden"
        return states

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
    return f"{kind}: {excerpt(error.get('message') or 'no message', 300)}"


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


def items_of_body(body: Any) -> list[Any]:
    items = body.get("items") if isinstance(body, Mapping) else None
    return items if isinstance(items, list) else []


def counts_of(bookmark: Mapping[str, Any] | None) -> dict[str, int]:
    counts = bookmark.get("reply_counts") if bookmark else None
    if not isinstance(counts, Mapping):
        return {}
    return {str(key): value for key, value in counts.items() if isinstance(value, int)}


def _thread_time(thread: Mapping[str, Any]) -> datetime:
    moment = time_or_none(dig(thread, "snippet", "topLevelComment", "snippet", "publishedAt"))
    return moment if moment is not None else datetime.max.replace(tzinfo=UTC)
