"""Which accounts' credentials expire soon without the monitor being able to renew them.

For the digest's banner and ``monitor health``: ``expiring_credentials(accounts,
connector_for, now)`` builds each enabled account's connector (no request is made)
and returns a notice for each whose credentials expire within ``WARN_AHEAD``
(14 days) and cannot be renewed here, or have already expired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors import Connector
from connectors.credentials import WARN_AHEAD
from monitor.config import AccountConfig


@dataclass(frozen=True, slots=True)
class ExpiryNotice:
    account: str
    platform: str
    expires_at: datetime
    message: str  # plain English for the operator, e.g. "access token expires 2027-01-02 (in 9 days); ..."


def expiring_credentials(
    accounts: Iterable[AccountConfig],
    connector_for: Callable[[AccountConfig], Connector],
    now: datetime,
    ahead: timedelta = WARN_AHEAD,
) -> list[ExpiryNotice]:
    notices = []
    for account in accounts:
        if not account.enabled:
            continue
        expiry = connector_for(account).credential_expiry()
        if expiry is not None and expiry.warning_due(now, ahead):
            notices.append(ExpiryNotice(account.name, account.platform, expiry.expires_at, expiry.describe(now)))
    return sorted(notices, key=lambda notice: notice.expires_at)
