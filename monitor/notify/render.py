"""Messages rendered for email: HTML and plain text from the templates, headers that no comment can reach."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.notify.channels import NO_LINKS, NO_STATUS, ReviewLinks, Status
from monitor.notify.content import Message
from monitor.notify.present import one_line

SEVERITY_COLOURS = {"urgent": "#b91c1c", "high": "#c2410c", "medium": "#a16207", "low": "#4b5563"}
HEADER_LIMIT = 200

_environment = Environment(
    loader=PackageLoader("monitor.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_environment.globals["colours"] = SEVERITY_COLOURS
_NOT_DOMAIN = re.compile(r"[^A-Za-z0-9.-]")


def render_html(message: Message, review: ReviewLinks = NO_LINKS, status: Status = NO_STATUS) -> str:
    return _environment.get_template("message.html").render(m=message, review=review, status=status)


def render_text(message: Message, review: ReviewLinks = NO_LINKS, status: Status = NO_STATUS) -> str:
    return _environment.get_template("message.txt").render(m=message, review=review, status=status)


def header_text(text: str) -> str:
    """A value safe for a mail header: one line, no control characters, bounded length."""
    line = one_line(text)
    return line if len(line) <= HEADER_LIMIT else line[: HEADER_LIMIT - 1] + "…"


def stable_message_id(kind: str, recipient: str, marks: Iterable[tuple[int, int]], sender: str) -> str:
    """The same flags (each with how often it was sent before) to the same recipient give the same id.

    A resend after a crash therefore carries the Message-ID of the message the
    server may already have accepted, and mail programs show it once.
    """
    material = "\n".join([kind, recipient.lower(), *(f"{flag}:{count}" for flag, count in sorted(marks))])
    digest = hashlib.sha256(material.encode()).hexdigest()[:32]
    return f"<{kind}.{digest}@{sender_domain(sender)}>"


def sender_domain(sender: str) -> str:
    domain = _NOT_DOMAIN.sub("", sender.rpartition("@")[2]).strip(".")
    return domain or "monitor.invalid"


def email_message(
    message: Message,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    date: datetime,
    attachment: str | None = None,
    review: ReviewLinks = NO_LINKS,
    status: Status = NO_STATUS,
) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = header_text(message.subject)
    email["From"] = header_text(sender)
    email["To"] = header_text(recipient)
    email["Date"] = format_datetime(date)
    email["Message-ID"] = message_id
    email["Auto-Submitted"] = "auto-generated"
    if message.kind == "alert":  # shown as important by Outlook (Importance) and older mail programs (X-Priority)
        email["Importance"] = "high"
        email["X-Priority"] = "1 (Highest)"
    email.set_content(render_text(message, review, status), cte="quoted-printable")
    email.add_alternative(render_html(message, review, status), subtype="html", cte="quoted-printable")
    if attachment is not None:
        email.add_attachment(attachment.encode("utf-8"), maintype="text", subtype="csv", filename="flags.csv")
    _stable_boundaries(email, message_id)
    return email


def _stable_boundaries(email: EmailMessage, message_id: str) -> None:
    """Boundaries from the Message-ID, so the same message is the same bytes. Every part is
    quoted-printable or base64, where "=_" cannot occur, so no comment can end a part early."""
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    for index, part in enumerate(part for part in email.walk() if part.is_multipart()):
        part.set_boundary(f"=_{seed}_{index}")
