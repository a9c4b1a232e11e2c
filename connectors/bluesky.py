"""Bluesky account: replies, mentions and quotes, read from the account's notifications (AT Protocol).

The connector signs in with the handle and an app password
(``com.atproto.server.createSession``) and keeps the session for the life of
the process, shared by every connector for the same handle: sign-ins are
limited to 30 per five minutes and a few hundred a day, fewer than a poll every
five minutes needs. An access token near or past its expiry is renewed with
``refreshSession``; when that is refused too, it signs in again once, and a
refusal then is an auth failure.

``listNotifications`` is newest first. The bookmark is the newest
``indexedAt`` read plus the URIs indexed at exactly that time (times can tie);
a poll stops at the first page that reaches the bookmark, so with nothing new
it is one request. Reading notifications does not mark them seen.

With ``own_posts`` on, each poll also reads the account's newest posts
(``getAuthorFeed``, replies left out; one more request) and reports them as
the organisation's own posts, with their images' alt text. Mentions are in
the text as ``@handle``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from pydantic import Field

from connectors.base import (
    AccountSettings,
    Batch,
    Comment,
    Connector,
    OwnPost,
    RecheckState,
    chunks,
    dig,
    future_note,
    later_than_start,
    parse_time,
    seconds_until_header_time,
    time_or_none,
    trusted_watermark,
    wait_when_nearly_spent,
)
from connectors.credentials import CredentialStore
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import HttpClient, describe, excerpt, retry_after_seconds
from connectors.pagination import PageToken, pages
from monitor.secrets import Secret

LIST_NOTIFICATIONS = "app.bsky.notification.listNotifications"
AUTHOR_FEED = "app.bsky.feed.getAuthorFeed"
GET_POSTS = "app.bsky.feed.getPosts"
CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
PAGE_SIZE = 50
MAX_PAGES = 40
KEPT_REASONS = ("reply", "mention", "quote")
PAGING = PageToken(("cursor",), "cursor")
AUTH_ERRORS = frozenset({"AuthenticationRequired", "InvalidToken", "AccountTakedown", "AuthMissing"})
# Renew the access token this long before it expires rather than have a request refused.
EXPIRY_MARGIN = timedelta(minutes=1)
LOW_REMAINING = 5
RESET_HEADER = "RateLimit-Reset"  # epoch seconds


class BlueskySettings(AccountSettings):
    handle: str = Field(min_length=1)
    app_password: Secret
    lookback_days: int = Field(14, ge=1, le=365)
    # Also read the account's own posts and check them as the organisation's (one more request a poll).
    own_posts: bool = False


class SessionExpiredError(AuthError):
    """The access token has expired (XRPC ``ExpiredToken``): refresh it and try again."""


@dataclass(frozen=True)
class Session:
    access: Secret
    refresh: Secret
    did: str
    handle: str

    @classmethod
    def from_body(cls, body: Any) -> Session:
        if not isinstance(body, Mapping) or not all(body.get(k) for k in ("accessJwt", "refreshJwt", "did")):
            raise FatalError("the session response has no tokens")
        return cls(
            access=Secret(str(body["accessJwt"]), "bluesky session"),
            refresh=Secret(str(body["refreshJwt"]), "bluesky session"),
            did=str(body["did"]),
            handle=str(body.get("handle") or ""),
        )

    def expires_by(self, moment: datetime) -> bool:
        expiry = jwt_expiry(self.access.reveal())
        return expiry is not None and expiry <= moment


# Sessions by (base URL, handle), shared by every connector in the process.
SESSIONS: dict[tuple[str, str], Session] = {}


class BlueskyConnector(Connector):
    platform: ClassVar[str] = "bluesky"
    settings_model: ClassVar[type[AccountSettings]] = BlueskySettings
    default_base_url: ClassVar[str] = "https://bsky.social/xrpc"

    settings: BlueskySettings

    def __init__(
        self,
        settings: AccountSettings,
        http: HttpClient | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        sessions: dict[tuple[str, str], Session] | None = None,
        credentials: CredentialStore | None = None,
    ) -> None:
        super().__init__(settings, http, now, credentials=credentials)
        self.sessions = SESSIONS if sessions is None else sessions

    @property
    def _session_key(self) -> tuple[str, str]:
        return (self.settings.base_url or self.default_base_url, self.settings.handle.lower())

    def check(self) -> str:
        session = self._sign_in()
        return f"Bluesky account @{session.handle or self.settings.handle} ({session.did})"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        session = self._session()
        try:
            yield from self._read(bookmark, session)
        except SessionExpiredError:
            yield from self._read(bookmark, self._renew(session))

    def _read(self, bookmark: Mapping[str, Any] | None, session: Session) -> Iterator[Batch]:
        started = self.now()
        notes: list[str] = []
        mark = Watermark.of(bookmark)
        if trusted_watermark(mark.time, started, notes) is None:
            mark = Watermark(None, set())
        floor = mark.time or started - timedelta(days=self.settings.lookback_days)
        poll = _Poll(floor, mark, Watermark(mark.time or floor, set(mark.uris)), session.did, started)
        params = {"limit": PAGE_SIZE, "reasons": list(KEPT_REASONS)}
        for page in pages(self.http, LIST_NOTIFICATIONS, params, PAGING, max_pages=MAX_PAGES):
            notifications = dig(page.body, "notifications")
            if not isinstance(notifications, list):
                raise FatalError(f"{describe(page.response)} returned no notifications list")
            batch = Batch(comments=[])
            reached = False
            for notification in notifications:
                reached |= poll.take(notification, batch)
            if batch.comments or batch.skipped:
                yield batch
            if reached or not notifications:
                break
        yield Batch(comments=[], bookmark=poll.newest.as_bookmark(), notes=notes)
        if self.settings.own_posts:
            yield self._own_posts(session)

    def _own_posts(self, session: Session) -> Batch:
        params = {"actor": session.did, "filter": "posts_no_replies", "limit": PAGE_SIZE}
        feed = dig(self.http.get_json(AUTHOR_FEED, params), "feed")
        batch = Batch(comments=[])
        for item in feed if isinstance(feed, list) else []:
            post = dig(item, "post")
            if dig(post, "author", "did") not in (None, session.did):
                continue  # a repost of someone else's post
            try:
                batch.posts.append(own_post_from_view(post))
            except (KeyError, TypeError, ValueError) as exc:
                batch.skipped.append(f"post {dig(post, 'uri') or '?'}: {exc}")
        return batch

    def _session(self) -> Session:
        session = self.sessions.get(self._session_key)
        if session is None:
            return self._sign_in()
        if session.expires_by(self.now() + EXPIRY_MARGIN):
            return self._renew(session)
        self._use(session)
        return session

    def _sign_in(self) -> Session:
        self.http.auth_headers.pop("Authorization", None)
        body = self.http.post_json(
            CREATE_SESSION,
            {"identifier": self.settings.handle, "password": self.settings.app_password.reveal()},
        )
        return self._use(Session.from_body(body))

    def _renew(self, session: Session) -> Session:
        """Refresh the session; sign in again when the refresh token is refused too."""
        self.http.auth_headers["Authorization"] = f"Bearer {session.refresh.reveal()}"
        try:
            return self._use(Session.from_body(self.http.json_of(self.http.request("POST", REFRESH_SESSION))))
        except AuthError:
            self.sessions.pop(self._session_key, None)
            return self._sign_in()

    def _use(self, session: Session) -> Session:
        self.sessions[self._session_key] = session
        self.http.auth_headers["Authorization"] = f"Bearer {session.access.reveal()}"
        return session

    recheck_batch: ClassVar[int] = 25

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """``app.bsky.feed.getPosts``, 25 URIs a request: a post left out has been deleted (or taken down)."""
        self._session()
        states: dict[str, RecheckState] = {}
        for chunk in chunks(external_ids, self.recheck_batch):
            body = self.http.get_json(GET_POSTS, {"uris": chunk})
            posts = dig(body, "posts")
            if not isinstance(posts, list):
                continue
            found = {str(dig(post, "uri")) for post in posts if isinstance(post, Mapping)}
            for uri in chunk:
                states[uri] = "present" if uri in found else "deleted"
        return states

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        return classify_xrpc_error(response, self.now())

    def rate_limit_delay(self, response: requests.Response) -> float | None:
        return wait_when_nearly_spent(response, "RateLimit-Remaining", RESET_HEADER, self.now(), LOW_REMAINING)


@dataclass
class Watermark:
    """The newest ``indexedAt`` read, and the URIs indexed at exactly that time."""

    time: datetime | None
    uris: set[str]

    @classmethod
    def of(cls, bookmark: Mapping[str, Any] | None) -> Watermark:
        if not bookmark or not bookmark.get("indexed_at"):
            return cls(None, set())
        return cls(parse_time(bookmark["indexed_at"]), {str(uri) for uri in bookmark.get("uris") or []})

    def advance(self, indexed: datetime, uri: str) -> None:
        if self.time is None or indexed > self.time:
            self.time, self.uris = indexed, {uri}
        elif indexed == self.time:
            self.uris.add(uri)

    def as_bookmark(self) -> dict[str, Any]:
        return {"indexed_at": self.time.isoformat() if self.time else None, "uris": sorted(self.uris)}


@dataclass
class _Poll:
    """What one fetch reads against: the oldest time wanted, the bookmark, and the newest seen so far."""

    floor: datetime
    mark: Watermark
    newest: Watermark
    owner_did: str
    started: datetime

    def take(self, notification: Any, batch: Batch) -> bool:
        """Read one notification into ``batch``; True when it is at or behind the bookmark."""
        uri = dig(notification, "uri") if isinstance(notification, Mapping) else None
        try:
            indexed = parse_time(notification["indexedAt"])
        except (KeyError, TypeError, ValueError):
            batch.skipped.append(f"notification {uri or '?'}: no readable indexedAt")
            return False
        if indexed < self.floor or (indexed == self.mark.time and uri in self.mark.uris):
            return True
        if later_than_start(indexed, self.started):
            batch.notes.append(future_note(f"notification {uri}", indexed))
        else:
            self.newest.advance(indexed, str(uri))
        if notification.get("reason") not in KEPT_REASONS:
            return False
        try:
            batch.comments.append(comment_from_notification(notification, self.owner_did))
        except (KeyError, TypeError, ValueError) as exc:
            batch.skipped.append(f"notification {uri or '?'}: {exc}")
        return False


def classify_xrpc_error(response: requests.Response, now: datetime) -> ConnectorError | None:
    """XRPC errors are ``{"error": Name, "message": ...}``; the name decides where the status cannot."""
    status = response.status_code
    if status < 400:
        return None
    name, message = _xrpc_error(response)
    where = describe(response)
    detail = f" {name}" + (f": {message}" if message else "") if name else ""
    if name == "ExpiredToken":
        return SessionExpiredError(f"{where}: the session has expired")
    if status in (401, 403) or name in AUTH_ERRORS:
        return AuthError(f"{where} was refused ({status}){detail}")
    if status == 429 or name == "RateLimitExceeded":
        wait = retry_after_seconds(response, now)
        if wait is None:
            wait = seconds_until_header_time(response, RESET_HEADER, now)
        return RetryableError(f"{where} was rate limited ({status}){detail}", wait)
    if status >= 500 or status == 408:
        return RetryableError(f"{where} failed ({status}){detail}", retry_after_seconds(response, now))
    return FatalError(f"{where} failed ({status}){detail}")


def jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT, read without verifying it (only to renew it in time)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def comment_from_notification(notification: Mapping[str, Any], owner_did: str | None = None) -> Comment:
    """A reply, mention or quote notification as the Comment its post is."""
    return comment_from_post(
        notification.get("uri"),
        notification.get("author"),
        notification.get("record"),
        owner_did,
        fallback_time=notification.get("indexedAt"),
    )


def comment_from_post(
    uri: Any,
    author: Any,
    record: Any,
    owner_did: str | None = None,
    fallback_time: Any = None,
) -> Comment:
    """An ``app.bsky.feed.post`` record, with the URI and author it was listed with, as a Comment.

    Records are written by clients and not normalised: unknown fields appear,
    and a media-only post has empty text. ``createdAt`` is the client's clock:
    see ``creation_time``.
    """
    did, rkey = post_address(uri)
    if not isinstance(record, Mapping):
        raise TypeError(f"post {uri} has no record")
    author = author if isinstance(author, Mapping) else {}
    author_did = str(author.get("did") or did)
    handle = str(author.get("handle") or "") or None
    created = creation_time(record.get("createdAt"), fallback_time)
    if created is None:
        raise KeyError(f"post {uri} has no createdAt")
    root = dig(record, "reply", "root", "uri") or quoted_uri(record)
    return Comment(
        external_id=str(uri),
        text=str(record.get("text") or "").strip(),
        created_at=created,
        post_id=root,
        post_url=web_url(root) if root else None,
        parent_id=dig(record, "reply", "parent", "uri"),
        author_id=author_did,
        author_name=author_name(author),
        permalink=f"https://bsky.app/profile/{handle or did}/post/{rkey}",
        by_owner=bool(owner_did) and author_did == owner_did,
    )


def own_post_from_view(post: Any) -> OwnPost:
    """One of the account's own posts (a feed's post view), with its images' alt text."""
    if not isinstance(post, Mapping):
        raise TypeError("post is not an object")
    uri = post.get("uri")
    did, rkey = post_address(uri)
    record = post.get("record")
    if not isinstance(record, Mapping):
        raise TypeError(f"post {uri} has no record")
    if not record.get("createdAt"):
        raise KeyError(f"post {uri} has no createdAt")
    images = dig(record, "embed", "images") or dig(record, "embed", "media", "images") or []
    alt_text = [dig(image, "alt") for image in images] if isinstance(images, list) else []
    text = str(record.get("text") or "").strip()
    handle = dig(post, "author", "handle") or did
    return OwnPost(
        external_id=str(uri),
        text=text,
        created_at=parse_time(record["createdAt"]),
        url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        title=text.splitlines()[0][:80] if text else None,
        media_text=tuple(alt for alt in alt_text if isinstance(alt, str)),
    )
