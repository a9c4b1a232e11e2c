"""A throwaway PostgreSQL server for the store tests, started from the installed server binaries.

MONITOR_TEST_POSTGRES_URL, when set, names a server to use instead. Otherwise the first test that
asks starts one in a temporary folder on a free loopback port; it is stopped when the run ends.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

_started: dict[str, str] = {}


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, or the PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its commands as the postgres user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def start_throwaway() -> str:
    """Start a server once per test run and return a URL to a fresh database on it; raise why not."""
    if "url" in _started:
        return _started["url"]
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no postgres user to run the server as") from None
    folder = Path(tempfile.mkdtemp(prefix="monitor-test-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    pg_ctl = str(binaries / "pg_ctl")
    _run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]))
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(_as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]))
    atexit.register(_stop, pg_ctl, data, folder)
    _run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "monitor_test"])
    _started["url"] = f"postgresql+psycopg://postgres@127.0.0.1:{port}/monitor_test"
    return _started["url"]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        program = next(Path(part).name for part in command if part.startswith("/") or part == "createdb")
        raise OSError(f"{program} failed: {done.stderr.strip()}")


def _stop(pg_ctl: str, data: Path, folder: Path) -> None:
    stop = _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"])
    subprocess.run(stop, check=False, capture_output=True, timeout=60)
    shutil.rmtree(folder, ignore_errors=True)
