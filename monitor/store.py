"""Reading and writing the database. Every write that must be atomic is one method here."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import delete, event, insert, or_, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel, col, create_engine, select

from connectors.base import Batch, encodable
from connectors.base import Comment as FetchedComment
from monitor import lifecycle
from monitor.models import (
    Account,
    Bookmark,
    Comment,
    Flag,
    FlagEvent,
    JobStatus,
    Lease,
    NotificationLog,
    Post,
    Verdict,
)

IN_CHUNK = 500
HEALTH_PROBE = "health-probe"
REPLACEMENT = "\ufffd"
COMMENT_TEXT_FIELDS = (
    "external_id",
    "text",
    "post_id",
    "post_url",
    "post_title",
    "parent_id",
    "author_id",
    "author_name",
    "permalink",
)


class VerdictLike(Protocol):
    flagged: bool
    severity: str | None
    categories: list[str]
    sentiment: dict[str, float]

    @property
    def reasons(self) -> Sequence[Any]: ...


class PendingComment(NamedTuple):
    """What the filter needs of a stored comment."""

    id: int
    account_id: int
    platform: str
    text: str | None
    author_id: str | None
    author_name: str | None
    parent_external_id: str | None
    by_owner: bool


@dataclass(frozen=True, slots=True)
class SaveResult:
    new: int
    edited: int
    unchanged: int


def describe_error(exc: BaseException) -> str:
    """A database error in one line, without its SQL or parameters; anything else as type and message."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        reason = str(exc.orig).strip().splitlines()
        return f"database error: {type(exc.orig).__name__}: {reason[0] if reason else 'no reason given'}"
    return f"{type(exc).__name__}: {exc}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Parameters carry comment text: an error message must never show them.
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # PostgreSQL refuses NUL in text (SQLite keeps it, and so keeps a comment exactly as written).
        self.refuses_nul = self.engine.dialect.name == "postgresql"

    def create_schema(self) -> None:
        """Bring the database to the current schema (migrations; a new database is created)."""
        from monitor.migrate import upgrade

        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # Accounts and bookmarks

    def ensure_account(self, name: str, platform: str) -> Account:
        with self.session() as session:
            account = session.exec(select(Account).where(Account.name == name)).first()
            if account is None:
                account = Account(name=name, platform=platform)
                session.add(account)
                session.commit()
                session.refresh(account)
            elif account.platform != platform:
                account.platform = platform
                session.add(account)
                session.commit()
            return account

    def account(self, name: str) -> Account | None:
        with self.session() as session:
            return session.exec(select(Account).where(Account.name == name)).first()

    def accounts(self) -> list[Account]:
        with self.session() as session:
            return list(session.exec(select(Account).order_by(Account.name)))

    def update_account(self, account_id: int, **changes: Any) -> Account:
        with self.session() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise KeyError(account_id)
            for key, value in changes.items():
                setattr(account, key, value)
            session.add(account)
            session.commit()
            return account

    def reset_auth_failure(self, name: str) -> None:
        """Give an account that failed authentication another try (after a restart or a passing check)."""
        with self.session() as session:
            account = session.exec(select(Account).where(Account.name == name)).first()
            if account is not None and account.status == "auth_failed":
                account.status = "failing"
                session.add(account)
                session.commit()

    def probe_write(self, now: datetime) -> None:
        """Write and commit one small row; raises when the database cannot be written (a full disk)."""
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(JobStatus).where(col(JobStatus.name) == HEALTH_PROBE).values(last_run_at=now)
            ).rowcount
            if not taken:
                connection.execute(insert(JobStatus).values(name=HEALTH_PROBE, last_run_at=now))

    def disk_space(self) -> tuple[int, int] | None:
        """(free, total) bytes of the file system that holds a SQLite database; None for a server database."""
        if not self.url.startswith("sqlite:///") or ":memory:" in self.url:
            return None
        try:
            usage = shutil.disk_usage(Path(self.url.removeprefix("sqlite:///")).parent)
        except OSError:
            return None
        return usage.free, usage.total

    def bookmark(self, account_id: int) -> dict[str, Any] | None:
        with self.session() as session:
            row = session.get(Bookmark, account_id)
            return dict(row.value) if row is not None and row.value is not None else None

    # Leases: which instance polls an account or sends notifications

    def acquire_lease(self, name: str, owner: str, ttl: timedelta, now: datetime) -> bool:
        """Take or renew ``name`` for ``owner`` unless another owner holds it unexpired.

        One conditional UPDATE, which both SQLite and PostgreSQL apply atomically,
        so two instances can never both succeed.
        """
        expires = now + ttl
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(Lease)
                .where(
                    col(Lease.name) == name,
                    or_(col(Lease.owner) == owner, col(Lease.expires_at) < now),
                )
                .values(owner=owner, expires_at=expires)
            ).rowcount
        if taken:
            return True
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(Lease).values(name=name, owner=owner, expires_at=expires))
        except IntegrityError:
            return False  # someone else holds it
        return True

    def release_lease(self, name: str, owner: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(Lease).where(col(Lease.name) == name, col(Lease.owner) == owner))

    def release_leases_of(self, owner: str) -> list[str]:
        """Free every lease ``owner`` holds (an instance known to have stopped); returns their names."""
        with self.engine.begin() as connection:
            names = [name for (name,) in connection.execute(select(Lease.name).where(col(Lease.owner) == owner))]
            connection.execute(delete(Lease).where(col(Lease.owner) == owner))
        return sorted(names)

    def lease_holders(self, now: datetime) -> dict[str, str]:
        """Unexpired leases: name → owner."""
        with self.session() as session:
            leases = session.exec(select(Lease).where(col(Lease.expires_at) >= now))
            return {lease.name: lease.owner for lease in leases}

    # Comments

    def save_batch(self, account_id: int, platform: str, batch: Batch, now: datetime) -> SaveResult:
        """Upsert the batch's comments and posts, and move the bookmark, in one transaction."""
        storable = [_storable_comment(comment, self.refuses_nul) for comment in batch.comments]
        incoming = {comment.external_id: comment for comment in storable}
        edited = 0
        with self.session() as session:
            posts = self._upsert_posts(session, account_id, incoming.values())
            existing = self._existing_comments(session, account_id, list(incoming))
            new_rows = []
            for external_id, fetched in incoming.items():
                row = existing.get(external_id)
                if row is None:
                    post_id = posts.get(fetched.post_id) if fetched.post_id else None
                    new_rows.append(_new_comment_values(account_id, platform, fetched, post_id, now))
                elif _apply_changes(row, fetched, now):
                    session.add(row)
                    edited += 1
            if new_rows:  # one executemany: ORM objects cost more than the insert itself
                session.connection().execute(insert(Comment.__table__), new_rows)  # type: ignore[arg-type]
            new = len(new_rows)
            if batch.posts:
                from monitor.ownposts_store import save_own_posts

                save_own_posts(session, account_id, platform, batch.posts, now, refuses_nul=self.refuses_nul)
            if batch.bookmark is not None:
                self._set_bookmark(session, account_id, _storable(batch.bookmark, self.refuses_nul), now)
            session.commit()
        return SaveResult(new=new, edited=edited, unchanged=len(incoming) - new - edited)

    def _upsert_posts(
        self, session: Session, account_id: int, comments: Iterable[FetchedComment]
    ) -> dict[str, int]:
        wanted: dict[str, FetchedComment] = {}
        for comment in comments:
            if comment.post_id and comment.post_id not in wanted:
                wanted[comment.post_id] = comment
        ids: dict[str, int] = {}
        for chunk in _chunks(list(wanted), IN_CHUNK):
            query = select(Post).where(Post.account_id == account_id, col(Post.external_id).in_(chunk))
            for post in session.exec(query):
                ids[post.external_id] = post.id  # type: ignore[assignment]
                source = wanted[post.external_id]
                if (source.post_url and source.post_url != post.url) or (
                    source.post_title and source.post_title != post.title
                ):
                    post.url = source.post_url or post.url
                    post.title = source.post_title or post.title
                    session.add(post)
        for external_id, source in wanted.items():
            if external_id not in ids:
                post = Post(
                    account_id=account_id,
                    external_id=external_id,
                    url=source.post_url,
                    title=source.post_title,
                )
                session.add(post)
                session.flush()
                ids[external_id] = post.id  # type: ignore[assignment]
        return ids

    @staticmethod
    def _existing_comments(session: Session, account_id: int, external_ids: list[str]) -> dict[str, Comment]:
        found: dict[str, Comment] = {}
        for chunk in _chunks(external_ids, IN_CHUNK):
            query = select(Comment).where(Comment.account_id == account_id, col(Comment.external_id).in_(chunk))
            for row in session.exec(query):
                found[row.external_id] = row
        return found

    @staticmethod
    def _set_bookmark(session: Session, account_id: int, value: dict[str, Any], now: datetime) -> None:
        row = session.get(Bookmark, account_id)
        if row is None:
            row = Bookmark(account_id=account_id)
        row.value = value
        row.updated_at = now
        session.add(row)

    def comments_to_classify(
        self, limit: int = 500, account_id: int | None = None, after_id: int = 0
    ) -> list[PendingComment]:
        """Comments waiting for the filter, in id order, from after ``after_id`` (a cursor for the caller)."""
        query = select(*(getattr(Comment, name) for name in PendingComment._fields)).where(
            col(Comment.classified_at).is_(None), col(Comment.id) > after_id, Comment.kind == "comment"
        )
        if account_id is not None:
            query = query.where(Comment.account_id == account_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(col(Comment.id)).limit(limit))
            return [PendingComment(*row) for row in rows]

    def authors_of(self, keys: set[tuple[int, str]]) -> dict[tuple[int, str], str | None]:
        """The author id of each stored comment named by (account id, external id)."""
        by_account: dict[int, list[str]] = {}
        for account_id, external_id in keys:
            by_account.setdefault(account_id, []).append(external_id)
        found: dict[tuple[int, str], str | None] = {}
        with self.engine.connect() as connection:
            for account_id, external_ids in by_account.items():
                for chunk in _chunks(external_ids, IN_CHUNK):
                    query = select(Comment.external_id, Comment.author_id).where(
                        Comment.account_id == account_id, col(Comment.external_id).in_(chunk)
                    )
                    found.update(
                        {(account_id, external_id): author for external_id, author in connection.execute(query)}
                    )
        return found

    def iter_comments(self, batch_size: int = 1000) -> Iterator[Comment]:
        """Every stored comment, in id order, a page at a time."""
        last_id = 0
        while True:
            with self.session() as session:
                query = select(Comment).where(col(Comment.id) > last_id).order_by(Comment.id).limit(batch_size)
                rows = list(session.exec(query))
            if not rows:
                return
            yield from rows
            last_id = rows[-1].id  # type: ignore[assignment]

    def comment(self, comment_id: int) -> Comment | None:
        with self.session() as session:
            return session.get(Comment, comment_id)

    def count(self, model: type[SQLModel]) -> int:
        from sqlalchemy import func

        with self.session() as session:
            return int(session.exec(select(func.count()).select_from(model)).one())

    # Verdicts and flags

    def save_verdict(self, comment_id: int, verdict: VerdictLike, now: datetime) -> Flag | None:
        """Store one verdict and open, update or close the comment's flag. Returns the open flag."""
        return self.save_verdicts([(comment_id, verdict)], now)[0]

    def save_verdicts(self, verdicts: Sequence[tuple[int, VerdictLike]], now: datetime) -> list[Flag | None]:
        """Store verdicts in one transaction; for each, the comment's open flag or None.

        New verdicts and flags go in with one executemany each and the comments
        are marked classified with one UPDATE. A comment that already had a
        verdict was edited: its flag changes as monitor.lifecycle says, with
        its event, in the same transaction.
        """
        ids = [comment_id for comment_id, _ in verdicts]
        with self.session() as session:
            rows = _by_key(session, Verdict, Verdict.comment_id, ids)
            flags = _by_key(session, Flag, Flag.comment_id, ids)
            closers = self._closing_actions(session, [flag.id for flag in flags.values() if flag.status != "open"])
            new_verdicts: list[dict[str, Any]] = []
            new_flags: list[dict[str, Any]] = []
            changes: list[lifecycle.Change] = []
            for comment_id, verdict in verdicts:
                values = _verdict_values(comment_id, verdict, now)
                row = rows.get(comment_id)
                if row is None:
                    new_verdicts.append(values)
                else:
                    for key, value in values.items():
                        setattr(row, key, value)
                    session.add(row)
                flag = flags.get(comment_id)
                if flag is None and verdict.flagged and verdict.severity is not None:
                    new_flags.append(lifecycle.opened(comment_id, verdict, now))
                elif flag is not None and (change := lifecycle.reclassified(flag, verdict, closers.get(flag.id), now)):
                    changes.append(change)
            session.flush()
            connection = session.connection()
            if new_verdicts:
                connection.execute(insert(Verdict.__table__), new_verdicts)  # type: ignore[arg-type]
            if new_flags:
                connection.execute(insert(Flag.__table__), new_flags)  # type: ignore[arg-type]
                opened = _by_key(session, Flag, Flag.comment_id, [values["comment_id"] for values in new_flags])
                flags.update(opened)
                events = [lifecycle.opened_event(flag.id, flag.severity, now) for flag in opened.values()]
                connection.execute(insert(FlagEvent.__table__), events)  # type: ignore[arg-type]
            _apply_changes_to_flags(connection, changes)
            for chunk in _chunks(ids, IN_CHUNK):
                connection.execute(update(Comment).where(col(Comment.id).in_(chunk)).values(classified_at=now))
            session.commit()
            if changes:
                session.expire_all()
                flags.update(_by_key(session, Flag, Flag.comment_id, ids))
            return [
                flag if (flag := flags.get(comment_id)) is not None and flag.status == "open" else None
                for comment_id in ids
            ]

    @staticmethod
    def _closing_actions(session: Session, flag_ids: list[int | None]) -> dict[int, str]:
        """The action of each flag's latest event (for a closed flag: what closed it)."""
        latest: dict[int, tuple[int, str]] = {}
        wanted = [flag_id for flag_id in flag_ids if flag_id is not None]
        for chunk in _chunks(wanted, IN_CHUNK):
            query = select(FlagEvent.flag_id, FlagEvent.id, FlagEvent.action).where(col(FlagEvent.flag_id).in_(chunk))
            for flag_id, event_id, action in session.exec(query):
                if flag_id not in latest or event_id > latest[flag_id][0]:
                    latest[flag_id] = (event_id, action)
        return {flag_id: action for flag_id, (_, action) in latest.items()}

    def apply_flag_changes(self, changes: Sequence[lifecycle.Change]) -> list[lifecycle.Change]:
        """Apply lifecycle changes in one transaction; returns those that applied (the others lost a race)."""
        with self.engine.begin() as connection:
            return _apply_changes_to_flags(connection, changes)

    def close_flag(self, flag_id: int, *, status: str, note: str, actor: str, now: datetime) -> Flag:
        """A person resolves or dismisses an open flag. Exactly one of two racing closes wins."""
        change = lifecycle.closed_by_hand(flag_id, status, note, actor, now)
        with self.session() as session:
            flag = session.get(Flag, flag_id)
            if flag is None:
                raise lifecycle.FlagStateError(f"there is no flag {flag_id}")
            if not _apply_changes_to_flags(session.connection(), [change]):
                session.rollback()
                session.expire_all()
                current = session.get(Flag, flag_id)
                raise lifecycle.FlagStateError(f"flag {flag_id} is already {current.status if current else 'gone'}")
            session.commit()
            session.expire_all()
            closed = session.get(Flag, flag_id)
            assert closed is not None
            return closed

    def apply_flag_change_with_hidden(self, change: lifecycle.Change, comment_id: int, hidden: bool) -> bool:
        """A flag change that follows hiding or unhiding its comment on the platform, in one transaction.

        The comment's ``hidden`` is set even when the change lost a race: the platform call was made.
        """
        with self.engine.begin() as connection:
            connection.execute(update(Comment).where(col(Comment.id) == comment_id).values(hidden=hidden))
            return bool(_apply_changes_to_flags(connection, [change]))

    def latest_flag_actions(self, flag_ids: Sequence[int]) -> dict[int, str]:
        """The action of each flag's latest event."""
        with self.session() as session:
            return self._closing_actions(session, list(flag_ids))

    def flags_with_action(self, flag_ids: Sequence[int], action: str) -> set[int]:
        """Those of these flags that have an event of this action."""
        found: set[int] = set()
        with self.session() as session:
            for chunk in _chunks(list(flag_ids), IN_CHUNK):
                query = select(FlagEvent.flag_id).where(col(FlagEvent.flag_id).in_(chunk), FlagEvent.action == action)
                found.update(session.exec(query))
        return found

    def open_flags_by_account(self) -> dict[int, list[tuple[Flag, Comment]]]:
        """Every open flag with its comment, grouped by the comment's account id."""
        grouped: dict[int, list[tuple[Flag, Comment]]] = {}
        with self.session() as session:
            query = select(Flag, Comment).join(Comment, col(Comment.id) == Flag.comment_id).where(Flag.status == "open")
            for flag, comment in session.exec(query):
                grouped.setdefault(comment.account_id, []).append((flag, comment))
        return grouped

    def mark_hidden(self, account_id: int, external_ids: Sequence[str]) -> None:
        """Record comments found hidden on the platform when open flags were re-checked."""
        with self.engine.begin() as connection:
            for chunk in _chunks(list(external_ids), IN_CHUNK):
                connection.execute(
                    update(Comment)
                    .where(col(Comment.account_id) == account_id, col(Comment.external_id).in_(chunk))
                    .values(hidden=True)
                )

    def open_flags_with_owner_replies(self) -> list[tuple[Flag, Comment, Comment | None]]:
        """Every open flag, its comment, and the organisation's earliest reply to it on the same account."""
        with self.session() as session:
            open_flags = list(
                session.exec(
                    select(Flag, Comment).join(Comment, col(Comment.id) == Flag.comment_id).where(Flag.status == "open")
                )
            )
            replies = _owner_replies(session, [comment for _, comment in open_flags])
            return [
                (flag, comment, replies.get((comment.account_id, comment.external_id))) for flag, comment in open_flags
            ]

    def flag_history(self, flag_id: int) -> tuple[Flag, list[FlagEvent], list[NotificationLog]] | None:
        with self.session() as session:
            flag = session.get(Flag, flag_id)
            if flag is None:
                return None
            events = session.exec(select(FlagEvent).where(FlagEvent.flag_id == flag_id).order_by(col(FlagEvent.id)))
            sent = session.exec(
                select(NotificationLog).where(NotificationLog.flag_id == flag_id).order_by(col(NotificationLog.id))
            )
            return flag, list(events), list(sent)

    def verdict(self, comment_id: int) -> Verdict | None:
        with self.session() as session:
            return session.exec(select(Verdict).where(Verdict.comment_id == comment_id)).first()

    def flags(self, status: str | None = None) -> list[Flag]:
        with self.session() as session:
            query = select(Flag).order_by(Flag.id)
            if status is not None:
                query = query.where(Flag.status == status)
            return list(session.exec(query))


