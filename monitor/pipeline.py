"""One account, end to end: fetch → store (with its bookmark) → classify.

Failures are sorted by kind (connectors.errors) and recorded on the account.
A change of state is logged once, not on every poll.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors import AuthError, Connector, ConnectorError, RetryableError
from connectors.base import DELETED, HIDDEN
from connectors.credentials import CredentialExpiry
from connectors.http import HttpClient, StoppingError
from monitor import lifecycle, metrics
from monitor.config import AccountConfig
from monitor.logging import get_logger
from monitor.models import Account
from monitor.secrets import redact
from monitor.store import PendingComment, Store, describe_error

if TYPE_CHECKING:
    from monitor.filter import Classifier
    from monitor.ownposts import OwnPostChecker


NOTES_REMEMBERED = 10_000
# Open flags' comments are read again on every poll, newest first, in at most this many requests: all of
# them where a request asks about many (50 on Graph and YouTube), the newest few where it asks about one.
RECHECK_REQUESTS_PER_POLL = 4


@dataclass
class PollOutcome:
    account: str
    status: str  # ok | retry | auth_failed | failed | skipped
    fetched: int = 0
    new: int = 0
    edited: int = 0
    unreadable: int = 0
    classified: int = 0
    flagged: Counter[str] = field(default_factory=Counter)
    own_posts_checked: int = 0
    own_posts_rechecked: int = 0  # queued again because the consent register changed
    error: str | None = None
    not_before: datetime | None = None
    rechecked: int = 0  # open flags' comments read again by id
    recheck_requests: int = 0  # the requests that took
    gone: int = 0  # of those, found hidden or deleted


class Pipeline:
    def __init__(
        self,
        store: Store,
        classifier: Classifier,
        connector_for: Callable[[AccountConfig], Connector],
        now: Callable[[], datetime],
        stop: threading.Event | None = None,
        *,
        own_posts: OwnPostChecker | None = None,
    ) -> None:
        self.own_posts = own_posts
        self.store = store
        self.classifier = classifier
        self.connector_for = connector_for
        self.now = now
        self.stop = stop or threading.Event()
        self._credential_expiry: dict[str, CredentialExpiry | None] = {}
        self._warned: set[str] = set()
        # Notes already logged: a comment dated in the future is read again on every poll, but said once.
        self.noted: set[str] = set()

    def poll(self, account: AccountConfig) -> PollOutcome:
        row = self.store.ensure_account(account.name, account.platform)
        assert row.id is not None
        log = get_logger(account=account.name, platform=account.platform)
        outcome = PollOutcome(account=account.name, status="ok")
        now = self.now()
        if row.status == "auth_failed":
            outcome.status, outcome.error = "skipped", "authentication failed earlier; run `monitor check`"
            return outcome
        if row.not_before is not None and now < row.not_before:
            outcome.status, outcome.not_before = "skipped", row.not_before
            return outcome
        self.store.update_account(row.id, last_attempt_at=now)
        connector: Connector | None = None
        try:
            connector = self.connector_for(account)
            if isinstance(connector.http, HttpClient):
                connector.http.interrupt = self.stop
            self._fetch_and_store(connector, row, outcome, log)
            if not self.stop.is_set():
                self._recheck_open_flags(connector, row, outcome, log)
        except StoppingError as exc:
            outcome.status, outcome.error = "skipped", str(exc)
            log.info("poll abandoned: the service is stopping")
            return outcome
        except ConnectorError as exc:
            self._record_failure(row, exc, outcome, log)
        except Exception as exc:  # a bug or a payload no one foresaw: this account fails, others go on
            self._record_failure(row, exc, outcome, log)
        else:
            self._record_success(row, connector, outcome, log)
        finally:
            self.classify_pending(outcome, account_id=row.id)
            if self.own_posts is not None:
                from monitor.ownposts_run import check_own_posts

                check_own_posts(self.own_posts, self.store, self.now(), outcome, account_id=row.id)
        return outcome

    def _fetch_and_store(self, connector: Connector, row: Account, outcome: PollOutcome, log: Any) -> None:
        assert row.id is not None
        bookmark = self.store.bookmark(row.id)
        for fetched in connector.fetch(bookmark):
            batch = fetched if self.own_posts is not None else replace(fetched, posts=[])  # nothing would check them
            saved = self.store.save_batch(row.id, row.platform, batch, self.now())
            outcome.fetched += len(batch.comments)
            outcome.new += saved.new
            outcome.edited += saved.edited
            outcome.unreadable += len(batch.skipped)
            for reason in batch.skipped:
                log.warning("record skipped", reason=reason)
            for note in batch.notes:
                if note not in self.noted:
                    log.warning("odd record stored", note=note)
                    self._remember(note)
            if self.stop.is_set():
                log.info("stopping after this batch")
                return

    def _remember(self, note: str) -> None:
        if len(self.noted) >= NOTES_REMEMBERED:
            self.noted.clear()
        self.noted.add(note)

    def _recheck_open_flags(self, connector: Connector, row: Account, outcome: PollOutcome, log: Any) -> None:
        """Read every open flag's comment again by id, in batches: hidden ones are marked (their flags
        close in the resolution step), deleted ones close their flags here. A failure only logs."""
        batch_size = connector.recheck_batch
        if not batch_size:
            return
        still_shown = [c for _, c in self.store.open_flags_by_account().get(row.id or 0, []) if not c.hidden]
        still_shown.sort(key=lambda comment: comment.created_at, reverse=True)
        wanted = [comment.external_id for comment in still_shown[: batch_size * RECHECK_REQUESTS_PER_POLL]]
        before = connector.http.requests_made
        states: dict[str, str] = {}
        try:
            for start in range(0, len(wanted), batch_size):
                states.update(connector.recheck(wanted[start : start + batch_size]))
        except ConnectorError as exc:
            log.warning("open flags could not be re-checked", error=redact(str(exc)))
        except Exception as exc:  # the comments were stored: a surprise here must not fail the poll
            log.error("open flags could not be re-checked", error=redact(f"{type(exc).__name__}: {exc}"))
        outcome.rechecked = len(states)
        outcome.recheck_requests = connector.http.requests_made - before
        hidden = [external_id for external_id, state in states.items() if state == HIDDEN]
        deleted = {external_id for external_id, state in states.items() if state == DELETED}
        outcome.gone = len(hidden) + len(deleted)
        if hidden:
            self.store.mark_hidden(row.id or 0, hidden)
        if deleted:
            now = self.now()
            flags = self.store.open_flags_by_account().get(row.id or 0, [])
            closing = [lifecycle.deleted(flag.id, now) for flag, comment in flags if comment.external_id in deleted]
            self.store.apply_flag_changes([change for change in closing if change.flag_id is not None])

    def _record_success(self, row: Account, connector: Connector | None, outcome: PollOutcome, log: Any) -> None:
        assert row.id is not None
        now = self.now()
        cooldown = connector.http.cooldown if connector is not None else None
        not_before = now + timedelta(seconds=cooldown) if cooldown else None
        outcome.not_before = not_before
        if row.status != "ok":
            log.info("account recovered", failing_since=_iso(row.failing_since))
        if not_before is not None:
            log.info("platform asked us to slow down", next_poll_not_before=not_before.isoformat())
        self.store.update_account(
            row.id, status="ok", last_error=None, failing_since=None, last_success_at=now, not_before=not_before
        )
        log.debug("poll finished", fetched=outcome.fetched, new=outcome.new, edited=outcome.edited)
        if connector is not None:
            self._note_credential_expiry(row.name, connector.credential_expiry(), log)

    def _note_credential_expiry(self, account: str, expiry: CredentialExpiry | None, log: Any) -> None:
        """Log when an account's credentials were renewed or come within the warning period, once per change."""
        seen = account in self._credential_expiry
        before = self._credential_expiry.get(account)
        self._credential_expiry[account] = expiry
        if expiry is None:
            return
        fields = {"expires_at": expiry.expires_at.isoformat(), "what": expiry.what}
        if expiry.warning_due(self.now()):
            if account not in self._warned:
                self._warned.add(account)
                log.warning("credentials expire soon and cannot be renewed here; renew them", **fields)
            return
        self._warned.discard(account)
        if seen and before == expiry:
            return
        if before is not None and expiry.expires_at > before.expires_at:
            level = log.debug if expiry.renewed_automatically else log.info
            level("credentials renewed", **fields)
        else:
            log.info("credentials expiry", renewed_automatically=expiry.renewed_automatically, **fields)

    def _record_failure(self, row: Account, exc: Exception, outcome: PollOutcome, log: Any) -> None:
        assert row.id is not None
        now = self.now()
        message = redact(str(exc) if isinstance(exc, ConnectorError) else describe_error(exc))
        outcome.error = message
        changes: dict[str, Any] = {"last_error": message}
        if isinstance(exc, AuthError):
            outcome.status = "auth_failed"
            changes["status"] = "auth_failed"
            log.error("authentication failed; polling stopped for this account until fixed", error=message)
        else:
            outcome.status = "retry" if isinstance(exc, RetryableError) else "failed"
            changes["status"] = "failing"
            if isinstance(exc, RetryableError) and exc.retry_after:
                outcome.not_before = now + timedelta(seconds=exc.retry_after)
                changes["not_before"] = outcome.not_before
            unexpected = not isinstance(exc, ConnectorError)
            if row.status == "ok" or (unexpected and message != row.last_error):
                # A bug or an unforeseen payload carries its traceback, once per new error, not once per poll.
                log.warning("account failing", error=message, kind=outcome.status, exc_info=exc if unexpected else None)
            else:
                log.debug("account still failing", error=message)
        if row.failing_since is None:
            changes["failing_since"] = now
        self.store.update_account(row.id, **changes)

    def classify_pending(self, outcome: PollOutcome | None = None, account_id: int | None = None) -> int:
        """Classify every stored comment that has no verdict for its current text."""
        from monitor.filter import CommentContext
        from monitor.filter.batching import BATCH_SIZE

        done = last_id = 0
        account_names = {account.id: account.name for account in self.store.accounts()}
        while True:
            pending = self.store.comments_to_classify(limit=BATCH_SIZE, account_id=account_id, after_id=last_id)
            if not pending:
                return done
            last_id = pending[-1].id or last_id
            parents = self._parent_authors(pending)
            contexts = []
            for comment in pending:
                assert comment.id is not None
                context = CommentContext(
                    account=account_names.get(comment.account_id),
                    platform=comment.platform,
                    author_id=comment.author_id,
                    author_name=comment.author_name,
                    is_reply=comment.parent_external_id is not None,
                    parent_author_id=parents.get((comment.account_id, comment.parent_external_id or "")),
                    by_owner=comment.by_owner,
                )
                contexts.append(context)
            classified = self.classifier.classify_many([comment.text or "" for comment in pending], contexts)
            verdicts = [(comment.id, verdict) for comment, verdict in zip(pending, classified, strict=True)]
            self.store.save_verdicts(verdicts, self.now())
            metrics.record_flags(verdict.severity for _, verdict in verdicts if verdict.flagged)
            done += len(verdicts)
            if outcome is not None:
                outcome.classified += len(verdicts)
                outcome.flagged.update(v.categories[0] for _, v in verdicts if v.flagged and v.categories)

    def _parent_authors(self, comments: list[PendingComment]) -> dict[tuple[int, str], str | None]:
        wanted = {(c.account_id, c.parent_external_id) for c in comments if c.parent_external_id}
        return self.store.authors_of(wanted) if wanted else {}

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
