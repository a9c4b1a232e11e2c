"""The consent register: who gave the organisation permission to name, picture or quote them, and until when.

The operator keeps it as a CSV file (a spreadsheet export) or a TOML file.
CSV has a header row with these columns (only the first three are required):

    name, permission, given, ends, withdrawn, also_known_as, role

``permission`` is one or more of named, pictured, quoted (separated by ``;``
or ``+``); ``given``, ``ends`` and ``withdrawn`` are dates (YYYY-MM-DD);
``also_known_as`` lists other spellings and handles (``Maggie; @maggie.j``);
``role`` is ``service user``, ``staff``, ``family`` or ``other``. TOML has one
``[[person]]`` table per person with the same keys (lists as arrays).

Every problem is an error naming the file, the row (or entry) and the column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

COLUMNS = ("name", "permission", "given", "ends", "withdrawn", "also_known_as", "role")
REQUIRED = ("name", "permission", "given")
ROLES = ("service user", "staff", "family", "other")
_SEPARATORS = re.compile(r"[;+]")
_SPACES = re.compile(r"\s+")


class Permission(StrEnum):
    NAMED = "named"
    PICTURED = "pictured"
    QUOTED = "quoted"


class ConsentRegisterError(ConfigError):
    """The register cannot be read. The message names the file, the row and the problem."""


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    permissions: frozenset[Permission]
    given: date
    ends: date | None = None
    withdrawn: date | None = None
    also_known_as: tuple[str, ...] = ()
    role: str = "other"

    @property
    def keys(self) -> tuple[str, ...]:
        """Every way a post may name this person, folded for comparison."""
        return tuple(dict.fromkeys(fold(each) for each in (self.name, *self.also_known_as) if fold(each)))

    def permission_on(self, kind: Permission, day: date) -> str | None:
        """None when this person's permission of ``kind`` holds on ``day``; otherwise why not, in plain English."""
        if self.withdrawn is not None and self.withdrawn <= day:
            return f"withdrew their permission on {_plain_date(self.withdrawn)}"
        if self.given > day:
            return f"gave permission only from {_plain_date(self.given)}"
        if self.ends is not None and self.ends < day:
            return f"gave permission that ended on {_plain_date(self.ends)}"
        if kind not in self.permissions:
            given = " and ".join(sorted(self.permissions))
            return f"agreed to be {given}, not {kind.value}"
        return None

    def in_effect(self, day: date) -> tuple[str, ...]:
        return tuple(sorted(kind.value for kind in Permission if self.permission_on(kind, day) is None))


@dataclass(frozen=True, slots=True)
class ConsentRegister:
    path: Path | None
    people: tuple[Person, ...]

    def find(self, mention: str) -> Person | None:
        """The person a mention (a full name, another spelling, a handle or a first name alone) refers to."""
        wanted = fold(mention)
        if not wanted:
            return None
        for person in self.people:
            if wanted in person.keys:
                return person
        if " " not in wanted:
            by_first_name = [person for person in self.people if fold(person.name).split(" ")[0] == wanted]
            if len(by_first_name) == 1:
                return by_first_name[0]
        return None

    def fingerprint(self, day: date) -> str:
        """What the register allows on ``day``: it changes when an entry changes, is withdrawn or lapses."""
        state = sorted((person.keys, person.in_effect(day)) for person in self.people)
        return hashlib.sha256(json.dumps(state).encode()).hexdigest()

    def names_with_role(self, *roles: str) -> tuple[str, ...]:
        return tuple(person.name for person in self.people if person.role in roles)


def fold(text: str) -> str:
    """A name for comparison: case folded, without a leading @, spaces collapsed."""
    return _SPACES.sub(" ", text.strip().lstrip("@").replace(".", " ").replace("_", " ")).casefold().strip()


