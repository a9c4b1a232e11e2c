"""The default rule packs shipped in monitor/filter/packs/*.toml (one per category) and the shared lists."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from monitor.filter.settings import RuleSettings

SHARED_LISTS_FILE = "lists"


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    rules: tuple[RuleSettings, ...]
    lists: dict[str, tuple[str, ...]]


def pack_source(name: str) -> str:
    """A shipped pack's TOML as written, comments and all."""
    return resources.files("monitor.filter").joinpath("packs", f"{name}.toml").read_text(encoding="utf-8")


def _read(name: str) -> Pack:
    data = tomllib.loads(pack_source(name))
    rules: list[RuleSettings] = []
    for index, rule in enumerate(data.get("rules", [])):
        try:
            rules.append(RuleSettings.model_validate(rule))
        except ValueError as exc:
            raise ValueError(f"pack {name}.toml rules[{index}]: {exc}") from exc
    lists = {key: tuple(values) for key, values in data.get("lists", {}).items()}
    return Pack(name, data.get("pack", {}).get("description", ""), tuple(rules), lists)


@cache
def load_packs() -> dict[str, Pack]:
    """Every shipped pack by name, except the shared lists file."""
    folder = resources.files("monitor.filter").joinpath("packs")
    names = sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".toml"))
    return {name: _read(name) for name in names if name != SHARED_LISTS_FILE}


@cache
def shared_lists() -> dict[str, tuple[str, ...]]:
    return _read(SHARED_LISTS_FILE).lists
