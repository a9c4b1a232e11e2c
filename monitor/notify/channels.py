"""What every channel shares: the message to deliver, and the one method a channel has."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from monitor.notify.content import Message


@dataclass(frozen=True, slots=True)
class ReviewLinks:
    """One recipient's signed links to the review page: per flag, and to the inbox of open flags."""

    flags: Mapping[int, str] = field(default_factory=dict)
    inbox: str | None = None


NO_LINKS = ReviewLinks()


@dataclass(frozen=True, slots=True)
class Status:
    """The digest's opening lines: what keeps the monitor from its job, or that all is well."""

    problems: tuple[str, ...] = ()
    all_is_well: str | None = None


NO_STATUS = Status()


@dataclass(frozen=True, slots=True)
class Outgoing:
    message: Message
    message_id: str
    date: datetime
    attachment: str | None = None  # the full list as CSV, when the message could not show every item
    review: ReviewLinks = NO_LINKS
    status: Status = NO_STATUS


class Channel(Protocol):
    name: str
    recipients: tuple[str, ...]

    def deliver(self, outgoing: Outgoing, recipient: str) -> None:
        """Return once the far end accepted the message; raise NotifyError otherwise."""
