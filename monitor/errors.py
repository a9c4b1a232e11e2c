"""Errors the monitor itself raises (connector errors live in connectors.errors)."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration is wrong. The message names the file, the key and the problem."""


class NotifyError(Exception):
    """A notification could not be delivered."""

    def __init__(self, message: str, *, permanent: bool, too_large: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.too_large = too_large  # the far end refused the message's size; a smaller one may go


class StoreError(Exception):
    """The database cannot be opened or written. The message never carries comment text."""
