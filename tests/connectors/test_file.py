from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest

from connectors import connector_class
from connectors.base import Batch
from connectors.errors import FatalError
from connectors.file import FileConnector, FileSettings, comment_from_row, read_comments
from monitor.filter.verdict import CATEGORIES

SAMPLE = Path(__file__).resolve().parents[2] / "monitor" / "sample_data" / "comments.jsonl"

FULL_RECORD = {
    "id": "c-1",
    "text": "  Lovely garden, well done all  ",
    "created_at": "2026-05-09T17:02:00Z",
    "author_name": "Becky Lane",
    "author_id": "u-7",
    "post_id": "p-3",
    "post_url": "https://www.facebook.com/BrightwaterCare/posts/3/",
    "post_title": "Our new sensory garden",
    "parent_id": "c-0",
    "permalink": "https://www.facebook.com/BrightwaterCare/posts/3/?comment_id=1",
    "edited_at": "2026-05-09T18:00:00+01:00",
    "by_owner": False,
    "hidden": True,
    "expected": "none",
}

CSV_EXPORT = (
    "\ufeffexternal_id,message,created_at,author,post_id,parent_id,by_owner\n"
    "x-1,Thank you all!,2026-05-10 09:30:00,Brightwater Care,p-1,,TRUE\n"
    'x-2,"Commas, quotes ""and"" all",2026-05-10T10:00:00+0100,Ray Dunn,p-1,x-1,no\n'
    "x-3,Too many cells,2026-05-10T11:00:00Z,Ray Dunn,p-1,,,extra\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def jsonl(*records: Any) -> str:
    return "".join((record if isinstance(record, str) else json.dumps(record)) + "\n" for record in records)


def connector(path: Path, **overrides: Any) -> FileConnector:
    return FileConnector(FileSettings(name="import", platform="file", path=path, **overrides))


def run(made: FileConnector, bookmark: dict[str, Any] | None = None) -> list[Batch]:
    return list(made.fetch(bookmark))


def test_every_field_of_a_record() -> None:
    comment = comment_from_row(FULL_RECORD)

    assert comment.external_id == "c-1"
    assert comment.text == "Lovely garden, well done all"
    assert comment.created_at == datetime(2026, 5, 9, 17, 2, tzinfo=UTC)
    assert comment.edited_at == datetime(2026, 5, 9, 17, 0, tzinfo=UTC)
    assert (comment.author_name, comment.author_id) == ("Becky Lane", "u-7")
    assert (comment.post_id, comment.post_title, comment.parent_id) == ("p-3", "Our new sensory garden", "c-0")
    assert comment.post_url == "https://www.facebook.com/BrightwaterCare/posts/3/"
    assert comment.permalink == "https://www.facebook.com/BrightwaterCare/posts/3/?comment_id=1"
    assert (comment.by_owner, comment.hidden) == (False, True)


def test_author_may_be_an_object() -> None:
    comment = comment_from_row(
        {"message": "Hi", "created_time": 1778400000, "author": {"name": "Aisha Begum", "id": "u-9"}}
    )

    assert (comment.author_name, comment.author_id) == ("Aisha Begum", "u-9")
    assert comment.created_at == datetime.fromtimestamp(1778400000, tz=UTC)


def test_csv_export_with_bom_alternate_names_and_a_bad_row(tmp_path: Path) -> None:
    read = read_comments(write(tmp_path / "export.csv", CSV_EXPORT))

    first, second = read.comments
    assert (first.external_id, first.text, first.author_name, first.by_owner) == (
        "x-1",
        "Thank you all!",
        "Brightwater Care",
        True,
    )
    assert first.parent_id is None
    assert first.created_at == datetime(2026, 5, 10, 9, 30, tzinfo=UTC)
    assert (second.text, second.parent_id, second.by_owner) == ('Commas, quotes "and" all', "x-1", False)
    assert second.created_at == datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
    assert read.skipped == ["export.csv line 4: more fields than the header"]


def test_windows_1252_csv(tmp_path: Path) -> None:
    text = "id,text,created_at\nw-1,Raised £212 \u2013 amazing,2026-05-10T10:00:00Z\n"

    read = read_comments(write(tmp_path / "excel.csv", text, encoding="cp1252"))

    assert [comment.text for comment in read.comments] == ["Raised £212 \u2013 amazing"]


def test_bad_lines_are_skipped_with_their_line_number(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.jsonl",
        jsonl(
            {"id": "ok-1", "text": "fine", "created_at": "2026-05-10T10:00:00Z"},
            "{not json",
            "",
            '["a", "list"]',
            {"id": "no-time", "text": "when?"},
            {"id": "bad-time", "text": "when?", "created_at": "last Tuesday"},
            {"id": "no-text", "created_at": "2026-05-10T10:00:00Z"},
            {"id": "ok-2", "message": "also fine", "created_at": "2026-05-10T11:00:00Z"},
        ),
    )

    read = read_comments(path)

    assert [comment.external_id for comment in read.comments] == ["ok-1", "ok-2"]
    assert [reason.split(":")[0] for reason in read.skipped] == [
        "mixed.jsonl line 2",
        "mixed.jsonl line 4",
        "mixed.jsonl line 5",
        "mixed.jsonl line 6",
        "mixed.jsonl line 7",
    ]
    assert "not JSON" in read.skipped[0]
    assert read.skipped[1].endswith("not a JSON object")
    assert read.skipped[2].endswith("no created_at")
    assert read.skipped[4].endswith("no text or message")


def test_missing_id_is_a_stable_hash_of_the_content(tmp_path: Path) -> None:
    record = {"text": "Lovely day", "created_at": "2026-05-10T10:00:00Z", "author_name": "Sue", "post_id": "p-1"}
    from_jsonl = read_comments(write(tmp_path / "a.jsonl", jsonl(record))).comments[0]
    from_csv = read_comments(
        write(tmp_path / "b.csv", "text,created_at,author,post_id\nLovely day,2026-05-10T10:00:00+00:00,Sue,p-1\n")
    ).comments[0]
    other = comment_from_row({**record, "text": "Lovely day!"})

    assert from_jsonl.external_id.startswith("file_")
    assert from_jsonl.external_id == from_csv.external_id
    assert other.external_id != from_jsonl.external_id


def test_directory_reads_export_files_only(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", jsonl({"id": "a", "text": "one", "created_at": "2026-05-10T10:00:00Z"}))
    write(tmp_path / "b.csv", "id,text,created_at\nb,two,2026-05-10T10:00:00Z\n")
    write(tmp_path / "notes.txt", "not an export")

    read = read_comments(tmp_path)

    assert (read.files, [comment.external_id for comment in read.comments]) == (2, ["a", "b"])


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    first = write(tmp_path / "a.jsonl", jsonl({"id": "a", "text": "one", "created_at": "2026-05-10T10:00:00Z"}))
    write(tmp_path / "b.jsonl", jsonl({"id": "b", "text": "two", "created_at": "2026-05-10T10:00:00Z"}))
    made = connector(tmp_path)

    batches = run(made)
    bookmark = batches[-1].bookmark
    assert [[comment.external_id for comment in batch.comments] for batch in batches] == [["a"], ["b"]]
    assert batches[0].bookmark is not None
    assert set(batches[0].bookmark["files"]) == {"a.jsonl"}
    assert bookmark is not None
    assert set(bookmark["files"]) == {"a.jsonl", "b.jsonl"}

    assert run(made, bookmark) == []

    with first.open("a", encoding="utf-8") as handle:
        handle.write(jsonl({"id": "a2", "text": "three", "created_at": "2026-05-11T10:00:00Z"}))
    changed = run(made, bookmark)
    assert [[comment.external_id for comment in batch.comments] for batch in changed] == [["a", "a2"]]
    assert changed[-1].bookmark is not None
    assert changed[-1].bookmark["files"]["b.jsonl"] == bookmark["files"]["b.jsonl"]


def test_touching_a_file_rereads_it_and_deleted_files_leave_the_bookmark(tmp_path: Path) -> None:
    kept = write(tmp_path / "a.jsonl", jsonl({"id": "a", "text": "one", "created_at": "2026-05-10T10:00:00Z"}))
    gone = write(tmp_path / "b.jsonl", jsonl({"id": "b", "text": "two", "created_at": "2026-05-10T10:00:00Z"}))
    made = connector(tmp_path)
    bookmark = run(made)[-1].bookmark
    os.utime(kept, ns=(1_800_000_000_000_000_000, 1_800_000_000_000_000_000))
    gone.unlink()

    batches = run(made, bookmark)

    assert [comment.external_id for comment in batches[0].comments] == ["a"]
    assert batches[-1].bookmark is not None
    assert set(batches[-1].bookmark["files"]) == {"a.jsonl"}


def test_missing_path_is_fatal(tmp_path: Path) -> None:
    made = connector(tmp_path / "nowhere.jsonl")

    with pytest.raises(FatalError, match="does not exist"):
        run(made)
    with pytest.raises(FatalError, match="does not exist"):
        made.check()


def test_check_reports_files_comments_and_skipped_lines(tmp_path: Path) -> None:
    write(tmp_path / "export.csv", CSV_EXPORT)

    assert connector(tmp_path).check() == f"1 file, 2 comments, 1 lines skipped in {tmp_path}"
    assert connector(SAMPLE).check() == f"1 file, 100 comments in {SAMPLE}"


def test_settings_and_registry() -> None:
    made = connector(SAMPLE, platform_label="Facebook (export)")

    assert made.settings.platform_label == "Facebook (export)"
    assert connector_class("file") is FileConnector
    with pytest.raises(pydantic.ValidationError):
        connector(SAMPLE, sheet="Sheet1")


def sample_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_sample_data_reads_cleanly() -> None:
    read = read_comments(SAMPLE)

    assert read.skipped == []
    assert len(read.comments) == 100
    ids = {comment.external_id for comment in read.comments}
    assert len(ids) == 100
    replies = [comment for comment in read.comments if comment.parent_id]
    assert len(replies) >= 5
    assert all(reply.parent_id in ids for reply in replies)
    assert sum(comment.by_owner for comment in read.comments) >= 2
    assert all(comment.by_owner == (comment.author_name == "Brightwater Care") for comment in read.comments)
    assert all(comment.permalink and comment.permalink.startswith("https://") for comment in read.comments)
    assert all(comment.post_title and comment.post_url for comment in read.comments)
    times = [comment.created_at for comment in read.comments]
    assert min(times).year == 2026
    assert (max(times) - min(times)).days <= 14


def test_sample_data_covers_every_category_and_the_harmless_lookalikes() -> None:
    rows = sample_rows()
    expected = Counter(row["expected"] for row in rows)

    assert set(expected) == {*CATEGORIES, "none"}
    assert 25 <= sum(count for category, count in expected.items() if category != "none") <= 35
    harmless = {row["text"].split("!")[0].lower() for row in rows if row["expected"] == "none"}
    for phrase in ("bloody brilliant team", "killing it as always", "so sad to hear about the flood"):
        assert any(text.startswith(phrase) for text in harmless), phrase
    assert any("lifesaver" in row["text"] and row["expected"] == "none" for row in rows)
    scam = [row["text"] for row in rows if row["expected"] == "misrepresentation"]
    assert any("WhatsApp" in text and "Brightwater" in text.title() for text in scam)


def test_an_empty_text_is_a_comment_without_words_but_a_missing_one_is_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "stickers.jsonl",
        jsonl(
            {"id": "sticker", "text": "", "created_at": "2026-05-10T10:00:00Z"},
            {"id": "spaces", "text": "   ", "created_at": "2026-05-10T10:00:00Z"},
            {"id": "missing", "created_at": "2026-05-10T10:00:00Z"},
        ),
    )

    read = read_comments(path)

    assert [(comment.external_id, comment.text) for comment in read.comments] == [("sticker", ""), ("spaces", "")]
    assert [reason.split(": ", 1)[1] for reason in read.skipped] == ["no text or message"]


def test_a_lone_surrogate_in_an_export_is_read_as_the_replacement_character(tmp_path: Path) -> None:
    path = write(tmp_path / "export.jsonl", '{"id": "s", "text": "bad \\ud800 pair \\ud83e\\udd28", "created_at": 0}\n')

    [comment] = read_comments(path).comments

    assert comment.text == "bad \ufffd pair 🤨"
