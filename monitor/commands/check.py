"""``monitor check``: validate the config, then one cheap authenticated call per account."""

from __future__ import annotations

import argparse

from connectors import AuthError, ConnectorError, RetryableError
from monitor.app import App
from monitor.commands import add_command


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(
        commands,
        "check",
        check,
        "validate the config and check each account can be reached with its credentials",
    )


def check(args: argparse.Namespace, app: App) -> int:
    settings = app.settings
    print(f"{settings.config_path}: configuration is valid ({len(settings.accounts)} accounts)")
    for warning in settings.warnings:
        print(f"warning: {warning}")
    problems = 0
    for account in settings.accounts:
        try:
            seen = app.connector(account).check()
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
        print(f"  {account.name} ({account.platform}){state}: {verdict}")
    return 1 if problems else 0

