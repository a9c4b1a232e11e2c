from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import requests
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from monitor import metrics
from monitor.errors import ConfigError


@pytest.fixture
def server() -> Iterator[metrics.MetricsServer]:
    running = metrics.start_metrics_server(0)
    yield running
    running.close()


def scrape(server: metrics.MetricsServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(f"http://{server.host}:{server.port}/metrics", timeout=5)
    response.raise_for_status()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_the_server_listens_on_loopback_only_by_default(server: metrics.MetricsServer) -> None:
    assert server.host == "127.0.0.1" and server.port > 0


def test_polls_comments_and_failures_are_counted_per_account(server: metrics.MetricsServer) -> None:
    metrics.record_poll("page", "ok", new=3, edited=1)
    metrics.record_poll("page", "ok", new=2, edited=0)
    metrics.record_poll("feed", "retry")
    metrics.record_poll("feed", "skipped")

    seen = scrape(server)
    assert seen[("monitor_polls_total", (("account", "page"), ("outcome", "ok")))] == 2
    assert seen[("monitor_polls_total", (("account", "feed"), ("outcome", "retry")))] == 1
    assert seen[("monitor_polls_total", (("account", "feed"), ("outcome", "skipped")))] == 1
    assert seen[("monitor_comments_stored_total", (("account", "page"), ("change", "new")))] == 5
    assert seen[("monitor_comments_stored_total", (("account", "page"), ("change", "edited")))] == 1
    assert seen[("monitor_poll_failures_total", (("account", "feed"), ("kind", "retry")))] == 1
    assert ("monitor_poll_failures_total", (("account", "page"), ("kind", "retry"))) not in seen
    assert seen[("monitor_account_failing", (("account", "feed"),))] == 1
    assert seen[("monitor_account_failing", (("account", "page"),))] == 0
    assert seen[("monitor_last_successful_poll_timestamp_seconds", (("account", "page"),))] > 0


def test_a_recovered_account_is_no_longer_failing(server: metrics.MetricsServer) -> None:
    metrics.record_poll("feed", "failed")
    metrics.record_poll("feed", "ok")
    assert scrape(server)[("monitor_account_failing", (("account", "feed"),))] == 0


def test_flags_are_counted_by_severity(server: metrics.MetricsServer) -> None:
    metrics.record_flags(["urgent", "high", "urgent", None])
    seen = scrape(server)
    assert seen[("monitor_flags_total", (("severity", "urgent"),))] == 2
    assert seen[("monitor_flags_total", (("severity", "high"),))] == 1


def test_sends_and_their_latency(server: metrics.MetricsServer) -> None:
    metrics.record_send("email", "alert", 42.0)
    metrics.record_send("email", "digest", [3600.0, 20 * 3600.0])
    metrics.record_send("slack", "alert")

    seen = scrape(server)
    alert = (("channel", "email"), ("kind", "alert"))
    digest = (("channel", "email"), ("kind", "digest"))
    assert seen[("monitor_notifications_sent_total", alert)] == 1
    assert seen[("monitor_notifications_sent_total", digest)] == 1
    assert seen[("monitor_notifications_sent_total", (("channel", "slack"), ("kind", "alert")))] == 1
    assert seen[("monitor_notification_latency_seconds_count", alert)] == 1
    assert seen[("monitor_notification_latency_seconds_sum", alert)] == 42.0
    assert seen[("monitor_notification_latency_seconds_bucket", (*alert, ("le", "60.0")))] == 1
    assert seen[("monitor_notification_latency_seconds_count", digest)] == 2
    assert seen[("monitor_notification_latency_seconds_bucket", (*digest, ("le", "3600.0")))] == 1
    assert seen[("monitor_notification_latency_seconds_bucket", (*digest, ("le", "86400.0")))] == 2


def test_the_registry_is_private(server: metrics.MetricsServer) -> None:
    metrics.record_poll("page", "ok", new=1)
    assert REGISTRY.get_sample_value("monitor_polls_total", {"account": "page", "outcome": "ok"}) is None
    assert not any(name.startswith("python_gc") for name, _ in scrape(server))


def test_recording_is_a_no_op_until_the_server_starts() -> None:
    metrics.record_poll("page", "ok", new=1)
    metrics.record_flags(["urgent"])
    metrics.record_send("email", "alert", 1.0)
    running = metrics.start_metrics_server(0)
    try:
        assert ("monitor_polls_total", (("account", "page"), ("outcome", "ok"))) not in scrape(running)
    finally:
        running.close()
    metrics.record_poll("page", "ok", new=1)


def test_without_prometheus_client_recording_does_nothing_and_starting_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    assert not metrics.available()
    metrics.record_poll("page", "ok", new=1)
    metrics.record_send("email", "alert", 1.0)
    with pytest.raises(ConfigError, match=r"care-moderation-monitor\[metrics\]"):
        metrics.start_metrics_server(0)
