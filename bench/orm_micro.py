"""orm_bench.py's Table 3: costs without I/O, and the prototypes of other read paths.

Split out of orm_bench.py (which imports it) to keep that script under the house's
module size; see orm_bench.py's docstring for what Table 3 measures. ``micro_costs``
takes the benchmark's entity class, table and value builder as arguments, so this
module defines no entity of its own.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from _common import CLOCK, clock_overhead
from pydantic import BaseModel

from singletable import _queries as queries
from singletable import _requests as ops
from singletable._flows import encode_cursor
from singletable.backends.engine import LocalBackend
from singletable.backends.local import LocalEngine
from singletable.codec import from_attribute as decode
from singletable.codec import from_item as decode_item
from singletable.codec import to_attribute
from singletable.db import DB
from singletable.entity import Entity, key_item, validated
from singletable.keys import render_datetime

PER_PARTITION = 100
QUERY_LIMIT = 25

# -- per-item costs without I/O --------------------------------------------------------


class Rounds:
    """Functions timed in interleaved rounds: each round runs every function once, a
    batch of calls each, so a burst of load from other processes lands on all alike."""

    def __init__(self, inner: int) -> None:
        self.inner = inner
        self.functions: list[tuple[Callable[[], Any], int, int]] = []
        self.taken: list[list[float]] = []

    def add(self, fn: Callable[[], Any], per: int = 1) -> int:
        """Register ``fn`` (``per``: items one call handles); returns its key."""
        self.functions.append((fn, max(self.inner // per, 10), per))
        self.taken.append([])
        return len(self.functions) - 1

    def run(self, repeats: int) -> None:
        """One warm-up round, then ``repeats`` timed rounds."""
        overhead = clock_overhead()
        for round_ in range(repeats + 1):
            for (fn, calls, per), taken in zip(self.functions, self.taken, strict=True):
                gc.collect()
                start = CLOCK()
                for _ in range(calls):
                    fn()
                if round_:
                    taken.append((CLOCK() - start - overhead) / (calls * per))

    def us(self, key: int) -> float:
        """Median over rounds of the CPU microseconds per item of function ``key``."""
        return statistics.median(self.taken[key]) * 1e6


def _decoders(cls: type[BaseModel]) -> dict[str, tuple[str, Callable[[Any], Any]]]:
    """Prototype: attribute -> (field, decoder of its wire value into the field's type),
    from the annotations, so that ``model_construct`` can skip validation."""
    simple: dict[Any, Callable[[Any], Any]] = {
        str: lambda a: a["S"],
        int: lambda a: int(a["N"]),
        Decimal: lambda a: Decimal(a["N"]),
        bool: lambda a: a["BOOL"],
        datetime: lambda a: datetime.fromisoformat(a["S"]),
        set[str]: lambda a: set(a["SS"]),
    }
    out: dict[str, tuple[str, Callable[[Any], Any]]] = {}
    for name, info in cls.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            inner = _decoders(annotation)

            def decode(a: Any, inner: Any = inner, nested: Any = annotation) -> Any:
                m = a["M"]
                return nested.model_construct(
                    **{field: fn(m[attr]) for attr, (field, fn) in inner.items() if attr in m}
                )

            out[info.alias or name] = (name, decode)
        else:
            out[info.alias or name] = (name, simple[annotation])
    return out


def construct_from_item(
    cls: Any, decoders: dict[str, tuple[str, Callable[[Any], Any]]], item: dict[str, Any]
) -> Any:
    """Prototype: typed decoders, then ``model_construct`` (no validation)."""
    return cls.model_construct(
        **{field: fn(item[attr]) for attr, (field, fn) in decoders.items() if attr in item}
    )


_SCALAR_KIND = {str: "S", int: "N", Decimal: "N", float: "N", bool: "BOOL", datetime: "S"}


def read_plan(cls: type[Entity]) -> list[tuple[str, str | None]]:
    """Prototype of a compiled read plan: per field attribute, the wire type whose raw
    value Pydantic can validate as it is (``S`` for str/datetime, ``N`` for numbers as
    their text, ``BOOL``), or None to decode with the codec. Key and type attributes
    are not in it, so they are neither decoded nor popped."""
    return [
        (info.alias or name, _SCALAR_KIND.get(info.annotation))  # type: ignore[arg-type]
        for name, info in cls.model_fields.items()
    ]


def plan_values(plan: list[tuple[str, str | None]], item: dict[str, Any]) -> dict[str, Any]:
    """The prototype plan's input for ``model_validate`` (also a raw, dict read path)."""
    data: dict[str, Any] = {}
    for attribute, kind in plan:
        value = item.get(attribute)
        if value is None:
            continue
        data[attribute] = value[kind] if kind is not None and kind in value else decode(value)
    return data


def general_to_item(entity: Any) -> Any:
    """``to_item`` the general way: the codec per field, then ``key_item`` (what the
    compiled writer of singletable/_writer.py must equal; the same in any version)."""
    model = type(entity).__singletable__
    values_ = entity.__dict__
    item = {
        attr: to_attribute(values_[f], path)
        for f, attr, path in model.writes
        if values_.get(f) is not None
    }
    item.update(key_item(model, values_, type(entity).__name__))
    item[model.table.type_attribute] = {"S": model.type_name}
    return item


Row = tuple[str, float, str]
_Spec = tuple[str, int, str]


def micro_costs(
    quick: bool, Order: Any, app: Any, values: Callable[[str, int], dict[str, Any]]
) -> tuple[list[Row], list[Row], list[Row]]:
    """Table 3's rows (write path, read path, query), in microseconds: (what, us, note)."""
    inner, repeats = (200, 7) if quick else (500, 21)
    v = values("c01", 17)
    entity = Order(**v)
    item = entity.to_item()
    model = Order.__singletable__
    data = decode_item(item)
    for attribute in (*model.table.key_attributes, model.table.type_attribute):
        data.pop(attribute, None)
    decoders = _decoders(Order)
    plan = read_plan(Order)
    planned = plan_values(plan, item)
    assert Order.model_validate(planned) == Order.from_item(item) == entity
    assert construct_from_item(Order, decoders, item) == entity
    assert general_to_item(entity) == item
    fields = dict(entity.__dict__)
    created = entity.created_at

    timed = Rounds(inner)
    t = timed.add
    write: list[_Spec] = [
        ("Order(**values): validate 10 fields", t(lambda: Order(**v)), "the user's"),
        ("validated(entity): a put's re-validation", t(lambda: validated(entity)), "ours"),
        ("entity.to_item()", t(entity.to_item), "4 key attributes + type + 10 fields"),
        ("  key_item (PK, SK, GSI1PK, GSI1SK)", t(lambda: key_item(model, fields, "Order")), ""),
        ("  GSI1SK datetime slot: strftime", t(lambda: render_datetime(created)), "keys.py now"),
        (
            "  same text via isoformat(timespec=us)",
            t(lambda: created.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"),
            "same output",
        ),
        (
            "  codec.to_attribute(created_at)",
            t(lambda: to_attribute(created, "x")),
            "isinstance chain",
        ),
        ("  codec.to_attribute(total: Decimal)", t(lambda: to_attribute(v["total"], "x")), ""),
        (
            "  codec.to_attribute(address: model)",
            t(lambda: to_attribute(entity.address, "x")),
            "model_dump + chain",
        ),
        (
            "general path: codec per field + key_item",
            t(lambda: general_to_item(entity)),
            "same item (to_item compiled since issue 19)",
        ),
        (
            "Order.key(customer_id, order_id)",
            t(lambda: Order.key(customer_id="c01", order_id="o00017")),
            "get's key",
        ),
        (
            "ops.put_request (to_item + conditions)",
            t(lambda: ops.put_request(entity, "upsert")),
            "",
        ),
    ]
    read: list[_Spec] = [
        ("Order.from_item(item)", t(lambda: Order.from_item(item)), "today"),
        ("  codec.from_item (15 attributes)", t(lambda: decode_item(item)), "incl. 5 key/type"),
        ("  Order.model_validate(decoded)", t(lambda: Order.model_validate(data)), ""),
        (
            "prototype: read plan + model_validate",
            t(lambda: Order.model_validate(plan_values(plan, item))),
            "validated, same entity",
        ),
        ("  read plan only (raw dict path)", t(lambda: plan_values(plan, item)), "no model"),
        (
            "prototype: typed decoders + model_construct",
            t(lambda: construct_from_item(Order, decoders, item)),
            "not validated",
        ),
        (
            "  Order.model_construct(typed values)",
            t(lambda: Order.model_construct(**entity.__dict__)),
            "construct alone",
        ),
        (
            "  Order.model_validate(typed values)",
            t(lambda: Order.model_validate(entity.__dict__)),
            "validate alone",
        ),
    ]

    # One query page without I/O: the flow fed a canned 25-item response.
    engine = LocalEngine()
    engine.call(*DB().explain.create_table(app))
    for n in range(PER_PARTITION):
        engine.call("PutItem", {"TableName": app.name, "Item": Order(**values("c00", n)).to_item()})
    db = DB(LocalBackend(engine))
    gc.collect()
    gc.freeze()
    query = db.query(Order.for_customer, customer_id="c00").limit(QUERY_LIMIT)
    response = engine.call("Query", query.explain()[1], copy=False)
    spec = query._spec  # the query's own spec, as db.query built it
    size = len(response["Items"])

    def parse_page() -> Any:
        flow = queries.query_page(Order.for_customer, spec)
        next(flow)
        try:
            flow.send(response)
        except StopIteration as stop:
            return stop.value
        raise AssertionError("query_page sent a second request")

    def build_query() -> Any:
        return db.query(Order.for_customer, customer_id="c00").limit(QUERY_LIMIT)

    def first_request() -> Any:
        flow = queries.query_page(Order.for_customer, spec)
        call = next(flow)
        flow.close()
        return call

    last = response["LastEvaluatedKey"]
    page: list[_Spec] = [
        ("db.query(...).limit(25): build the query", t(build_query), "per call"),
        ("its Query request (key condition)", t(first_request), "per call"),
        ("parse a 25-item page, per item", t(parse_page, size), "from_item + cursor"),
        (
            "cursor encode (JSON + HMAC)",
            t(lambda: encode_cursor(last, spec.scope, spec.secret)),
            "per page; paid even when limit() is reached",
        ),
    ]
    timed.run(repeats)
    return (
        [(name, timed.us(key), note) for name, key, note in write],
        [(name, timed.us(key), note) for name, key, note in read],
        [(name, timed.us(key), note) for name, key, note in page],
    )
