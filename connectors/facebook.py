"""Facebook Page: comments and replies on the recent posts of the Page's feed (Graph API).

The feed (``/{page}/feed``) holds the Page's own posts and those visitors
write on it; ``/{page}/posts`` would leave the visitors' posts out. One request
lists up to ``posts_limit`` posts with their newest comments
embedded by field expansion, so a poll with nothing new costs one request per
page of posts. A post's own comments edge is read only when every embedded
comment is newer than the watermark (there may be more new ones behind them).

The watermark is the newest comment time stored; each poll re-reads a small
overlap behind it and the store's upsert removes the duplicates. Graph paging
cursors expire, so none is kept between polls. A comment that becomes visible
long after its creation time (held for review, then approved) is already behind
the overlap when it appears, so it is not read.

The Page's posts themselves come in the same response and are reported as
the organisation's own posts, with the people tagged in them (``message_tags``).
Graph sometimes refuses a request as too large (code 1, "Please reduce the
amount of data you're asking for"), and the same request fails again. The poll
then halves the posts and comments it asks for and starts again; the smaller
sizes are kept in the bookmark and doubled back after ``GROW_AFTER_POLLS``
polls that succeed with them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from pydantic import Field

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
from connectors.errors import RetryableError
from connectors.graph import PAGING, GraphConnector, GraphSettings, TooMuchDataError, page_records, records_of
from connectors.pagination import pages

COMMENT_FIELDS = "id,from{id,name},message,created_time,permalink_url,parent{id},is_hidden"
GROW_AFTER_POLLS = 12


class FacebookSettings(GraphSettings):
    """One Page. Comments are read on posts from the last ``lookback_days``; older posts are not watched."""

    page_id: str = Field(min_length=1)
    posts_limit: int = Field(100, ge=1, le=100)
    comments_limit: int = Field(25, ge=1, le=100)


@dataclass(frozen=True, slots=True)
class Limits:
    """How many posts a feed page, and comments per post, a poll asks for; below the settings after code 1."""

    posts: int
    comments: int
    most_posts: int
    most_comments: int
    good_polls: int = 0

    @classmethod
    def of(cls, bookmark: Mapping[str, Any] | None, settings: FacebookSettings) -> Limits:
        most_posts, most_comments = settings.posts_limit, settings.comments_limit
        kept = bookmark.get("limits") if bookmark else None
        if not isinstance(kept, Mapping):
            return cls(most_posts, most_comments, most_posts, most_comments)
        return cls(
            posts=_within(kept.get("posts"), most_posts),
            comments=_within(kept.get("comments"), most_comments),
            most_posts=most_posts,
            most_comments=most_comments,
            good_polls=_within(kept.get("good_polls"), GROW_AFTER_POLLS, low=0),
        )

    @property
    def reduced(self) -> bool:
        return (self.posts, self.comments) != (self.most_posts, self.most_comments)

    def halved(self) -> Limits:
        return Limits(max(1, self.posts // 2), max(1, self.comments // 2), self.most_posts, self.most_comments)

    def after_success(self) -> dict[str, Any]:
        """The bookmark's part: nothing at full size; otherwise the sizes, doubled back after enough good polls."""
        if not self.reduced:
            return {}
        good = self.good_polls + 1
        if good < GROW_AFTER_POLLS:
            return {"limits": {"posts": self.posts, "comments": self.comments, "good_polls": good}}
        grown = Limits(
            min(self.most_posts, self.posts * 2),
            min(self.most_comments, self.comments * 2),
            self.most_posts,
            self.most_comments,
        )
        if not grown.reduced:
            return {}
        return {"limits": {"posts": grown.posts, "comments": grown.comments, "good_polls": 0}}


def _within(value: Any, high: int, low: int = 1) -> int:
    return min(high, max(low, value)) if isinstance(value, int) and not isinstance(value, bool) else high


