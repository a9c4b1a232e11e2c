"""Instagram business account: comments and replies on its recent media (Graph API).

One request lists a page of media, each with its ``comments_count`` and its
newest comments (replies nested) embedded by field expansion. Instagram has no
``since`` for comments, so the bookmark keeps two watermarks: the newest
comment time seen, and each watched media's ``comments_count``. A media whose
count has not moved costs nothing beyond its share of the listing; one whose
count moved and whose embedded comments are not the whole story has its
comments edge read to the end. A poll with nothing new therefore costs one
request per page of watched media.

Only comments created after a short overlap behind the time watermark are
kept, so a comment that becomes visible long after its creation time (held for
review, then approved) is not read.

Instagram comments have no permalink of their own in the API: each links to
its media's address with the comment's id added, which opens the comment.

Each watched media is also reported as one of the organisation's own posts,
its caption as the text (Instagram gives the people tagged in a picture only
through a separate edge, which is not read).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from connectors.base import (
    AccountSettings,
    Batch,
    Comment,
    OwnPost,
    advance,
    as_object,
    dig,
    future_note,
    later_than_start,
    objects_of,
    parse_time,
    post_title,
    reason_of,
    text_or_none,
    time_or_none,
)
from connectors.credentials import CredentialExpiry, TokenKeeper, TokenState, fingerprint
from connectors.errors import RetryableError
from connectors.graph import (
    PAGING,
    GraphConnector,
    GraphSettings,
    TooMuchDataError,
    appsecret_proof,
    page_records,
    records_of,
)
from connectors.oauth import refresh_instagram
from connectors.pagination import pages
from monitor.secrets import Secret

COMMENT_FIELDS = "id,text,timestamp,username,from,user,hidden"
INSTAGRAM_LOGIN_BASE_URL = "https://graph.instagram.com"
# Instagram renews a long-lived token only once it is a day old; it then lasts 60 days.
RENEW_MIN_AGE = timedelta(days=1)
RENEW_MARGIN = timedelta(days=30)


class InstagramSettings(GraphSettings):
    """``login = "instagram"``: a token from Instagram Login (graph.instagram.com), renewed by the monitor.

    ``login = "facebook"`` (the default): a token from Facebook Login for the
    Page the account is linked to, on graph.facebook.com; it cannot be renewed
    here (set ``token_expires`` when it has an expiry).
    """

    ig_user_id: str = Field(min_length=1)
    login: Literal["facebook", "instagram"] = "facebook"
    # Optional with Instagram Login: `monitor auth` (with the app's client_id and client_secret) stores one.
    access_token: Secret | None = None  # type: ignore[assignment]
    client_id: str | None = None
    client_secret: Secret | None = None
    watch_days: int = Field(90, ge=1, le=3650)
    media_limit: int = Field(100, ge=1, le=100)
    comments_limit: int = Field(25, ge=1, le=50)

    @model_validator(mode="after")
    def _a_token_or_a_way_to_get_one(self) -> InstagramSettings:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("set both client_id and client_secret, or neither")
        if self.access_token is None and (self.login != "instagram" or self.client_id is None):
            raise ValueError('set access_token (or, with login = "instagram", client_id and client_secret)')
        return self

    @model_validator(mode="before")
    @classmethod
    def _instagram_host(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("login") == "instagram" and not data.get("base_url"):
            return {**data, "base_url": INSTAGRAM_LOGIN_BASE_URL}
        return data


@dataclass
class _Poll:
    """What one fetch has learned so far."""

    cutoff: datetime
    started: datetime
    newest: datetime | None
    known_counts: Mapping[str, int]
    counts: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


class InstagramConnector(GraphConnector):
    platform: ClassVar[str] = "instagram"
    settings_model: ClassVar[type[AccountSettings]] = InstagramSettings
    hidden_field: ClassVar[str] = "hidden"

    settings: InstagramSettings

    @cached_property
    def tokens(self) -> TokenKeeper:
        """The token; with Instagram Login, renewed for 60 days once it is a day old and half its life is gone."""
        settings = self.settings
        configured = TokenState(
            access_token=settings.access_token or Secret("", "none configured"),
            configured=fingerprint(settings.access_token),
        )
        renew = None
        if settings.login == "instagram":
            renew = lambda state: refresh_instagram(self.http.session, state, self.now())  # noqa: E731
        return TokenKeeper(
            settings.name, self.credentials, configured, renew, self.now, margin=RENEW_MARGIN, min_age=RENEW_MIN_AGE
        )

    def _authorise(self) -> None:
        token = self.tokens.current().reveal()
        self.http.auth_params["access_token"] = token
        if self.settings.app_secret is not None:
            self.http.auth_params["appsecret_proof"] = appsecret_proof(token, self.settings.app_secret.reveal())

    def credential_expiry(self) -> CredentialExpiry | None:
        return self.tokens.expiry() or super().credential_expiry()

    def check(self) -> str:
        self._authorise()
        account = self.http.get_json(self._path(self.settings.ig_user_id), {"fields": "id,username"})
        return f"Instagram @{dig(account, 'username') or '(no username)'} ({dig(account, 'id')})"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        self._authorise()
        started = self.now()
        notes: list[str] = []
        watermark, cutoff = self._watermark_and_cutoff(bookmark, started, notes)
        sizes = (self.settings.media_limit, self.settings.comments_limit)
        while True:
            poll = _Poll(cutoff=cutoff, started=started, newest=watermark, known_counts=counts_of(bookmark))
            try:
                yield from self._read_listing(poll, started, sizes)
            except TooMuchDataError as exc:
                smaller = (max(1, sizes[0] // 2), max(1, sizes[1] // 2))
                if smaller == sizes:
                    raise RetryableError(f"{exc}; already asking for one media and one comment") from None
                sizes = smaller  # for this poll only: the next starts from the settings again
                continue
            break
        since = poll.newest or cutoff
        yield Batch(comments=[], bookmark={"since": since.isoformat(), "counts": poll.counts}, notes=notes)

    def _read_listing(self, poll: _Poll, started: datetime, sizes: tuple[int, int]) -> Iterator[Batch]:
        window_start = started - timedelta(days=self.settings.watch_days)
        media_path = self._path(f"{self.settings.ig_user_id}/media")
        for page in pages(self.http, media_path, self._media_params(*sizes), PAGING):
            batch = Batch(comments=[])
            media_page = objects_of(page_records(page), "media", batch)
            watched = [media for media in media_page if not _older_than(media, window_start)]
            for media in watched:
                self._read_media(media, poll, batch)
                try:
                    batch.posts.append(own_post_from_media(media))
                except (KeyError, TypeError, ValueError) as exc:
                    batch.skipped.append(f"media {media.get('id') or '?'}: {reason_of(exc)}")
            if batch.comments or batch.skipped or batch.posts:
                yield batch
            if len(watched) < len(media_page):
                break

    def _media_params(self, media_limit: int, comments_limit: int) -> dict[str, Any]:
        """Graph's code 1 ("reduce the amount of data") halves both for the rest of the poll."""
        replies = f"replies{{{COMMENT_FIELDS}}}"
        comments = f"comments.limit({comments_limit}){{{COMMENT_FIELDS},{replies}}}"
        return {
            "fields": f"id,permalink,caption,timestamp,username,comments_count,{comments}",
            "limit": media_limit,
        }

    def _read_media(self, media: Mapping[str, Any], poll: _Poll, batch: Batch) -> None:
        media_id = str(media.get("id") or "")
        count = media.get("comments_count")
        if media_id and isinstance(count, int):
            poll.counts[media_id] = count
        embedded = media.get("comments")
        if not isinstance(embedded, Mapping):
            return
        moved = not isinstance(count, int) or poll.known_counts.get(media_id) != count
        edge = self._whole_edge(embedded) if moved and is_partial(embedded) else embedded_records(embedded)
        for record, parent_id in edge:
            try:
                comment = comment_from_record(record, media, self.settings.ig_user_id, parent_id)
            except (KeyError, TypeError, ValueError) as exc:
                batch.skipped.append(f"media {media_id or '?'}: {reason_of(exc)}")
                continue
            if comment.created_at < poll.cutoff or comment.external_id in poll.seen:
                continue
            poll.seen.add(comment.external_id)
            batch.comments.append(comment)
            if later_than_start(comment.created_at, poll.started):
                batch.notes.append(future_note(f"comment {comment.external_id}", comment.created_at))
            poll.newest = advance(poll.newest, comment.created_at, poll.started)

    def _whole_edge(self, embedded: Mapping[str, Any]) -> Iterator[tuple[Any, str | None]]:
        """Every comment and reply on a media: the embedded page, then the rest of the edge."""
        yield from self._with_all_replies(records_of(embedded))
        following = dig(embedded, "paging", "next")
        if isinstance(following, str) and following:
            for page in pages(self.http, following, strategy=PAGING):
                yield from self._with_all_replies(page_records(page))

    def _with_all_replies(self, comments: list[Any]) -> Iterator[tuple[Any, str | None]]:
        for record in comments:
            yield record, None
            replies = dig(record, "replies")
            if not isinstance(replies, Mapping):
                continue
            parent_id = text_or_none(record.get("id"))
            for reply in records_of(replies):
                yield reply, parent_id
            following = dig(replies, "paging", "next")
            if isinstance(following, str) and following:
                for page in pages(self.http, following, strategy=PAGING):
                    for reply in page_records(page):
                        yield reply, parent_id


