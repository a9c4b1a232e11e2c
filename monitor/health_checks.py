"""What keeps the service from its job beyond one account or email, as plain sentences.

Read by ``monitor health`` and by the digest's opening lines, so the operator and
the General Manager hear of the same things.
"""

from __future__ import annotations

from datetime import datetime

from monitor.instances import is_dead
from monitor.store import Store, describe_error

LOW_SPACE_BYTES = 20 * 1024 * 1024  # below this and below LOW_SPACE_SHARE of the disk, space is running out
LOW_SPACE_SHARE = 0.05


def lease_problems(store: Store, now: datetime) -> list[str]:
    return [
        f"the lease {name} is held by {owner}, which is no longer running (it is freed when an instance starts,"
        " or when it expires)"
        for name, owner in sorted(store.lease_holders(now).items())
        if is_dead(owner)
    ]


def storage_problems(store: Store, now: datetime) -> list[str]:
    found = []
    try:
        store.probe_write(now)
    except Exception as exc:  # any failure to write is the finding
        found.append(f"the database cannot be written: {describe_error(exc)}")
    space = store.disk_space()
    if space is not None and space[0] < min(LOW_SPACE_BYTES, space[1] * LOW_SPACE_SHARE):
        found.append(f"only {space[0] // 1024} KB free beside the database; comments cannot be stored when it runs out")
    return found
