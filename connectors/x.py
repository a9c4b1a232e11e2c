"""X (Twitter API v2): replies to the account and posts that mention it.

One recent-search query covers everything in one request per poll:
``(@name OR to:name OR (from:name is:reply)) -is:retweet`` finds posts that
mention the account, replies to its posts (even where the replier removed the
mention), and the account's own replies (``by_owner``, used to resolve flags).
The alternative, one ``conversation_id:`` search per recent post, costs a
request per post. Recent search reaches back seven days, so a bookmark older
than that restarts from the edge of the window. ``source = "mentions"`` reads
``/users/:id/mentions`` instead (up to the 800 newest mentions, also one
request per poll) for an app whose access level lacks recent search; it does
not see untagged replies or the account's own replies.

The bookmark is the newest post id seen (``since_id``, a string: ids are
64-bit and compare as integers). Retweets are not comments and are dropped.
An edit is a new post whose ``edit_history_tweet_ids`` starts with the
original id: it is reported as the original comment (external id = first id)
with ``edited_at`` set, and superseded versions are ignored.

With ``own_posts`` on, each poll also reads the account's newest posts
(``/users/:id/tweets`` without replies or retweets: one more request, which X
bills) and reports them as the organisation's own posts, with the accounts
they mention and their media's alt text.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import requests
from pydantic import Field, field_validator

from connectors.base import (
    AccountSettings,
    Batch,
    Comment,
    Connector,
    OwnPost,
    RecheckState,
    as_object,
    chunks,
    dig,
    parse_time,
    reason_of,
    seconds_until_header_time,
    wait_when_nearly_spent,
)
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import describe, retry_after_seconds
from connectors.pagination import Page, PageToken, pages
from monitor.secrets import Secret

TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,edit_history_tweet_ids,note_tweet"
)
PAGE_SIZE = 100
OWN_POSTS_PAGE = 20
SEARCH_WINDOW = timedelta(days=7)
WINDOW_MARGIN = timedelta(minutes=5)
SNOWFLAKE_EPOCH_MS = 1288834974657
USAGE_CAP_WAIT = 24 * 3600.0
RESET_HEADER = "x-rate-limit-reset"  # epoch seconds
DETAIL_LIMIT = 200

AUTH_PROBLEMS = frozenset(
    {"client-forbidden", "not-authorized-for-resource", "unsupported-authentication", "disallowed-resource"}
)


class XSettings(AccountSettings):
    bearer_token: Secret
    user_id: str = Field(pattern=r"^\d+$")
    username: str
    source: Literal["search", "mentions"] = "search"
    lookback_days: int = Field(default=7, ge=1, le=60)
    max_pages: int = Field(default=20, ge=1)
    # Also read the account's own posts and check them as the organisation's (one more billed request a poll).
    own_posts: bool = False

    @field_validator("username")
    @classmethod
    def _without_at(cls, value: str) -> str:
        name = value.strip().lstrip("@")
        if not name or not name.replace("_", "").isalnum():
            raise ValueError("expected an X username such as BrightwaterCare")
        return name


def snowflake_time(post_id: str) -> datetime:
    """When an X id was minted (ids carry their creation time in milliseconds)."""
    return datetime.fromtimestamp(((int(post_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC)


def is_post_id(value: Any) -> bool:
    """True for an X id: a 64-bit number, as text or a number."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text.isascii() and text.isdigit() and int(text) < 2**64


def checked_id(value: Any) -> str:
    if not is_post_id(value):
        raise ValueError(f"post id {str(value)[:40]!r} is not an X id")
    return str(value)