def comment_from_record(
    record: Any,
    media: Mapping[str, Any] | None,
    owner_id: str,
    parent_id: str | None = None,
) -> Comment:
    """One IG comment or reply as a Comment.

    The default comment fields carry no author; ``username`` and ``from`` are
    asked for. ``user`` is only present on the account's own comments.
    """
    record = as_object(record, "comment")
    comment_id = text_or_none(record.get("id"))
    if comment_id is None:
        raise KeyError("comment has no id")
    if record.get("timestamp") is None:
        raise KeyError(f"comment {comment_id} has no timestamp")
    text = record.get("text") or ""
    if not isinstance(text, str):
        raise TypeError(f"comment {comment_id} text is not text")
    media = media or {}
    author_id = text_or_none(dig(record, "from", "id")) or text_or_none(dig(record, "user", "id"))
    author_name = text_or_none(record.get("username")) or text_or_none(dig(record, "from", "username"))
    owner_name = text_or_none(media.get("username"))
    permalink = text_or_none(media.get("permalink"))
    return Comment(
        external_id=comment_id,
        text=text.strip(),
        created_at=parse_time(record["timestamp"]),
        post_id=text_or_none(media.get("id")) or text_or_none(dig(record, "media", "id")),
        post_url=permalink,
        post_title=post_title(media.get("caption")),
        parent_id=parent_id or text_or_none(record.get("parent_id")),
        author_id=author_id,
        author_name=author_name,
        permalink=comment_link(permalink, comment_id, parent_id or text_or_none(record.get("parent_id"))),
        by_owner=author_id == owner_id
        or (owner_name is not None and author_name is not None and author_name.lower() == owner_name.lower()),
        hidden=record.get("hidden") is True,
    )


