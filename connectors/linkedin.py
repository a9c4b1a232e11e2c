"""LinkedIn organisation page: comments and replies on its posts (versioned REST API).

LinkedIn has no feed of new comments across a page's posts, and a post's
``lastModifiedAt`` moves only when the post itself is edited, so a poll works
from comment counts:

1. ``GET /posts?q=author&sortBy=CREATED`` lists the page's posts newest first;
   paging stops at the first post already watched, so finding new posts costs
   one request.
2. ``GET /socialMetadata?ids=List(...)`` returns ``commentSummary`` (``count``
   and ``topLevelCount``) for up to 100 posts per request.
3. Only posts whose counts moved since the last poll have their comments read
   (``/socialActions/{post}/comments``, start/count paging), and replies
   (``/socialActions/{comment}/comments``) only when the reply count moved.

The bookmark holds a time watermark (``since``: the newest ``created`` or
``lastModified`` time seen, epoch ms, kept a little behind the poll's start) and each watched post's two counts, the
newest ``max_posts`` posts. Comments older than the watermark are not reported
again. With nothing new, an organisation with 500 posts costs 1 + 5 = 6
requests per poll; reading every post's comments would cost 505.
Known gaps: an edit, or a deletion balanced by a new comment, leaves the counts
unchanged and is seen only when the post's counts next move.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import quote, unquote

import requests
from pydantic import Field, model_validator

from connectors.base import (
    AccountSettings,
    Batch,
    Comment,
    Connector,
    OwnPost,
    RecheckState,
    as_object,
    dig,
    parse_time,
    reason_of,
    time_or_none,
)
from connectors.credentials import CredentialExpiry, TokenKeeper, TokenState, fingerprint
from connectors.errors import AuthError, ConnectorError, FatalError, GoneError, RetryableError
from connectors.http import describe, retry_after_seconds
from connectors.oauth import Client, refresh_linkedin
from connectors.pagination import Offset, Page, page_list, pages
from connectors.versions import LINKEDIN_VERSION, LINKEDIN_VERSION_SETTING
from monitor.secrets import Secret

PAGE_SIZE = 100
METADATA_BATCH = 100
TITLE_LENGTH = 80
POLL_OVERLAP = timedelta(minutes=15)
MESSAGE_LIMIT = 200
GONE_STATUSES = frozenset({404, 410})
# Answered (with 400 or 426) for a LinkedIn-Version that is missing, unknown or retired.
VERSION_CODES = frozenset({"NONEXISTENT_VERSION", "VERSION_MISSING"})
FEED_URL = "https://www.linkedin.com/feed/update/{urn}/"
# Access tokens last 60 days; one with a refresh token is renewed once less than this is left.
RENEW_MARGIN = timedelta(days=7)

_COMMENT_URN = re.compile(r"^urn:li:comment:\((urn:li:[a-zA-Z]+:[^,]+),([^)]+)\)$")
_MENTION = re.compile(r"@\[([^\]]*)\]\(urn:li:[^)]*\)")
_HASHTAG = re.compile(r"\{hashtag\|\\?#\|([^}]*)\}")
_ESCAPED = re.compile(r"\\([\\|{}@\[\]()<>#*_~])")


class LinkedInSettings(AccountSettings):
    """A member's token for the page (60 days). Apps LinkedIn allows refresh tokens set ``client_id``,
    ``client_secret`` and ``refresh_token`` (or use ``monitor auth``), and the monitor renews the
    access token itself until the refresh token's year is up."""

    access_token: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None
    organization_urn: str = Field(pattern=r"^urn:li:organization:\d+$")
    linkedin_version: str = Field(default=LINKEDIN_VERSION, pattern=r"^\d{6}$")
    lookback_days: int = Field(default=14, ge=1, le=365)
    max_posts: int = Field(default=500, ge=1, le=5000)

    @model_validator(mode="after")
    def _a_token_or_a_way_to_get_one(self) -> LinkedInSettings:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("set both client_id and client_secret, or neither")
        if self.access_token is None and self.client_id is None:
            raise ValueError("set access_token, or client_id and client_secret for `monitor auth`")
        if self.refresh_token is not None and self.client_id is None:
            raise ValueError("a refresh_token needs the app's client_id and client_secret")
        return self


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def little_text(commentary: str) -> str:
    """Plain text from LinkedIn's "little text" post format (mentions, hashtags, escapes)."""
    text = _MENTION.sub(r"\1", commentary)
    text = _HASHTAG.sub(r"#\1", text)
    return _ESCAPED.sub(r"\1", text)


