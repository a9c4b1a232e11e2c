"""``monitor consent check``: read the consent register and say what it allows today, or what is wrong with it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.app import App
from monitor.commands import add_command, config_option
from monitor.consent import ConsentRegisterError, Permission, load_register


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands, "consent", consent, "check the consent register for the organisation's posts", config_optional=True
    )
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate the register and count who may be named, pictured or quoted today",
        parents=[config_option(nested=True)],
    )
    check.add_argument("--register", metavar="PATH", type=Path, help="this file instead of the config's register")


def consent(args: argparse.Namespace, app: App) -> int:
    path = args.register or app.settings.own_posts.register_path(app.settings.config_dir)
    if path is None:
        print("No consent register: set [own_posts] consent_register in the config, or give --register PATH.")
        return 1
    try:
        register = load_register(path)
    except ConsentRegisterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    today = app.now().astimezone(app.settings.organisation.zone).date()
    print(f"{path}: {len(register.people)} people, no problems found")
    for kind in Permission:
        allowed = sum(1 for person in register.people if person.permission_on(kind, today) is None)
        print(f"  may be {kind.value} today: {allowed}")
    ended = [person for person in register.people if not person.in_effect(today)]
    if ended:
        print(f"  permission withdrawn, ended or not yet begun: {', '.join(person.name for person in ended)}")
    return 0
