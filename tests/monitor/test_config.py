from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor import config
from monitor.errors import ConfigError
from tests.conftest import PROJECT_ROOT

FACEBOOK = """
[[accounts]]
name = "page"
platform = "facebook"
page_id = "123"
access_token = { env = "TEST_FB_TOKEN" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        config.load(write(tmp_path, text))
    return str(caught.value)


def test_an_empty_file_gives_working_defaults(tmp_path: Path) -> None:
    settings = config.load(write(tmp_path, ""))
    assert settings.accounts == []
    assert settings.organisation.timezone == "Europe/London"
    assert settings.database_url == f"sqlite:///{(tmp_path / 'monitor.db').resolve()}"


def test_account_gets_default_schedule_and_its_connector_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_FB_TOKEN", "EAAB-token-value")
    settings = config.load(write(tmp_path, '[polling]\npoll_interval = "2m"\n' + FACEBOOK + 'jitter = "5s"\n'))
    (account,) = settings.accounts
    assert account.poll_interval == timedelta(minutes=2)
    assert account.jitter == timedelta(seconds=5)
    assert account.connector.page_id == "123"  # type: ignore[attr-defined]
    assert account.connector.access_token.reveal() == "EAAB-token-value"  # type: ignore[attr-defined]
    assert "EAAB-token-value" not in repr(settings)


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, "[organisaton]\nname = 'x'\n")
    assert f"{tmp_path / 'config.toml'}: organisaton: unknown key" in message


def test_unknown_account_key_names_the_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_FB_TOKEN", "x" * 10)
    message = error_for(tmp_path, FACEBOOK + 'page_idd = "1"\n')
    assert "accounts[0] (page).page_idd: unknown key" in message


def test_unset_environment_variable_is_named_when_the_account_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_FB_TOKEN", raising=False)
    settings = config.load(write(tmp_path, FACEBOOK))
    settings.require_secrets()
    with pytest.raises(ConfigError) as caught:
        settings.require_secrets(settings.accounts)
    assert "accounts[0] (page).access_token: environment variable TEST_FB_TOKEN is not set" in str(caught.value)


def test_every_missing_secret_is_named_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEST_FB_TOKEN", "TEST_X_TOKEN", "TEST_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    x_account = (
        '\n[[accounts]]\nname = "tweets"\nplatform = "x"\nuser_id = "9"\nusername = "brightwater"\n'
        'bearer_token = { env = "TEST_X_TOKEN" }\n'
    )
    smtp = '[notify.smtp]\npassword = { env = "TEST_SMTP_PASSWORD" }\n'
    settings = config.load(write(tmp_path, smtp + FACEBOOK + x_account))
    path = tmp_path / "config.toml"
    assert settings.missing_secrets(settings.accounts, notify=True) == [
        f"{path}: notify.smtp.password: environment variable TEST_SMTP_PASSWORD is not set",
        f"{path}: accounts[0] (page).access_token: environment variable TEST_FB_TOKEN is not set",
        f"{path}: accounts[1] (tweets).bearer_token: environment variable TEST_X_TOKEN is not set",
    ]


def test_a_missing_secret_is_never_sent_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_FB_TOKEN", raising=False)
    settings = config.load(write(tmp_path, FACEBOOK))
    token = settings.accounts[0].connector.access_token  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="environment variable TEST_FB_TOKEN is not set"):
        token.reveal()


def test_a_secret_written_into_the_file_is_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, FACEBOOK.replace('{ env = "TEST_FB_TOKEN" }', '"EAABplain"'))
    assert "access_token: secrets may not be written in the config" in message
    assert "EAABplain" not in message


def test_secret_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-a-file-123\n")
    settings = config.load(write(tmp_path, FACEBOOK.replace('env = "TEST_FB_TOKEN"', f'file = "{secret}"')))
    assert settings.accounts[0].connector.access_token.reveal() == "from-a-file-123"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[polling]\npoll_interval = "5 minutes"\n', "polling.poll_interval: '5 minutes' is not a duration"),
        ('[polling]\npoll_interval = "2s"\n', "polling.poll_interval: must be at least 10s"),
        ('[notify]\ndigest_schedule = "0 25 * * *"\n', "notify.digest_schedule"),
        ('[organisation]\ntimezone = "Europe/Londn"\n', "organisation.timezone: unknown time zone"),
        ('[database]\nurl = "postgresql://u:pw@host/db"\n', "database.url: a database URL with a password"),
        ("[notify]\nrecipients = ['not an address']\n", "notify.recipients"),
        ("[[accounts]]\nname = 'a'\nplatform = 'myspace'\n", "accounts[0] (a).platform: unknown platform 'myspace'"),
        ("[[accounts]]\nplatform = 'file'\npath = 'x'\n", "accounts[0].name: required"),
        ("accounts = 3\n", "accounts: must be an array of tables"),
        ("[organisation\n", "not valid TOML"),
        ("[filter.model.categories.hate]\nthreshold = 2\n", "filter.model.categories.hate.threshold"),
        ("[filter.model.categories.gossip]\nthreshold = 0.5\n", "filter.model.categories.gossip"),
        ('[filter.accounts.page.model]\nenabled = "yes please"\n', "filter.accounts.page.model.enabled"),
    ],
)
def test_each_mistake_names_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_for(tmp_path, text)


def test_a_check_across_keys_names_its_key_once(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[notify]\ndigest_schedule = "0 25 * * *"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: notify.digest_schedule: ")
    assert ": : " not in message


def test_a_missing_protected_names_file_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[filter]\nprotected_names_file = "people.txt"\n')
    assert f"filter.protected_names_file: file '{tmp_path / 'people.txt'}' does not exist" in message


def test_duplicate_account_names(tmp_path: Path) -> None:
    one = "[[accounts]]\nname = 'same'\nplatform = 'file'\npath = 'comments.jsonl'\n"
    assert "names must be unique; repeated: same" in error_for(tmp_path, one + one)


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"copy config\.example\.toml"):
        config.load(tmp_path / "absent.toml")


def test_database_url_from_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", "sqlite:////data/monitor.db")
    assert config.load(write(tmp_path, "")).database_url == "sqlite:////data/monitor.db"


def test_the_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """config.example.toml must load once the secrets it names are set."""
    example = PROJECT_ROOT / "config.example.toml"
    for name in _env_names(example.read_text()):
        monkeypatch.setenv(name, f"example-value-for-{name.lower()}")
    settings = config.load(example)
    platforms = {account.platform for account in settings.accounts}
    assert {"facebook", "instagram", "youtube", "x", "linkedin", "mastodon", "bluesky", "wordpress"} <= platforms


def _env_names(text: str) -> set[str]:
    import re

    return set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', text))


def test_a_file_accounts_relative_path_is_read_beside_the_config(tmp_path: Path) -> None:
    account = "[[accounts]]\nname = 'import'\nplatform = 'file'\npath = 'exports/a.jsonl'\n"
    settings = config.load(write(tmp_path, account))
    assert settings.accounts[0].connector.path == tmp_path / "exports" / "a.jsonl"  # type: ignore[attr-defined]


SMTP_LOGIN = """
[notify]
recipients = ["gm@example.org"]
[notify.smtp]
host = "mail.example.org"
port = 25
security = "none"
username = { env = "TEST_SMTP_USER" }
password = { env = "TEST_SMTP_PASSWORD" }
"""


def test_m7_a_login_over_an_unencrypted_connection_is_refused_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_USER", "digest-sender")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "hunter2-long")
    message = error_for(tmp_path, SMTP_LOGIN)
    assert "notify.smtp: allow_plaintext_auth:" in message and "unencrypted" in message
    assert "hunter2-long" not in message
    allowed = config.load(write(tmp_path, SMTP_LOGIN + "allow_plaintext_auth = true\n"))
    assert allowed.notify.smtp.allow_plaintext_auth is True


def test_l3_a_password_smtp_cannot_send_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_USER", "digest-sender")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "pässwörd-long")
    message = error_for(tmp_path, SMTP_LOGIN.replace('"none"', '"starttls"'))
    assert "notify.smtp.password" in message and "ASCII" in message
    assert "pässwörd" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[polling]\npoll_interval = "99999999999999999d"\n', "poll_interval: '99999999999999999d' is too long"),
        ("[notify.smtp]\ntimeout = inf\n", "notify.smtp.timeout"),
        ('[database]\nurl = "postgresql+psycopg://monitor@db.example.org:notaport/monitor"\n', "database.url"),
        ('[database]\nurl = "postgresql+psycopg://monitor@db.example.org:99999/monitor"\n', "database.url"),
        ('[notify]\ndigest_schedule = "0 8 31 2 *"\n', "never fires"),
    ],
)
def test_l3_bad_values_are_clear_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_for(tmp_path, text)


def test_l3_a_config_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[organisation]\nname = "Caf\xe9 Care"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        config.load(path)


def test_l3_a_config_path_that_is_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        config.load(tmp_path)


def test_l3_a_bad_database_url_from_the_environment_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://monitor@db:port/monitor")
    settings = config.load(write(tmp_path, ""))
    with pytest.raises(ConfigError, match="MONITOR_DATABASE_URL"):
        _ = settings.database_url


@pytest.mark.parametrize("host", ["0.0.0.0", "::", ""])
def test_metrics_on_every_interface_gives_a_warning(tmp_path: Path, host: str) -> None:
    from monitor import metrics

    if not metrics.available():
        pytest.skip("prometheus-client is not installed")
    settings = config.load(write(tmp_path, f'[metrics]\nenabled = true\nhost = "{host}"\n'))
    assert any("metrics.host" in warning and "every network interface" in warning for warning in settings.warnings)
    assert config.load(write(tmp_path, "[metrics]\nenabled = true\n")).warnings == []


def test_l3_a_database_that_cannot_be_reached_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor import app, cli
    from tests.smtp import free_port

    for module in (app, cli):  # keep the logging set up by other tests
        monkeypatch.setattr(module, "configure_logging", lambda *args, **kwargs: None)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    url = f"postgresql+psycopg://monitor@127.0.0.1:{free_port()}/monitor?connect_timeout=2"
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    assert cli.main(["health", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the database: database error: OperationalError:")
    assert "Traceback" not in err
