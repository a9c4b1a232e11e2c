"""``monitor check``: validate the config, then one cheap authenticated call per account."""

from __future__ import annotations

import argparse

from connectors import AuthError, ConnectorError, RetryableError
from monitor.app import App
from monitor.commands import add_command
from monitor.secrets import redact


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(
        commands,
        "check",
        check,
        "validate the config and check each account can be reached with its credentials",
    )


def check(args: argparse.Namespace, app: App) -> int:
    settings = app.settings
    missing = settings.missing_secrets(settings.accounts, notify=True)
    if missing:
        print(f"{settings.config_path}: {len(missing)} secret(s) cannot be read:")
        for problem in missing:
            print(f"  {problem.removeprefix(f'{settings.config_path}: ')}")
    else:
        print(f"{settings.config_path}: configuration is valid ({len(settings.accounts)} accounts)")
    store = app.credentials
    where = "encrypted" if store.encrypted else "NOT encrypted: set [credentials] key to encrypt it"
    print(f"  renewed tokens are kept in {store.path} ({where})")
    problems = len(missing)
    for warning in settings.warnings:
        print(f"warning: {warning}")
    for account in settings.accounts:
        if settings.missing_secrets([account]):
            print(f"  {account.name} ({account.platform}): not checked; a secret it needs is missing (above)")
            continue
        connector = app.connector(account)
        try:
            seen = connector.check()
        except AuthError as exc:
            verdict = f"auth failed: {exc}"
        except RetryableError as exc:
            verdict = f"unreachable: {exc}"
        except ConnectorError as exc:
            verdict = f"error: {exc}"
        else:
            verdict = f"ok ({seen})"
            app.store.reset_auth_failure(account.name)
        problems += not verdict.startswith("ok")
        state = "" if account.enabled else " [disabled]"
        print(redact(f"  {account.name} ({account.platform}){state}: {verdict}"))
        expiry = connector.credential_expiry()
        if expiry is not None:
            warning = "WARNING: " if expiry.warning_due(app.now()) else ""
            print(f"    {warning}{expiry.describe(app.now())}")
    return 1 if problems else 0