def post_title(post: Mapping[str, Any]) -> str | None:
    commentary = post.get("commentary")
    if not isinstance(commentary, str) or not commentary.strip():
        return None
    line = little_text(commentary).strip().splitlines()[0]
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def own_post_from_record(post: Mapping[str, Any]) -> OwnPost | None:
    """One of the organisation's posts: its commentary, the people it @mentions, its media's alt text and title.

    None for a post without a creation time (it is still watched for comments).
    """
    created_at = time_or_none(post.get("createdAt"))
    if created_at is None:
        return None
    urn = str(post["id"])
    commentary = post.get("commentary") if isinstance(post.get("commentary"), str) else ""
    modified_at = time_or_none(post.get("lastModifiedAt"))
    media = dig(post, "content", "media")
    media_text = [dig(media, key) for key in ("altText", "title")] if isinstance(media, Mapping) else []
    return OwnPost(
        external_id=urn,
        text=little_text(commentary).strip(),
        created_at=created_at,
        url=FEED_URL.format(urn=urn),
        title=post_title(post),
        edited_at=modified_at if modified_at is not None and modified_at > created_at else None,
        tagged=tuple(_ESCAPED.sub(r"\1", name) for name in _MENTION.findall(commentary)),
        media_text=tuple(text for text in media_text if isinstance(text, str)),
    )


def actor_name(actor: str, owner_urn: str) -> str:
    """A readable stand-in: LinkedIn does not return commenters' names to page apps."""
    if actor == owner_urn:
        return "Our LinkedIn page"
    kind, _, key = actor.removeprefix("urn:li:").partition(":")
    return {"person": f"LinkedIn member {key}", "organization": f"LinkedIn page {key}"}.get(kind, actor)


def comment_urn(record: Mapping[str, Any]) -> str:
    urn = record.get("commentUrn") or record.get("$URN")
    if isinstance(urn, str) and urn:
        return urn
    post, key = record.get("object"), record.get("id")
    if not (isinstance(post, str) and post and isinstance(key, str | int) and key):
        raise KeyError("comment has no commentUrn, nor object and id")
    return f"urn:li:comment:({post},{key})"


def comment_time(record: Mapping[str, Any]) -> int:
    """The newest of a comment's created and lastModified times, epoch ms."""
    return max(_whole(dig(record, "created", "time")), _whole(dig(record, "lastModified", "time")))


