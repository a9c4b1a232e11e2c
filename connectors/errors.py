"""The three kinds of failure a connector can report.

Every platform error is sorted into exactly one of these, in one place per
platform (its ``classify_error``), so the pipeline and scheduler never look at
status codes or platform error codes themselves.
"""

from __future__ import annotations

import math

from monitor.secrets import redact

# The longest a platform may postpone an account (Retry-After, rate-limit resets, cooldowns).
MAX_WAIT_SECONDS = 24 * 3600.0


class ConnectorError(Exception):
    """Base class. Messages never contain query strings or secrets: every secret known is redacted here."""

    def __init__(self, message: str = "") -> None:
        super().__init__(redact(message))


class RetryableError(ConnectorError):
    """Timeouts, 5xx, 429 and throttling codes: try this account again later.

    ``retry_after`` is how many seconds the platform asked us to wait, when it
    said, and never more than ``MAX_WAIT_SECONDS``: a longer ask is capped and
    the message says so. The scheduler moves that account's next poll rather
    than sleeping.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        if retry_after is not None and not retry_after <= MAX_WAIT_SECONDS:  # also catches inf and NaN
            message += f" (the platform asked us to wait {_how_long(retry_after)}; waiting 1 day)"
            retry_after = MAX_WAIT_SECONDS
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """Expired or revoked token, missing permission: stop polling this account."""


class FatalError(ConnectorError):
    """Anything else: this run of this account fails, the others go on."""


class GoneError(FatalError):
    """The record asked for no longer exists (deleted), as the platform says it: 404/410, Graph 100/33."""


def _how_long(seconds: float) -> str:
    if math.isnan(seconds) or math.isinf(seconds):
        return "for ever"
    return f"{seconds / 86400:,.0f} days"
