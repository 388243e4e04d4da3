"""Idle change listeners are left out of commits (._write.set_listening).

The stream record writer and the TTL expiry tracker are called by a commit only
while they have something to do (a stream or a subscriber; a table with TTL on).
The general path is every listener called on every commit: each test runs the same
steps on an engine whose listeners are forced live before every write, and compares
what the two engines recorded (stream records, subscriber deliveries, TTL deletions).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from singletable.backends.local import LocalEngine
from singletable.backends.local._write import set_listening

NOW = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _create(engine: LocalEngine, name: str) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


class World:
    """One engine, its subscriptions and what they received."""

    def __init__(self, always_live: bool) -> None:
        self.clock = Clock()
        self.engine = LocalEngine(clock=self.clock, ttl_sweep_interval=None)
        self.always_live = always_live
        self.received: list[tuple[str, str, Any]] = []
        self.subscriptions: dict[str, list[Any]] = {"aaa": [], "bbb": []}
        for name in ("aaa", "bbb"):
            _create(self.engine, name)

    def _force(self) -> None:
        if self.always_live:  # the general path: every listener called by every commit
            for listener in self.engine.listener_order:
                set_listening(self.engine, listener, True)

    def step(self, action: tuple[Any, ...]) -> Any:
        engine, kind = self.engine, action[0]
        table = action[1]
        self._force()
        if kind == "put":
            item = {"pk": {"S": action[2]}, "v": {"N": str(action[3])}}
            if action[4]:
                item["exp"] = {"N": str(int(NOW) + action[4])}
            engine.call("PutItem", {"TableName": table, "Item": item})
        elif kind == "delete":
            engine.call("DeleteItem", {"TableName": table, "Key": {"pk": {"S": action[2]}}})
        elif kind == "stream":
            described = engine.call("DescribeTable", {"TableName": table})["Table"]
            enabled = described.get("StreamSpecification", {}).get("StreamEnabled", False)
            spec: dict[str, Any] = {"StreamEnabled": not enabled}
            if not enabled:
                spec["StreamViewType"] = "NEW_AND_OLD_IMAGES"
            engine.call("UpdateTable", {"TableName": table, "StreamSpecification": spec})
        elif kind == "ttl":
            described = engine.call("DescribeTimeToLive", {"TableName": table})
            on = described["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
            engine.call(
                "UpdateTimeToLive",
                {
                    "TableName": table,
                    "TimeToLiveSpecification": {"Enabled": not on, "AttributeName": "exp"},
                },
            )
        elif kind == "subscribe":
            subscriptions = self.subscriptions[table]
            if subscriptions:
                subscriptions.pop().close()
            else:
                subscriptions.append(
                    engine.subscribe(
                        table,
                        lambda record, t=table: self.received.append(
                            (t, record["eventName"], record["dynamodb"].get("NewImage"))
                        ),
                        view="NEW_AND_OLD_IMAGES",
                    )
                )
        elif kind == "sweep":
            self.clock.now += action[2]
            self._force()
            return engine.sweep_ttl()
        return None

    def stream_records(self) -> list[Any]:
        """Every record of every stream the engine has, in order."""
        out = []
        for stream in self.engine.call("ListStreams", {}).get("Streams", []):
            arn = stream["StreamArn"]
            shards = self.engine.call("DescribeStream", {"StreamArn": arn})
            for shard in shards["StreamDescription"]["Shards"]:
                iterator = self.engine.call(
                    "GetShardIterator",
                    {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
                )["ShardIterator"]
                records = self.engine.call("GetRecords", {"ShardIterator": iterator})["Records"]
                out.append(
                    (
                        stream["TableName"],
                        [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records],
                    )
                )
        return sorted(out, key=repr)


_tables = st.sampled_from(["aaa", "bbb"])
_actions = st.one_of(
    st.tuples(
        st.just("put"),
        _tables,
        st.sampled_from(["x", "y", "z"]),
        st.integers(0, 3),
        st.sampled_from([0, 5, 50]),
    ),
    st.tuples(st.just("delete"), _tables, st.sampled_from(["x", "y", "z"])),
    st.tuples(st.just("stream"), _tables),
    st.tuples(st.just("ttl"), _tables),
    st.tuples(st.just("subscribe"), _tables),
    st.tuples(st.just("sweep"), _tables, st.sampled_from([1, 10, 100])),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_actions, max_size=25))
def test_idle_listeners_record_what_always_live_ones_do(actions: list[Any]) -> None:
    idle, live = World(always_live=False), World(always_live=True)
    try:
        for action in actions:
            assert idle.step(action) == live.step(action)
            # the listeners left out are exactly the idle ones, in registration order
            streams, ttl = idle.engine.streams, idle.engine.ttl
            expected = [
                listener
                for listener in idle.engine.listener_order
                if not (listener == streams._listener and not (streams._active or streams._subscriptions))
                and not (listener == ttl._listener and not ttl._tables)
            ]
            assert idle.engine.change_listeners == expected
        assert idle.received == live.received
        assert idle.stream_records() == live.stream_records()
        for name in ("aaa", "bbb"):
            scan = {"TableName": name}
            assert idle.engine.call("Scan", scan)["Items"] == live.engine.call("Scan", scan)["Items"]
    finally:
        idle.engine.close()
        live.engine.close()


def test_a_fresh_engine_calls_only_what_can_record() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        assert engine.streams._listener not in engine.change_listeners
        assert engine.ttl._listener not in engine.change_listeners
        _create(engine, "ttt")
        records: list[Any] = []
        subscription = engine.subscribe("ttt", records.append, view="NEW_IMAGE")
        assert engine.streams._listener in engine.change_listeners
        engine.call("PutItem", {"TableName": "ttt", "Item": {"pk": {"S": "1"}}})
        assert [r["eventName"] for r in records] == ["INSERT"]
        subscription.close()
        assert engine.streams._listener not in engine.change_listeners
        engine.call("PutItem", {"TableName": "ttt", "Item": {"pk": {"S": "2"}}})
        assert len(records) == 1