def references(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The post's ``referenced_tweets`` (none when absent)."""
    found = record.get("referenced_tweets") or []
    if not isinstance(found, list):
        raise TypeError("referenced_tweets is not a list")
    return [as_object(each, "a referenced post") for each in found]


def edit_history(record: Mapping[str, Any]) -> list[str]:
    """The post's ``edit_history_tweet_ids``, oldest first (none when absent)."""
    history = record.get("edit_history_tweet_ids") or []
    if not isinstance(history, list) or not all(isinstance(each, str | int) for each in history):
        raise TypeError("edit_history_tweet_ids is not a list of ids")
    return [str(each) for each in history]


def is_retweet(record: Mapping[str, Any]) -> bool:
    return any(ref.get("type") == "retweeted" for ref in references(record))


def is_superseded(record: Mapping[str, Any]) -> bool:
    history = edit_history(record)
    return bool(history) and history[-1] != str(record.get("id"))


def comment_from_record(record: Any, users: Mapping[str, Mapping[str, Any]], owner_id: str) -> Comment:
    """One v2 post object (with ``includes.users`` by id) as a Comment."""
    record = as_object(record, "post")
    post_id = checked_id(record["id"])
    history = edit_history(record) or [post_id]
    original = checked_id(history[0])
    edited = len(history) > 1
    version_time = parse_time(record["created_at"]) if record.get("created_at") else snowflake_time(post_id)
    author_id = _text(record.get("author_id"))
    author = users.get(author_id, {}) if author_id else {}
    username = _text(author.get("username"))
    text = dig(record, "note_tweet", "text") or record.get("text")
    if not isinstance(text, str):
        raise ValueError(f"post {post_id} has no text")
    conversation = _text(record.get("conversation_id"))
    return Comment(
        external_id=original,
        text=html.unescape(text),
        created_at=snowflake_time(original) if edited else version_time,
        post_id=conversation,
        post_url=status_url(None, conversation) if conversation else None,
        parent_id=next(
            (_text(ref.get("id")) for ref in references(record) if ref.get("type") == "replied_to"),
            None,
        ),
        author_id=author_id,
        author_name=_display_name(author),
        edited_at=version_time if edited else None,
        permalink=status_url(username, post_id),
        by_owner=author_id is not None and author_id == owner_id,
    )


def own_post_from_record(record: Any, username: str, alt_text: Mapping[str, str]) -> OwnPost:
    """One of the account's own posts (the latest version of an edited one, under its first id)."""
    record = as_object(record, "post")
    post_id = checked_id(record["id"])
    history = edit_history(record) or [post_id]
    original = checked_id(history[0])
    text = dig(record, "note_tweet", "text") or record.get("text")
    if not isinstance(text, str):
        raise ValueError(f"post {post_id} has no text")
    version_time = parse_time(record["created_at"]) if record.get("created_at") else snowflake_time(post_id)
    mentions = dig(record, "entities", "mentions")
    keys = dig(record, "attachments", "media_keys")
    plain = html.unescape(text)
    return OwnPost(
        external_id=original,
        text=plain,
        created_at=snowflake_time(original) if len(history) > 1 else version_time,
        url=status_url(username, original),
        title=plain.splitlines()[0][:80] if plain else None,
        edited_at=version_time if len(history) > 1 else None,
        tagged=tuple(
            f"@{m['username']}" for m in (mentions if isinstance(mentions, list) else []) if _text(dig(m, "username"))
        ),
        media_text=tuple(alt_text[key] for key in (keys if isinstance(keys, list) else []) if key in alt_text),
    )


def status_url(username: str | None, post_id: str) -> str:
    return f"https://x.com/{username}/status/{post_id}" if username else f"https://x.com/i/web/status/{post_id}"


def _display_name(author: Mapping[str, Any]) -> str | None:
    name, username = _text(author.get("name")), _text(author.get("username"))
    if name and username:
        return f"{name} (@{username})"
    return name or (f"@{username}" if username else None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def checked_page(page: Page) -> Mapping[str, Any]:
    """The page's body, when it has a ``data`` list or is X's empty page (no ``data``, ``meta.result_count`` 0).

    Any other 200 is a failed read: taken as an empty page it would move the
    bookmark past posts it never read.
    """
    body = page.body if isinstance(page.body, Mapping) else {}
    data = body.get("data")
    if isinstance(data, list) or (data is None and dig(body, "meta", "result_count") == 0):
        return body
    raise RetryableError(f"{describe(page.response)} returned a page without a data list")


def posts_of(body: Mapping[str, Any]) -> list[Any]:
    data = body.get("data")
    return data if isinstance(data, list) else []


def batch_from_page(body: Mapping[str, Any], owner_id: str) -> Batch:
    """One page of a v2 response: its comments, and what was skipped and why."""
    batch = Batch(comments=[], skipped=partial_errors(body))
    users = users_of(body)
    for record in posts_of(body):
        try:
            post = as_object(record, "post")
            if is_retweet(post) or is_superseded(post):
                continue
            batch.comments.append(comment_from_record(post, users, owner_id))
        except (KeyError, TypeError, ValueError) as exc:
            batch.skipped.append(f"post {dig(record, 'id') or '?'}: {type(exc).__name__}: {reason_of(exc)}")
    return batch


def users_of(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """``includes.users`` by id."""
    users = dig(body, "includes", "users")
    if not isinstance(users, list):
        return {}
    return {user["id"]: user for user in users if isinstance(user, Mapping) and isinstance(user.get("id"), str)}


def newest_id(body: Mapping[str, Any], newest: int | None) -> int | None:
    ids = [int(found) for record in posts_of(body) if is_post_id(found := dig(record, "id"))]
    return max(ids, default=newest) if newest is None else max([newest, *ids])


def partial_errors(body: Mapping[str, Any]) -> list[str]:
    """Items X could not include in a 200 response (e.g. a deleted or suspended author)."""
    notes = []
    errors = body.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, Mapping):
            what = error.get("title") or error.get("type") or "error"
            item = error.get("resource_id") or error.get("value") or "?"
            notes.append(f"{what} for {error.get('resource_type') or 'item'} {item}: {error.get('detail', '')}")
    return notes


class XConnector(Connector):
    platform: ClassVar[str] = "x"
    settings_model: ClassVar[type[AccountSettings]] = XSettings
    default_base_url: ClassVar[str] = "https://api.x.com/2"
    settings: XSettings

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.bearer_token.reveal()}"}

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        if self.settings.own_posts:
            yield self._own_posts()
        since_id = str(bookmark["since_id"]) if bookmark and bookmark.get("since_id") else None
        path, params, paging = self._request(since_id)
        newest = int(since_id) if since_id else None
        held: Batch | None = None
        for page in pages(self.http, path, params, paging, self.settings.max_pages):
            if held is not None:
                yield held
            body = checked_page(page)
            held = batch_from_page(body, self.settings.user_id)
            newest = newest_id(body, newest)
        if held is None:
            return
        if newest is not None:
            held.bookmark = {"since_id": str(newest)}
        yield held

    def _own_posts(self) -> Batch:
        params = {
            "max_results": OWN_POSTS_PAGE,
            "exclude": "replies,retweets",
            "tweet.fields": "created_at,edit_history_tweet_ids,note_tweet,entities,attachments",
            "expansions": "attachments.media_keys",
            "media.fields": "alt_text",
        }
        body = self.http.get_json(f"users/{self.settings.user_id}/tweets", params)
        media = dig(body, "includes", "media")
        alt_text = {
            str(item["media_key"]): item["alt_text"]
            for item in (media if isinstance(media, list) else [])
            if isinstance(item, Mapping) and isinstance(item.get("alt_text"), str) and item.get("media_key")
        }
        batch = Batch(comments=[])
        posts = dig(body, "data")
        for record in posts if isinstance(posts, list) else []:
            try:
                batch.posts.append(own_post_from_record(record, self.settings.username, alt_text))
            except (KeyError, TypeError, ValueError) as exc:
                batch.skipped.append(f"post {dig(record, 'id') or '?'}: {reason_of(exc)}")
        return batch
    recheck_batch: ClassVar[int] = 100

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """``GET /2/tweets?ids=``, 100 a request: each missing post is named in ``errors``, "Not Found" when
        deleted, "Authorization" when its author made it protected or was suspended (no longer public)."""
        states: dict[str, RecheckState] = {}
        for chunk in chunks([post for post in external_ids if post.isdigit()], self.recheck_batch):
            body = self.http.get_json("tweets", {"ids": ",".join(chunk), "tweet.fields": "id"})
            for post in dig(body, "data") or []:
                if isinstance(post, Mapping) and str(post.get("id")) in chunk:
                    states[str(post["id"])] = "present"
            for error in dig(body, "errors") or []:
                if not isinstance(error, Mapping) or str(error.get("resource_id")) not in chunk:
                    continue
                kind = str(error.get("type") or "") + str(error.get("title") or "")
                if "not-found" in kind or "Not Found" in kind:
                    states[str(error["resource_id"])] = "deleted"
                elif "authorization" in kind.lower():
                    states[str(error["resource_id"])] = "hidden"
        return states

    def check(self) -> str:
        body = self.http.get_json(f"users/{self.settings.user_id}", {"user.fields": "username,name"})
        username = dig(body, "data", "username")
        if not isinstance(username, str):
            raise FatalError(f"user {self.settings.user_id} has no username in the response")
        if username.lower() != self.settings.username.lower():
            raise FatalError(
                f"user id {self.settings.user_id} is @{username}, but the account is set up as "
                f"@{self.settings.username}"
            )
        return f"@{username} ({dig(body, 'data', 'name') or username}), user id {self.settings.user_id}"

    def _request(self, since_id: str | None) -> tuple[str, dict[str, Any], PageToken]:
        settings = self.settings
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username,name",
        }
        now = self.now()
        lookback = timedelta(days=settings.lookback_days)
        if settings.source == "search":
            lookback = min(lookback, SEARCH_WINDOW - WINDOW_MARGIN)
            if since_id and snowflake_time(since_id) < now - lookback:
                since_id = None
        if since_id:
            params["since_id"] = since_id
        else:
            params["start_time"] = (now - lookback).strftime("%Y-%m-%dT%H:%M:%SZ")
        if settings.source == "mentions":
            return f"users/{settings.user_id}/mentions", params, PageToken(("meta", "next_token"), "pagination_token")
        name = settings.username
        params["query"] = f"(@{name} OR to:{name} OR (from:{name} is:reply)) -is:retweet"
        return "tweets/search/recent", params, PageToken(("meta", "next_token"), "next_token")

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        problem, summary = self._problem(response)
        where = f"{describe(response)} failed ({status}){summary}"
        if problem == "usage-capped":
            return RetryableError(f"{where}: monthly usage cap reached", self._until_reset(response) or USAGE_CAP_WAIT)
        if status == 429:
            return RetryableError(where, self._until_reset(response) or retry_after_seconds(response))
        if status >= 500:
            return RetryableError(where, retry_after_seconds(response))
        if status in (401, 403) or problem in AUTH_PROBLEMS:
            return AuthError(where)
        return FatalError(where)

    def rate_limit_delay(self, response: requests.Response) -> float | None:
        return wait_when_nearly_spent(response, "x-rate-limit-remaining", RESET_HEADER, self.now(), below=1)

    def _until_reset(self, response: requests.Response) -> float | None:
        return seconds_until_header_time(response, RESET_HEADER, self.now())

    @staticmethod
    def _problem(response: requests.Response) -> tuple[str, str]:
        """The problem type's last segment, and ``: title: detail`` for the message."""
        try:
            body = response.json()
        except ValueError:
            return "", ""
        if not isinstance(body, Mapping):
            return "", ""
        problem = str(body.get("type") or "").rstrip("/").rsplit("/", 1)[-1]
        first = next(iter(body.get("errors") or []), {})
        first = first if isinstance(first, Mapping) else {}
        title = body.get("title") or first.get("title") or ""
        detail = body.get("detail") or first.get("message") or first.get("detail") or ""
        reason = body.get("reason")
        parts = [str(part) for part in (title, reason, detail) if part]
        summary = ": ".join(parts)[:DETAIL_LIMIT]
        return problem or str(first.get("type") or "").rsplit("/", 1)[-1], f": {summary}" if summary else ""
