"""The command contract: each module here has ``register(commands)``.

``register`` adds its subparser(s) with ``add_command`` and each handler is
called as ``handler(args, app) -> exit code``. ``app`` (monitor.app.App)
builds settings, store and classifier on first use, so a command that needs
none of them (``--help``) loads nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.app import App

Handler = Callable[[argparse.Namespace, "App"], int]


def add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    help: str,
    description: str | None = None,
    *,
    config_optional: bool = False,
) -> argparse.ArgumentParser:
    """Add a command. ``config_optional``: without a config file it runs on the defaults."""
    parser = commands.add_parser(
        name,
        help=help,
        description=description or help,
        parents=[config_option()],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler, config_optional=config_optional)
    return parser


def config_option(nested: bool = False) -> argparse.ArgumentParser:
    """``--config``. ``nested``: for a command's own subcommands, so that either place may give it."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS if nested else None,
        help="the configuration file (default: $MONITOR_CONFIG, else ./config.toml)",
    )
    return parent
