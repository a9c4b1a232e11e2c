"""Optional automatic hiding ([review.auto_hide]): comments of the chosen categories, on the chosen accounts,
hidden on the platform as soon as they are flagged.

The flag stays open with an ``auto-hidden`` event, so the General Manager is
still told (the email says it was hidden) and decides: Handled, False alarm, or
Unhide on the review page. A flag is hidden automatically at most once: one
that was unhidden, or whose hiding failed, is left to a person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from connectors import Connector
from monitor import lifecycle
from monitor.lifecycle import Action
from monitor.logging import get_logger
from monitor.web.moderation import HideFailedError, HideUnsupportedError, set_hidden

if TYPE_CHECKING:
    from monitor.config import AccountConfig, Settings
    from monitor.store import Store

AUTO_HIDDEN_NOTE = "Hidden automatically ([review.auto_hide])"
ONCE = (Action.AUTO_HIDDEN, Action.UNHIDDEN, Action.HIDE_FAILED)


def auto_hide(
    store: Store, settings: Settings, connector_for: Callable[[AccountConfig], Connector], now: datetime
) -> int:
    """Hide what [review.auto_hide] names; returns how many comments were hidden."""
    rules = settings.review.auto_hide if settings.review is not None else None
    if rules is None or not rules.categories:
        return 0
    log = get_logger(component="auto-hide")
    configured = {account.name: account for account in settings.accounts if account.enabled}
    names = {account.id: account.name for account in store.accounts()}
    hidden = 0
    for account_id, flags in store.open_flags_by_account().items():
        name = names.get(account_id)
        account = configured.get(name or "")
        if account is None:
            continue
        chosen = [
            (flag, comment)
            for flag, comment in flags
            if not comment.hidden and rules.applies(account.name, tuple(flag.categories or ()))
        ]
        if not chosen:
            continue
        done_before = set[int]()
        for action in ONCE:
            done_before |= store.flags_with_action([flag.id for flag, _ in chosen if flag.id is not None], action)
        connector = connector_for(account)
        for flag, comment in chosen:
            if flag.id is None or comment.id is None or flag.id in done_before:
                continue
            try:
                set_hidden(connector, comment.external_id, hidden=True)
            except (HideUnsupportedError, HideFailedError) as exc:
                store.apply_flag_changes(
                    [lifecycle.noted(flag.id, Action.HIDE_FAILED, lifecycle.MONITOR, f"automatic: {exc}", now)]
                )
                log.warning("comment could not be hidden automatically", account=account.name, error=str(exc))
                continue
            change = lifecycle.noted(flag.id, Action.AUTO_HIDDEN, lifecycle.MONITOR, AUTO_HIDDEN_NOTE, now)
            store.apply_flag_change_with_hidden(change, comment.id, True)
            hidden += 1
    return hidden
