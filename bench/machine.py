"""What the benchmarks ran on, printed by every one of them."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> str:
    """One line: operating system, CPU model and count, memory, Python version, and how busy it is now."""
    return (
        f"{platform.system()} {platform.release()} ({platform.machine()}); "
        f"CPU {_cpu_model()} x{os.cpu_count() or '?'}; "
        f"memory {_memory_gib()}; "
        f"Python {platform.python_version()} ({platform.python_implementation()}); "
        f"load average {_load()}"
    )


def _cpu_model() -> str:
    for line in _lines("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    for line in _lines("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


if __name__ == "__main__":
    print(describe())
