"""Signed, expiring links: one per recipient and flag (or one per recipient for the inbox).

A token is ``v1.<scope>.<recipient tag>.<expiry>.<signature>``: the scope is a
flag id or ``inbox``, the recipient tag an HMAC of the address (so the link
does not show it), the expiry seconds since the epoch, and the signature an
HMAC-SHA256 of the rest with the [review] key. Changing any part breaks the
signature; a recipient taken off [notify] recipients loses their links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import Settings

VERSION = "v1"
INBOX = "inbox"
TAG_BYTES = 12


class LinkRefusedError(Exception):
    """A link that grants nothing; ``kind`` says which refusal it is, the message says it to a person."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Grant:
    """What a genuine, unexpired link allows: one flag (or the inbox), for one recipient."""

    token: str
    flag_id: int | None  # None: the inbox
    recipient: str
    expires: datetime


class LinkSigner:
    def __init__(self, key: str, recipients: Sequence[str], lifetime: timedelta) -> None:
        self._key = key.encode("utf-8")
        self.lifetime = lifetime
        self._recipients = {self._tag(address): address for address in recipients}

    def flag_token(self, flag_id: int, recipient: str, now: datetime) -> str:
        return self._sign(str(flag_id), recipient, now)

    def inbox_token(self, recipient: str, now: datetime) -> str:
        return self._sign(INBOX, recipient, now)

    def verify(self, token: str, now: datetime) -> Grant:
        """The grant a token carries; LinkRefusedError when it is malformed, forged, altered or expired."""
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != VERSION:
            raise LinkRefusedError("malformed", "This is not a link the monitor made. Use the link in the email.")
        _, scope, tag, expiry, signature = parts
        expected = self._signature(f"{VERSION}.{scope}.{tag}.{expiry}")
        if not hmac.compare_digest(expected, signature):
            raise LinkRefusedError(
                "forged",
                "This link is not genuine: it was not made by the monitor, or part of it was changed. "
                "Use the link exactly as it is in the email.",
            )
        recipient = self._recipients.get(tag)
        if recipient is None:
            raise LinkRefusedError(
                "recipient", "This link was sent to an address that no longer receives these emails."
            )
        expires = datetime.fromtimestamp(int(expiry), tz=UTC)
        if now >= expires:
            raise LinkRefusedError(
                "expired",
                f"This link expired on {expires:%d %b %Y at %H:%M} UTC. Use the link in a newer email.",
            )
        flag_id = None if scope == INBOX else int(scope)
        return Grant(token=token, flag_id=flag_id, recipient=recipient, expires=expires)

    def _sign(self, scope: str, recipient: str, now: datetime) -> str:
        tag = self._tag(recipient)
        if tag not in self._recipients:
            raise ValueError("links are made only for [notify] recipients")
        expiry = int((now + self.lifetime).timestamp())
        body = f"{VERSION}.{scope}.{tag}.{expiry}"
        return f"{body}.{self._signature(body)}"

    def _tag(self, recipient: str) -> str:
        digest = hmac.new(self._key, b"recipient:" + recipient.strip().lower().encode(), hashlib.sha256).digest()
        return _b64(digest[:TAG_BYTES])

    def _signature(self, body: str) -> str:
        return _b64(hmac.new(self._key, b"link:" + body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def signer_for(settings: Settings) -> LinkSigner | None:
    """The link signer when [review] is configured, else None (emails then carry no review links)."""
    review = settings.review
    if review is None:
        return None
    return LinkSigner(review.key.reveal(), settings.notify.recipients, review.link_lifetime)


def flag_url(base_url: str, token: str) -> str:
    return f"{base_url}/f/{token}"


def inbox_url(base_url: str, token: str) -> str:
    return f"{base_url}/inbox/{token}"
