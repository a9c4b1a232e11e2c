"""Comments from JSONL or CSV exports: imports, backfills and the demo.

``path`` is one file or a directory of ``.jsonl`` / ``.ndjson`` / ``.csv``
files. The bookmark records each file's size and modification time, so a poll
re-reads only files that changed (and the store's upsert makes a re-read
harmless). A line that cannot be read is skipped with its line number.

One record per line (JSONL) or row (CSV), with these fields; only the text
(empty for a comment without words, such as a sticker) and the creation time
are required:

    id | external_id, text | message, created_at | created_time,
    author | author_name, author_id, post_id, post_url, post_title,
    parent_id, permalink, edited_at, by_owner, hidden

A record with ``kind`` = ``post`` is one of the organisation's own posts:
id, text, created_at, url | post_url, title | post_title, edited_at, and
``tagged`` and ``media_text`` (lists, or text separated by ``;``) for the
people tagged in it and its pictures' captions and alt text.

Other fields are ignored. ``permalink`` and ``post_url`` are kept only when
they are https links to one of the platforms' sites (``connectors.links``);
any other link is dropped with a note, and the comment is stored without it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator

from connectors.base import AccountSettings, Batch, Comment, Connector, OwnPost, parse_time, post_title
from connectors.errors import FatalError
from connectors.links import is_platform_link, shown_host

SUFFIXES = (".jsonl", ".ndjson", ".csv")
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})


class FileSettings(AccountSettings):
    # A relative path is read beside the config file (the loader says where that is).
    path: Path
    platform_label: str | None = None

    @field_validator("path")
    @classmethod
    def _beside_the_config(cls, value: Path, info: ValidationInfo) -> Path:
        config_dir = (info.context or {}).get("config_dir")
        return value if value.is_absolute() or config_dir is None else Path(config_dir) / value


@dataclass(slots=True)
class FileRead:
    """What reading a file or a directory gave: comments, and the reasons lines were skipped."""

    comments: list[Comment] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    posts: list[OwnPost] = field(default_factory=list)

    def add(self, other: FileRead) -> None:
        self.comments.extend(other.comments)
        self.posts.extend(other.posts)
        self.skipped.extend(other.skipped)
        self.notes.extend(other.notes)
        self.files += other.files


class FileConnector(Connector):
    platform: ClassVar[str] = "file"
    settings_model: ClassVar[type[AccountSettings]] = FileSettings

    settings: FileSettings

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        files = files_in(self.settings.path)
        known = dict(bookmark.get("files", {})) if bookmark else {}
        state = {name: stamp for name, stamp in known.items() if name in {path.name for path in files}}
        last = known
        for path in files:
            stamp = stamp_of(path)
            if known.get(path.name) == stamp:
                continue
            read = read_file(path)
            state[path.name] = stamp
            last = dict(state)
            yield Batch(
                read.comments, bookmark={"files": last}, skipped=read.skipped, notes=read.notes, posts=read.posts
            )
        if state != last:
            yield Batch([], bookmark={"files": state})

    def check(self) -> str:
        read = read_comments(self.settings.path)
        plural = "file" if read.files == 1 else "files"
        skipped = f", {len(read.skipped)} lines skipped" if read.skipped else ""
        return f"{read.files} {plural}, {len(read.comments)} comments{skipped} in {self.settings.path}"


def read_comments(path: Path) -> FileRead:
    """Every comment in a file or in the export files of a directory."""
    result = FileRead()
    for each in files_in(path):
        result.add(read_file(each))
    return result


def files_in(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(each for each in path.iterdir() if each.is_file() and each.suffix.lower() in SUFFIXES)
    raise FatalError(f"{path} does not exist")


def stamp_of(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns]


def read_file(path: Path) -> FileRead:
    result = FileRead(files=1)
    rows = csv_rows(path) if path.suffix.lower() == ".csv" else jsonl_rows(path)
    for line, row in rows:
        try:
            if isinstance(row, str):
                raise ValueError(row)
            if _text(row.get("kind")) == "post":
                result.posts.append(post_from_row(row))
                continue
            comment = comment_from_row(row)
        except (KeyError, TypeError, ValueError) as exc:
            reason = str(exc.args[0]) if exc.args else type(exc).__name__
            result.skipped.append(f"{path.name} line {line}: {reason}")
            continue
        comment, dropped = without_foreign_links(comment)
        result.comments.append(comment)
        for url in dropped:
            result.notes.append(
                f"{path.name} line {line}: link to {shown_host(url)} dropped (not a platform's site); comment stored"
            )
    return result


def without_foreign_links(comment: Comment) -> tuple[Comment, list[str]]:
    """The comment without links that do not go to a platform's site, and the links dropped."""
    dropped = [url for url in dict.fromkeys((comment.permalink, comment.post_url)) if url and not is_platform_link(url)]
    if not dropped:
        return comment, []
    kept = replace(
        comment,
        permalink=None if comment.permalink in dropped else comment.permalink,
        post_url=None if comment.post_url in dropped else comment.post_url,
    )
    return kept, dropped


