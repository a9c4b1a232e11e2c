"""The [notify] table: an absent table works, every key is checked, unknown keys are errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor import config
from monitor.errors import ConfigError
from monitor.notify.settings import NotifySettings


def test_defaults_need_no_table() -> None:
    settings = config.from_mapping({}).notify

    assert settings == NotifySettings()
    assert settings.alert_severities == ["urgent"]
    assert settings.alert_cap_per_hour == 10
    assert settings.reminder_after == timedelta(hours=24)
    assert settings.send_all_clear is False


def test_durations_are_written_the_way_people_write_them() -> None:
    settings = config.from_mapping({"notify": {"reminder_after": "2d", "retry_backoff": "500ms" if False else "1s"}})

    assert settings.notify.reminder_after == timedelta(days=2)
    assert settings.notify.retry_backoff == timedelta(seconds=1)


@pytest.mark.parametrize(
    ("notify", "message"),
    [
        ({"recipient": ["a@b.example"]}, "notify.recipient: unknown key"),
        ({"recipients": ["gm@x.example\r\nBcc: y@z"]}, "is not an email address"),
        ({"sender": "not an address"}, "notify.sender"),
        ({"reminder_after": "10m"}, "must be at least 1h"),
        ({"alert_severities": ["catastrophic"]}, "notify.alert_severities[0]"),
        ({"alert_cap_per_hour": 0}, "notify.alert_cap_per_hour"),
        ({"slack": {"url": "https://hooks.slack.com/services/x"}}, "secrets may not be written in the config"),
        ({"smtp": {"security": "tls"}}, "notify.smtp.security"),
    ],
)
def test_mistakes_name_the_key(notify: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.from_mapping({"notify": notify}, Path("config.toml"))

    assert message in str(caught.value)