def storable_text(value: str, refuses_nul: bool) -> str:
    """Text the database accepts: no lone surrogates (UTF-8 has none), and U+FFFD for NUL where it is refused."""
    if refuses_nul and "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    return value if value.isascii() else encodable(value)


def _storable_comment(comment: FetchedComment, refuses_nul: bool) -> FetchedComment:
    changes = {
        name: cleaned
        for name in COMMENT_TEXT_FIELDS
        if isinstance(value := getattr(comment, name), str) and (cleaned := storable_text(value, refuses_nul)) != value
    }
    return replace(comment, **changes) if changes else comment


def _storable(value: Any, refuses_nul: bool) -> Any:
    if isinstance(value, str):
        return storable_text(value, refuses_nul)
    if isinstance(value, dict):
        return {_storable(key, refuses_nul): _storable(item, refuses_nul) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item, refuses_nul) for item in value]
    return value


def _new_comment_values(
    account_id: int, platform: str, fetched: FetchedComment, post_id: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "platform": platform,
        "external_id": fetched.external_id,
        "post_id": post_id,
        "parent_external_id": fetched.parent_id,
        "author_id": fetched.author_id,
        "author_name": fetched.author_name,
        "text": fetched.text,
        "permalink": fetched.permalink,
        "by_owner": fetched.by_owner,
        "hidden": fetched.hidden,
        "created_at": fetched.created_at,
        "edited_at": fetched.edited_at,
        "first_seen_at": now,
        "updated_at": now,
        "classified_at": None,
    }


