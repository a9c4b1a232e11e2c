"""Secrets come from environment variables or files, never from the TOML.

In the config a secret is written as ``{ env = "NAME" }`` or ``{ file = "/path" }``.
Resolving it registers the value so the logging chain can redact it wherever
it appears. A secret that cannot be read yet is kept with the reason, so a
command that does not need it (``flags list``, ``rules test``) still runs;
commands that do need it ask for every missing one at once (``unresolved``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema

from monitor.errors import ConfigError

_known_values: set[str] = set()


def known_secret_values() -> frozenset[str]:
    return frozenset(_known_values)


def redact(text: str) -> str:
    """Replace every resolved secret value in ``text`` with ``[REDACTED]``."""
    for value in _known_values:
        if value and value in text:
            text = text.replace(value, "[REDACTED]")
    return text


class Secret:
    """A resolved secret. ``str()`` and ``repr()`` never show the value."""

    __slots__ = ("_value", "problem", "source")

    def __init__(self, value: str, source: str, problem: str | None = None) -> None:
        self._value = value
        self.source = source
        self.problem = problem
        if len(value) >= 4:
            _known_values.add(value)

    @classmethod
    def unavailable(cls, source: str, problem: str) -> Secret:
        return cls("", source, problem)

    def reveal(self) -> str:
        if self.problem is not None:
            raise ConfigError(f"secret from {self.source} is needed now: {self.problem}")
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def resolve(cls, reference: Any) -> Secret:
        if isinstance(reference, Secret):
            return reference
        if isinstance(reference, str):
            raise ValueError(
                'secrets may not be written in the config; use { env = "VAR" } or { file = "/path" }'
            )
        if not isinstance(reference, dict) or set(reference) not in ({"env"}, {"file"}):
            raise ValueError('expected { env = "VAR" } or { file = "/path" }')
        if "env" in reference:
            name = str(reference["env"])
            value = os.environ.get(name)
            if value is None or value == "":
                return cls.unavailable(f"${name}", f"environment variable {name} is not set")
            return cls(value.strip(), f"${name}")
        path = Path(str(reference["file"]))
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            return cls.unavailable(str(path), f"cannot read secret file {path}: {exc.strerror}")
        except UnicodeDecodeError:
            return cls.unavailable(str(path), f"secret file {path} is not UTF-8 text")
        if not value:
            return cls.unavailable(str(path), f"secret file {path} is empty")
        return cls(value, str(path))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.resolve, serialization=core_schema.plain_serializer_function_ser_schema(repr)
        )


def unresolved(model: BaseModel, key: str) -> list[str]:
    """``key.field: problem`` for every secret in ``model`` (and the models inside it) that cannot be read."""
    problems: list[str] = []
    for name in type(model).model_fields:
        problems += _unresolved_in(getattr(model, name), f"{key}.{name}" if key else name)
    return problems


def _unresolved_in(value: Any, key: str) -> list[str]:
    if isinstance(value, Secret):
        return [f"{key}: {value.problem}"] if value.problem else []
    if isinstance(value, BaseModel):
        return unresolved(value, key)
    if isinstance(value, list | tuple):
        return [problem for index, item in enumerate(value) for problem in _unresolved_in(item, f"{key}[{index}]")]
    if isinstance(value, dict):
        return [problem for name, item in value.items() for problem in _unresolved_in(item, f"{key}.{name}")]
    return []
