"""Mastodon account: replies, mentions and quotes, read from the account's notifications.

Replies to the account's posts arrive as ``mention`` notifications, quotes of
them as ``quote`` (Mastodon 4.5; the quote's "RE: <link>" fallback line is
dropped from its text), and edits of posts the account boosted as ``update``, so
one endpoint covers them all. Other edits are not notified: they are seen when a
flagged comment is re-checked (``recheck``). A reply to a reply belongs under
the account's post higher up its thread, read from the status's context (one
request per such reply). The bookmark is the id of the newest notification read.
An incremental poll asks for ``min_id`` (the page immediately newer than the
bookmark, oldest first in id terms) and keeps walking towards newer pages by
``rel="prev"`` while pages come back full, so every page can carry its own
bookmark and nothing is skipped however many arrived. With nothing new, a poll
is one request. The first poll walks back through older pages (``rel="next"``)
for ``lookback_days``.

Rate limits are per token: ``X-RateLimit-Reset`` is an ISO 8601 time, not
epoch seconds.

With ``own_posts`` on, each poll also reads the account's newest statuses (one
more request) and reports them as the organisation's own posts, with the
accounts they mention and their media's descriptions (alt text). A status
edited after it left that first page is not seen again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar

import requests
from pydantic import Field, field_validator

from connectors.base import (
    AccountSettings,
    Batch,
    Comment,
    Connector,
    OwnPost,
    RecheckState,
    chunks,
    dig,
    html_to_text,
    parse_time,
    seconds_until_header_time,
    wait_when_nearly_spent,
)
from connectors.errors import AuthError, ConnectorError, FatalError, GoneError, RetryableError
from connectors.http import describe, excerpt, retry_after_seconds
from connectors.pagination import LinkHeader, Page, Params, pages
from monitor.secrets import Secret

PAGE_SIZE = 40
NOTIFICATIONS = "api/v1/notifications"
# mention: replies and mentions; quote: a post quoting one of ours (Mastodon 4.5); update: a post we
# boosted was edited. Servers before 4.5 do not know "quote" and leave it out.
NOTIFICATION_TYPES = ("mention", "quote", "update")
CONTEXT = "api/v1/statuses/{id}/context"
STATUSES = "api/v1/statuses"
STATUSES_BATCH = 20
MAX_PAGES = 50
# Below this many requests left in the window, wait for the window to reset.
LOW_REMAINING = 5
RESET_HEADER = "X-RateLimit-Reset"  # an ISO 8601 time


class MastodonSettings(AccountSettings):
    base_url: str = Field(min_length=1)
    access_token: Secret
    account_id: str | None = None
    lookback_days: int = Field(14, ge=1, le=365)
    # Also read the account's own statuses and check them as the organisation's posts (one more request a poll).
    own_posts: bool = False

    @field_validator("base_url")
    @classmethod
    def _instance_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url is the instance's address, e.g. https://mastodon.social")
        return value.rstrip("/")


@dataclass(frozen=True)
class TowardNewer:
    """Follow ``rel="prev"`` while pages are full; a short page is the newest."""

    limit: int = PAGE_SIZE

    def next_request(self, page: Page, url: str, params: Params) -> tuple[str, Params] | None:
        if not isinstance(page.body, list) or len(page.body) < self.limit:
            return None
        return LinkHeader("prev").next_request(page, url, params)


class MastodonConnector(Connector):
    platform: ClassVar[str] = "mastodon"
    settings_model: ClassVar[type[AccountSettings]] = MastodonSettings

    settings: MastodonSettings
    _owner_id: str | None = None

    @cached_property
    def _thread_posts(self) -> dict[str, str | None]:
        """Our post at the top of each thread a nested reply was found in, by the reply's parent."""
        return {}

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.access_token.reveal()}"}

    def check(self) -> str:
        account = self._verify_credentials()
        return f"Mastodon account @{account.get('acct')} on {self.settings.base_url}"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        newest = _id_or_none(bookmark.get("min_id")) if bookmark else None
        if newest is None:
            yield from self._first_poll()
        else:
            yield from self._newer_than(newest)
        if self.settings.own_posts:
            yield self._own_posts()

    def _own_posts(self) -> Batch:
        """The account's newest statuses that are neither replies nor boosts."""
        params = {"limit": PAGE_SIZE, "exclude_replies": "true", "exclude_reblogs": "true"}
        statuses = self.http.get_json(f"api/v1/accounts/{self._owner()}/statuses", params)
        batch = Batch(comments=[])
        for status in statuses if isinstance(statuses, list) else []:
            try:
                batch.posts.append(own_post_from_status(status))
            except (KeyError, TypeError, ValueError) as exc:
                batch.skipped.append(f"status {_id_of(status)}: {exc}")
        return batch

    def _newer_than(self, newest: str) -> Iterator[Batch]:
        params = {"types[]": list(NOTIFICATION_TYPES), "limit": PAGE_SIZE, "min_id": newest}
        for page in pages(self.http, NOTIFICATIONS, params, TowardNewer(), max_pages=MAX_PAGES):
            records = _records(page.body)
            if not records:
                return
            batch = self._batch(records)
            newest = max([newest, *_ids(records)], key=int)
            batch.bookmark = {"min_id": newest}
            yield batch

    def _first_poll(self) -> Iterator[Batch]:
        cutoff = self.now() - timedelta(days=self.settings.lookback_days)
        params = {"types[]": list(NOTIFICATION_TYPES), "limit": PAGE_SIZE}
        newest = "0"
        for page in pages(self.http, NOTIFICATIONS, params, LinkHeader("next"), max_pages=MAX_PAGES):
            records = _records(page.body)
            recent = [record for record in records if not _older_than(record, cutoff)]
            newest = max([newest, *_ids(records)], key=int)
            if recent:
                yield self._batch(recent)
            if len(recent) < len(records) or len(records) < PAGE_SIZE:
                break
        yield Batch(comments=[], bookmark={"min_id": newest})

    def _batch(self, records: list[Any]) -> Batch:
        batch = Batch(comments=[])
        owner = self._owner()
        for record in records:
            try:
                comment = comment_from_notification(record, owner)
            except (KeyError, TypeError, ValueError) as exc:
                batch.skipped.append(f"notification {_id_of(record)}: {exc}")
                continue
            batch.comments.append(self._with_our_post(comment, record, owner))
        return batch

    def _with_our_post(self, comment: Comment, notification: Mapping[str, Any], owner: str) -> Comment:
        """A reply to a reply belongs under our post up its thread, not under the reply it answers.

        Read from the status's context (one request per such reply, cached for
        the connector's life); where that cannot be read, the parent stands in.
        """
        status = notification.get("status")
        replied_to = _id_or_none(dig(status, "in_reply_to_account_id"))
        if comment.parent_id is None or replied_to is None or replied_to == owner or not owner:
            return comment
        if comment.parent_id not in self._thread_posts:
            self._thread_posts[comment.parent_id] = self._our_post_above(comment.external_id, owner)
        post = self._thread_posts[comment.parent_id]
        return replace(comment, post_id=post) if post else comment

    def _our_post_above(self, status_id: str, owner: str) -> str | None:
        try:
            context = self.http.get_json(CONTEXT.format(id=status_id))
        except FatalError:  # gone, or not visible to us: keep the parent
            return None
        ancestors = [a for a in (dig(context, "ancestors") or []) if isinstance(a, Mapping)]
        ours = [_id_or_none(a.get("id")) for a in ancestors if _id_or_none(dig(a, "account", "id")) == owner]
        if ours and ours[-1]:
            return ours[-1]
        return _id_or_none(ancestors[0].get("id")) if ancestors else None

    def _owner(self) -> str:
        """The monitored account's id: from the settings, else asked once per connector."""
        if self.settings.account_id:
            return self.settings.account_id
        if self._owner_id is None:
            self._owner_id = str(self._verify_credentials().get("id") or "")
        return self._owner_id

    def _verify_credentials(self) -> Mapping[str, Any]:
        account = self.http.get_json("api/v1/accounts/verify_credentials")
        if not isinstance(account, Mapping) or not account.get("id"):
            raise FatalError("verify_credentials returned no account")
        return account

    recheck_batch: ClassVar[int] = STATUSES_BATCH

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """``GET /api/v1/statuses?id[]=`` (Mastodon 4.3+), 20 a request: a status left out was deleted.

        A server older than 4.3 answers that route with 404; then each status is
        asked for on its own (``GET /api/v1/statuses/:id``, 404 when deleted).
        """
        states: dict[str, RecheckState] = {}
        wanted = [status_id for status_id in external_ids if status_id.isdigit()]
        for chunk in chunks(wanted, self.recheck_batch):
            try:
                body = self.http.get_json(STATUSES, {"id[]": chunk})
            except GoneError:
                states.update(self._recheck_one_by_one(wanted[wanted.index(chunk[0]) :]))
                return states
            found = (
                {str(status.get("id")) for status in body if isinstance(status, Mapping)}
                if isinstance(body, list)
                else set()
            )
            for status_id in chunk:
                states[status_id] = "present" if status_id in found else "deleted"
        return states

    def _recheck_one_by_one(self, status_ids: Sequence[str]) -> dict[str, RecheckState]:
        states: dict[str, RecheckState] = {}
        for status_id in status_ids:
            try:
                self.http.get_json(f"{STATUSES}/{status_id}")
            except GoneError:
                states[status_id] = "deleted"
            except FatalError:
                continue
            else:
                states[status_id] = "present"
        return states

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        return classify_mastodon_error(response, self.now())

    def rate_limit_delay(self, response: requests.Response) -> float | None:
        return wait_when_nearly_spent(response, "X-RateLimit-Remaining", RESET_HEADER, self.now(), LOW_REMAINING)


