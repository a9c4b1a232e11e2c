"""Open flags whose comment was deleted or hidden on the platform close themselves.

``recheck_open_flags(store, connector, account_id, now)`` asks the account's
connector (``Connector.recheck``) about the comments behind the account's open
flags, newest first, at most ``limit`` of them, and:

- a comment deleted on the platform has its flag resolved ("Deleted on
  Facebook", with an ``auto-resolved`` event in the audit trail) and is marked
  hidden, as it is no longer there to see;
- a comment hidden on the platform is marked hidden, and its flag resolved
  "Hidden on the platform", as ``monitor.notify.resolution`` does for comments
  read as hidden;
- a comment the platform could not speak for is left as it was.

A connector whose ``recheck_batch`` is 0 cannot say cheaply and is not asked.
The cost is ``ceil(flags / recheck_batch)`` requests per call; the caller
decides how often to call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors import Connector
from monitor import lifecycle
from monitor.notify.present import PLATFORM_NAMES
from monitor.store import Store

DEFAULT_LIMIT = 200


@dataclass
class RecheckOutcome:
    asked: int = 0
    deleted: int = 0
    hidden: int = 0
    requests: int = 0


def recheck_open_flags(
    store: Store, connector: Connector, account_id: int, now: datetime, limit: int = DEFAULT_LIMIT
) -> RecheckOutcome:
    outcome = RecheckOutcome()
    if connector.recheck_batch <= 0:
        return outcome
    open_flags = store.open_flags_of_account(account_id, limit)
    if not open_flags:
        return outcome
    before = connector.http.requests_made
    states = connector.recheck([comment.external_id for _, comment in open_flags])
    outcome.asked = len(open_flags)
    outcome.requests = connector.http.requests_made - before
    changes: list[lifecycle.Change] = []
    gone: list[int] = []
    for flag, comment in open_flags:
        state = states.get(comment.external_id)
        if state not in ("deleted", "hidden") or flag.id is None or comment.id is None:
            continue
        if state == "deleted":
            changes.append(lifecycle.deleted(flag.id, PLATFORM_NAMES.get(comment.platform, comment.platform), now))
        else:
            changes.append(lifecycle.hidden(flag.id, now))
        gone.append(comment.id)
    store.mark_hidden(gone, now)
    for change in store.apply_flag_changes(changes):
        if change.action == lifecycle.Action.HIDDEN:
            outcome.hidden += 1
        else:
            outcome.deleted += 1
    return outcome
