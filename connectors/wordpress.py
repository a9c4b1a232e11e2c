"""WordPress site: comments on the organisation's blog, from the REST API (``/wp-json/wp/v2/comments``).

WordPress compares ``after`` with each comment's ``date`` in the site's own
time zone: a time with a zone is converted to the site's zone first, and one
without is read as site time (older versions ignored the zone altogether). So
the bookmark is the newest comment's site-time ``date``, sent back without a
zone, which is right on every version; an overlap (``overlap_minutes``, one
hour by default) covers the hour that repeats when the clocks go back. Comments
are read oldest first, 100 a page, until ``X-WP-TotalPages``; with nothing new,
a poll is one request.

Without credentials only approved comments are visible. With a username and an
application password, comments held for moderation are read too: they are live
comments awaiting the site's decision, not hidden ones (only spam and trash
are). WordPress keeps no edit time, so an edit is seen only while the comment
is inside the overlap. ``post_url`` is the comment's link without its
``#comment-N`` part, which costs no request per post; the post's title is not
read.

With ``own_posts`` on, the site's posts modified since the last poll are read
too (``/wp-json/wp/v2/posts``, one more request a poll) and reported as the
organisation's own posts: the title and text, and the images' alt text and
captions. Their watermark is the newest site-time ``modified``, kept beside the
comments' one.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import requests
from pydantic import Field, field_validator, model_validator

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
    html_to_text,
    later_than_start,
    parse_time,
    time_or_none,
)
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import describe, retry_after_seconds
from connectors.pagination import PageNumber, pages
from monitor.secrets import Secret

COMMENTS = "wp-json/wp/v2/comments"
POSTS = "wp-json/wp/v2/posts"
POST_FIELDS = "id,link,date_gmt,modified,modified_gmt,title,content"
_ALT = re.compile(r"<img\b[^>]*?\balt\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.IGNORECASE)
_CAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption>", re.IGNORECASE | re.DOTALL)
PAGE_SIZE = 100
MAX_PAGES = 50
PAGING = PageNumber("page", "X-WP-TotalPages")
_SOURCE_BREAK = re.compile(r"\s*\n\s*")
# Only these mean the site has taken a comment down. One held for moderation ("hold", WordPress's
# default for a first-time commenter) is live: awaiting the site's decision, so it is alerted on.
HIDDEN_STATUSES = frozenset({"spam", "trash"})
PAST_LAST_PAGE = frozenset({"rest_post_invalid_page_number", "rest_comment_invalid_page_number"})


class WordPressSettings(AccountSettings):
    base_url: str = Field(min_length=1)
    username: str | None = None
    application_password: Secret | None = None
    owner_user_ids: list[int] = Field(default_factory=list)
    lookback_days: int = Field(14, ge=1, le=365)
    overlap_minutes: int = Field(60, ge=0, le=24 * 60)
    # Also read the site's posts and check them as the organisation's own (one more request a poll).
    own_posts: bool = False

    @field_validator("base_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url is the site's address, e.g. https://blog.example.org")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _both_or_neither(self) -> WordPressSettings:
        if (self.username is None) != (self.application_password is None):
            raise ValueError("set both username and application_password, or neither")
        return self


class PastLastPageError(FatalError):
    """A page beyond the last: the end of the listing, not a failure."""


class WordPressConnector(Connector):
    platform: ClassVar[str] = "wordpress"
    settings_model: ClassVar[type[AccountSettings]] = WordPressSettings

    settings: WordPressSettings

    def auth_headers(self) -> dict[str, str]:
        password = self.settings.application_password
        if self.settings.username is None or password is None:
            return {}
        pair = f"{self.settings.username}:{password.reveal()}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}

    @property
    def _signed_in(self) -> bool:
        return self.settings.application_password is not None

    def _visibility(self) -> dict[str, str]:
        return {"status": "all"} if self._signed_in else {}

    def check(self) -> str:
        response = self.http.request("GET", COMMENTS, params={"per_page": 1, **self._visibility()})
        self.http.json_of(response)
        total = response.headers.get("X-WP-Total", "?")
        seen = "all comments" if self._signed_in else "approved comments"
        return f"WordPress site {self.settings.base_url}: {total} {seen}"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        started = self.now()
        notes: list[str] = []
        watermark = str(bookmark.get("date")) if bookmark and bookmark.get("date") else None
        if watermark is not None and _is_time(watermark) and _sortable(watermark) > _latest_site_time(started):
            notes.append(f"the stored bookmark {watermark} is in the future; read again from the lookback")
            watermark = None
        if watermark is None:
            after = (started - timedelta(days=self.settings.lookback_days)).isoformat(timespec="seconds")
        else:
            moved = datetime.fromisoformat(watermark) - timedelta(minutes=self.settings.overlap_minutes)
            after = moved.isoformat(timespec="seconds")
        params = {
            "after": after,
            "orderby": "date_gmt",
            "order": "asc",
            "per_page": PAGE_SIZE,
            **self._visibility(),
        }
        newest = watermark or after
        try:
            for page in pages(self.http, COMMENTS, params, PAGING, max_pages=MAX_PAGES):
                if not isinstance(page.body, list):
                    raise FatalError(f"{describe(page.response)} returned no list of comments")
                batch = self._batch(page.body, started)
                newest = max([newest, *_local_dates(page.body, started)], key=_sortable)
                if batch.comments or batch.skipped:
                    yield batch
        except PastLastPageError:
            pass
        if not self.settings.own_posts:
            yield Batch(comments=[], bookmark={"date": newest}, notes=notes)
            return
        posts_mark = str(bookmark.get("posts_modified")) if bookmark and bookmark.get("posts_modified") else None
        posts, posts_newest = yield from self._own_posts(posts_mark)
        yield Batch(comments=[], bookmark={"date": newest, "posts_modified": posts_newest}, posts=posts, notes=notes)

    def _own_posts(self, watermark: str | None) -> Generator[Batch, None, tuple[list[OwnPost], str]]:
        """Yield the posts' unreadable records; return the posts modified after ``watermark`` and the new one."""
        params = {
            "modified_after": self._modified_after(watermark),
            "orderby": "modified",
            "order": "asc",
            "per_page": PAGE_SIZE,
            "_fields": POST_FIELDS,
        }
        newest = watermark or params["modified_after"]
        found: list[OwnPost] = []
        try:
            for page in pages(self.http, POSTS, params, PAGING, max_pages=MAX_PAGES):
                if not isinstance(page.body, list):
                    raise FatalError(f"{describe(page.response)} returned no list of posts")
                skipped: list[str] = []
                for record in page.body:
                    try:
                        found.append(own_post_from_record(record))
                    except (KeyError, TypeError, ValueError) as exc:
                        ident = record.get("id") if isinstance(record, Mapping) else None
                        skipped.append(f"post {ident or '?'}: {exc}")
                if skipped:
                    yield Batch(comments=[], skipped=skipped)
                times = [r.get("modified") for r in page.body if isinstance(r, Mapping)]
                modified = [str(time) for time in times if _is_time(time)]
                newest = max([newest, *modified], key=_sortable)
        except PastLastPageError:
            pass
        return found, newest

    def _modified_after(self, watermark: str | None) -> str:
        if watermark is None:
            return (self.now() - timedelta(days=self.settings.lookback_days)).isoformat(timespec="seconds")
        moved = datetime.fromisoformat(watermark) - timedelta(minutes=self.settings.overlap_minutes)
        return moved.isoformat(timespec="seconds")

    def _batch(self, records: list[Any], started: datetime) -> Batch:
        batch = Batch(comments=[])
        owners = frozenset(self.settings.owner_user_ids)
        for record in records:
            try:
                comment = comment_from_record(record, owners)
            except (KeyError, TypeError, ValueError) as exc:
                ident = record.get("id") if isinstance(record, Mapping) else None
                batch.skipped.append(f"comment {ident or '?'}: {exc}")
                continue
            batch.comments.append(comment)
            if later_than_start(comment.created_at, started):
                batch.notes.append(future_note(f"comment {comment.external_id}", comment.created_at))
        return batch

    recheck_batch: ClassVar[int] = PAGE_SIZE

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """``?include=`` 100 ids a request. Signed in, a comment left out was deleted (trash and spam are
        listed with their status); without credentials, held comments are left out too, so one missing
        is only known to be no longer public (hidden)."""
        missing: RecheckState = "deleted" if self._signed_in else "hidden"
        states: dict[str, RecheckState] = {}
        numeric = [comment_id for comment_id in external_ids if comment_id.isdigit()]
        for chunk in chunks(numeric, self.recheck_batch):
            params = {"include": ",".join(chunk), "per_page": PAGE_SIZE}
            if self._signed_in:
                params["status"] = "any"  # every status, trash and spam included
            body = self.http.get_json(COMMENTS, params)
            records = body if isinstance(body, list) else []
            found = {str(r.get("id")): r.get("status") for r in records if isinstance(r, Mapping)}
            for comment_id in chunk:
                if comment_id not in found:
                    states[comment_id] = missing
                elif found[comment_id] == "trash":
                    states[comment_id] = "deleted"
                else:
                    states[comment_id] = "hidden" if found[comment_id] in HIDDEN_STATUSES else "present"
        return states

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        return classify_wordpress_error(response)