def _whole(value: Any) -> int:
    """A count or an epoch-ms time; 0 where the value is not a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def comment_from_record(record: Any, post_urn: str, owner_urn: str, title: str | None = None) -> Comment:
    """One element of ``/socialActions/{urn}/comments`` as a Comment."""
    record = as_object(record, "comment")
    urn = comment_urn(record)
    created = record["created"]["time"]
    if not _whole(created):
        raise ValueError(f"comment {urn} has no created time")
    modified = dig(record, "lastModified", "time")
    text = dig(record, "message", "text")
    if not isinstance(text, str):
        if not record.get("content"):
            raise ValueError(f"comment {urn} has neither text nor content")
        text = ""
    actor = record["actor"]
    if not isinstance(actor, str):
        raise TypeError(f"comment {urn} actor is not a URN")
    parent = record.get("parentComment")
    if parent is not None and not isinstance(parent, str):
        raise TypeError(f"comment {urn} parentComment is not a URN")
    link = FEED_URL.format(urn=post_urn) + f"?commentUrn={quote(parent or urn, safe='')}"
    if parent:
        link += f"&replyUrn={quote(urn, safe='')}"
    return Comment(
        external_id=urn,
        text=text.strip(),
        created_at=parse_time(created),
        post_id=post_urn,
        post_url=FEED_URL.format(urn=post_urn),
        post_title=title,
        parent_id=parent,
        author_id=actor,
        author_name=actor_name(actor, owner_urn),
        edited_at=parse_time(modified) if _whole(modified) > created else None,
        permalink=link,
        by_owner=actor == owner_urn,
    )


def has_replies(record: Mapping[str, Any]) -> bool:
    """True unless the comment says it has no replies (older versions omit the summary)."""
    count = dig(record, "commentsSummary", "aggregatedTotalComments")
    return not isinstance(count, int) or count > 0


def thread_urn(record: Any) -> str | None:
    """The URN of a comment whose replies may need reading; None when it has none or cannot be read."""
    if not isinstance(record, Mapping) or not has_replies(record):
        return None
    try:
        return comment_urn(record)
    except KeyError:
        return None


def elements_of(page: Page) -> list[Any]:
    return page_list(page, "elements")


def seconds_to_midnight_utc(now: datetime) -> float:
    midnight = (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


class LinkedInConnector(Connector):
    platform: ClassVar[str] = "linkedin"
    settings_model: ClassVar[type[AccountSettings]] = LinkedInSettings
    default_base_url: ClassVar[str] = "https://api.linkedin.com/rest"
    settings: LinkedInSettings

    def auth_headers(self) -> dict[str, str]:
        return {"LinkedIn-Version": self.settings.linkedin_version, "X-Restli-Protocol-Version": "2.0.0"}

    @cached_property
    def tokens(self) -> TokenKeeper:
        """The access token; renewed with the refresh token, where the app has one, before it runs out."""
        settings = self.settings
        configured = TokenState(
            access_token=settings.access_token or Secret("", "none configured"),
            refresh_token=settings.refresh_token,
            configured=fingerprint(settings.refresh_token or settings.access_token),
        )
        renew = None
        if settings.client_id is not None and settings.client_secret is not None:
            client = Client(settings.client_id, settings.client_secret)
            renew = lambda state: refresh_linkedin(self.http.session, client, state, self.now())  # noqa: E731
        keeper = TokenKeeper(settings.name, self.credentials, configured, renew, self.now, margin=RENEW_MARGIN)
        if keeper.state.refresh_token is None and keeper.state.access_token.reveal():
            keeper.renew = None  # a token from the config or `monitor auth` without a refresh token: warn instead
        return keeper

    def _authorise(self) -> None:
        self.http.auth_headers["Authorization"] = f"Bearer {self.tokens.current().reveal()}"

    def credential_expiry(self) -> CredentialExpiry | None:
        return self.tokens.expiry() or super().credential_expiry()

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        self._authorise()
        started = self.now()
        lookback = started - timedelta(days=self.settings.lookback_days)
        since = int(bookmark["since"]) if bookmark and "since" in bookmark else epoch_ms(lookback)
        known: dict[str, list[int]] = {urn: list(pair) for urn, pair in (bookmark or {}).get("posts", {}).items()}
        own_posts: list[OwnPost] = []
        titles = self._new_posts(known, own_posts)
        watched = [*titles, *(urn for urn in known if urn not in titles)][: self.settings.max_posts]
        counts, notes = self._comment_counts(watched, known)
        newest = since
        for urn in watched:
            before = known.get(urn, [0, 0])
            if urn not in counts or counts[urn] == before:
                continue
            replies_moved = counts[urn][0] - counts[urn][1] != before[0] - before[1]
            batch, latest = self._post_comments(urn, titles.get(urn), since, replies_moved)
            newest = max(newest, latest)
            yield batch
        # A comment that lands on a post after its counts were read is found by the
        # next poll, so the watermark stays behind this poll's start.
        since = max(since, min(newest, epoch_ms(started - POLL_OVERLAP)))
        # The new posts are stored with the bookmark that stops them being new.
        yield Batch(comments=[], bookmark={"since": since, "posts": counts}, skipped=notes, posts=own_posts)

    def check(self) -> str:
        self._authorise()
        body = self.http.get_json("posts", self._posts_params(count=1))
        latest = next(iter(body.get("elements") or []), None) if isinstance(body, Mapping) else None
        organisation = self.settings.organization_urn
        if not isinstance(latest, Mapping):
            return f"{organisation}: posts readable, none yet"
        when = parse_time(latest["createdAt"]).date().isoformat() if latest.get("createdAt") else "unknown date"
        return f"{organisation}: posts readable, latest {latest.get('id')} ({when})"

    def _posts_params(self, count: int | None = None) -> dict[str, Any]:
        return {
            "author": self.settings.organization_urn,
            "q": "author",
            "sortBy": "CREATED",
            "count": count or PAGE_SIZE,
            "start": 0,
        }

    def _new_posts(self, known: Mapping[str, Any], own_posts: list[OwnPost]) -> dict[str, str | None]:
        """Posts newer than every watched one (all recent ones on a first poll), urn → title, newest first.

        Each is also added to ``own_posts`` when it can be read as one.
        """
        found: dict[str, str | None] = {}
        for page in pages(self.http, "posts", self._posts_params(), Offset()):
            for post in elements_of(page):
                urn = post.get("id") if isinstance(post, Mapping) else None
                if not isinstance(urn, str):
                    continue
                if urn in known or len(found) >= self.settings.max_posts:
                    return found
                found[urn] = post_title(post)
                with_time = own_post_from_record(post)
                if with_time is not None:
                    own_posts.append(with_time)
        return found

    def _comment_counts(
        self, urns: list[str], known: Mapping[str, list[int]]
    ) -> tuple[dict[str, list[int]], list[str]]:
        """Each post's [all comments, top-level comments]; posts gone from LinkedIn are dropped."""
        counts: dict[str, list[int]] = {}
        notes: list[str] = []
        for start in range(0, len(urns), METADATA_BATCH):
            chunk = urns[start : start + METADATA_BATCH]
            ids = ",".join(quote(urn, safe="") for urn in chunk)
            path = f"socialMetadata?ids=List({ids})"
            body, response = self.http.fetch_json("GET", path)
            found = dig(body, "results")
            if not isinstance(found, Mapping):
                raise RetryableError(f"{describe(response)} returned no results object")
            results = {unquote(key): value for key, value in found.items()}
            errors = dig(body, "errors")
            errors = {unquote(key): value for key, value in errors.items()} if isinstance(errors, Mapping) else {}
            for urn in chunk:
                if urn in results:
                    summary = dig(results, urn, "commentSummary")
                    counts[urn] = [_whole(dig(summary, "count")), _whole(dig(summary, "topLevelCount"))]
                    continue
                status = dig(errors.get(urn) or {}, "status")
                if status in GONE_STATUSES:
                    notes.append(f"post {urn} is no longer on LinkedIn ({status}); no longer watched")
                elif urn in known:
                    counts[urn] = known[urn]
                    notes.append(f"post {urn}: comment counts unavailable ({status or 'no result'}); kept as before")
        return counts, notes

    def _post_comments(self, post_urn: str, title: str | None, since: int, replies_moved: bool) -> tuple[Batch, int]:
        """A post's comments (and replies when their count moved) at or after ``since``; and the newest time."""
        batch = Batch(comments=[])
        newest = since
        top_level = self._read_comments(post_urn)
        threads = [urn for record in top_level if (urn := thread_urn(record))] if replies_moved else []
        replies = [reply for urn in threads for reply in self._read_comments(urn)]
        for record in [*top_level, *replies]:
            try:
                comment = comment_from_record(record, post_urn, self.settings.organization_urn, title)
            except (KeyError, TypeError, ValueError) as exc:
                where = f"comment {dig(record, 'id') or '?'} on {post_urn}"
                batch.skipped.append(f"{where}: {type(exc).__name__}: {reason_of(exc)}")
                continue
            moment = comment_time(record)
            newest = max(newest, moment)
            if moment >= since:
                batch.comments.append(comment)
        return batch, newest

    def _read_comments(self, urn: str) -> list[Any]:
        path = f"socialActions/{quote(urn, safe='')}/comments"
        return [
            record
            for page in pages(self.http, path, {"start": 0, "count": PAGE_SIZE}, Offset())
            for record in elements_of(page)
        ]

    recheck_batch: ClassVar[int] = 1

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """One ``GET /socialActions/{object}/comments/{id}`` per comment: 404 means deleted."""
        self._authorise()
        states: dict[str, RecheckState] = {}
        for urn in external_ids:
            match = _COMMENT_URN.match(urn)
            if match is None:
                continue
            target, key = match.groups()
            try:
                self.http.get_json(f"socialActions/{quote(target, safe='')}/comments/{quote(key, safe='')}")
            except GoneError:
                states[urn] = "deleted"
            except FatalError:
                continue
            else:
                states[urn] = "present"
        return states

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        where = f"{describe(response)} failed ({status}){self._detail(response)}"
        if status in (401, 403):
            return AuthError(where)
        if status == 429:
            wait = retry_after_seconds(response)
            return RetryableError(f"{where}; daily limits reset at midnight UTC", wait or self._until_midnight())
        if status >= 500:
            return RetryableError(where, retry_after_seconds(response))
        if status in GONE_STATUSES:
            return GoneError(where)
        if status == 426 or self._error_code(response) in VERSION_CODES:
            return AuthError(
                f"{where}; LinkedIn no longer supports LinkedIn-Version {self.settings.linkedin_version}: "
                f"set {LINKEDIN_VERSION_SETTING} on this account to a supported version "
                f"(this release's default is {LINKEDIN_VERSION})"
            )
        return FatalError(where)

    def _until_midnight(self) -> float:
        return seconds_to_midnight_utc(self.now())

    @staticmethod
    def _error_code(response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        return str(body.get("code") or "") if isinstance(body, Mapping) else ""

    @staticmethod
    def _detail(response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, Mapping):
            return ""
        parts = [str(body[key]) for key in ("code", "serviceErrorCode", "message") if body.get(key)]
        return f": {' '.join(parts)[:MESSAGE_LIMIT]}" if parts else ""
