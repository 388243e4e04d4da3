"""A two-region application on a global table: local reads, replication lag, conflicts.

Run it with ``python examples/two_regions.py`` (the embedded engine, in memory).

User profiles live in a DynamoDB global table (version 2019.11.21) with a replica in
us-east-1 and one in eu-west-1. Each region's application instance writes and reads
its own replica: a write is visible at once in its region, and reaches the other
region later (asynchronously; tens of milliseconds in the engine by default, usually
about a second on AWS). When both regions update the same item before either update
has replicated, DynamoDB keeps the last write by time in every region ("last writer
wins"): the program shows it, and what a network partition between the regions does.

To make the timing deterministic the engine replicates only when asked
(``LocalEngine(replication="manual")`` and ``engine.replicate()``), and has a clock
the program moves by hand; ``engine.pause_replication(region)`` holds what is bound
for a region, as a partition would.
"""

from __future__ import annotations

from typing import Any

from singletable import DB, Entity, Keys, Table
from singletable.backends.engine import LocalBackend
from singletable.backends.local.engine import LocalEngine

HOME, OTHER = "us-east-1", "eu-west-1"
profiles = Table("profiles", sk=None)


class Profile(Entity, table=profiles):
    user_id: str
    nickname: str
    written_in: str

    keys = Keys(pk="USER#{user_id}")


class Clock:
    """The engine's clock, moved by hand (write times decide conflicts)."""

    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def tick(self, seconds: float = 1.0) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def nickname(db: DB, user_id: str) -> str | None:
    """The user's nickname as this region's replica has it (None: not there yet)."""
    profile = db.get(Profile, user_id=user_id)
    return None if profile is None else profile.nickname


# --8<-- [start:make-global]
def make_global(us: DB) -> None:
    """Create the table in us-east-1, then add its eu-west-1 replica (UpdateTable)."""
    us.create_table(profiles)
    us.backend.call(
        "UpdateTable",
        {"TableName": profiles.name, "ReplicaUpdates": [{"Create": {"RegionName": OTHER}}]},
    )
    # --8<-- [end:make-global]


def main() -> dict[str, Any]:
    """Write in both regions, read locally, replicate, resolve a conflict, heal a partition."""
    seen: dict[str, Any] = {}
    clock = Clock()
    # --8<-- [start:two-regions]
    engine = LocalEngine(replication="manual", clock=clock, ttl_sweep_interval=None)
    with engine:
        us = DB(LocalBackend(engine))  # the us-east-1 instance of the application
        eu = DB(LocalBackend(engine.in_region(OTHER)))  # the eu-west-1 instance
        make_global(us)
        engine.replicate()  # the replica is made (CREATING -> ACTIVE)
        # --8<-- [end:two-regions]
        replicas = us.backend.call("DescribeTable", {"TableName": profiles.name})["Table"]
        seen["replicas"] = [(r["RegionName"], r["ReplicaStatus"]) for r in replicas["Replicas"]]
        print(f"replicas of {profiles.name} seen from {HOME}: {seen['replicas']}")

        # Each region writes its own user and reads it back at once, locally.
        us.put(Profile(user_id="ada", nickname="ada", written_in=HOME))
        eu.put(Profile(user_id="bob", nickname="bob", written_in=OTHER))
        seen["local_reads"] = (nickname(us, "ada"), nickname(eu, "bob"))
        seen["before_replication"] = (nickname(us, "bob"), nickname(eu, "ada"))
        print(f"read your own writes: {seen['local_reads']}; across regions: "
              f"{seen['before_replication']}")  # fmt: skip

        applied = engine.replicate()
        seen["after_replication"] = (nickname(us, "bob"), nickname(eu, "ada"))
        print(f"replicated {applied} write(s); across regions now: {seen['after_replication']}")

        # --8<-- [start:conflict]
        # A conflict: both regions rename ada before either rename has replicated.
        clock.tick()
        us.put(Profile(user_id="ada", nickname="Ada L.", written_in=HOME))
        clock.tick()  # eu-west-1's write is one second later: it wins everywhere
        eu.put(Profile(user_id="ada", nickname="Countess", written_in=OTHER))
        engine.replicate()
        seen["conflict"] = (nickname(us, "ada"), nickname(eu, "ada"))
        print(f"after the conflicting renames, last writer wins: {seen['conflict']}")
        # --8<-- [end:conflict]

        # A partition: eu-west-1 receives nothing for a while, then catches up.
        engine.pause_replication(OTHER)
        clock.tick()
        us.put(Profile(user_id="bob", nickname="Bobby", written_in=HOME))
        engine.replicate()
        seen["partitioned"] = (nickname(us, "bob"), nickname(eu, "bob"))
        print(f"during the partition: {HOME} {seen['partitioned'][0]!r}, "
              f"{OTHER} {seen['partitioned'][1]!r}")  # fmt: skip
        engine.resume_replication(OTHER)
        engine.replicate()
        seen["healed"] = (nickname(us, "bob"), nickname(eu, "bob"))
        print(f"after the partition healed, both regions agree: {seen['healed']}")
    return seen


if __name__ == "__main__":
    main()