def creation_time(created: Any, indexed: Any) -> datetime | None:
    """When a post was written: its ``createdAt``, bounded by when the server indexed it.

    ``createdAt`` is written by the client. Some clients write local time with no
    zone, which read as UTC can be hours in the future or the past; such a time
    is not trusted and ``indexedAt`` (the server's clock, seconds after posting)
    is used instead. A time with a zone that is later than ``indexedAt`` (a
    client clock running fast) is brought back to it. Without ``indexedAt`` a
    zoneless time is read as UTC.
    """
    indexed_at = time_or_none(indexed)
    if not created:
        return indexed_at
    written = parse_time(created)
    if indexed_at is None:
        return written
    if not has_zone(str(created)) or written > indexed_at:
        return indexed_at
    return written


def has_zone(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00")).tzinfo is not None
    except ValueError:
        return True  # not ISO 8601 at all (epoch numbers): parse_time decides


def post_address(uri: Any) -> tuple[str, str]:
    """(did, rkey) of ``at://did/app.bsky.feed.post/rkey``."""
    parts = str(uri or "").removeprefix("at://").split("/")
    if not str(uri or "").startswith("at://") or len(parts) != 3 or not all(parts):
        raise ValueError(f"not a post URI: {uri!r}")
    return parts[0], parts[2]


def web_url(uri: str) -> str | None:
    try:
        did, rkey = post_address(uri)
    except ValueError:
        return None
    return f"https://bsky.app/profile/{did}/post/{rkey}"


def quoted_uri(record: Mapping[str, Any]) -> str | None:
    """The post a quote embeds (``embed.record`` or, with media, ``embed.record.record``)."""
    embedded = dig(record, "embed", "record")
    uri = dig(embedded, "uri") if isinstance(embedded, Mapping) else None
    return uri or dig(record, "embed", "record", "record", "uri")


def author_name(author: Mapping[str, Any]) -> str | None:
    handle = author.get("handle")
    display = str(author.get("displayName") or "").strip()
    if not handle:
        return display or None
    return f"{display} (@{handle})" if display else f"@{handle}"


def _xrpc_error(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, Mapping):
        return "", ""
    return excerpt(body.get("error") or "", 100), excerpt(body.get("message") or "", 200)
