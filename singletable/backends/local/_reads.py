"""Query and Scan: key conditions, pages of at most 1 MB, filters, projections, counts.

A page reads items in key order until ``Limit`` items were *read* (filters apply
after the read and do not extend the page) or the items read add up to 1 MB;
the item that crosses 1 MB is the last one of the page (API Reference, Query:
"Limit" and "the 1 MB limit"). ``LastEvaluatedKey`` is returned whenever the
page stopped early for either reason, even if no item follows, as DynamoDB does.
Capacity is the sum of the sizes of the items read, rounded up to 4 KB once; a
Scan rounds per partition it reads (see :func:`_partition_of`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from singletable._values import Item
from singletable.backends.local._capacity import consumed, read_units
from singletable.backends.local._exprs import RequestExpressions
from singletable.backends.local._indexes import (
    IndexDef,
    check_begins_with,
    check_key_type,
    check_key_value,
    sort_bounds,
    within,
)
from singletable.backends.local._items import table_for
from singletable.backends.local._params import Checks
from singletable.backends.local._schema import TableDef
from singletable.backends.local.errors import DynamoDBError, validation_error
from singletable.backends.local.keycodec import prefix_bounds
from singletable.backends.local.storage import TableStore, scan_hash, segment_bounds
from singletable.expressions import Condition, KeyCondition, Projection

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["query", "scan"]

PAGE_BYTES = 1024 * 1024
_SELECT = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")


# Select values that exclude a projection, as DynamoDB names them in its message.
_NO_PROJECTION = {
    "ALL_ATTRIBUTES": "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES": "ALL_PROJECTED_ATTRIBUTES",
    "COUNT": "only the Count",
}


class _ReadRequest:
    """Members Query and Scan share, checked the same way."""

    def __init__(self, engine: LocalEngine, request: dict[str, Any]) -> None:
        checks = Checks(request)
        self.limit = checks.integer("Limit", 1)
        self.select = checks.enum("Select", _SELECT)
        self.capacity_mode = checks.enum("ReturnConsumedCapacity", ("INDEXES", "TOTAL", "NONE"))
        self.consistent = checks.boolean("ConsistentRead")
        self.forward = checks.boolean("ScanIndexForward", True)
        self.start = checks.mapping("ExclusiveStartKey")
        self.segment = checks.integer("Segment", 0, 999_999)
        self.total_segments = checks.integer("TotalSegments", 1, 1_000_000)
        self.index_name = checks.string("IndexName")
        self.table: TableDef = table_for(engine, checks)
        self.index: IndexDef | None = None
        self.store: TableStore = self.table.store
        if self.index_name is not None:
            self.index = self.table.index(self.index_name)
            if self.index is None:
                raise validation_error(
                    f"The table does not have the specified index: {self.index_name}"
                )
            self.store = self.index.store
            if self.consistent and self.index.is_global:
                raise validation_error(
                    "Consistent reads are not supported on global secondary indexes"
                )
        self.expressions = RequestExpressions(request)
        self.projection: Projection | None = None

    def finish(self, filter_: Condition | None) -> None:
        """Projection/Select rules, then the unused-placeholder check."""
        self.projection = self.expressions.projection()
        self.expressions.finish()
        self.filter = filter_
        if self.select == "SPECIFIC_ATTRIBUTES" and self.projection is None:
            raise validation_error(
                "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
                "SPECIFIC_ATTRIBUTES"
            )
        if self.select in _NO_PROJECTION and self.projection is not None:
            given = "AttributesToGet" if self.expressions.legacy else "ProjectionExpression"
            raise validation_error(
                f"Cannot specify the {given} when choosing to get {_NO_PROJECTION[self.select]}"
            )
        index = self.index
        if self.select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise validation_error(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            )
        # An LSI fetches attributes it does not project from the table (at extra
        # cost); a GSI cannot (Developer Guide, "Projections" for each index kind).
        self.fetch_from_table = False
        if index is not None and index.projected is not None:
            if index.is_global:
                self._check_gsi_projection(index, index.projected)
            if self.select == "ALL_ATTRIBUTES":
                if index.is_global:
                    raise validation_error(
                        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES "
                        f"is not supported for global secondary index {index.name} because its "
                        "projection type is not ALL"
                    )
                self.fetch_from_table = True
            elif self.projection is not None and not index.is_global:
                self.fetch_from_table = not self.projection.top_level_names <= index.projected

    def _check_gsi_projection(self, index: IndexDef, projected: frozenset[str]) -> None:
        """A GSI cannot fetch from the table: names it does not project are rejected.

        API_Query ("you can only request attributes that are projected into the
        index"); texts as live DynamoDB answers them (localstack/localstack#478 for the
        projection, sensedeep/dynamodb-onetable#377 for the filter).
        """
        if self.projection is not None:
            missing = sorted(self.projection.top_level_names - projected)
            if missing:
                raise validation_error(
                    "One or more parameter values were invalid: Global secondary index "
                    f"{index.name} does not project [{', '.join(missing)}]"
                )
        if self.filter is not None:
            missing = sorted(self.filter.top_level_names - projected)
            if missing:
                raise validation_error(
                    f"One or more parameter values were invalid: Secondary index {index.name} "
                    f"does not project one or more filter attributes: [{', '.join(missing)}]"
                )

    def start_key(self) -> tuple[bytes, bytes] | None:
        """The encoded ExclusiveStartKey (a position in the table or the index), checked."""
        if self.start is None:
            return None
        table, index = self.table, self.index
        names = table.key_names if index is None else index.all_key_names
        if set(self.start) != set(names):
            raise validation_error(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema"
            )
        try:
            table_key = table.key_from_request({name: self.start[name] for name in table.key_names})
            if index is None:
                return table_key
            for attr in index.hash + index.range:
                check_key_value(self.start[attr.name], attr.type)
            return index.start_key(self.start, table_key)
        except DynamoDBError as error:
            if error.message.startswith("The provided starting key is invalid"):
                raise
            raise validation_error(
                f"The provided starting key is invalid: {error.message}"
            ) from None

    def page(
        self,
        rows: Iterator[tuple[bytes, bytes, Item]],
        scan_range: tuple[bytes, bytes | None] | None = None,
    ) -> dict[str, Any]:
        """Read one page from ``rows`` and build the response.

        ``scan_range``: for a Scan, the scan positions ``[start, end)`` the page may
        cover (its segment, from its start key); capacity is then counted per
        partition the page reads (see :func:`_scan_page_units`).
        """
        # For a Scan: each partition key read, in scan order, with the bytes read before it.
        scanning = scan_range is not None
        pks: list[bytes] = []
        starts: list[int] = []
        last_pk: bytes | None = None
        limit = self.limit
        filter_ = self.filter
        projection = self.projection
        counting = self.select == "COUNT"
        items: list[Item] = []
        scanned = 0
        size = 0
        last: Item | None = None
        size_of = self.store.size_of
        fetch = self.fetch_from_table
        table = self.table
        for pk, sk, item in rows:
            scanned += 1
            read = size_of(pk, sk)
            if fetch:
                # LSI: the table item (its read is charged too).
                table_key = table.key_from_item(item)
                item = table.store.get(*table_key) or item
                read += table.store.size_of(*table_key)
            if scanning and pk != last_pk:
                last_pk = pk
                pks.append(pk)
                starts.append(size)
            size += read
            if filter_ is None or filter_.matches(item):
                if not counting:
                    items.append(projection.apply(item) if projection is not None else item)
                else:
                    items.append(item)
            if scanned == limit or size >= PAGE_BYTES:
                last = item
                break
        response: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
        if not counting:
            response["Items"] = items
        if last is not None:
            if self.index is None:
                response["LastEvaluatedKey"] = self.table.key_of(last)
            else:
                response["LastEvaluatedKey"] = {n: last[n] for n in self.index.all_key_names}
        index = self.index
        if scan_range is None:
            units = read_units(size, self.consistent)
        else:
            partitions = _scan_partitions(self.table, self.index)
            per_partition = _bytes_per_partition(pks, starts, size, partitions)
            stopped_in = None if last is None else _partition_of(scan_hash(pks[-1]), partitions)
            units = _scan_page_units(
                per_partition, partitions, scan_range, stopped_in, self.consistent
            )
        capacity = consumed(
            self.capacity_mode,
            self.table.name,
            units,
            index=None if index is None else index.name,
            local=index is not None and not index.is_global,
        )
        if capacity is not None:
            response["ConsumedCapacity"] = capacity
        return response


def query(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """Query one partition, in sort-key order."""
    read = _ReadRequest(engine, request)
    table, index = read.table, read.index
    if index is None:
        hash_keys: tuple[str, ...] = (table.hash.name,)
        range_keys: tuple[str, ...] = (table.range.name,) if table.range is not None else ()
    else:
        hash_keys, range_keys = index.hash_names, index.range_names
    condition = read.expressions.key_condition(hash_keys, range_keys)
    filter_ = read.expressions.filter()
    if filter_ is not None:
        for name in hash_keys + range_keys:
            if name in filter_.top_level_names:
                raise validation_error(
                    "Filter Expression can only contain non-primary key attributes: "
                    f"Primary key attribute: {name}"
                )
    read.finish(filter_)
    if index is None:
        pk, bounds = _key_range(table, condition)
    else:
        pk = index.partition_key(condition.hash_values)
        types = {attr.name: attr.type for attr in index.range}
        bounds = sort_bounds(condition.range_terms, types)
    start = read.start_key()
    after: bytes | None = None
    if start is not None:
        if start[0] != pk or not within(start[1], bounds):
            raise validation_error(
                "The provided starting key is outside query boundaries based on provided conditions"
            )
        after = start[1]
    lo, lo_inclusive, hi, hi_inclusive = bounds
    with engine.lock:
        rows = (
            (pk, sk, item)
            for sk, item in read.store.query(
                pk,
                lo=lo,
                lo_inclusive=lo_inclusive,
                hi=hi,
                hi_inclusive=hi_inclusive,
                forward=read.forward,
                after=after,
            )
        )
        return read.page(rows)


_Bounds = tuple[bytes | None, bool, bytes | None, bool]


def _key_range(table: TableDef, condition: KeyCondition) -> tuple[bytes, _Bounds]:
    """Encode a key condition into a partition key and sort-key bounds."""
    hash_value = condition.hash_values[table.hash.name]
    check_key_type(hash_value, table.hash.type)
    pk = table.encode_value(table.hash, hash_value)
    if not condition.range_terms:
        return pk, (None, True, None, True)
    assert table.range is not None
    term = condition.range_terms[-1]
    for value in term.values:
        check_key_type(value, table.range.type)
    encoded = [table.encode_value(table.range, value) for value in term.values]
    op = term.op
    if op == "=":
        return pk, (encoded[0], True, encoded[0], True)
    if op == "<":
        return pk, (None, True, encoded[0], False)
    if op == "<=":
        return pk, (None, True, encoded[0], True)
    if op == ">":
        return pk, (encoded[0], False, None, True)
    if op == ">=":
        return pk, (encoded[0], True, None, True)
    if op == "BETWEEN":
        return pk, (encoded[0], True, encoded[1], True)
    # begins_with
    check_begins_with(table.range.type)
    lo, hi = prefix_bounds(term.values[0])
    return pk, (lo, True, hi, False)


def scan(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """Scan the table (or one segment of a parallel scan)."""
    read = _ReadRequest(engine, request)
    if read.total_segments is not None and read.segment is None:
        raise validation_error(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if read.segment is not None and read.total_segments is None:
        raise validation_error(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    segment, total = read.segment or 0, read.total_segments or 1
    if segment >= total:
        raise validation_error(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    read.finish(read.expressions.filter())
    after = read.start_key()
    if after is not None and total > 1:
        # The resume point must lie in this segment (dynalite's recorded text).
        lo, hi = segment_bounds(segment, total)
        position = scan_hash(after[0])
        if position < lo or (hi is not None and position >= hi):
            raise validation_error(
                "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
                f"ExclusiveStartKey with correct Segment. TotalSegments: {total} "
                f"Segment: {segment}"
            )
    lo, hi = segment_bounds(segment, total)
    start = lo if after is None else max(lo, scan_hash(after[0]))
    with engine.lock:
        rows = read.store.scan(segment=segment, total_segments=total, after=after)
        return read.page(rows, (start, hi))


# On-demand tables start with four partitions: a Scan of a table holding one small
# item reports 2 read units eventually consistent, 4 strongly consistent, not 0.5/1
# (scylladb's alternator test_returnconsumedcapacity.py, test_scan_consumed_capacity,
# run against DynamoDB; stackoverflow.com/questions/70121087). A provisioned table
# has the partitions its throughput needs (Developer Guide, "Partitions and data
# distribution": one per 3,000 read or 1,000 write units).
_ON_DEMAND_PARTITIONS = 4


def _scan_partitions(table: TableDef, index: IndexDef | None) -> int:
    """How many partitions a Scan of ``table`` (or of its ``index``) reads.

    An LSI lives in its table's partitions; a GSI's partitioning is not documented
    nor captured, so a GSI Scan is charged as one partition (its rounded total).
    """
    if index is not None and index.is_global:
        return 1
    if table.billing_mode == "PAY_PER_REQUEST":
        return _ON_DEMAND_PARTITIONS
    return max(1, -(-(table.read_units * 1000 + table.write_units * 3000) // 3_000_000))


def _scan_page_units(
    per_partition: dict[int, int],
    partitions: int,
    scan_range: tuple[bytes, bytes | None],
    stopped_in: int | None,
    consistent: bool,
) -> float:
    """Read units of a Scan page that read ``per_partition`` bytes.

    The page read every partition from the start of ``scan_range`` to the one it
    stopped in (``stopped_in``), or to the end of the range when it did not stop
    early, including partitions without items.
    """
    start, end = scan_range
    first = _partition_of(start, partitions)
    if stopped_in is not None:
        final = stopped_in
    elif end is None:
        final = partitions - 1
    else:  # ``end`` is exclusive
        final = _partition_of((int.from_bytes(end, "big") - 1).to_bytes(8, "big"), partitions)
    return sum(
        read_units(per_partition.get(bucket, 0), consistent)
        for bucket in range(first, max(first, final) + 1)
    )


def _bytes_per_partition(
    pks: list[bytes], starts: list[int], total: int, partitions: int
) -> dict[int, int]:
    """Bytes a Scan page read in each partition.

    ``pks`` are the partition keys read, in scan order (by hash, so each partition
    is one run of them), ``starts[i]`` the bytes read before ``pks[i]``, ``total``
    all the bytes read. A partition's run is found by binary search: a few hashes
    per partition rather than one per key.
    """
    out: dict[int, int] = {}
    position, count = 0, len(pks)
    while position < count:
        bucket = _partition_of(scan_hash(pks[position]), partitions)
        end = count
        if bucket < partitions - 1:
            boundary = -(-((bucket + 1) << 64) // partitions)  # first hash of the next one
            lo = position + 1
            while lo < end:
                middle = (lo + end) // 2
                if int.from_bytes(scan_hash(pks[middle]), "big") >= boundary:
                    end = middle
                else:
                    lo = middle + 1
        read = (starts[end] if end < count else total) - starts[position]
        out[bucket] = out.get(bucket, 0) + read
        position = end
    return out


def _partition_of(position: bytes, partitions: int) -> int:
    """The partition a scan position (an 8-byte hash) falls in.

    A Scan page is charged, per partition it reads, the bytes read there rounded up
    to 4 KB (at least one block): every partition from its start to where it stops,
    including partitions without items.
    """
    return (int.from_bytes(position[:8], "big") * partitions) >> 64
