"""monitor check and monitor health, through the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import responses

from monitor.cli import main
from monitor.store import Store

GRAPH = "https://graph.example.test"


def write_config(tmp_path: Path, accounts: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///monitor.db"\n{accounts}')
    return path


def facebook(name: str, page: str) -> str:
    return f"""
[[accounts]]
name = "{name}"
platform = "facebook"
page_id = "{page}"
access_token = {{ env = "CHECK_FB_TOKEN" }}
base_url = "{GRAPH}"
"""


@responses.activate
def test_check_reports_each_account_and_fails_when_any_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECK_FB_TOKEN", "EAAB-check-token-42")
    responses.get(f"{GRAPH}/v23.0/1", json={"id": "1", "name": "Brightwater Care"})
    expired = {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
    responses.get(f"{GRAPH}/v23.0/2", status=400, json=expired)
    responses.get(f"{GRAPH}/v23.0/3", body=requests.ConnectionError("refused"))
    config = write_config(tmp_path, facebook("good", "1") + facebook("expired", "2") + facebook("down", "3"))

    code = main(["check", "--config", str(config)])

    out = capsys.readouterr().out
    assert code == 1
    assert f"{config}: configuration is valid (3 accounts)" in out
    assert "good (facebook): ok (Facebook Page Brightwater Care (1))" in out
    assert "expired (facebook): auth failed:" in out
    assert "down (facebook): unreachable:" in out
    assert "EAAB-check-token-42" not in out


@responses.activate
def test_a_passing_check_gives_an_account_stopped_by_auth_another_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECK_FB_TOKEN", "EAAB-check-token-42")
    responses.get(f"{GRAPH}/v23.0/1", json={"id": "1", "name": "Brightwater Care"})
    config = write_config(tmp_path, facebook("good", "1"))
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    account_id = store.ensure_account("good", "facebook").id
    store.update_account(account_id, status="auth_failed")  # type: ignore[arg-type]

    assert main(["check", "--config", str(config)]) == 0
    assert store.account("good").status == "failing"  # type: ignore[union-attr]


def test_a_config_mistake_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "[polling]\npoll_interval = 'often'\n")
    assert main(["check", "--config", str(config)]) == 2
    assert "polling.poll_interval: 'often' is not a duration" in capsys.readouterr().err


def test_health_names_what_has_been_failing_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECK_FB_TOKEN", "EAAB-check-token-42")
    config = write_config(tmp_path, facebook("steady", "1") + facebook("flaky", "2") + facebook("stopped", "3"))
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    now = datetime.now(UTC)
    for name in ("steady", "flaky", "stopped"):
        store.ensure_account(name, "facebook")
    store.update_account(
        store.account("flaky").id,
        status="failing",
        failing_since=now - timedelta(hours=2),  # type: ignore[union-attr, arg-type]
        last_error="GET graph.example.test/v23.0/2/posts failed (503)",
    )
    assert main(["health", "--config", str(config), "--max-failing", "3h"]) == 0
    assert "healthy: 3 accounts" in capsys.readouterr().out

    store.update_account(store.account("stopped").id, status="auth_failed", last_error="token expired (190)")  # type: ignore[union-attr, arg-type]
    assert main(["health", "--config", str(config), "--max-failing", "1h"]) == 1
    out = capsys.readouterr().out
    assert "unhealthy: flaky: failing for 120 minutes: GET graph.example.test/v23.0/2/posts failed (503)" in out
    assert "unhealthy: stopped: authentication failed: token expired (190)" in out
    assert "steady" not in out


def test_health_reports_a_failed_digest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.models import JobStatus

    config = write_config(tmp_path, "")
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    with store.session() as session:
        session.add(JobStatus(name="digest", last_error="smtp.example.org refused the login (535)"))
        session.commit()
    assert main(["health", "--config", str(config)]) == 1
    assert "unhealthy: the last digest failed: smtp.example.org refused the login (535)" in capsys.readouterr().out


def dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def health_of(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["health", "--config", str(config), *extra])
    return code, capsys.readouterr().out


def test_health_fails_for_an_account_postponed_beyond_a_day_or_whose_polls_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECK_FB_TOKEN", "EAAB-check-token-42")
    config = write_config(tmp_path, facebook("throttled", "1") + facebook("hung", "2") + facebook("fine", "3"))
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    now = datetime.now(UTC)
    ids = {name: store.ensure_account(name, "facebook").id for name in ("throttled", "hung", "fine")}
    store.update_account(ids["throttled"], last_attempt_at=now, not_before=now + timedelta(days=400))  # type: ignore[arg-type]
    three_hours_ago = now - timedelta(hours=3)
    store.update_account(ids["hung"], last_attempt_at=three_hours_ago, last_success_at=three_hours_ago)  # type: ignore[arg-type]
    store.update_account(ids["fine"], last_attempt_at=now - timedelta(minutes=2))  # type: ignore[arg-type]

    code, out = health_of(config, capsys)

    assert code == 1
    assert "unhealthy: throttled: not polled until" in out
    assert "unhealthy: hung: no poll has started for 180 minutes" in out
    assert "fine" not in out


def test_health_fails_for_an_urgent_flag_not_yet_alerted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.notify.factory import Factory

    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///monitor.db"\n[notify]\nrecipients = ["gm@example.org"]\n')
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    written = datetime.now(UTC) - timedelta(minutes=40)
    Factory(store).flag(written=written)

    code, out = health_of(config, capsys)

    assert code == 1
    assert "unhealthy: 1 urgent flag not alerted to gm@example.org by email; the oldest for 40 minutes" in out


def test_health_fails_for_a_lease_held_by_an_instance_that_is_gone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    config = write_config(tmp_path, "")
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    owner = f"{socket.gethostname()}:{dead_pid()}:abc123"
    assert store.acquire_lease("notifier", owner, timedelta(minutes=15), datetime.now(UTC))

    code, out = health_of(config, capsys)

    assert code == 1
    assert f"unhealthy: the lease notifier is held by {owner}, which is no longer running" in out


def test_health_fails_for_a_digest_overdue_by_more_than_an_hour(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.models import JobStatus

    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///monitor.db"\n[organisation]\ntimezone = "UTC"\n')
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    last = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=2)
    with store.session() as session:
        session.add(JobStatus(name="digest", last_run_at=last, last_ok_at=last))
        session.commit()

    code, out = health_of(config, capsys)

    due = last + timedelta(days=1)
    assert code == 1
    assert f"unhealthy: the digest due at {due:%Y-%m-%d} 08:00 UTC has not been sent" in out


def test_check_prints_when_a_token_expires_and_warns_within_14_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.app import App
    from monitor.expiry import expiring_credentials

    monkeypatch.setenv("CHECK_FB_TOKEN", "EAAB-check-token-42")
    soon = facebook("soon", "1") + 'token_expires = "2026-12-10"\n'
    later = facebook("later", "2") + 'token_expires = "2027-03-01"\n'
    config = write_config(tmp_path, soon + later + facebook("never", "3"))
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    app = App(config, now=lambda: now)
    with responses.RequestsMock() as rsps:
        for page in ("1", "2", "3"):
            rsps.get(f"{GRAPH}/v23.0/{page}", json={"id": page, "name": "Brightwater Care"})
        from monitor.commands.check import check

        assert check(None, app) == 0  # type: ignore[arg-type]

    out = capsys.readouterr().out
    assert "    WARNING: access token expires 2026-12-11 (in 9 days); it cannot be renewed automatically" in out
    assert "    access token expires 2027-03-02 (in 90 days)" in out
    assert "NOT encrypted" in out
    notices = expiring_credentials(app.settings.accounts, app.connector, now)
    assert [(notice.account, notice.expires_at) for notice in notices] == [("soon", datetime(2026, 12, 11, tzinfo=UTC))]
    app.close()
