"""Email over SMTP (STARTTLS, SSL or plain). Failures are sorted once into transient and permanent.

``timeout`` bounds each read and write; a server that answers one byte at a
time never trips it, so the whole conversation also has a ``deadline``, after
which (or as soon as the service is stopping) the connection is cut.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

from monitor.errors import NotifyError
from monitor.notify.channels import Outgoing
from monitor.notify.render import email_message
from monitor.notify.settings import SmtpSettings
from monitor.secrets import redact

SIZE_REFUSED = 552  # "requested mail action aborted: exceeded storage allocation", the size limit
WATCH_INTERVAL = 0.2  # how often the watch looks at the clock and the stop request
STOP_GRACE = 5.0  # seconds a conversation under way may still take once the service is stopping


def new_client(settings: SmtpSettings) -> smtplib.SMTP:
    """A client not yet connected, so that the deadline can cut its socket from the first byte."""
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(timeout=settings.timeout, context=ssl.create_default_context())
    return smtplib.SMTP(timeout=settings.timeout)


def open_conversation(client: smtplib.SMTP, settings: SmtpSettings) -> None:
    client.connect(settings.host, settings.port)
    if settings.security == "starttls":
        client.starttls(context=ssl.create_default_context())


class _Watch:
    """Cuts the client's connection once the deadline passes, or STOP_GRACE after ``stop`` is set (a message
    on the wire may still be accepted and recorded); ``.cut`` says which, if either."""

    def __init__(self, client: smtplib.SMTP, seconds: float, stop: threading.Event) -> None:
        self.client = client
        self.ends = time.monotonic() + seconds
        self.stop = stop
        self.done = threading.Event()
        self.cut: str | None = None

    def run(self) -> None:
        stopping = False
        while not self.done.wait(WATCH_INTERVAL):
            if self.stop.is_set() and not stopping:
                stopping = True
                self.ends = min(self.ends, time.monotonic() + STOP_GRACE)
            if time.monotonic() < self.ends:
                continue
            self.cut = "the service is stopping" if stopping else "deadline"
            sock = getattr(self.client, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            return


@contextlib.contextmanager
def watched(client: smtplib.SMTP, seconds: float, stop: threading.Event) -> Iterator[_Watch]:
    watch = _Watch(client, seconds, stop)
    thread = threading.Thread(target=watch.run, name="smtp-deadline", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        watch.done.set()
        thread.join()


class EmailChannel:
    name = "email"

    def __init__(
        self,
        settings: SmtpSettings,
        sender: str,
        recipients: list[str],
        stop: threading.Event | None = None,
        opener: Callable[[smtplib.SMTP, SmtpSettings], None] = open_conversation,
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.recipients = tuple(recipients)
        self.stop = stop or threading.Event()
        self.opener = opener

    def deliver(self, outgoing: Outgoing, recipient: str) -> None:
        email = email_message(
            outgoing.message,
            sender=self.sender,
            recipient=recipient,
            message_id=outgoing.message_id,
            date=outgoing.date,
            attachment=outgoing.attachment,
        )
        where = f"SMTP {self.settings.host}:{self.settings.port}"
        deadline = self.settings.deadline.total_seconds()
        client = new_client(self.settings)
        with watched(client, deadline, self.stop) as watch:
            try:
                self.opener(client, self.settings)
                self._login(client)
                client.send_message(email, from_addr=self.sender, to_addrs=[recipient])
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                _close(client)
                if watch.cut == "deadline":
                    raise NotifyError(
                        f"{where}: the conversation took longer than its deadline ({deadline:g}s)", permanent=False
                    ) from None
                if watch.cut is not None:
                    raise NotifyError(f"{where}: interrupted: {watch.cut}", permanent=False) from None
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
        if exc.smtp_code == SIZE_REFUSED:
            return NotifyError(
                f"{where}: the server refused the message's size ({exc.smtp_code} {_text(exc.smtp_error)})",
                permanent=True,
                too_large=True,
            )
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