def _apply_changes(row: Comment, fetched: FetchedComment, now: datetime) -> bool:
    """Bring a stored comment up to date. True when anything changed."""
    changed = False
    if fetched.text != row.text and row.text is not None:
        row.text = fetched.text
        row.edited_at = fetched.edited_at or now
        row.classified_at = None
        changed = True
    elif fetched.edited_at is not None and fetched.edited_at != row.edited_at and row.text is not None:
        row.edited_at = fetched.edited_at
        changed = True
    if fetched.hidden != row.hidden:
        row.hidden = fetched.hidden
        changed = True
    for field in ("author_name", "permalink"):
        if field == "author_name" and row.text is None:
            continue  # purged by the retention setting: keep it purged
        value = getattr(fetched, field)
        if value and value != getattr(row, field):
            setattr(row, field, value)
            changed = True
    if changed:
        row.updated_at = now
    return changed


def _verdict_values(comment_id: int, verdict: VerdictLike, now: datetime) -> dict[str, Any]:
    return {
        "comment_id": comment_id,
        "flagged": verdict.flagged,
        "severity": verdict.severity,
        "categories": list(verdict.categories),
        "reasons": [reason.to_dict() for reason in verdict.reasons],
        "sentiment": dict(verdict.sentiment),
        "classified_at": now,
    }


