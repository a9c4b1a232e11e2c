"""The organisation's own posts in the database: stored beside the comments as rows of kind ``post``.

An own post is a comment row so that its flag is a flag like any other: the
same triage, notification log, review page and audit trail. Its external id
is ``post:`` and the platform's post id, which no comment id can take.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from connectors.base import OwnPost
from monitor.models import Account, Comment, ConsentState, Post
from monitor.ownposts import PostToCheck
from monitor.store import Store, storable_text

POST = "post"
ID_PREFIX = "post:"
REGISTER = "register"


def row_id(post: OwnPost) -> str:
    return ID_PREFIX + post.external_id


def save_own_posts(
    session: Session, account_id: int, platform: str, posts: Sequence[OwnPost], now: datetime, *, refuses_nul: bool
) -> int:
    """Upsert the posts (and their Post rows) in the caller's transaction; the number new or changed."""
    changed = 0
    for post in posts:
        text = storable_text(post.text, refuses_nul)
        tagged = [storable_text(tag, refuses_nul) for tag in post.tagged] or None
        media = [storable_text(caption, refuses_nul) for caption in post.media_text] or None
        post_row = session.exec(
            select(Post).where(Post.account_id == account_id, Post.external_id == post.external_id)
        ).first()
        if post_row is None:
            post_row = Post(account_id=account_id, external_id=post.external_id)
        post_row.url = post.url or post_row.url
        post_row.title = storable_text(post.title, refuses_nul) if post.title else post_row.title
        session.add(post_row)
        session.flush()
        row = session.exec(
            select(Comment).where(Comment.account_id == account_id, Comment.external_id == row_id(post))
        ).first()
        if row is None:
            session.connection().execute(
                insert(Comment.__table__),  # type: ignore[arg-type]
                [
                    {
                        "account_id": account_id,
                        "platform": platform,
                        "external_id": row_id(post),
                        "kind": POST,
                        "post_id": post_row.id,
                        "text": text,
                        "tagged": tagged,
                        "media_text": media,
                        "permalink": post.url,
                        "by_owner": True,
                        "created_at": post.created_at,
                        "edited_at": post.edited_at,
                        "first_seen_at": now,
                        "updated_at": now,
                        "classified_at": None,
                    }
                ],
            )
            changed += 1
        elif row.text is not None and (row.text, row.tagged, row.media_text) != (text, tagged, media):
            row.text, row.tagged, row.media_text = text, tagged, media
            row.edited_at = post.edited_at or now
            row.updated_at = now
            row.classified_at = None
            session.add(row)
            changed += 1
    return changed


def posts_to_check(store: Store, account_id: int | None = None, limit: int = 200) -> list[PostToCheck]:
    """Own posts not yet checked against the current register, oldest first."""
    query = (
        select(Comment, Account.name)
        .join(Account, col(Account.id) == Comment.account_id)
        .where(Comment.kind == POST, col(Comment.classified_at).is_(None), col(Comment.text).is_not(None))
        .order_by(col(Comment.id))
        .limit(limit)
    )
    if account_id is not None:
        query = query.where(Comment.account_id == account_id)
    with store.session() as session:
        return [
            PostToCheck(
                id=row.id,  # type: ignore[arg-type]
                account=account,
                platform=row.platform,
                text=row.text or "",
                tagged=tuple(row.tagged or ()),
                media_text=tuple(row.media_text or ()),
            )
            for row, account in session.exec(query)
        ]


def recheck_if_register_changed(store: Store, fingerprint: str, now: datetime) -> int | None:
    """When the register allows something other than at the last check, queue every own post again.

    Returns how many posts were queued, or None when the register is unchanged.
    """
    with store.session() as session:
        state = session.get(ConsentState, REGISTER)
        if state is not None and state.fingerprint == fingerprint:
            return None
        queued = session.exec(
            select(func.count()).select_from(Comment).where(Comment.kind == POST, col(Comment.text).is_not(None))
        ).one()
        session.connection().execute(update(Comment).where(col(Comment.kind) == POST).values(classified_at=None))
        session.merge(ConsentState(name=REGISTER, fingerprint=fingerprint, changed_at=now))
        session.commit()
        return int(queued)
