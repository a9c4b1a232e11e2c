"""What the Facebook Page and Instagram connectors share: Meta's Graph API.

Graph wraps its errors in an ``error`` object with a numeric code, sorted here
once into the three kinds, and reports how much of each quota the app has used
in usage headers, read here to space out the next poll. Every request carries
the access token, and an ``appsecret_proof`` when the app secret is known.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import requests
from pydantic import Field

from connectors.base import (
    AccountSettings,
    Connector,
    OverlapMinutes,
    RecheckState,
    classify_by_status,
    dig,
    time_or_none,
    trusted_watermark,
)
from connectors.errors import AuthError, ConnectorError, FatalError, GoneError, RetryableError
from connectors.http import describe, excerpt, retry_after_seconds
from connectors.pagination import NextUrl, Page, page_list
from connectors.versions import GRAPH_API_VERSION, GRAPH_VERSION_SETTING
from monitor.secrets import Secret

# Graph error codes, sorted once. Everything else is fatal (e.g. 100, bad parameter).
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, *range(80001, 80015)})
AUTH_CODES = frozenset({10, 102, 190, *range(200, 300)})
# Code 100 with this subcode: "Object with ID ... does not exist" (deleted, or never visible to us).
MISSING_OBJECT_SUBCODE = 33
DEPRECATED_CODE = 12  # "(#12) ... is deprecated for versions vX and higher"

PAGING = NextUrl(("paging", "next"))

USAGE_HEADERS = ("X-App-Usage", "X-Page-Usage", "X-Business-Use-Case-Usage")
USAGE_KEYS = ("call_count", "total_cputime", "total_time")
BUSY_PERCENT = 80.0
BUSY_DELAY = (300.0, 3600.0)  # seconds at 80% and at 100% usage


# Code 1 with this message: the same request fails again; ask for fewer records.
TOO_MUCH_DATA_CODE = 1
TOO_MUCH_DATA_TEXT = "reduce the amount of data"


class TooMuchDataError(FatalError):
    """Graph code 1, "Please reduce the amount of data you're asking for": retrying as it was cannot help.

    It is not retried by the HTTP layer; a connector that can ask for less does so.
    """


class GraphSettings(AccountSettings):
    """Keys every Graph API account has."""

    access_token: Secret
    app_secret: Secret | None = None
    api_version: str = Field(GRAPH_API_VERSION, pattern=r"^v\d+\.\d+$")
    lookback_days: int = Field(14, ge=1, le=365)
    overlap_minutes: OverlapMinutes = 15


class GraphConnector(Connector):
    """A connector on the Graph API: its authentication, its errors and its usage headers."""

    default_base_url: ClassVar[str] = "https://graph.facebook.com"

    settings: GraphSettings

    def auth_params(self) -> dict[str, str]:
        if self.settings.access_token is None:
            return {}  # Instagram Login with the token from `monitor auth`: set on first use
        token = self.settings.access_token.reveal()
        params = {"access_token": token}
        if self.settings.app_secret is not None:
            params["appsecret_proof"] = appsecret_proof(token, self.settings.app_secret.reveal())
        return params

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        if response.status_code < 400:
            return None
        error = graph_error(response)
        if error is None:
            return classify_by_status(response)
        code = error.get("code")
        message = f"{describe(response)} failed ({response.status_code}): {describe_graph_error(error)}"
        if code in AUTH_CODES:
            return AuthError(message)
        if code == DEPRECATED_CODE:
            return AuthError(
                f"{message}; set {GRAPH_VERSION_SETTING} on this account to a version Meta still supports "
                f"(this release's default is {GRAPH_API_VERSION})"
            )
        if code == 100 and error.get("error_subcode") == MISSING_OBJECT_SUBCODE:
            return GoneError(message)
        if code == TOO_MUCH_DATA_CODE and TOO_MUCH_DATA_TEXT in str(error.get("message") or "").lower():
            return TooMuchDataError(message)
        if (
            code in RETRYABLE_CODES
            or error.get("is_transient") is True
            or response.status_code == 429
            or response.status_code >= 500
        ):
            return RetryableError(message, retry_after_seconds(response) or regain_seconds(response))
        return FatalError(message)

    def rate_limit_delay(self, response: requests.Response) -> float | None:
        regain = regain_seconds(response)
        if regain:
            return regain
        percent = usage_percent(response)
        if percent < BUSY_PERCENT:
            return None
        low, high = BUSY_DELAY
        share = min(1.0, (percent - BUSY_PERCENT) / (100.0 - BUSY_PERCENT))
        return low + share * (high - low)

    recheck_batch: ClassVar[int] = 1
    # The field that says a comment is hidden ("is_hidden" on Facebook, "hidden" on Instagram).
    hidden_field: ClassVar[str] = "is_hidden"

    def recheck(self, external_ids: Sequence[str]) -> dict[str, RecheckState]:
        """One request per comment (Graph answers a multi-id request with an error when any id is gone)."""
        self._authorise()
        states: dict[str, RecheckState] = {}
        for comment_id in external_ids:
            if not comment_id.replace("_", "").isdigit():
                continue  # an id made up from the text: Graph cannot be asked about it
            try:
                body = self.http.get_json(self._path(comment_id), {"fields": f"id,{self.hidden_field}"})
            except GoneError:
                states[comment_id] = "deleted"
                continue
            except FatalError:
                continue
            states[comment_id] = "hidden" if dig(body, self.hidden_field) is True else "present"
        return states

    def _authorise(self) -> None:
        """Make sure the current token is on the session (a connector that renews tokens overrides this)."""

    def _path(self, tail: str) -> str:
        return f"{self.settings.api_version}/{tail}"

    def _watermark_and_cutoff(
        self, bookmark: Mapping[str, Any] | None, started: datetime, notes: list[str]
    ) -> tuple[datetime | None, datetime]:
        """The stored watermark, and the time to read comments from.

        That is a small overlap behind the watermark, or ``lookback_days`` back on
        a first poll or when the stored watermark cannot be trusted.
        """
        value = bookmark.get("since") if bookmark else None
        watermark = trusted_watermark(time_or_none(value) if value else None, started, notes)
        if watermark is None:
            return None, started - timedelta(days=self.settings.lookback_days)
        return watermark, watermark - timedelta(minutes=self.settings.overlap_minutes)


def appsecret_proof(token: str, app_secret: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def records_of(body: Any) -> list[Any]:
    """The records in an embedded Graph list's ``data``; Graph leaves out an embedded list that is empty."""
    data = body.get("data") if isinstance(body, Mapping) else None
    return data if isinstance(data, list) else []