def classify_wordpress_error(response: requests.Response) -> ConnectorError | None:
    """WordPress errors are ``{code, message, data: {status}}``."""
    status = response.status_code
    if status < 400:
        return None
    code = _error_code(response)
    where = describe(response)
    detail = f" {code}" if code else ""
    if code in PAST_LAST_PAGE:
        return PastLastPageError(f"{where}: past the last page")
    if status in (401, 403):
        return AuthError(f"{where} was refused ({status}){detail}")
    if status in (408, 429) or status >= 500:
        return RetryableError(f"{where} failed ({status}){detail}", retry_after_seconds(response))
    return FatalError(f"{where} failed ({status}){detail}")


def comment_from_record(record: Any, owner_user_ids: frozenset[int] = frozenset()) -> Comment:
    """One WordPress comment as a Comment. ``date_gmt`` is UTC written without a zone."""
    if not isinstance(record, Mapping):
        raise TypeError("comment is not an object")
    comment_id = record.get("id")
    if not isinstance(comment_id, int):
        raise KeyError("comment has no id")
    created = record.get("date_gmt") or None
    if created is None:
        raise KeyError(f"comment {comment_id} has no date_gmt")
    author = record.get("author")
    author_id = author if isinstance(author, int) and author > 0 else None
    parent = record.get("parent")
    link = record.get("link")
    status = record.get("status")
    return Comment(
        external_id=str(comment_id),
        text=html_to_text(_unwrap(str(dig(record, "content", "rendered") or ""))),
        created_at=parse_time(created),
        post_id=str(record["post"]) if record.get("post") else None,
        post_url=post_address(str(link)) if link else None,
        parent_id=str(parent) if isinstance(parent, int) and parent > 0 else None,
        author_id=str(author_id) if author_id is not None else None,
        author_name=str(record.get("author_name") or "").strip() or None,
        permalink=str(link) if link else None,
        by_owner=author_id is not None and author_id in owner_user_ids,
        hidden=status in HIDDEN_STATUSES,
    )