class FacebookConnector(GraphConnector):
    platform: ClassVar[str] = "facebook"
    settings_model: ClassVar[type[AccountSettings]] = FacebookSettings

    settings: FacebookSettings

    def check(self) -> str:
        page = self.http.get_json(self._path(self.settings.page_id), {"fields": "id,name"})
        return f"Facebook Page {dig(page, 'name') or '(no name)'} ({dig(page, 'id')})"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        started = self.now()
        notes: list[str] = []
        watermark, cutoff = self._watermark_and_cutoff(bookmark, started, notes)
        limits = Limits.of(bookmark, self.settings)
        while True:
            try:
                newest = yield from self._read_feed(started, cutoff, watermark, limits)
            except TooMuchDataError as exc:
                smaller = limits.halved()
                if smaller == limits:
                    raise RetryableError(f"{exc}; already asking for one post and one comment") from None
                limits = smaller
                continue
            break
        bookmark_after = {"since": (newest or started).isoformat(), **limits.after_success()}
        yield Batch(comments=[], bookmark=bookmark_after, notes=notes)

    def _read_feed(
        self, started: datetime, cutoff: datetime, watermark: datetime | None, limits: Limits
    ) -> Generator[Batch, None, datetime | None]:
        newest = watermark
        feed = self._path(f"{self.settings.page_id}/feed")
        for page in pages(self.http, feed, self._feed_params(started, limits), PAGING):
            batch = Batch(comments=[])
            seen: set[str] = set()  # within a page; the store's upsert absorbs repeats across pages
            for post in objects_of(page_records(page), "post", batch):
                try:
                    batch.posts.append(own_post_from_record(post))
                except (KeyError, TypeError, ValueError) as exc:
                    batch.skipped.append(f"post {post.get('id')}: {reason_of(exc)}")
                for record in self._comment_records(post, cutoff):
                    try:
                        comment = comment_from_record(record, self.settings.page_id, post)
                    except (KeyError, TypeError, ValueError) as exc:
                        batch.skipped.append(f"post {post.get('id')}: {reason_of(exc)}")
                        continue
                    if comment.created_at < cutoff or comment.external_id in seen:
                        continue
                    seen.add(comment.external_id)
                    batch.comments.append(comment)
                    if later_than_start(comment.created_at, started):
                        batch.notes.append(future_note(f"comment {comment.external_id}", comment.created_at))
                    newest = advance(newest, comment.created_at, started)
            if batch.comments or batch.skipped or batch.posts:
                yield batch
        return newest

    def _feed_params(self, started: datetime, limits: Limits) -> dict[str, Any]:
        window_start = started - timedelta(days=self.settings.lookback_days)
        comments = (
            f"comments.filter(stream).order(reverse_chronological)"
            f".limit({limits.comments}){{{COMMENT_FIELDS}}}"
        )
        return {
            "fields": f"id,message,message_tags,permalink_url,created_time,updated_time,{comments}",
            "limit": limits.posts,
            "since": int(window_start.timestamp()),
        }

    def _comment_records(self, post: Mapping[str, Any], cutoff: datetime) -> Iterator[Any]:
        """The post's embedded comments, then its comments edge while every one is still new.

        Graph leaves ``comments`` out of a post that has none.
        """
        embedded = post.get("comments")
        if not isinstance(embedded, Mapping):
            return
        records = records_of(embedded)
        yield from records
        following = dig(embedded, "paging", "next")
        if not (isinstance(following, str) and following and all_newer(records, cutoff)):
            return
        for page in pages(self.http, following, strategy=PAGING):
            records = page_records(page)
            yield from records
            if not all_newer(records, cutoff):
                return


