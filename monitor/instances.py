"""Who a running instance is, and whether the instance that holds a lease is still running.

An instance's name is ``host:pid:token``. On the same host a lease holder is
known to be dead when its process is gone, or when its pid is now this
process's (a container restarted under the same pid) with another token.
Holders on other hosts cannot be checked; their leases expire as before.
"""

from __future__ import annotations

import os
import secrets
import socket


def new_instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def is_dead(owner: str, me: str | None = None) -> bool:
    """True only when ``owner`` certainly no longer runs: same host, and its process gone."""
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or owner == me:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # this process is not that instance: its name has another token
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user runs under that pid
    return not _is_monitor(pid)


def _is_monitor(pid: int) -> bool:
    """Whether the process under ``pid`` is a monitor at all (a pid may have been reused since)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return b"monitor" in stream.read()
    except OSError:
        return True  # cannot tell: assume it is alive
