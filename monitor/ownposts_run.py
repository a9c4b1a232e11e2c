"""One round of own-post checks: re-queue the posts when the register changed, then check what is waiting."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitor import metrics
from monitor.consent import ConsentRegisterError
from monitor.logging import get_logger
from monitor.ownposts import OwnPostChecker
from monitor.ownposts_store import posts_to_check, recheck_if_register_changed
from monitor.store import Store

if TYPE_CHECKING:
    from monitor.pipeline import PollOutcome

def check_own_posts(
    checker: OwnPostChecker,
    store: Store,
    now: datetime,
    outcome: PollOutcome | None = None,
    *,
    account_id: int | None = None,
) -> int:
    """Check the account's own posts that wait for it (all accounts' when None); how many were checked.

    An unreadable register stops the checks (and is logged once until it is
    fixed) rather than checking without it, which would close consent flags.
    """
    log = get_logger()
    try:
        register = checker.load_register()
    except ConsentRegisterError as exc:
        if checker.register_error != str(exc):
            log.error("consent register unreadable; own posts are not checked until it is fixed", error=str(exc))
        checker.register_error = str(exc)
        return 0
    if checker.register_error is not None:
        log.info("consent register readable again")
        checker.register_error = None
    day = checker.today(now)
    if register is not None:
        queued = recheck_if_register_changed(store, register.fingerprint(day), now)
        if queued:
            log.info("consent register changed; own posts queued to be checked again", posts=queued)
            if outcome is not None:
                outcome.own_posts_rechecked += queued
    done = 0
    while pending := posts_to_check(store, account_id):
        verdicts = checker.check(pending, register, day)
        store.save_verdicts([(post.id, verdict) for post, verdict in zip(pending, verdicts, strict=True)], now)
        metrics.record_flags(verdict.severity for verdict in verdicts if verdict.flagged)
        done += len(pending)
        if outcome is not None:
            outcome.own_posts_checked += len(pending)
            outcome.flagged.update(v.categories[0] for v in verdicts if v.flagged)
    return done