def own_post_from_record(record: Any) -> OwnPost:
    """One of the site's posts: title and text, and the alt text and captions of its images."""
    if not isinstance(record, Mapping):
        raise TypeError("post is not an object")
    post_id = record.get("id")
    if not isinstance(post_id, int):
        raise KeyError("post has no id")
    created = record.get("date_gmt") or None
    if created is None:
        raise KeyError(f"post {post_id} has no date_gmt")
    title = html_to_text(_unwrap(str(dig(record, "title", "rendered") or "")))
    markup = str(dig(record, "content", "rendered") or "")
    body = html_to_text(_unwrap(markup))
    alt_text = [html.unescape(double or single).strip() for double, single in _ALT.findall(markup)]
    captions = [html_to_text(_unwrap(caption)) for caption in _CAPTION.findall(markup)]
    created_at = parse_time(created)
    modified = record.get("modified_gmt")
    modified_at = parse_time(modified) if modified else None
    return OwnPost(
        external_id=str(post_id),
        text="\n\n".join(part for part in (title, body) if part),
        created_at=created_at,
        url=str(record["link"]) if record.get("link") else None,
        title=title or None,
        edited_at=modified_at if modified_at is not None and modified_at > created_at else None,
        media_text=tuple(dict.fromkeys(text for text in (*alt_text, *captions) if text)),
    )
_COMMENT_PAGE = re.compile(r"comment-page-\d+/?$")


def post_address(comment_link: str) -> str:
    """The post's address from a comment's link: without ``#comment-N`` and, on a site that pages its
    comments, without the ``comment-page-N/`` part (``…/post-name/comment-page-2/#comment-9``) or,
    without pretty permalinks, the ``cpage=N`` parameter."""
    address = comment_link.split("#", 1)[0]
    path, _, query = address.partition("?")
    kept = "&".join(part for part in query.split("&") if part and not part.startswith("cpage="))
    return _COMMENT_PAGE.sub("", path) + (f"?{kept}" if kept else "")


def _unwrap(markup: str) -> str:
    """Line breaks in WordPress's rendered HTML are layout only; the tags carry the breaks."""
    return _SOURCE_BREAK.sub(" ", markup)


def _local_dates(records: list[Any], started: datetime) -> list[str]:
    """The site-time dates the watermark may move to: those of comments made before the poll began."""
    return [
        str(r["date"])
        for r in records
        if isinstance(r, Mapping) and _is_time(r.get("date")) and not _after(r.get("date_gmt"), started)
    ]


def _after(date_gmt: Any, started: datetime) -> bool:
    """True when a comment's UTC time is unreadable or after the poll began."""
    moment = time_or_none(date_gmt)
    return moment is None or later_than_start(moment, started)


def _latest_site_time(started: datetime) -> datetime:
    """The latest a site clock can read when ours reads ``started``: no time zone is more than 14 hours ahead."""
    return (started + timedelta(hours=14)).replace(tzinfo=None)


def _is_time(value: Any) -> bool:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _sortable(value: str) -> datetime:
    """Site-local times (no zone) compare as written; the first poll's cutoff drops its zone to match."""
    return datetime.fromisoformat(value).replace(tzinfo=None)


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code") or "") if isinstance(body, Mapping) else ""
