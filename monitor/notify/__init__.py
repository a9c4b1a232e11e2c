"""Telling the General Manager: urgent alerts at once, a digest on a schedule, a log so nothing repeats."""

from __future__ import annotations

from monitor.notify.notifier import Notifier, SendReport

__all__ = ["Notifier", "SendReport"]
