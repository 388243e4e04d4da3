"""ORM benchmark: the modelling layer against raw boto3 and PynamoDB on moto, in one run.

Run ``python bench/orm_bench.py`` (about 2-3 minutes) or ``--quick`` (under 30 s).
Not a test: it prints tables and checks the targets of issues 5 and 19.

``--ab DIR`` compares two versions of the library in one run: this script runs
alternately (``--runs`` times each, quick, without the profile) with
``PYTHONPATH=DIR`` (a base worktree, e.g. ``git worktree add --detach ../base main``)
and with this checkout's, and prints the median of each version's Table 2 own
costs and PynamoDB ratios side by side.

Ways (table 1), each on its own identically loaded 2,000-item table (20
partitions of 100 items; puts go to a second, empty table, so the read tables
keep their size):

* ``orm``     -- singletable's ``DB()`` on the embedded engine (LocalBackend);
* ``engine``  -- ``LocalEngine.call(op, request, copy=False)`` with the exact wire
  requests the ORM sends (built beforehand with ``db.explain``): the floor under
  the ORM, so ``orm - engine`` is the ORM's own cost;
* ``boto3``   -- a boto3 low-level client on moto's ``mock_aws``, items written
  and read as wire dicts by hand (no model: the cheapest thing a user can write);
* ``pynamodb`` -- PynamoDB 6 models on moto (moto intercepts PynamoDB's botocore).

Workloads, the same data for every way (a 10-field entity: str, int, Decimal,
datetime, bool, set[str], a nested model, ... with a GSI):

* ``put``   -- build the entity (or item) from plain values and write it;
* ``get``   -- read one item by key into an entity (a wire dict for ``boto3``);
* ``query`` -- the first 25 of a 100-item partition, as entities.

Latencies are the benchmark thread's CPU time per call (``time.thread_time``,
minus the clock's own cost): everything here runs in this thread, moto
included, and CPU time is not inflated when other processes preempt us (a
busy neighbour still slows caches and shared cores: hence the rounds). The ways
alternate in rounds within a workload; ops/s is 1 / median latency. The ORM's
overhead is paired by round (each round's median ``orm`` minus its median
``engine``; the median of those), so load bursts land on both sides.

Table 3 (bench/orm_micro.py) measures costs with no I/O at all, interleaved in
rounds the same way: validation (the user's construction, and the put's
re-validation), ``to_item`` and its parts, the general conversion it is compiled
from, key building, ``from_item`` and its parts, a query's build and page parse,
and prototypes of other read paths (a read plan feeding ``model_validate``; typed
decoders feeding ``model_construct``), each checked to give the same item or entity.
Table 4 profiles the ORM's calls with cProfile (``--no-profile`` skips it).
Table 5 checks the targets (issue 5's; issue 19's: the ORM's own cost per put
under 25 us, and the ORM's put on the engine at least 50x PynamoDB's on moto).
Table 6 (``--dynamoxy-python PATH``, or ``DYNAMOXY_PYTHON``; skipped with a reason
otherwise) measures the same workloads against dynamoxy's ORM on its in-memory Rust
store, in a Python of its own (bench/orm_rival.py, bench/orm_bench_dynamoxy.py);
``--dynamoxy-only`` runs just that table.
Table 2's "engine" is the ORM's request sent as a plain wire dict, so its own cost
includes whatever the engine does on the ORM's path beyond that (or saves: the ORM's
put hands the engine a codec-built item, which the engine measures instead of
re-validating; singletable/_canonical.py). The loaded tables are moved to the GC's
permanent generation (``gc.freeze``) before timing, so collections triggered
inside a timed call do not walk moto's 4,000 items.

Table 3's costs run hot on one item; inside Table 1 the same code
touches a different item each call and costs more (about 1.5x for from_item),
so Table 2, not Table 3, is the ORM's real cost.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import orm_micro
import orm_rival
import pydantic
from _common import (
    CLOCK,
    REGION,
    Address,
    aws_environment,
    clock_overhead,
)
from _common import (
    order_values as values,
)

from singletable.backends.engine import LocalBackend
from singletable.backends.local import LocalEngine
from singletable.db import DB
from singletable.entity import Entity, Keys
from singletable.patterns import Query
from singletable.table import GlobalIndex, Table

Row = orm_micro.Row
PARTITIONS = 20
PER_PARTITION = 100  # 20 x 100 = the 2,000-item table
QUERY_LIMIT = 25
WORKLOADS = ("put", "get", "query")
WAYS = ("orm", "engine", "boto3", "pynamodb")

# -- the entity ----------------------------------------------------------------------

app = Table("orm_bench", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])




class Order(Entity, table=app):
    """The 10-field entity every way stores."""

    customer_id: str
    order_id: str
    created_at: datetime
    status: str
    total: Decimal
    quantity: int
    gift: bool
    tags: set[str]
    address: Address
    note: str

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{order_id}",
        GSI1=("STATUS#{status}", "{created_at}#{order_id}"),
    )
    for_customer = Query()




def read_key(n: int) -> tuple[str, int]:
    """The (customer, order) the ``n``-th get reads: spread over the whole table."""
    i = (n * 7919) % (PARTITIONS * PER_PARTITION)  # inline: timed gets call this
    return f"c{i // PER_PARTITION:02d}", i % PER_PARTITION


def put_customer(n: int) -> str:
    return f"p{n}"


# -- raw boto3 (wire dicts by hand) ----------------------------------------------------


def wire_item(v: dict[str, Any]) -> dict[str, Any]:
    """The item a hand-written boto3 program would build (same attributes as the ORM's)."""
    created = v["created_at"].astimezone(UTC)
    return {
        "PK": {"S": f"CUSTOMER#{v['customer_id']}"},
        "SK": {"S": f"ORDER#{v['order_id']}"},
        "GSI1PK": {"S": f"STATUS#{v['status']}"},
        "GSI1SK": {"S": f"{created.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{v['order_id']}"},
        "_type": {"S": "Order"},
        "customer_id": {"S": v["customer_id"]},
        "order_id": {"S": v["order_id"]},
        "created_at": {"S": created.isoformat()},
        "status": {"S": v["status"]},
        "total": {"N": str(v["total"])},
        "quantity": {"N": str(v["quantity"])},
        "gift": {"BOOL": v["gift"]},
        "tags": {"SS": sorted(v["tags"])},
        "address": {"M": {k: {"S": x} for k, x in v["address"].items()}},
        "note": {"S": v["note"]},
    }


# -- PynamoDB --------------------------------------------------------------------------


def pynamo_models() -> tuple[Any, Any]:
    """PynamoDB models of the same item (read table, put table), defined on demand."""
    from pynamodb.attributes import (
        BooleanAttribute,
        MapAttribute,
        NumberAttribute,
        UnicodeAttribute,
        UnicodeSetAttribute,
        UTCDateTimeAttribute,
    )
    from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
    from pynamodb.models import Model

    class AddressMap(MapAttribute[str, Any]):
        street = UnicodeAttribute()
        city = UnicodeAttribute()
        postcode = UnicodeAttribute()

    class ByStatus(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
        class Meta:
            index_name = "GSI1"
            projection = AllProjection()

        GSI1PK = UnicodeAttribute(hash_key=True)
        GSI1SK = UnicodeAttribute(range_key=True)

    class PynamoOrder(Model):
        class Meta:
            table_name = "pynamo_read"
            region = REGION
            billing_mode = "PAY_PER_REQUEST"

        PK = UnicodeAttribute(hash_key=True)
        SK = UnicodeAttribute(range_key=True)
        GSI1PK = UnicodeAttribute()
        GSI1SK = UnicodeAttribute()
        type = UnicodeAttribute(attr_name="_type", default="Order")
        customer_id = UnicodeAttribute()
        order_id = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        status = UnicodeAttribute()
        total = NumberAttribute()
        quantity = NumberAttribute()
        gift = BooleanAttribute()
        tags = UnicodeSetAttribute()
        address = AddressMap()  # type: ignore[no-untyped-call]
        note = UnicodeAttribute()
        by_status = ByStatus()

    class PynamoPutOrder(PynamoOrder):
        class Meta:
            table_name = "pynamo_put"
            region = REGION
            billing_mode = "PAY_PER_REQUEST"

    return PynamoOrder, PynamoPutOrder


def pynamo_build(model: Any, v: dict[str, Any]) -> Any:
    """A PynamoDB instance for values ``v`` (keys composed by hand, as PynamoDB users do)."""
    created = v["created_at"].astimezone(UTC)
    return model(
        PK=f"CUSTOMER#{v['customer_id']}",
        SK=f"ORDER#{v['order_id']}",
        GSI1PK=f"STATUS#{v['status']}",
        GSI1SK=f"{created.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{v['order_id']}",
        **{**v, "total": float(v["total"])},  # NumberAttribute is float (JSON) in PynamoDB
    )


# -- the ways --------------------------------------------------------------------------

Op = Callable[[Any], Any]
"""One timed call, given its argument (see :meth:`Ways.argument`)."""


class Ways:
    """The four ways, each with its tables loaded; ``ops[way][workload](n)`` runs one call."""

    def __init__(self) -> None:
        from moto import mock_aws

        self.mock = mock_aws()
        self.mock.start()  # stopped in close(); the local engine never touches botocore
        began = time.perf_counter()
        self.ops: dict[str, dict[str, Op]] = {
            "orm": self._orm(),
            "engine": self._engine(),
            "boto3": self._boto3(),
            "pynamodb": self._pynamodb(),
        }
        print(
            f"  loaded four 2,000-item tables in {time.perf_counter() - began:.1f} s",
            file=sys.stderr,
        )

    def close(self) -> None:
        self.db.close()
        self.put_db.close()
        self.mock.stop()

    def _orm(self) -> dict[str, Op]:
        self.db = DB()
        self.put_db = DB()
        for db in (self.db, self.put_db):
            db.create_table(app)
        entities = [
            Order(**values(f"c{p:02d}", n)) for p in range(PARTITIONS) for n in range(PER_PARTITION)
        ]
        for start in range(0, len(entities), 25):
            self.db.write_many(entities[start : start + 25])
        db, put_db = self.db, self.put_db

        def put(v: dict[str, Any]) -> Any:
            return put_db.put(Order(**v))

        def get(n: int) -> Any:
            customer, order = read_key(n)
            return db.get(Order, customer_id=customer, order_id=f"o{order:05d}")

        def query(n: int) -> Any:
            customer = f"c{n % PARTITIONS:02d}"
            return db.query(Order.for_customer, customer_id=customer).limit(QUERY_LIMIT).all()

        return {"put": put, "get": get, "query": query}

    def _engine(self) -> dict[str, Op]:
        """The ORM's own requests, prebuilt, straight to the engine: the ORM's floor."""
        assert isinstance(self.db.backend, LocalBackend)
        engine = self.db.backend.engine  # the reads share the ORM's loaded engine
        put_engine = LocalEngine()
        put_engine.call(*self.db.explain.create_table(app))
        explain = self.db.explain
        # Prebuilt per n, outside the timing: the request the ORM sends for that n.
        self.engine_requests: dict[str, Callable[[int], tuple[str, dict[str, Any]]]] = {
            "put": lambda n: explain.put(Order(**values(put_customer(n), n))),
            "get": lambda n: explain.get(
                Order, customer_id=read_key(n)[0], order_id=f"o{read_key(n)[1]:05d}"
            ),
            "query": lambda n: (
                self.db.query(Order.for_customer, customer_id=f"c{n % PARTITIONS:02d}")
                .limit(QUERY_LIMIT)
                .explain()
            ),
        }
        call = engine.call
        put_call = put_engine.call
        return {
            "put": lambda request: put_call(*request, copy=False),
            "get": lambda request: call(*request, copy=False),
            "query": lambda request: call(*request, copy=False),
        }

    def _boto3(self) -> dict[str, Op]:
        client = boto3.client("dynamodb", region_name=REGION)
        for name in ("boto3_read", "boto3_put"):
            request = app.create_table_request()
            request["TableName"] = name
            client.create_table(**request)
        for p in range(PARTITIONS):
            for n in range(PER_PARTITION):
                client.put_item(TableName="boto3_read", Item=wire_item(values(f"c{p:02d}", n)))

        def put(v: dict[str, Any]) -> Any:
            return client.put_item(TableName="boto3_put", Item=wire_item(v))

        def get(n: int) -> Any:
            customer, order = read_key(n)
            key = {"PK": {"S": f"CUSTOMER#{customer}"}, "SK": {"S": f"ORDER#o{order:05d}"}}
            return client.get_item(TableName="boto3_read", Key=key).get("Item")

        def query(n: int) -> Any:
            return client.query(
                TableName="boto3_read",
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": "PK"},
                ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#c{n % PARTITIONS:02d}"}},
                Limit=QUERY_LIMIT,
            )["Items"]

        return {"put": put, "get": get, "query": query}

    def _pynamodb(self) -> dict[str, Op]:
        read_model, put_model = pynamo_models()
        read_model.create_table(wait=False)
        put_model.create_table(wait=False)
        with read_model.batch_write() as batch:
            for p in range(PARTITIONS):
                for n in range(PER_PARTITION):
                    batch.save(pynamo_build(read_model, values(f"c{p:02d}", n)))

        def put(v: dict[str, Any]) -> Any:
            return pynamo_build(put_model, v).save()

        def get(n: int) -> Any:
            customer, order = read_key(n)
            return read_model.get(f"CUSTOMER#{customer}", f"ORDER#o{order:05d}")

        def query(n: int) -> Any:
            key = f"CUSTOMER#c{n % PARTITIONS:02d}"
            return list(read_model.query(key, limit=QUERY_LIMIT))

        return {"put": put, "get": get, "query": query}

    def argument(self, way: str, workload: str, n: int) -> Any:
        """The ``n``-th call's argument, built before the timing: the prebuilt wire
        request for ``engine``; the plain values of the new order for a put; ``n``."""
        if way == "engine":
            return self.engine_requests[workload](n)
        if workload == "put":
            return values(put_customer(n), n)
        return n

    def check(self) -> None:
        """Every way reads back the same orders (so the ways do the same work)."""
        orm = self.ops["orm"]["query"](3)
        pyn = self.ops["pynamodb"]["query"](3)
        raw = self.ops["boto3"]["query"](3)
        engine = self.ops["engine"]["query"](self.engine_requests["query"](3))["Items"]
        assert len(orm) == len(pyn) == len(raw) == len(engine) == QUERY_LIMIT
        assert [o.order_id for o in orm] == [o.order_id for o in pyn]
        assert [o.order_id for o in orm] == [i["order_id"]["S"] for i in raw]
        assert orm[0].to_item() == engine[0]
        got = self.ops["orm"]["get"](5)
        assert got is not None and got.model_dump() == Order(**values(*_key_values(5))).model_dump()
        assert self.ops["pynamodb"]["get"](5).order_id == got.order_id


def _key_values(n: int) -> tuple[str, int]:
    customer, order = read_key(n)
    return customer, order


# -- timing ----------------------------------------------------------------------------


def time_calls(op: Op, args: list[Any]) -> list[float]:
    """Each call's CPU time (seconds, clock overhead removed)."""
    clock, overhead = CLOCK, clock_overhead()
    out = []
    gc.collect()
    for arg in args:
        start = clock()
        op(arg)
        out.append(max(clock() - start - overhead, 1e-9))
    return out


class Series:
    """Per-call samples of one way and workload, kept by round."""

    def __init__(self) -> None:
        self.rounds: list[list[float]] = []

    @property
    def samples(self) -> list[float]:
        return [s for r in self.rounds for s in r]

    def p(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def run_ways(
    ways: Ways, counts: dict[str, dict[str, int]], rounds: int
) -> dict[tuple[str, str], Series]:
    """Table 1's samples: for each workload, the four ways alternating in rounds."""
    results: dict[tuple[str, str], Series] = {}
    counter = {(w, k): 0 for w in WAYS for k in WORKLOADS}
    for workload in WORKLOADS:
        began = time.perf_counter()
        for way in WAYS:
            results[(way, workload)] = Series()
        for round_ in range(rounds + 1):  # round 0 warms up
            order = WAYS if round_ % 2 else tuple(reversed(WAYS))
            for way in order:
                size = counts[way][workload]
                if round_ == 0:
                    size = min(size, 5)
                start = counter[(way, workload)]
                counter[(way, workload)] = start + size
                numbers = list(range(start, start + size))
                args = [ways.argument(way, workload, n) for n in numbers]  # built untimed
                taken = time_calls(ways.ops[way][workload], args)
                if round_:
                    results[(way, workload)].rounds.append(taken)
        print(f"  {workload}: {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return results


def overhead(results: dict[tuple[str, str], Series], workload: str) -> float:
    """Median over rounds of (round median of orm - round median of engine), seconds."""
    orm = results[("orm", workload)].rounds
    engine = results[("engine", workload)].rounds
    return statistics.median(
        statistics.median(a) - statistics.median(b) for a, b in zip(orm, engine, strict=True)
    )


# -- profile ---------------------------------------------------------------------------


def profile(ways: Ways, calls: dict[str, int], top: int) -> dict[str, list[tuple[str, float]]]:
    """cProfile of the ORM's calls: the top functions by own time, as % of the total."""
    out: dict[str, list[tuple[str, float]]] = {}
    for workload in WORKLOADS:
        op = ways.ops["orm"][workload]
        base = 1_000_000
        profiler = cProfile.Profile()
        profiler.enable()
        args = [ways.argument("orm", workload, n) for n in range(base, base + calls[workload])]
        for arg in args:
            op(arg)
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = stats.total_tt  # type: ignore[attr-defined]
        rows = []
        for (path, line, name), (_, _, tt, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            rows.append((f"{_short(path)}:{line}({name})", tt / total * 100))
        rows.sort(key=lambda r: -r[1])
        out[workload] = rows[:top]
    return out


def _short(path: str) -> str:
    for marker in ("singletable/", "pydantic/", "site-packages/"):
        if marker in path:
            return path[path.index(marker) :].replace("site-packages/", "")
    return os.path.basename(path) if path.startswith("/") else path


# -- printing --------------------------------------------------------------------------


def print_ways(results: dict[tuple[str, str], Series]) -> None:
    print("\nTable 1 -- per call, CPU time (ops/s = 1 / median)")
    print(
        f"{'workload':<8} {'way':<9} {'n':>6} {'ops/s':>10} {'p50 us':>10} {'p90 us':>10} "
        f"{'x pynamodb':>11} {'x boto3':>9}"
    )
    for workload in WORKLOADS:
        pyn = results[("pynamodb", workload)].median
        raw = results[("boto3", workload)].median
        for way in WAYS:
            s = results[(way, workload)]
            print(
                f"{workload:<8} {way:<9} {len(s.samples):>6} {1 / s.median:>10,.0f} "
                f"{s.median * 1e6:>10.1f} {s.p(90) * 1e6:>10.1f} "
                f"{pyn / s.median:>10.1f}x {raw / s.median:>8.1f}x"
            )
    print("\nTable 2 -- the ORM's own cost: orm - engine, paired by round (median of rounds)")
    print(
        f"{'workload':<8} {'orm us':>9} {'engine us':>10} {'ORM us/call':>12} "
        f"{'items':>6} {'ORM us/item':>12} {'share':>7}"
    )
    for workload in WORKLOADS:
        cost = overhead(results, workload)
        items = QUERY_LIMIT if workload == "query" else 1
        orm = results[("orm", workload)].median
        print(
            f"{workload:<8} {orm * 1e6:>9.1f} {results[('engine', workload)].median * 1e6:>10.1f} "
            f"{cost * 1e6:>12.1f} {items:>6} {cost / items * 1e6:>12.1f} {cost / orm:>6.0%}"
        )


def print_micro(tables: tuple[list[Row], list[Row], list[Row]]) -> None:
    print("\nTable 3 -- costs without I/O (CPU us per item, median of batches)")
    for title, rows in zip(("write path", "read path", "query"), tables, strict=True):
        print(f"  {title}:")
        for name, us, note in rows:
            print(f"    {name:<44} {us:>7.2f}  {note}")


def print_profile(top: dict[str, list[tuple[str, float]]], calls: dict[str, int]) -> None:
    print("\nTable 4 -- cProfile of the ORM's calls (own time, % of the profiled total)")
    for workload, rows in top.items():
        print(f"  {workload} ({calls[workload]} calls):")
        for name, share in rows:
            print(f"    {share:5.1f}%  {name}")


def summary(results: dict[tuple[str, str], Series]) -> dict[str, float]:
    """The numbers ``--ab`` compares: per workload, the ORM's own cost per item (us),
    the ORM's and the engine's medians (us) and the ORM's speed over PynamoDB's."""
    out: dict[str, float] = {}
    for workload in WORKLOADS:
        items = QUERY_LIMIT if workload == "query" else 1
        orm = results[("orm", workload)].median
        out[f"{workload} own us/item"] = overhead(results, workload) / items * 1e6
        out[f"{workload} orm us"] = orm * 1e6
        out[f"{workload} engine us"] = results[("engine", workload)].median * 1e6
        out[f"{workload} x pynamodb"] = results[("pynamodb", workload)].median / orm
    return out


def print_targets(results: dict[tuple[str, str], Series], micro: dict[str, float]) -> None:
    print("\nTable 5 -- targets (issue 19: put own cost < 25 us and >= 50x PynamoDB; issue 5)")
    rows: list[tuple[str, str, bool]] = []
    for workload, target in (("put", 50), ("get", 50), ("query", 100)):
        ratio = results[("pynamodb", workload)].median / results[("orm", workload)].median
        rows.append(
            (f"orm {workload} >= {target}x pynamodb-on-moto", f"{ratio:,.0f}x", ratio >= target)
        )
    for workload in WORKLOADS:
        items = QUERY_LIMIT if workload == "query" else 1
        cost = overhead(results, workload) / items * 1e6
        rows.append((f"ORM's own cost per item, {workload} < 25 us", f"{cost:.1f} us", cost < 25))
    for name in ("entity.to_item()", "Order.from_item(item)"):
        rows.append((f"{name} < 25 us", f"{micro[name]:.1f} us", micro[name] < 25))
    for name, shown, ok in rows:
        print(f"  {'PASS' if ok else 'MISS'}  {name:<44} {shown:>10}")


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run every table, print them."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (under 30 s)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile table")
    parser.add_argument("--json", help="also write the --ab summary to this file")
    parser.add_argument("--ab", metavar="DIR", help="compare with the library in DIR (see above)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each version for --ab")
    parser.add_argument(
        "--dynamoxy-python",
        default=os.environ.get("DYNAMOXY_PYTHON"),
        metavar="PATH",
        help="a Python (>= 3.12) with dynamoxy installed, for Table 6 (bench/orm_rival.py)",
    )
    parser.add_argument(
        "--dynamoxy-only", action="store_true", help="run Table 6 only (needs --dynamoxy-python)"
    )
    args = parser.parse_args(argv)
    if args.ab:
        compare(args.ab, args.runs, args.dynamoxy_python, args.dynamoxy_only)
        return
    skipped = orm_rival.skipped_reason(args.dynamoxy_python)
    if args.dynamoxy_only:
        if skipped is not None:
            raise SystemExit(skipped)
        found = rival_table(args.dynamoxy_python, args.quick)
        if args.json:
            with open(args.json, "w") as out:
                json.dump(found, out)
        return
    aws_environment()
    import pynamodb

    overhead = clock_overhead()
    rounds = 3 if args.quick else 12
    local = (
        {"put": 200, "get": 300, "query": 100}
        if args.quick
        else {"put": 1000, "get": 2000, "query": 500}
    )
    moto = (
        {"put": 10, "get": 10, "query": 2} if args.quick else {"put": 100, "get": 100, "query": 20}
    )
    counts = {"orm": local, "engine": local, "boto3": moto, "pynamodb": moto}
    print(
        f"singletable ORM benchmark -- Python {platform.python_version()}, pydantic "
        f"{pydantic.VERSION}, boto3 {boto3.__version__}, PynamoDB {pynamodb.__version__}, "
        f"{os.cpu_count()} CPUs, {'quick' if args.quick else 'full'}, {rounds} rounds"
    )
    print(
        f"latencies: thread CPU time ({CLOCK.__name__}), clock overhead "
        f"{overhead * 1e9:,.0f} ns subtracted; load average {os.getloadavg()[0]:.1f}; "
        f"table of {PARTITIONS * PER_PARTITION:,} items, query = first {QUERY_LIMIT} of "
        f"{PER_PARTITION}"
    )
    ways = Ways()
    # The loaded tables (moto's included) go to the permanent generation: otherwise each
    # full collection, triggered by allocations inside the timed calls, walks them all.
    gc.collect()
    gc.freeze()
    try:
        ways.check()
        results = run_ways(ways, counts, rounds)
        began = time.perf_counter()
        micro = orm_micro.micro_costs(args.quick, Order, app, values)
        print(f"  costs without I/O: {time.perf_counter() - began:.1f} s", file=sys.stderr)
        print_ways(results)
        print_micro(micro)
        if not args.no_profile:
            calls = (
                {"put": 300, "get": 500, "query": 60}
                if args.quick
                else {"put": 1000, "get": 2000, "query": 200}
            )
            print_profile(profile(ways, calls, top=8 if args.quick else 12), calls)
        print_targets(results, {name: us for rows in micro for name, us, _ in rows})
    finally:
        ways.close()
    found = summary(results)
    if skipped is None:
        found.update(rival_table(args.dynamoxy_python, args.quick))
    else:
        print(f"\nTable 6 -- {skipped}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(found, out)


def rival_table(python: str, quick: bool) -> dict[str, float]:
    """Table 6 (bench/orm_rival.py): measured, printed; returns its --ab summary."""
    began = time.perf_counter()
    version, results = orm_rival.measure(
        python, Order, app, Order.for_customer, values, read_key, quick
    )
    print(f"  dynamoxy comparison: {time.perf_counter() - began:.1f} s", file=sys.stderr)
    orm_rival.print_table(version, results)
    return orm_rival.summary(results)


def compare(base: str, runs: int, dynamoxy_python: str | None, dynamoxy_only: bool) -> None:
    """``--ab``: this script alternately on ``base``'s library and on this checkout's,
    ``runs`` quick runs each; the medians of their summaries side by side (with Table
    6's ratios when ``dynamoxy_python`` is given; only those with ``dynamoxy_only``)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    versions = {"base": os.path.abspath(base), "this": here}
    found: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(runs):
            order = list(versions) if run % 2 == 0 else list(reversed(versions))
            for name in order:
                out = os.path.join(scratch, f"{name}-{run}.json")
                env = {**os.environ, "PYTHONPATH": versions[name]}
                command = [sys.executable, __file__, "--quick", "--no-profile", "--json", out]
                if dynamoxy_python is not None:
                    command += ["--dynamoxy-python", dynamoxy_python]
                if dynamoxy_only:
                    command.append("--dynamoxy-only")
                subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
                with open(out) as result:
                    found[name].append(json.load(result))
                print(f"  run {run + 1}/{runs}: {name} done", file=sys.stderr)
    print(f"\nA/B -- median of {runs} quick runs each (base: {versions['base']})")
    print(f"{'':<24} {'base':>10} {'this':>10} {'change':>8}")
    for key in found["this"][0]:
        base_value = statistics.median(r[key] for r in found["base"])
        this_value = statistics.median(r[key] for r in found["this"])
        change = this_value / base_value - 1 if base_value else float("nan")
        digits = 2 if "dynamoxy" in key else 1
        print(
            f"{key:<24} {base_value:>10.{digits}f} {this_value:>10.{digits}f} {change:>+8.0%}"
        )
    if "put x dynamoxy" in found["this"][0]:
        for workload in WORKLOADS:
            ratio = statistics.median(r[f"{workload} x dynamoxy"] for r in found["this"])
            name = f"ORM {workload} >= 2x dynamoxy"
            print(f"  {'PASS' if ratio >= 2 else 'MISS'}  {name:<36} {ratio:>9.2f}x")
    if dynamoxy_only:
        return
    this_put = statistics.median(r["put own us/item"] for r in found["this"])
    this_ratio = statistics.median(r["put x pynamodb"] for r in found["this"])
    for name, shown, ok in (
        ("ORM put own cost < 25 us", f"{this_put:.1f} us", this_put < 25),
        ("ORM put >= 50x PynamoDB on moto", f"{this_ratio:.0f}x", this_ratio >= 50),
    ):
        print(f"  {'PASS' if ok else 'MISS'}  {name:<36} {shown:>10}")


if __name__ == "__main__":
    main()
