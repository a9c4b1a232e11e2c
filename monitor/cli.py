"""``monitor``: the command line. Each command lives in its own module under monitor.commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from monitor.app import App
from monitor.config import config_path_from
from monitor.errors import ConfigError, StoreError
from monitor.logging import configure as configure_logging
from monitor.secrets import redact

COMMAND_MODULES = (
    "demo",
    "run",
    "serve",
    "check",
    "auth",
    "health",
    "digest",
    "flags",
    "rules",
    "classify",
    "eval",
    "comments",
    "db",
    "consent",
)


def installed_version() -> str:
    try:
        return version("care-moderation-monitor")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Watches the organisation's own social media accounts and tells the General Manager "
        "about comments that need a response.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        import_module(f"monitor.commands.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    configure_logging()
    explicit = getattr(args, "config", None)
    optional = getattr(args, "config_optional", False) and explicit is None and not os.environ.get("MONITOR_CONFIG")
    app = App(config_path_from(explicit), config_optional=optional)
    try:
        return int(handler(args, app))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`monitor flags list | head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
