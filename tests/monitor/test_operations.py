"""What an operator runs around the service: the version, a backup, where data lands."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from monitor import config
from monitor.cli import main


def test_version_names_the_installed_release(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"monitor {version('care-moderation-monitor')}"


def test_backup_is_a_consistent_private_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "monitor.db"
    with sqlite3.connect(database) as live:
        live.execute("PRAGMA journal_mode=WAL")
        live.execute("CREATE TABLE comment (text TEXT)")
        live.executemany("INSERT INTO comment VALUES (?)", [("first",), ("second",)])
    writer = sqlite3.connect(database)
    writer.execute("INSERT INTO comment VALUES ('in the WAL, not yet checkpointed')")
    writer.commit()
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{database}"\n')
    copy = tmp_path / "backup.db"

    assert main(["db", "backup", str(copy), "--config", str(path)]) == 0
    writer.close()

    rows = sqlite3.connect(copy).execute("SELECT text FROM comment ORDER BY rowid").fetchall()
    assert rows == [("first",), ("second",), ("in the WAL, not yet checkpointed",)]
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert f"copied {database} to {copy}" in capsys.readouterr().out


def test_backup_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "monitor.db"
    sqlite3.connect(database).close()
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{database}"\n')
    (tmp_path / "taken.db").write_text("keep me")

    assert main(["db", "backup", str(tmp_path / "taken.db"), "--config", str(path)]) == 2
    assert (tmp_path / "taken.db").read_text() == "keep me"
    assert "exists" in capsys.readouterr().err


def test_backup_of_postgres_points_to_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://monitor@db.example/monitor")
    path = tmp_path / "config.toml"
    path.write_text("")
    assert main(["db", "backup", str(tmp_path / "x.db"), "--config", str(path)]) == 2
    assert "pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_relative_data_paths_land_in_the_state_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir, state_dir = tmp_path / "etc", tmp_path / "var-lib"
    config_dir.mkdir()
    path = config_dir / "config.toml"
    path.write_text('[database]\nurl = "sqlite:///monitor.db"\n[notify]\noutput_dir = "sent"\n')
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)

    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    beside_config = config.load(path)
    assert beside_config.database_url == f"sqlite:///{config_dir / 'monitor.db'}"

    monkeypatch.setenv("STATE_DIRECTORY", str(state_dir))
    settings = config.load(path)
    assert settings.database_url == f"sqlite:///{state_dir / 'monitor.db'}"
    assert settings.output_dir == state_dir / "sent"


def test_an_operators_database_url_wins_only_when_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "postgresql+psycopg://monitor@db.example/monitor"\n')
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "data"))
    assert config.load(path).database_url == "postgresql+psycopg://monitor@db.example/monitor"
    monkeypatch.setenv("MONITOR_DATABASE_URL", "sqlite:////elsewhere/monitor.db")
    assert config.load(path).database_url == "sqlite:////elsewhere/monitor.db"


TWO_ACCOUNTS = """
[database]
url = "sqlite:///monitor.db"

[notify]
recipients = ["gm@example.org"]

[notify.smtp]
host = "127.0.0.1"
password = { env = "OPS_SMTP_PASSWORD" }

[[accounts]]
name = "page"
platform = "facebook"
page_id = "123"
access_token = { env = "OPS_FB_TOKEN" }

[[accounts]]
name = "toots"
platform = "mastodon"
base_url = "https://social.example"
account_id = "1"
access_token = { file = "/nonexistent/mastodon-token" }
"""


@pytest.fixture
def secretless_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPS_SMTP_PASSWORD", "OPS_FB_TOKEN", "MONITOR_DATABASE_URL", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config.toml"
    path.write_text(TWO_ACCOUNTS)
    return path


def test_offline_commands_run_without_the_platform_secrets(
    secretless_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flags", "list", "--config", str(secretless_config)]) == 0
    assert main(["rules", "test", "I know where you all work", "--config", str(secretless_config)]) == 0
    assert "threat" in capsys.readouterr().out


def test_check_names_every_missing_secret_in_one_run(
    secretless_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(secretless_config)]) == 1
    out = capsys.readouterr().out
    assert "3 secret(s) cannot be read" in out
    assert "notify.smtp.password: environment variable OPS_SMTP_PASSWORD is not set" in out
    assert "accounts[0] (page).access_token: environment variable OPS_FB_TOKEN is not set" in out
    assert "accounts[1] (toots).access_token: cannot read secret file /nonexistent/mastodon-token" in out
    assert "page (facebook): not checked" in out and "toots (mastodon): not checked" in out


def test_poll_refuses_to_start_naming_every_missing_secret(
    secretless_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["poll", "--config", str(secretless_config)]) == 2
    err = capsys.readouterr().err
    assert err.count("is not set") == 2 and "cannot read secret file" in err


def test_a_reader_that_goes_away_ends_the_command_quietly(secretless_config: Path) -> None:
    """`monitor rules show | head -1`: no BrokenPipeError traceback."""
    monitor = Path(sys.executable).parent / "monitor"
    command = f"'{monitor}' rules show --config '{secretless_config}' | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, check=False)
    assert done.stdout.startswith("  on  abuse")
    assert done.stderr == ""
