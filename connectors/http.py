"""The one request loop every connector uses.

It owns timeouts, retries with exponential backoff and jitter, Retry-After,
the platform's own cooldown hints, and error messages that never carry a
query string (where tokens travel). Which responses are errors, and of what
kind, is the connector's declaration (``classify_error``).

Every request has a total deadline, body included, so a platform that sends
one byte a second cannot hold a poll; a body is read up to a size limit; and
credentials go only to the platform's own host, so a next-page link pointing
elsewhere is refused. No wait a platform asks for exceeds ``MAX_WAIT_SECONDS``.
"""

from __future__ import annotations

import contextlib
import email.utils
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from connectors.errors import MAX_WAIT_SECONDS, ConnectorError, FatalError, RetryableError
from monitor.secrets import redact

# A request, body included, that takes longer than this fails (and is not retried until the next poll).
DEADLINE_SECONDS = 60.0
# A body larger than this is not read: an error for the account, not memory growth.
MAX_BODY_BYTES = 32 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
# How often a request in flight looks whether the service is stopping.
INTERRUPT_CHECK_SECONDS = 0.25

USER_AGENT = "care-moderation-monitor/0.1 (+https://example.invalid/monitor)"

ClassifyError = Callable[[requests.Response], ConnectorError | None]
RateLimitDelay = Callable[[requests.Response], float | None]


class DeadlineError(RetryableError):
    """The request did not finish within its deadline: the platform is too slow to wait for in this poll."""


class TooLargeError(FatalError):
    """The response body is larger than the limit."""


class StoppingError(ConnectorError):
    """The service is stopping: the request in flight, or the wait before a retry, was abandoned."""