def classify_mastodon_error(response: requests.Response, now: datetime) -> ConnectorError | None:
    """Mastodon's ``{"error": ...}`` text is localised, so the status decides the kind."""
    status = response.status_code
    if status < 400:
        return None
    where = describe(response)
    detail = _error_text(response)
    if status in (401, 403):
        return AuthError(f"{where} was refused ({status}){detail}")
    if status == 429:
        wait = retry_after_seconds(response, now)
        if wait is None:
            wait = seconds_until_header_time(response, RESET_HEADER, now)
        return RetryableError(f"{where} was rate limited (429){detail}", wait)
    if status >= 500 or status == 408:
        return RetryableError(f"{where} failed ({status}){detail}", retry_after_seconds(response, now))
    if status in (404, 410):
        return GoneError(f"{where} failed ({status}){detail}")
    return FatalError(f"{where} failed ({status}){detail}")


def comment_from_notification(notification: Any, owner_id: str) -> Comment:
    """One ``mention`` notification as the Comment its status is."""
    if not isinstance(notification, Mapping):
        raise TypeError("notification is not an object")
    status = notification.get("status")
    if not isinstance(status, Mapping):
        raise KeyError("mention without a status (deleted or filtered)")
    return comment_from_status(status, owner_id)


def comment_from_status(status: Mapping[str, Any], owner_id: str | None = None) -> Comment:
    """A Mastodon status (toot) as a Comment. ``content`` is HTML; mentions stay as ``@user``."""
    status_id = _id_or_none(status.get("id"))
    if status_id is None:
        raise KeyError("status has no id")
    if not status.get("created_at"):
        raise KeyError(f"status {status_id} has no created_at")
    account = status.get("account") if isinstance(status.get("account"), Mapping) else {}
    author_id = _id_or_none(dig(status, "account", "id"))
    edited = status.get("edited_at")
    reply_to = _id_or_none(status.get("in_reply_to_id"))
    return Comment(
        external_id=status_id,
        text=status_text(status),
        created_at=parse_time(status["created_at"]),
        post_id=reply_to or quoted_id(status),
        parent_id=reply_to,
        author_id=author_id,
        author_name=author_name(account),
        edited_at=parse_time(edited) if edited else None,
        permalink=status.get("url") or status.get("uri"),
        by_owner=bool(owner_id) and author_id == owner_id,
    )


