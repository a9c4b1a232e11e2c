"""A directory as a channel: each message written as an .eml and an .html a person can open."""

from __future__ import annotations

import os
from pathlib import Path

from monitor.errors import NotifyError
from monitor.notify.channels import Outgoing
from monitor.notify.render import email_message, render_html


class FileChannel:
    name = "file"

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender
        self.recipients = (str(directory),)

    def deliver(self, outgoing: Outgoing, recipient: str) -> None:
        unique = outgoing.message_id.strip("<>").split("@")[0].rpartition(".")[2][:16]
        stem = f"{outgoing.date:%Y%m%d-%H%M%S}-{outgoing.message.kind}-{unique}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_message_files(outgoing, self.directory / stem, sender=self.sender, recipient=recipient)
        except OSError as exc:
            raise NotifyError(f"cannot write to {self.directory}: {exc.strerror}", permanent=False) from None


def write_message_files(outgoing: Outgoing, stem: Path, *, sender: str, recipient: str) -> tuple[Path, Path]:
    email = email_message(
        outgoing.message,
        sender=sender,
        recipient=recipient,
        message_id=outgoing.message_id,
        date=outgoing.date,
        attachment=outgoing.attachment,
    )
    eml = write_private(stem.with_name(stem.name + ".eml"), bytes(email))
    html = write_private(stem.with_name(stem.name + ".html"), render_html(outgoing.message).encode("utf-8"))
    return eml, html


def write_html(outgoing: Outgoing, path: Path) -> Path:
    return write_private(path, render_html(outgoing.message).encode("utf-8"))


def write_private(path: Path, data: bytes) -> Path:
    """Whole or not at all (a reader never sees half a file), and readable by the owner only: it holds comments."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a partial file left behind by a crash may have had another mode
    with open(descriptor, "wb") as stream:
        stream.write(data)
    os.replace(partial, path)
    return path