def comment_from_record(record: Any, page_id: str, post: Mapping[str, Any] | None = None) -> Comment:
    """One Graph comment (embedded or from a comments edge) as a Comment.

    Comments read without the MODERATE task on the Page have no ``id`` and no
    ``from``: the id is then rebuilt from the permalink's ``comment_id`` /
    ``reply_comment_id`` (the same ``{post}_{comment}`` form Graph uses), or
    hashed from the post, time and text when there is no permalink either.
    Replies flattened by ``filter(stream)`` keep their parent via ``parent{id}``
    or the permalink. Sticker- and photo-only comments are kept with empty text.
    """
    record = as_object(record, "comment")
    created_time = record.get("created_time")
    if created_time is None:
        raise KeyError("comment has no created_time")
    created_at = parse_time(created_time)
    message = record.get("message") or ""
    if not isinstance(message, str):
        raise TypeError("comment message is not text")
    post = post or {}
    permalink = record.get("permalink_url") if isinstance(record.get("permalink_url"), str) else None
    post_id = text_or_none(post.get("id"))
    post_key = _post_key(post_id, permalink)
    comment_fbid, reply_fbid = _permalink_ids(permalink)
    author_id = text_or_none(dig(record, "from", "id"))
    return Comment(
        external_id=_comment_id(record, post_key, reply_fbid or comment_fbid, post_id, message),
        text=message.strip(),
        created_at=created_at,
        post_id=post_id or post_key,
        post_url=text_or_none(post.get("permalink_url")),
        post_title=post_title(post.get("message")),
        parent_id=_parent_id(record, post_key, comment_fbid if reply_fbid else None),
        author_id=author_id,
        author_name=text_or_none(dig(record, "from", "name")),
        permalink=permalink or text_or_none(post.get("permalink_url")),
        by_owner=author_id is not None and author_id == page_id,
        hidden=record.get("is_hidden") is True,
    )


def own_post_from_record(post: Mapping[str, Any]) -> OwnPost:
    """One of the Page's posts, with the names of the people and Pages its message tags."""
    post_id = text_or_none(post.get("id"))
    if post_id is None:
        raise KeyError("post has no id")
    if post.get("created_time") is None:
        raise KeyError("post has no created_time")
    message = post.get("message") or ""
    if not isinstance(message, str):
        raise TypeError("post message is not text")
    tags = post.get("message_tags")
    tagged = [dig(tag, "name") for tag in tags if isinstance(dig(tag, "name"), str)] if isinstance(tags, list) else []
    created_at = parse_time(post["created_time"])
    updated_at = time_or_none(post.get("updated_time"))
    return OwnPost(
        external_id=post_id,
        text=message.strip(),
        created_at=created_at,
        url=text_or_none(post.get("permalink_url")),
        title=post_title(message),
        edited_at=updated_at if updated_at is not None and updated_at > created_at else None,
        tagged=tuple(tagged),
    )


def all_newer(records: Iterable[Any], cutoff: datetime) -> bool:
    """True when there are records and none is older than ``cutoff`` (unreadable times count as new)."""
    times = [time_or_none(dig(record, "created_time")) for record in records]
    return bool(times) and all(moment is None or moment >= cutoff for moment in times)


def _comment_id(
    record: Mapping[str, Any], post_key: str | None, own_fbid: str | None, post_id: str | None, message: str
) -> str:
    given = text_or_none(record.get("id"))
    if given:
        return _two_part(given)
    if own_fbid:
        return f"{post_key}_{own_fbid}" if post_key else own_fbid
    content = f"{post_id or post_key}|{record.get('created_time')}|{message}"
    return "fbhash_" + hashlib.sha256(content.encode()).hexdigest()[:24]


def _parent_id(record: Mapping[str, Any], post_key: str | None, parent_fbid: str | None) -> str | None:
    parent = text_or_none(dig(record, "parent", "id"))
    if parent:
        return _two_part(parent)
    if parent_fbid:
        return f"{post_key}_{parent_fbid}" if post_key else parent_fbid
    return None


def _two_part(comment_id: str) -> str:
    """Legacy ``{page}_{post}_{comment}`` ids → today's ``{post}_{comment}``."""
    parts = comment_id.split("_")
    return "_".join(parts[-2:]) if len(parts) == 3 else comment_id


_POST_IN_URL = re.compile(r"/posts/([^/?#]+)")


def _post_key(post_id: str | None, permalink: str | None) -> str | None:
    """The post's own part of a ``{page}_{post}`` id, or the post segment of a comment permalink."""
    if post_id:
        return post_id.rsplit("_", 1)[-1]
    match = _POST_IN_URL.search(permalink or "")
    return match.group(1) if match else None


def _permalink_ids(permalink: str | None) -> tuple[str | None, str | None]:
    if not permalink or "comment_id=" not in permalink:
        return None, None
    query = parse_qs(urlsplit(permalink).query)
    comment = query.get("comment_id", [None])[0]
    reply = query.get("reply_comment_id", [None])[0]
    return comment, reply
