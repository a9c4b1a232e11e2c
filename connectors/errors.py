"""The three kinds of failure a connector can report.

Every platform error is sorted into exactly one of these, in one place per
platform (its ``classify_error``), so the pipeline and scheduler never look at
status codes or platform error codes themselves.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class. Messages never contain query strings or secrets."""


class RetryableError(ConnectorError):
    """Timeouts, 5xx, 429 and throttling codes: try this account again later.

    ``retry_after`` is how many seconds the platform asked us to wait, when it
    said; the scheduler moves that account's next poll rather than sleeping.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """Expired or revoked token, missing permission: stop polling this account."""


class FatalError(ConnectorError):
    """Anything else: this run of this account fails, the others go on."""
