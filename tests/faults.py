"""Faults for `responses` callbacks.

A fake platform answers each request with a handler; ``FaultPlan.wrap`` puts a
seeded dice roll in front of it, so that a chosen share of requests fails the
way real platforms fail: the connection times out or is reset, the server
errors, throttles (with the platform's own codes and headers), or answers with
a body that is not JSON or is cut short. The plan counts what it injected, so a
soak can assert that every kind of fault really happened.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import responses

Reply = tuple[int, dict[str, str], str]
Handler = Callable[[requests.PreparedRequest], Reply]
# A fault answers instead of the platform. It may call ``real`` (the platform's
# own answer) and spoil it, or raise as a broken connection would.
Respond = Callable[[requests.PreparedRequest, Handler], Reply]


@dataclass(frozen=True)
class Fault:
    name: str
    respond: Respond


def _raise_timeout(request: requests.PreparedRequest, real: Handler) -> Reply:
    raise requests.ReadTimeout("read timed out", request=request)


def _raise_connect_timeout(request: requests.PreparedRequest, real: Handler) -> Reply:
    raise requests.ConnectTimeout("connect timed out", request=request)


def _raise_reset(request: requests.PreparedRequest, real: Handler) -> Reply:
    raise requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"), request=request)


def status(code: int, body: str = "<html><body>Bad gateway</body></html>", **headers: str) -> Respond:
    """A plain error status, the kind a proxy in front of the platform sends."""

    def respond(request: requests.PreparedRequest, real: Handler) -> Reply:
        return code, {"Content-Type": "text/html", **headers}, body

    return respond


def _not_json(request: requests.PreparedRequest, real: Handler) -> Reply:
    return 200, {"Content-Type": "text/html"}, "<!DOCTYPE html><html><title>Service Unavailable</title></html>"


def _truncated(request: requests.PreparedRequest, real: Handler) -> Reply:
    code, headers, body = real(request)
    if code != 200 or len(body) < 4:
        return 200, headers, body[:-1] or "{"
    return code, headers, body[: len(body) // 2]


TIMEOUT = Fault("timeout", _raise_timeout)
CONNECT_TIMEOUT = Fault("connect timeout", _raise_connect_timeout)
RESET = Fault("connection reset", _raise_reset)
ERROR_500 = Fault("500", status(500))
ERROR_502 = Fault("502", status(502))
ERROR_503 = Fault("503", status(503, **{"Retry-After": "5"}))
RETRY_AFTER_SHORT = Fault("429 Retry-After 3s", status(429, "Too Many Requests", **{"Retry-After": "3"}))
RETRY_AFTER_LONG = Fault("429 Retry-After 10m", status(429, "Too Many Requests", **{"Retry-After": "600"}))
NOT_JSON = Fault("malformed JSON", _not_json)
TRUNCATED = Fault("truncated page", _truncated)

TRANSPORT = (TIMEOUT, CONNECT_TIMEOUT, RESET, ERROR_500, ERROR_502, ERROR_503, NOT_JSON, TRUNCATED)
HTTP_THROTTLING = (RETRY_AFTER_SHORT, RETRY_AFTER_LONG)


class FaultPlan:
    """Decides, with a seeded generator, which requests fail and how.

    Whether a request fails is a roll of the dice; which fault it gets is dealt
    from a shuffled deck of the kinds, so every kind turns up even in a short soak.
    """

    def __init__(self, seed: int, rate: float) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.active = True
        self.injected: Counter[str] = Counter()
        self._deck: list[Fault] = []

    def deal(self, faults: Sequence[Fault]) -> Fault:
        if not self._deck:
            self._deck = self.rng.sample(list(faults), len(faults))
        return self._deck.pop()

    def chance(self, probability: float) -> bool:
        """A data fault (a repeated or reordered item): only while faults are on."""
        return self.active and self.rng.random() < probability

    def note(self, name: str) -> None:
        self.injected[name] += 1

    def wrap(self, handler: Handler, faults: Sequence[Fault]) -> Callable[[requests.PreparedRequest], Reply]:
        def callback(request: requests.PreparedRequest) -> Reply:
            if faults and self.active and self.rng.random() < self.rate:
                fault = self.deal(faults)
                self.note(fault.name)
                return fault.respond(request, handler)
            return handler(request)

        return callback


def serve(
    rsps: responses.RequestsMock,
    method: str,
    url: str,
    callback: Callable[[requests.PreparedRequest], Reply],
) -> None:
    """Answer ``url`` (with any query string) through ``callback``."""
    pattern = re.compile(re.escape(url) + r"(\?.*)?$")
    rsps.add_callback(method, pattern, callback=callback, content_type=None)


def json_reply(body: Any, code: int = 200, **headers: str) -> Reply:
    return code, {"Content-Type": "application/json", **headers}, json.dumps(body)


def _empty_object(request: requests.PreparedRequest, real: Handler) -> Reply:
    return 200, {"Content-Type": "application/json"}, "{}"


WRONG_SHAPE = Fault("JSON of the wrong shape", _empty_object)