def own_post_from_media(media: Mapping[str, Any]) -> OwnPost:
    """One of the account's own media, its caption as the text (where @mentions name people)."""
    media_id = text_or_none(media.get("id"))
    if media_id is None:
        raise KeyError("media has no id")
    if media.get("timestamp") is None:
        raise KeyError(f"media {media_id} has no timestamp")
    caption = media.get("caption") or ""
    if not isinstance(caption, str):
        raise TypeError(f"media {media_id} caption is not text")
    return OwnPost(
        external_id=media_id,
        text=caption.strip(),
        created_at=parse_time(media["timestamp"]),
        url=text_or_none(media.get("permalink")),
        title=post_title(caption),
    )
_MEDIA_PAGE = re.compile(r"^(https://www\.instagram\.com/(?:p|reel|tv)/[A-Za-z0-9_-]+)/?(?:[?#].*)?$")


def comment_link(media_permalink: str | None, comment_id: str, parent_id: str | None) -> str | None:
    """The comment's own address on instagram.com, which opens the post at that comment.

    Graph gives comments no permalink; Instagram's web addresses for a comment
    are the media's with ``/c/{comment}/`` (and ``/r/{reply}/`` for a reply)
    added. Where the media's address is not of that form, the media's is used.
    """
    match = _MEDIA_PAGE.match(media_permalink or "")
    if match is None:
        return media_permalink
    if parent_id:
        return f"{match.group(1)}/c/{parent_id}/r/{comment_id}/"
    return f"{match.group(1)}/c/{comment_id}/"


def embedded_records(embedded: Mapping[str, Any]) -> Iterator[tuple[Any, str | None]]:
    """The embedded comments and their embedded replies, each with its parent's id."""
    for record in records_of(embedded):
        yield record, None
        replies = dig(record, "replies")
        if isinstance(replies, Mapping):
            for reply in records_of(replies):
                yield reply, text_or_none(record.get("id"))


def is_partial(embedded: Mapping[str, Any]) -> bool:
    """True when the embedded comments, or any comment's embedded replies, have a further page."""
    if dig(embedded, "paging", "next"):
        return True
    return any(dig(record, "replies", "paging", "next") for record in records_of(embedded))


def counts_of(bookmark: Mapping[str, Any] | None) -> dict[str, int]:
    counts = bookmark.get("counts") if bookmark else None
    if not isinstance(counts, Mapping):
        return {}
    return {str(key): value for key, value in counts.items() if isinstance(value, int)}


def _older_than(media: Mapping[str, Any], moment: datetime) -> bool:
    published = time_or_none(media.get("timestamp"))
    return published is not None and published < moment
