"""Several ``monitor run`` instances on one PostgreSQL database share the accounts: each account is polled by
one instance at a time, and when an instance is killed the others take its accounts over within a lease's
lifetime and a poll interval."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.process.conftest import (
    HARMLESS_TEXTS,
    URGENT_TEXTS,
    CommentFile,
    Database,
    Launcher,
    MailServer,
    MonitorProcess,
    base_tables,
    deliveries,
    event_time,
    file_account,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

INSTANCES = 3
ACCOUNTS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")
LEASE_TTL = 15.0
POLL_INTERVAL = 10.0
TAKEOVER_BOUND = LEASE_TTL + POLL_INTERVAL


@dataclass
class LeaseSampler:
    """Reads the lease table a few times a second: which instance held each account, and when."""

    database: Database
    samples: list[tuple[datetime, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.25):
            now = datetime.now(UTC)
            rows = self.database.rows("SELECT name, owner, expires_at FROM lease")
            held = {
                name.removeprefix("account:"): owner
                for name, owner, expires in rows
                if name.startswith("account:") and expires.replace(tzinfo=UTC) >= now
            }
            self.samples.append((now, held))

    def owners(self, account: str, start: datetime, end: datetime) -> set[str | None]:
        return {held.get(account) for at, held in self.samples if start <= at <= end}

    def latest(self) -> dict[str, str]:
        return self.samples[-1][1] if self.samples else {}


@contextmanager
def sampling(database: Database) -> Iterator[LeaseSampler]:
    sampler = LeaseSampler(database)
    thread = threading.Thread(target=sampler.run, name="lease-sampler", daemon=True)
    thread.start()
    try:
        yield sampler
    finally:
        sampler.stop.set()
        thread.join(5)


def polls(processes: list[MonitorProcess]) -> list[tuple[datetime, str, str]]:
    """Every successful poll in every instance's log: (when it finished, account, instance), in time order."""
    found = [
        (event_time(event), str(event["account"]), process.instance)
        for process in processes
        for event in process.events("poll finished")
    ]
    return sorted(found)


def runs(sequence: list[str]) -> list[str]:
    """["a", "a", "b", "a"] → ["a", "b", "a"]."""
    return [item for index, item in enumerate(sequence) if index == 0 or sequence[index - 1] != item]


def holdings(sampler: LeaseSampler) -> Counter[str]:
    return Counter(sampler.latest().values())