def own_post_from_status(status: Any) -> OwnPost:
    """One of the account's own statuses, with the accounts it mentions and its media's alt text."""
    if not isinstance(status, Mapping):
        raise TypeError("status is not an object")
    status_id = _id_or_none(status.get("id"))
    if status_id is None:
        raise KeyError("status has no id")
    if not status.get("created_at"):
        raise KeyError(f"status {status_id} has no created_at")
    mentions = status.get("mentions") if isinstance(status.get("mentions"), list) else []
    media = status.get("media_attachments") if isinstance(status.get("media_attachments"), list) else []
    edited = status.get("edited_at")
    text = status_text(status)
    return OwnPost(
        external_id=status_id,
        text=text,
        created_at=parse_time(status["created_at"]),
        url=status.get("url") or status.get("uri"),
        title=text.splitlines()[0][:80] if text else None,
        edited_at=parse_time(edited) if edited else None,
        tagged=tuple(f"@{acct}" for acct in (dig(m, "acct") for m in mentions) if isinstance(acct, str)),
        media_text=tuple(d for d in (dig(m, "description") for m in media) if isinstance(d, str)),
    )
def quoted_id(status: Mapping[str, Any]) -> str | None:
    """The status a quote post quotes: ``quote.quoted_status.id`` (Quote entity), else
    ``quote.quoted_status_id`` (ShallowQuote)."""
    quote = status.get("quote")
    if not isinstance(quote, Mapping):
        return None
    return _id_or_none(dig(quote, "quoted_status", "id")) or _id_or_none(quote.get("quoted_status_id"))


# The "RE: <link>" line Mastodon 4.5 puts in a quote's HTML for clients that cannot show quotes.
_QUOTE_FALLBACK = re.compile(r"<p\s+class=\"quote-inline\"\s*>.*?</p>", re.IGNORECASE | re.DOTALL)


def status_text(status: Mapping[str, Any]) -> str:
    """The content as plain text, after its content warning when it has one; a quote's fallback line dropped."""
    body = html_to_text(_QUOTE_FALLBACK.sub("", str(status.get("content") or "")))
    warning = str(status.get("spoiler_text") or "").strip()
    return f"{warning}\n{body}".strip() if warning else body


def author_name(account: Mapping[str, Any]) -> str | None:
    acct = account.get("acct")
    display = str(account.get("display_name") or "").strip()
    if not acct:
        return display or None
    return f"{display} (@{acct})" if display else f"@{acct}"


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("error") if isinstance(body, Mapping) else None
    return f": {excerpt(message, 200)}" if message else ""


def _records(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise RetryableError("notifications response is not a list")
    return body


def _ids(records: list[Any]) -> list[str]:
    return [found for record in records if (found := _id_of(record)) is not None]


def _id_of(record: Any) -> str | None:
    return _id_or_none(record.get("id")) if isinstance(record, Mapping) else None


def _id_or_none(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if text.isdigit() else None


def _older_than(record: Any, cutoff: datetime) -> bool:
    created = record.get("created_at") if isinstance(record, Mapping) else None
    try:
        return created is not None and parse_time(created) < cutoff
    except ValueError:
        return False
