"""Email over SMTP (STARTTLS, SSL or plain). Failures are sorted once into transient and permanent."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable

from monitor.errors import NotifyError
from monitor.notify.channels import Outgoing
from monitor.notify.render import email_message
from monitor.notify.settings import SmtpSettings
from monitor.secrets import redact

SmtpFactory = Callable[[SmtpSettings], smtplib.SMTP]


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
        )
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        client.starttls(context=ssl.create_default_context())
    return client


class EmailChannel:
    name = "email"

    def __init__(
        self, settings: SmtpSettings, sender: str, recipients: list[str], factory: SmtpFactory = connect
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.recipients = tuple(recipients)
        self.factory = factory

    def deliver(self, outgoing: Outgoing, recipient: str) -> None:
        email = email_message(
            outgoing.message,
            sender=self.sender,
            recipient=recipient,
            message_id=outgoing.message_id,
            date=outgoing.date,
            attachment=outgoing.attachment,
            review=outgoing.review,
        )
        where = f"SMTP {self.settings.host}:{self.settings.port}"
        try:
            client = self.factory(self.settings)
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc, where, recipient) from None
        try:
            self._login(client)
            client.send_message(email, from_addr=self.sender, to_addrs=[recipient])
        except (smtplib.SMTPException, OSError) as exc:
            _close(client)
            raise classify(exc, where, recipient) from None
        _quit(client)

    def _login(self, client: smtplib.SMTP) -> None:
        username, password = self.settings.username, self.settings.password
        if username is not None and password is not None:
            client.login(username.reveal(), password.reveal())


def classify(exc: BaseException, where: str, recipient: str) -> NotifyError:
    """One place that decides whether trying again could help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = {code for code, _ in exc.recipients.values()}
        permanent = any(code >= 500 for code in codes)
        detail = "; ".join(f"{code} {_text(text)}" for code, text in exc.recipients.values())
        return NotifyError(f"{where}: the server refused the recipient {recipient} ({detail})", permanent=permanent)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return NotifyError(
            f"{where}: the server refused the login ({exc.smtp_code}); check [notify.smtp] username and password",
            permanent=True,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return NotifyError(f"{where}: {_text(str(exc))}; check [notify.smtp] security", permanent=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        what = "refused the sender" if isinstance(exc, smtplib.SMTPSenderRefused) else "answered"
        return NotifyError(
            f"{where}: the server {what} {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return NotifyError(f"{where}: the server closed the connection", permanent=False)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NotifyError(f"{where}: the server's certificate is not trusted ({exc.reason})", permanent=True)
    if isinstance(exc, TimeoutError):
        return NotifyError(f"{where}: timed out", permanent=False)
    return NotifyError(f"{where}: {type(exc).__name__}: {_text(str(exc))}", permanent=False)


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return redact(" ".join(text.split()))[:200]


def _quit(client: smtplib.SMTP) -> None:
    """The message is accepted already; a failure to say goodbye changes nothing."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        _close(client)


def _close(client: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        client.close()