def load_register(path: Path) -> ConsentRegister:
    """Read and check the whole register; ConsentRegisterError on the first problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConsentRegisterError(f"{path}: the consent register does not exist") from None
    except OSError as exc:
        raise ConsentRegisterError(f"{path}: the consent register cannot be read ({exc.strerror})") from None
    if path.suffix.lower() == ".toml":
        people = _from_toml(path, raw)
    elif path.suffix.lower() == ".csv":
        people = _from_csv(path, raw)
    else:
        raise ConsentRegisterError(f"{path}: the consent register must be a .csv or a .toml file")
    _no_repeats(path, people)
    return ConsentRegister(path=path, people=tuple(person for _, person in people))


def _from_csv(path: Path, raw: bytes) -> list[tuple[str, Person]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # a UK spreadsheet export
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [column.strip().lower() for column in reader.fieldnames or []]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise ConsentRegisterError(f"{path}: row 1 (the header): column {missing[0]!r} is missing")
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        known = ", ".join(COLUMNS)
        raise ConsentRegisterError(f"{path}: row 1 (the header): unknown column {unknown[0]!r} (known: {known})")
    reader.fieldnames = header
    people: list[tuple[str, Person]] = []
    for row in reader:
        where = f"{path}: row {reader.line_num}"
        if None in row:
            raise ConsentRegisterError(f"{where}: more fields than the header")
        if not any((value or "").strip() for value in row.values()):
            continue
        values = {key: _split(value) if key in ("permission", "also_known_as") else value for key, value in row.items()}
        people.append((where, _person(where, values)))
    return people


def _from_toml(path: Path, raw: bytes) -> list[tuple[str, Person]]:
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConsentRegisterError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"person"})
    if extra:
        raise ConsentRegisterError(f"{path}: unknown key {extra[0]!r}; each person is a [[person]] table")
    entries = data.get("person", [])
    if not isinstance(entries, list):
        raise ConsentRegisterError(f"{path}: person: must be an array of tables ([[person]])")
    people: list[tuple[str, Person]] = []
    for index, entry in enumerate(entries):
        where = f"{path}: person[{index}]"
        if not isinstance(entry, Mapping):
            raise ConsentRegisterError(f"{where}: must be a table")
        unknown = sorted(set(entry) - set(COLUMNS))
        if unknown:
            raise ConsentRegisterError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(COLUMNS)})")
        people.append((where, _person(where, entry)))
    return people


def _person(where: str, values: Mapping[str, Any]) -> Person:
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConsentRegisterError(f"{where}, column 'name': required, the person's name")
    permissions = _permissions(where, values.get("permission"))
    given = _date(where, "given", values.get("given"), required=True)
    assert given is not None
    ends = _date(where, "ends", values.get("ends"))
    withdrawn = _date(where, "withdrawn", values.get("withdrawn"))
    if ends is not None and ends < given:
        raise ConsentRegisterError(f"{where}, column 'ends': {ends.isoformat()} is before 'given' ({given})")
    aliases = values.get("also_known_as") or []
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise ConsentRegisterError(f"{where}, column 'also_known_as': must be a list of names and handles")
    role = (values.get("role") or "other").strip().lower() if isinstance(values.get("role") or "", str) else None
    if role not in ROLES:
        raise ConsentRegisterError(f"{where}, column 'role': {values.get('role')!r} is not one of {', '.join(ROLES)}")
    return Person(
        name=_SPACES.sub(" ", name.strip()),
        permissions=permissions,
        given=given,
        ends=ends,
        withdrawn=withdrawn,
        also_known_as=tuple(alias.strip() for alias in aliases if alias.strip()),
        role=role,
    )


def _permissions(where: str, value: Any) -> frozenset[Permission]:
    words = value if isinstance(value, list) else []
    if not words or not all(isinstance(word, str) for word in words):
        raise ConsentRegisterError(
            f"{where}, column 'permission': required, one or more of {', '.join(kind.value for kind in Permission)}"
        )
    found: set[Permission] = set()
    for word in words:
        try:
            found.add(Permission(word.strip().lower()))
        except ValueError:
            known = ", ".join(kind.value for kind in Permission)
            raise ConsentRegisterError(
                f"{where}, column 'permission': {word.strip()!r} is not a kind of permission ({known})"
            ) from None
    return frozenset(found)


def _date(where: str, column: str, value: Any, required: bool = False) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ConsentRegisterError(f"{where}, column {column!r}: required, a date such as 2026-03-31")
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConsentRegisterError(
            f"{where}, column {column!r}: {value!r} is not a date; write it as YYYY-MM-DD (2026-03-31)"
        ) from None


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(value or "") if part.strip()]


def _no_repeats(path: Path, people: Iterable[tuple[str, Person]]) -> None:
    seen: dict[str, str] = {}
    for where, person in people:
        for key in person.keys:
            if key in seen:
                raise ConsentRegisterError(f"{where}: {key!r} is already used by {seen[key]}")
            seen[key] = where.removeprefix(f"{path}: ")


def _plain_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
