"""Access tokens that expire: where renewed ones are kept, and when to renew or warn.

A platform that lets an app renew its own token (Google's refresh tokens for
YouTube, Instagram's long-lived token refresh, LinkedIn's refresh tokens) has
the renewed token written to a credential store: a file the operator names,
encrypted with a Fernet key from the environment when one is set (``[credentials]``
in the config). A token from the config is used until the store holds a newer
one for the same configured token; when the operator puts a different token in
the config, the stored one is forgotten.

Where no renewal is possible, ``CredentialExpiry`` says when the token dies, so
``monitor check``, the log and the digest can tell the operator in time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from connectors.errors import AuthError
from monitor.secrets import Secret

# The operator is warned this long before a token that the monitor cannot renew expires.
WARN_AHEAD = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class TokenState:
    """One account's current token, what it was renewed from, and when each part expires."""

    access_token: Secret
    expires_at: datetime | None = None
    refresh_token: Secret | None = None
    refresh_expires_at: datetime | None = None
    obtained_at: datetime | None = None
    configured: str = ""  # fingerprint of the config's token this state descends from

    def as_record(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token.reveal(),
            "expires_at": _iso(self.expires_at),
            "refresh_token": self.refresh_token.reveal() if self.refresh_token is not None else None,
            "refresh_expires_at": _iso(self.refresh_expires_at),
            "obtained_at": _iso(self.obtained_at),
            "configured": self.configured,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], account: str) -> TokenState:
        refresh = record.get("refresh_token")
        return cls(
            access_token=Secret(str(record["access_token"]), f"credential store ({account})"),
            expires_at=time_or_none(record.get("expires_at")),
            refresh_token=Secret(str(refresh), f"credential store ({account})") if refresh else None,
            refresh_expires_at=time_or_none(record.get("refresh_expires_at")),
            obtained_at=time_or_none(record.get("obtained_at")),
            configured=str(record.get("configured") or ""),
        )


@dataclass(frozen=True, slots=True)
class CredentialExpiry:
    """When an account's credentials stop working, and whether the monitor renews them itself."""

    expires_at: datetime
    what: str  # "access token", "refresh token", ...
    renewed_automatically: bool

    def warning_due(self, now: datetime, ahead: timedelta = WARN_AHEAD) -> bool:
        return not self.renewed_automatically and self.expires_at - now <= ahead

    def describe(self, now: datetime) -> str:
        day = self.expires_at.date().isoformat()
        if self.renewed_automatically:
            return f"{self.what} expires {day}; renewed automatically before then"
        days = (self.expires_at - now).days
        if days < 0:
            return f"{self.what} expired on {day}; renew it (monitor auth ACCOUNT)"
        return f"{self.what} expires {day} (in {days} days); it cannot be renewed automatically, renew it before then"


def fingerprint(token: Secret | None) -> str:
    """A short one-way mark of a token, so the store knows which configured token it renewed."""
    if token is None:
        return ""
    return hashlib.sha256(token.reveal().encode()).hexdigest()[:16]


class CredentialStore(Protocol):
    def load(self, account: str) -> TokenState | None: ...

    def save(self, account: str, state: TokenState) -> None: ...


class MemoryCredentialStore:
    """Kept for the life of the process only (tests, and accounts with nothing to renew)."""

    def __init__(self) -> None:
        self._states: dict[str, TokenState] = {}

    def load(self, account: str) -> TokenState | None:
        return self._states.get(account)

    def save(self, account: str, state: TokenState) -> None:
        self._states[account] = state


class CredentialStoreError(Exception):
    """The credential file cannot be read (wrong key, damaged) or written."""