@pytest.mark.timeout(180)
def test_instances_share_accounts_exclusively_and_take_over_from_a_dead_one(
    tmp_path: Path, launcher: Launcher, mail: MailServer, postgres_database: str
) -> None:
    files = {name: CommentFile(tmp_path / f"{name}.jsonl", name) for name in ACCOUNTS}
    for comments in files.values():
        comments.append(HARMLESS_TEXTS[0])
    tables = base_tables(smtp_port=mail.port, poll_interval=f"{POLL_INTERVAL:.0f}s")
    tables["service"] = {"lease_ttl": f"{LEASE_TTL:.0f}s"}
    config = write_config(
        tmp_path / "config.toml", tables, [file_account(name, comments.path) for name, comments in files.items()]
    )
    env = {"MONITOR_DATABASE_URL": postgres_database}
    database = Database(postgres_database)

    processes = [launcher.start(config, name=f"instance-{number}", env=env) for number in range(1, INSTANCES + 1)]
    for process in processes:
        process.wait_started()
    with sampling(database) as sampler:
        wait_until(
            lambda: sorted(holdings(sampler).values()) == [2] * INSTANCES and set(sampler.latest()) == set(ACCOUNTS),
            45,
            "the six accounts to be shared two to each instance",
        )
        balanced = datetime.now(UTC)
        owner_at_balance = dict(sampler.latest())

        urgent_before = [files[name].append(URGENT_TEXTS[index % 3]) for index, name in enumerate(ACCOUNTS)]
        wait_until(lambda: told(database) >= len(urgent_before), 30, "every urgent comment to be alerted")
        time.sleep(POLL_INTERVAL)  # one more whole round of polls in the steady state

        victim = processes[0]
        victim_accounts = sorted(name for name, owner in sampler.latest().items() if owner == victim.instance)
        killed = datetime.now(UTC)
        killed_at = time.monotonic()
        victim.kill()
        urgent_after = [files[name].append(URGENT_TEXTS[0]) for name in victim_accounts]
        wait_until(
            lambda: set(urgent_after) <= set(database.column("SELECT external_id FROM comment")),
            TAKEOVER_BOUND + 20,
            "the dead instance's accounts to be polled again",
        )
        takeover = time.monotonic() - killed_at
        taken_over = datetime.now(UTC)
        wait_until(lambda: told(database) >= len(urgent_before) + len(urgent_after), 30, "alerts after the takeover")
        wait_until(lambda: sorted(holdings(sampler).values()) == [3, 3], 20, "the survivors to share all six accounts")
        survivors = processes[1:]
        for process in survivors:
            process.send(signal.SIGTERM)
        for process in survivors:
            assert process.wait_exit(15) == 0, process.log_text()
    stopped = datetime.now(UTC)

    assert len(victim_accounts) == 2
    assert takeover <= TAKEOVER_BOUND, f"the accounts of the dead instance were picked up after {takeover:.1f}s"
    assert_one_instance_at_a_time(processes, killed)
    assert_steady_state_follows_the_leases(processes, sampler, owner_at_balance, balanced, killed)
    survivors_ids = {process.instance for process in survivors}
    for account in victim_accounts:
        after = {instance for at, name, instance in polls(processes) if name == account and at > killed}
        assert after and after <= survivors_ids, f"{account} after the kill was polled by {after}"
        assert sampler.owners(account, taken_over, stopped) - {None} <= survivors_ids

    stored = database.column("SELECT external_id FROM comment")
    assert sorted(stored) == sorted(comment_id for comments in files.values() for comment_id in comments.ids)
    flag_ids = set(database.column("SELECT id FROM flag"))
    assert len(flag_ids) == len(urgent_before) + len(urgent_after)
    assert_no_message_sent_by_two_instances(processes)
    alerts = Counter(flag_id for delivery in deliveries(mail) for flag_id in delivery.flag_ids)
    assert alerts == dict.fromkeys(flag_ids, 1), (
        f"alerts per flag: {dict(alerts)}; no alert was sent by two instances, so the repeats come from within"
        " one (see test_alerts.py)"
    )


def told(database: Database) -> int:
    return int(database.scalar("SELECT count(DISTINCT flag_id) FROM notificationlog") or 0)


def assert_one_instance_at_a_time(processes: list[MonitorProcess], killed: datetime) -> None:
    """Per account, polls never alternate between instances: while instances join, an account moves on and
    never comes back; after the kill, survivors only take accounts up."""
    events = polls(processes)
    for account in ACCOUNTS:
        for phase in ([e for e in events if e[0] <= killed], [e for e in events if e[0] > killed]):
            pollers = runs([instance for _, name, instance in phase if name == account])
            assert len(pollers) == len(set(pollers)), f"{account} was polled by turns: {pollers}"


def assert_steady_state_follows_the_leases(
    processes: list[MonitorProcess],
    sampler: LeaseSampler,
    owners: dict[str, str],
    balanced: datetime,
    killed: datetime,
) -> None:
    """Between the balance and the kill, each account kept one owner and only that owner polled it."""
    events = polls(processes)
    for account, owner in owners.items():
        assert sampler.owners(account, balanced, killed) == {owner}, f"{account} changed hands in the steady state"
        pollers = {instance for at, name, instance in events if name == account and balanced < at <= killed}
        assert pollers == {owner}, f"{account} (leased to {owner}) was polled by {pollers}"


def assert_no_message_sent_by_two_instances(processes: list[MonitorProcess]) -> None:
    """The notifier lease: an alert one instance sent is never sent by another."""
    senders: dict[str, set[str]] = {}
    for process in processes:
        for event in process.events("notification sent"):
            senders.setdefault(str(event["message_id"]), set()).add(process.name)
    shared = {message_id: names for message_id, names in senders.items() if len(names) > 1}
    assert not shared, f"sent by more than one instance: {shared}"
