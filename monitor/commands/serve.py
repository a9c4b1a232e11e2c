"""``monitor serve``: the review page alone (``monitor run`` serves it too)."""

from __future__ import annotations

import argparse
import signal

from monitor.app import App
from monitor.commands import add_command
from monitor.logging import get_logger
from monitor.web.server import server_for


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(commands, "serve", serve, "serve the review page the emails link to, without polling")


def serve(args: argparse.Namespace, app: App) -> int:
    server = server_for(app)
    get_logger(component="review").info("review page listening", host=server.host, port=server.port)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    return 0
