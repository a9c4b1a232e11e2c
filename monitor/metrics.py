"""Prometheus metrics on a private registry, served over HTTP when switched on.

Until ``start_metrics_server`` runs, every ``record_*`` call returns at once, so the pipeline and
notifier call them unconditionally. prometheus-client is imported only when the server starts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

from monitor.errors import ConfigError

FAILED_POLLS = frozenset({"retry", "auth_failed", "failed"})
LATENCY_BUCKETS = (5, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 48 * 3600)


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.polls = Counter("monitor_polls", "Account polls by outcome", ["account", "outcome"], registry=registry)
        self.poll_failures = Counter(
            "monitor_poll_failures", "Polls that failed, by kind", ["account", "kind"], registry=registry
        )
        self.failing = Gauge(
            "monitor_account_failing", "1 while an account's polls fail", ["account"], registry=registry
        )
        self.last_success = Gauge(
            "monitor_last_successful_poll_timestamp_seconds",
            "When an account was last polled successfully",
            ["account"],
            registry=registry,
        )
        self.comments = Counter(
            "monitor_comments_stored", "Comments stored, new or edited", ["account", "change"], registry=registry
        )
        self.flags = Counter("monitor_flags", "Flagged verdicts by severity", ["severity"], registry=registry)
        self.sends = Counter(
            "monitor_notifications_sent", "Messages a channel accepted", ["channel", "kind"], registry=registry
        )
        self.latency = Histogram(
            "monitor_notification_latency_seconds",
            "From a comment being written to the message about it being accepted",
            ["channel", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


@dataclass(frozen=True)
class MetricsServer:
    host: str
    port: int
    _server: Any
    _thread: threading.Thread

    def close(self) -> None:
        _recording.metrics = None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Recording:
    metrics: _Metrics | None = None


_recording = _Recording()


def available() -> bool:
    return find_spec("prometheus_client") is not None


def start_metrics_server(port: int, host: str = "127.0.0.1") -> MetricsServer:
    """Serve /metrics on host:port (port 0 picks a free one) and start recording."""
    if not available():
        raise ConfigError("metrics need prometheus-client: pip install 'care-moderation-monitor[metrics]'")
    from prometheus_client import start_http_server

    metrics = _Metrics()
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    _recording.metrics = metrics
    return MetricsServer(host=host, port=server.server_port, _server=server, _thread=thread)


def record_poll(account: str, outcome_status: str, new: int = 0, edited: int = 0) -> None:
    """One poll's outcome: ok | retry | auth_failed | failed | skipped, and what it stored."""
    metrics = _recording.metrics
    if metrics is None:
        return
    metrics.polls.labels(account, outcome_status).inc()
    metrics.comments.labels(account, "new").inc(new)
    metrics.comments.labels(account, "edited").inc(edited)
    if outcome_status in FAILED_POLLS:
        metrics.poll_failures.labels(account, outcome_status).inc()
        metrics.failing.labels(account).set(1)
    elif outcome_status == "ok":
        metrics.failing.labels(account).set(0)
        metrics.last_success.labels(account).set_to_current_time()


def record_flags(severities: Iterable[str | None]) -> None:
    metrics = _recording.metrics
    if metrics is None:
        return
    for severity in severities:
        if severity:
            metrics.flags.labels(severity).inc()


def record_send(channel: str, kind: str, latency_seconds: float | Iterable[float] | None = None) -> None:
    """A message the channel accepted, and for each comment it covers, how long after it was written."""
    metrics = _recording.metrics
    if metrics is None:
        return
    metrics.sends.labels(channel, kind).inc()
    if latency_seconds is None:
        return
    latencies = [latency_seconds] if isinstance(latency_seconds, int | float) else latency_seconds
    histogram = metrics.latency.labels(channel, kind)
    for seconds in latencies:
        histogram.observe(max(0.0, seconds))