class FileCredentialStore:
    """Every account's renewed token in one file, readable by its owner only.

    With a key (a Fernet key, from the environment) the file is encrypted;
    without one it is JSON, and ``encrypted`` says so for ``monitor check``.
    Writes go to a temporary file that replaces the old one, so a crash never
    leaves half a file.
    """

    def __init__(self, path: Path, key: Secret | None = None) -> None:
        self.path = path
        self._fernet = _fernet(key) if key is not None else None
        self._lock = threading.Lock()

    @property
    def encrypted(self) -> bool:
        return self._fernet is not None

    def load(self, account: str) -> TokenState | None:
        with self._lock:
            record = self._read().get(account)
        return TokenState.from_record(record, account) if isinstance(record, Mapping) else None

    def save(self, account: str, state: TokenState) -> None:
        with self._lock:
            records = self._read()
            records[account] = state.as_record()
            self._write(records)

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CredentialStoreError(f"cannot read the credential store {self.path}: {exc.strerror}") from None
        if self._fernet is not None:
            from cryptography.fernet import InvalidToken

            try:
                raw = self._fernet.decrypt(raw)
            except InvalidToken:
                raise CredentialStoreError(
                    f"the credential store {self.path} cannot be decrypted with [credentials] key "
                    "(a different key, or a damaged file)"
                ) from None
        try:
            records = json.loads(raw)
        except ValueError:
            raise CredentialStoreError(f"the credential store {self.path} is damaged (not JSON)") from None
        return records if isinstance(records, dict) else {}

    def _write(self, records: Mapping[str, Any]) -> None:
        raw = json.dumps(records, sort_keys=True).encode()
        if self._fernet is not None:
            raw = self._fernet.encrypt(raw)
        temporary = self.path.with_name(self.path.name + ".new")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            raise CredentialStoreError(f"cannot write the credential store {self.path}: {exc.strerror}") from None


def _fernet(key: Secret) -> Any:
    from cryptography.fernet import Fernet

    try:
        return Fernet(key.reveal().encode())
    except ValueError:
        raise CredentialStoreError(
            "[credentials] key is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with `monitor auth --new-key`"
        ) from None


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


Renew = Callable[[TokenState], TokenState]


class TokenKeeper:
    """One account's token: from the store when it holds a renewal of the configured one, renewed in time.

    A token is renewed once less than ``min(lifetime / 2, margin)`` of it is
    left (the lifetime being from when it was obtained to when it expires), and
    never sooner than ``min_age`` after it was obtained (Instagram refuses to
    renew a token less than a day old). A token whose expiry is unknown is
    renewed once it is ``min_age`` old, which tells us its expiry.
    """

    def __init__(
        self,
        account: str,
        store: CredentialStore,
        configured: TokenState,
        renew: Renew | None,
        now: Callable[[], datetime],
        *,
        margin: timedelta,
        min_age: timedelta = timedelta(0),
    ) -> None:
        self.account = account
        self.store = store
        self.renew = renew
        self.now = now
        self.margin = margin
        self.min_age = min_age
        stored = store.load(account)
        if stored is not None and stored.configured == configured.configured:
            self.state = stored
        else:
            # First sight of this token: remember when, as the clock for renewing one of unknown expiry.
            self.state = replace(configured, obtained_at=configured.obtained_at or now())
            if renew is not None and configured.access_token.reveal():
                store.save(account, self.state)

    @property
    def renewable(self) -> bool:
        return self.renew is not None

    def due(self) -> bool:
        if self.renew is None:
            return False
        state, now = self.state, self.now()
        if not state.access_token.reveal():
            return True
        obtained = state.obtained_at or now
        if now - obtained < self.min_age:
            return False
        if state.expires_at is None:
            return True
        lifetime = state.expires_at - obtained
        return state.expires_at - now <= min(lifetime / 2, self.margin)

    def current(self) -> Secret:
        """The access token to use now, renewed first when it is due."""
        if self.due():
            assert self.renew is not None
            renewed = self.renew(self.state)
            obtained = renewed.obtained_at or self.now()
            self.state = replace(renewed, configured=self.state.configured, obtained_at=obtained)
            self.store.save(self.account, self.state)
        if not self.state.access_token.reveal():
            raise AuthError(f"no access token for {self.account}: run `monitor auth {self.account}`")
        return self.state.access_token

    def expiry(self) -> CredentialExpiry | None:
        """The first expiry the monitor cannot get past by itself, else when the current token expires."""
        state = self.state
        if self.renew is None:
            return CredentialExpiry(state.expires_at, "access token", False) if state.expires_at else None
        if state.refresh_expires_at is not None:
            return CredentialExpiry(state.refresh_expires_at, "refresh token", False)
        if state.expires_at is not None:
            return CredentialExpiry(state.expires_at, "access token", True)
        return None


def time_or_none(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
