"""Secrets come from environment variables or files, never from the TOML.

In the config a secret is written as ``{ env = "NAME" }`` or ``{ file = "/path" }``.
Resolving it registers the value so the logging chain can redact it wherever
it appears.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

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

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source
        if len(value) >= 4:
            _known_values.add(value)

    def reveal(self) -> str:
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
                raise ValueError(f"environment variable {name} is not set")
            return cls(value.strip(), f"${name}")
        path = Path(str(reference["file"]))
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
        if not value:
            raise ValueError(f"secret file {path} is empty")
        return cls(value, str(path))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.resolve, serialization=core_schema.plain_serializer_function_ser_schema(repr)
        )