def strip_query(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


def excerpt(text: object, limit: int) -> str:
    """Platform text for an error message: secrets redacted first, then cut, so no part of one survives the cut."""
    return redact(str(text))[:limit]


def describe(response: requests.Response) -> str:
    """``GET host/path`` without the query string."""
    request = response.request
    method = request.method if request is not None and request.method else "GET"
    url = request.url if request is not None and request.url else response.url
    return f"{method} {strip_query(url or '')}"


def retry_after_seconds(response: requests.Response, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT_SECONDS)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(MAX_WAIT_SECONDS, max(0.0, (moment - (now or datetime.now(UTC))).total_seconds()))


class HttpClient:
    """A requests session with the project's retry policy, for one account.

    A retryable failure is retried here only while the wait is short
    (``max_inline_wait``); a longer wait, or the last attempt, raises
    RetryableError so the scheduler moves the account's next poll instead.
    A request past its ``deadline`` is not retried here at all.
    """

    def __init__(
        self,
        base_url: str,
        classify_error: ClassifyError,
        rate_limit_delay: RateLimitDelay | None = None,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_inline_wait: float = 30.0,
        deadline: float = DEADLINE_SECONDS,
        max_body_bytes: int = MAX_BODY_BYTES,
        sleep: Callable[[float], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/" if base_url else ""
        self.classify_error = classify_error
        self.rate_limit_delay = rate_limit_delay
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_inline_wait = max_inline_wait
        self.deadline = deadline
        self.max_body_bytes = max_body_bytes
        self.sleep = sleep or self._pause
        # Set by whoever runs the poll (the pipeline hands over the service's stop event).
        self.interrupt: threading.Event | None = None
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.auth_headers: dict[str, str] = {}
        self.auth_params: dict[str, str] = {}
        self.requests_made = 0
        self.cooldown: float | None = None

    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            self._refuse_other_hosts(path_or_url)
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def _refuse_other_hosts(self, url: str) -> None:
        """A full URL (a platform's next-page link) must be on the base URL's host, over https.

        The request would carry the account's credentials, so a link to
        another host, or a step down from https to plain http, ends the read.
        """
        if not self.base_url:
            return
        base, there = urlsplit(self.base_url), urlsplit(url)
        try:
            same_host = (there.hostname or "").lower() == (base.hostname or "").lower() and there.port == base.port
        except ValueError:
            same_host = False
        secure = there.scheme in {"https", base.scheme}
        if not (same_host and secure) or there.username or there.password:
            where = f"{there.scheme}://{there.hostname or '?'}"
            raise FatalError(
                f"refusing to follow a next page link to {where}: credentials go only to {base.scheme}://{base.hostname}"
            )

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.fetch_json("GET", path_or_url, params=params)[0]

    def post_json(self, path_or_url: str, body: Mapping[str, Any] | None = None) -> Any:
        return self.fetch_json("POST", path_or_url, json=body)[0]

    def fetch_json(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> tuple[Any, requests.Response]:
        """The decoded body and the response. A body that is not JSON is retried like a 5xx."""
        response = self._send(method, path_or_url, params, json, decode=True)
        return response.decoded, response  # type: ignore[attr-defined]

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        return self._send(method, path_or_url, params, json, decode=False)

    @staticmethod
    def json_of(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise RetryableError(f"{describe(response)} returned a body that is not JSON") from None

    def _send(
        self,
        method: str,
        path_or_url: str,
        params: Mapping[str, Any] | None,
        json: Mapping[str, Any] | None,
        decode: bool,
    ) -> requests.Response:
        url = self._with_auth_params(self.url_for(path_or_url))
        query = dict(params or {})
        for attempt in range(1, self.max_attempts + 1):
            outcome = self._attempt(method, url, query, json, decode)
            if isinstance(outcome, requests.Response):
                return outcome
            if not isinstance(outcome, RetryableError) or isinstance(outcome, DeadlineError):
                raise outcome
            if attempt == self.max_attempts:
                raise outcome
            wait = outcome.retry_after
            if wait is None:
                wait = self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            if wait > self.max_inline_wait:
                raise outcome
            self.sleep(wait)
            self._unless_stopping(method, url)
        raise FatalError(f"{method} {strip_query(url)}: no attempts made")  # pragma: no cover

    def _pause(self, seconds: float) -> None:
        """Wait before a retry, but no longer than the service keeps running."""
        if self.interrupt is None:
            time.sleep(seconds)
        else:
            self.interrupt.wait(seconds)

    def _stopping(self) -> bool:
        return self.interrupt is not None and self.interrupt.is_set()

    def _unless_stopping(self, method: str, url: str) -> None:
        if self._stopping():
            raise StoppingError(f"{method} {strip_query(url)} abandoned: the service is stopping")

    def _attempt(
        self, method: str, url: str, query: dict[str, Any], json: Mapping[str, Any] | None, decode: bool
    ) -> requests.Response | ConnectorError:
        self.requests_made += 1
        try:
            response = self._within_deadline(method, url, query, json)
        except StoppingError:
            raise
        except ConnectorError as exc:
            return exc
        except requests.Timeout:
            return RetryableError(f"{method} {strip_query(url)} timed out")
        except requests.ConnectionError as exc:
            return RetryableError(f"{method} {strip_query(url)}: connection failed ({_reason(exc)})")
        except requests.RequestException as exc:
            return FatalError(f"{method} {strip_query(url)}: {type(exc).__name__}")
        error = self.classify_error(response)
        if error is not None:
            return error
        if decode:
            try:
                response.decoded = self.json_of(response)  # type: ignore[attr-defined]
            except RetryableError as bad_body:
                return bad_body
        if self.rate_limit_delay is not None:
            delay = self.rate_limit_delay(response)
            if delay is not None and delay > 0:
                self.cooldown = min(MAX_WAIT_SECONDS, max(self.cooldown or 0.0, delay))
        return response

    def _within_deadline(
        self, method: str, url: str, query: dict[str, Any], json: Mapping[str, Any] | None
    ) -> requests.Response:
        """Send the request and read its body, giving up once ``deadline`` seconds have passed.

        Socket timeouts bound each read, not the whole: a platform that sends a
        byte a second never trips them. So the exchange runs in its own thread,
        which this one waits for at most ``deadline`` seconds, or until the
        service stops; then the exchange is told to stop and its connection is
        shut, and this request fails.
        """
        outcome: list[requests.Response | BaseException] = []
        streaming: list[requests.Response] = []
        stop = threading.Event()

        def exchange() -> None:
            try:
                outcome.append(self._exchange(method, url, query, json, streaming=streaming, stop=stop))
            except BaseException as exc:  # handed to the waiting thread, which sorts it
                outcome.append(exc)

        worker = threading.Thread(target=exchange, name="http-exchange", daemon=True)
        worker.start()
        ends = time.monotonic() + self.deadline
        while worker.is_alive() and not self._stopping() and (left := ends - time.monotonic()) > 0:
            worker.join(min(left, INTERRUPT_CHECK_SECONDS))
        if not outcome:
            stop.set()
            for response in streaming:
                _shut(response)
            self._unless_stopping(method, url)
            raise DeadlineError(f"{method} {strip_query(url)} did not finish within {self.deadline:g} s")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _exchange(
        self,
        method: str,
        url: str,
        query: dict[str, Any],
        json: Mapping[str, Any] | None,
        *,
        streaming: list[requests.Response],
        stop: threading.Event,
    ) -> requests.Response:
        response = self.session.request(
            method,
            url,
            params={**query, **self.auth_params} if self.auth_params else query,
            json=json,
            headers=self.auth_headers,
            timeout=self.timeout,
            stream=True,
        )
        streaming.append(response)
        with response:
            limit = self.max_body_bytes
            declared = response.headers.get("Content-Length", "").strip()
            if declared.isdigit() and int(declared) > limit:
                raise TooLargeError(f"{describe(response)} returned a response larger than {_size(limit)}")
            body = bytearray()
            for chunk in response.iter_content(CHUNK_BYTES):
                if stop.is_set():
                    raise DeadlineError(f"{describe(response)} was stopped at its deadline")
                body += chunk
                if len(body) > limit:
                    raise TooLargeError(f"{describe(response)} returned a response larger than {_size(limit)}")
        # What requests keeps once it has read a body itself, so .json() and .text work as usual.
        response._content = bytes(body)
        return response

    def _with_auth_params(self, url: str) -> str:
        """Drop auth parameters a platform echoed into its own next-page URLs."""
        if not self.auth_params or "?" not in url:
            return url
        parts = urlsplit(url)
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in self.auth_params]
        return urlunsplit(parts._replace(query=urlencode(kept)))


def _shut(response: requests.Response) -> None:
    """Shut the connection under a response still being read, so the read blocked on it returns at once."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _size(limit: int) -> str:
    return f"{limit / 2**20:g} MB"


def _reason(exc: Exception) -> str:
    """A short cause for a connection failure, without the URL (which may hold a token)."""
    text = type(exc).__name__
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", None)
    if reason is not None:
        text = type(reason).__name__
    return text
