"""What every channel shares: the message to deliver, and the one method a channel has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from monitor.notify.content import Message


@dataclass(frozen=True, slots=True)
class Outgoing:
    message: Message
    message_id: str
    date: datetime
    attachment: str | None = None  # the full list as CSV, when the message could not show every item


class Channel(Protocol):
    name: str
    recipients: tuple[str, ...]

    def deliver(self, outgoing: Outgoing, recipient: str) -> None:
        """Return once the far end accepted the message; raise NotifyError otherwise."""
