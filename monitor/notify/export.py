"""Flags as CSV, for a spreadsheet: one row per flag, formulas defused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from monitor.notify.present import Presenter, bounded, explanations, safe_link
from monitor.notify.records import FlagRecord

COLUMNS = (
    "flag",
    "severity",
    "status",
    "categories",
    "account",
    "platform",
    "post",
    "author",
    "written",
    "comment",
    "why",
    "link",
    "resolution",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_CHARS = 2000  # of a comment, in an attachment
COMPACT_TEXT_CHARS = 100  # when the server refused the full attachment's size
FIELD_CHARS = 300  # author, post, reasons, resolution


def csv_text(records: Iterable[FlagRecord], presenter: Presenter, *, text_chars: int = TEXT_CHARS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    where: dict[tuple[str, str], tuple[frozenset[str], str]] = {}
    for record in records:
        key = (record.account, record.platform)
        if key not in where:
            where[key] = (presenter.hosts_for(*key), presenter.platform_name(*key))
        hosts, platform = where[key]
        writer.writerow(
            cell(value)
            for value in (
                record.flag_id,
                record.severity,
                record.status,
                " ".join(record.categories),
                record.account,
                platform,
                bounded(record.post_title or "", FIELD_CHARS),
                bounded(record.author or "", FIELD_CHARS),
                record.written_at.astimezone(presenter.zone).isoformat(timespec="minutes"),
                bounded(record.text, text_chars),
                bounded(" ".join(explanations(record.reasons)), FIELD_CHARS),
                safe_link(record.permalink, hosts) or "",
                bounded(record.resolution or "", FIELD_CHARS),
            )
        )
    return buffer.getvalue()


def cell(value: object) -> str:
    """Text a spreadsheet shows as text: a leading =, +, -, @ would otherwise start a formula."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
