"""In-process subscriptions to a table's stream records (see :mod:`._streams`).

A :class:`Subscription` hands each record to a callback; a :class:`RecordStream`
is the iterator form, collecting the delivered records for a test to take. The
engine's :class:`._streams.Streams` queues records under the engine lock and
delivers them after the operation; this module holds only the receiving side.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.backends.local._streams import Streams

__all__ = ["Callback", "Record", "RecordStream", "Subscription"]

Record = dict[str, Any]
Callback = Callable[[Record], None]


class Subscription:
    """A callback receiving every stream record of one table; :meth:`close` ends it.

    ``view`` None follows the table's stream (records only while it is enabled,
    in its view type: what a Lambda trigger on the stream sees); a view type
    receives every change of the table in that view, stream or not.
    """

    def __init__(self, streams: Streams, table_name: str, callback: Callback, view: str | None):
        self.table_name = table_name
        self.callback = callback
        self.view = view
        self.closed = False
        self._streams = streams

    def stream_arn(self) -> str | None:
        """The latest stream ARN of the subscribed table (None if it never had a stream)."""
        table = self._streams.table(self.table_name)
        stream = (table.settings.get("stream") or {}) if table is not None else {}
        arn = stream.get("LatestStreamArn")
        return str(arn) if arn is not None else None

    def close(self) -> None:
        """Stop receiving records (records already queued are not delivered)."""
        if not self.closed:
            self.closed = True
            self._streams.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class RecordStream:
    """The iterator form of a subscription: the records delivered so far, in order.

    Writes made by the current thread are delivered by the time they return, so
    ``records.drain()`` (or iterating, which never blocks and stops when no
    record is waiting) right after them sees their records. For changes made by
    other threads (the TTL sweeper, say), :meth:`wait` blocks until enough
    records arrived.
    """

    def __init__(self) -> None:
        self._records: deque[Record] = deque()
        self._arrived = threading.Condition()
        self.subscription: Subscription | None = None

    def push(self, record: Record) -> None:
        """Receive one record (the subscription's callback)."""
        with self._arrived:
            self._records.append(record)
            self._arrived.notify_all()

    def drain(self) -> list[Record]:
        """Every record received and not yet taken (possibly none); never blocks."""
        with self._arrived:
            records = list(self._records)
            self._records.clear()
        return records

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[Record]:
        """Block until at least ``count`` records are waiting, then take them all.

        Raises:
            TimeoutError: fewer than ``count`` records arrived within ``timeout`` seconds.
        """
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._records) >= count, timeout):
                raise TimeoutError(
                    f"{len(self._records)} of {count} stream records arrived in {timeout}s"
                )
            records = list(self._records)
            self._records.clear()
        return records

    def __iter__(self) -> Iterator[Record]:
        return self

    def __next__(self) -> Record:
        with self._arrived:
            if not self._records:
                raise StopIteration
            return self._records.popleft()

    def lambda_event(self) -> dict[str, Any]:
        """Take the waiting records as the event a Lambda trigger on the stream receives.

        ``{"Records": [...]}``: each record gains ``eventSourceARN`` (the table's
        latest stream ARN) and spells ``userIdentity`` as Lambda does
        (``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``), so a
        handler can be called as AWS calls it: ``handler(records.lambda_event(), None)``.
        """
        source = None
        if self.subscription is not None:
            source = self.subscription.stream_arn()
        return {"Records": [_lambda_record(record, source) for record in self.drain()]}

    def close(self) -> None:
        """End the subscription."""
        if self.subscription is not None:
            self.subscription.close()

    def __enter__(self) -> RecordStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _lambda_record(record: Record, source: str | None) -> Record:
    """A stream record in the shape of a Lambda event's record."""
    record = dict(record)
    if source is not None:
        record["eventSourceARN"] = source
    identity = record.get("userIdentity")
    if identity is not None:
        record["userIdentity"] = {"type": identity["Type"], "principalId": identity["PrincipalId"]}
    return record