Row = tuple[int, Mapping[str, Any] | str]


def jsonl_rows(path: Path) -> Iterator[Row]:
    """(line number, record), or (line number, why it is not a record)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                yield number, "not UTF-8"
                continue
            if not text:
                continue
            try:
                record = json.loads(text)
            except ValueError as exc:
                yield number, f"not JSON ({exc.msg})"
                continue
            yield number, record if isinstance(record, Mapping) else "not a JSON object"


def csv_rows(path: Path) -> Iterator[Row]:
    """Rows keyed by the header; a UK spreadsheet export may be Windows-1252 rather than UTF-8."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for row in reader:
        if None in row:
            yield reader.line_num, "more fields than the header"
        else:
            yield reader.line_num, row


def comment_from_row(row: Mapping[str, Any]) -> Comment:
    text = _first(row, "text", "message")
    if text is None and "" in (row.get("text"), row.get("message")):
        text = ""
    if text is None:
        raise KeyError("no text or message")
    if not isinstance(text, str):
        raise TypeError("text is not a string")
    created = _first(row, "created_at", "created_time")
    if created is None:
        raise KeyError("no created_at")
    created_at = parse_time(created)
    author = row.get("author")
    author_name = author.get("name") if isinstance(author, Mapping) else _first(row, "author_name", "author")
    author_id = author.get("id") if isinstance(author, Mapping) else None
    edited = _first(row, "edited_at")
    return Comment(
        external_id=_text(_first(row, "id", "external_id")) or content_id(row, text, created_at.isoformat()),
        text=text.strip(),
        created_at=created_at,
        post_id=_text(row.get("post_id")),
        post_url=_text(row.get("post_url")),
        post_title=_text(row.get("post_title")),
        parent_id=_text(row.get("parent_id")),
        author_id=_text(_first(row, "author_id") or author_id),
        author_name=_text(author_name),
        edited_at=parse_time(edited) if edited is not None else None,
        permalink=_text(row.get("permalink")),
        by_owner=_flag(row.get("by_owner")),
        hidden=_flag(row.get("hidden")),
    )


def post_from_row(row: Mapping[str, Any]) -> OwnPost:
    """One of the organisation's own posts."""
    text = _first(row, "text", "message")
    if not isinstance(text, str):
        raise KeyError("post has no text")
    created = _first(row, "created_at", "created_time")
    if created is None:
        raise KeyError("post has no created_at")
    external_id = _text(_first(row, "id", "external_id", "post_id"))
    if external_id is None:
        raise KeyError("post has no id")
    edited = _first(row, "edited_at")
    return OwnPost(
        external_id=external_id,
        text=text.strip(),
        created_at=parse_time(created),
        url=_text(_first(row, "url", "post_url")),
        title=_text(_first(row, "title", "post_title")) or post_title(text),
        edited_at=parse_time(edited) if edited is not None else None,
        tagged=_names(row.get("tagged")),
        media_text=_names(row.get("media_text")),
    )


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(each).strip() for each in value if isinstance(each, str | int) and str(each).strip())
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    return ()


def content_id(row: Mapping[str, Any], text: str, created: str) -> str:
    """A stable id for a record without one: the same comment exported twice gets the same id."""
    parts = [text.strip(), created, *(_text(row.get(key)) for key in ("author_id", "post_id", "parent_id"))]
    parts.append(_text(_first(row, "author_name", "author")))
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()
    return f"file_{digest[:24]}"


def _first(row: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` with a value (CSV writes a missing value as an empty cell)."""
    for key in keys:
        value = row.get(key)
        if value is not None and value != "":
            return value
    return None


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in TRUE_WORDS)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping):
        return None
    text = str(value).strip()
    return text or None