def page_records(page: Page) -> list[Any]:
    return page_list(page, "data")


def graph_error(response: requests.Response) -> Mapping[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else None


def describe_graph_error(error: Mapping[str, Any]) -> str:
    code = error.get("code")
    subcode = error.get("error_subcode")
    kind = f"{error.get('type') or 'GraphError'} code {code}" + (f"/{subcode}" if subcode else "")
    message = excerpt(error.get("message") or "no message", 300)
    trace = f" (fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else ""
    return f"{kind}: {message}{trace}"


def regain_seconds(response: requests.Response) -> float | None:
    """``estimated_time_to_regain_access`` (minutes) from the usage headers, in seconds."""
    minutes = [
        entry["estimated_time_to_regain_access"]
        for entry in _usage_entries(response)
        if isinstance(entry.get("estimated_time_to_regain_access"), int | float)
    ]
    return max(minutes) * 60.0 if minutes and max(minutes) > 0 else None


def usage_percent(response: requests.Response) -> float:
    """The highest share of any quota the usage headers report, in percent."""
    values = [
        float(entry[key])
        for entry in _usage_entries(response)
        for key in USAGE_KEYS
        if isinstance(entry.get(key), int | float)
    ]
    return max(values, default=0.0)


def _usage_entries(response: requests.Response) -> Iterator[Mapping[str, Any]]:
    for header in USAGE_HEADERS:
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            yield from _entries_in(json.loads(raw))
        except ValueError:
            continue


def _entries_in(value: Any) -> Iterator[Mapping[str, Any]]:
    """X-App-Usage is one object; X-Business-Use-Case-Usage maps business ids to lists of them."""
    if isinstance(value, Mapping):
        if any(key in value for key in (*USAGE_KEYS, "estimated_time_to_regain_access")):
            yield value
        else:
            for inner in value.values():
                yield from _entries_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _entries_in(inner)