def _apply_changes_to_flags(connection: Connection, changes: Sequence[lifecycle.Change]) -> list[lifecycle.Change]:
    """Each change as a conditional UPDATE; its event is written only when the UPDATE took."""
    applied = []
    for change in changes:
        taken = connection.execute(
            update(Flag)
            .where(col(Flag.id) == change.flag_id, col(Flag.status) == change.expected_status)
            .values(**change.values)
        ).rowcount
        if taken:
            applied.append(change)
    if applied:
        connection.execute(insert(FlagEvent.__table__), [change.event for change in applied])  # type: ignore[arg-type]
    return applied


def _owner_replies(session: Session, comments: list[Comment]) -> dict[tuple[int, str], Comment]:
    """The organisation's earliest reply to each of these comments, on the comment's own account."""
    earliest: dict[tuple[int, str], Comment] = {}
    by_account: dict[int, list[str]] = {}
    for comment in comments:
        if not comment.hidden:
            by_account.setdefault(comment.account_id, []).append(comment.external_id)
    for account_id, external_ids in by_account.items():
        for chunk in _chunks(external_ids, IN_CHUNK):
            query = select(Comment).where(
                Comment.account_id == account_id,
                col(Comment.by_owner).is_(True),
                col(Comment.parent_external_id).in_(chunk),
            )
            for reply in session.exec(query):
                key = (account_id, reply.parent_external_id or "")
                known = earliest.get(key)
                if known is None or _written(reply) < _written(known):
                    earliest[key] = reply
    return earliest


def _written(comment: Comment) -> datetime:
    return comment.created_at or datetime.min.replace(tzinfo=UTC)


def _by_key(session: Session, model: type[Any], column: Any, keys: list[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for chunk in _chunks(keys, IN_CHUNK):
        for row in session.exec(select(model).where(col(column).in_(chunk))):
            found[getattr(row, column.key)] = row
    return found


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
