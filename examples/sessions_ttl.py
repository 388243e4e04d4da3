"""Login sessions that expire by themselves, with DynamoDB's Time to Live.

Run it with ``python examples/sessions_ttl.py`` (the embedded engine, in memory).

A session's ``expires_at`` is a datetime in Python and, because the field is
marked ``TTL``, a Number of epoch seconds in the item, in the table's TTL
attribute: DynamoDB deletes the item some time after that moment. "Some time"
is the catch: DynamoDB may take a while (up to days), and until then an expired
item is still read, queried and scanned like any other. So the application
checks the expiry itself (:func:`active_session`, and a filter on the user's
sessions) and TTL is only the garbage collector.

To make expiry deterministic the program gives the embedded engine its own
clock and no background sweeper (``LocalEngine(clock=..., ttl_sweep_interval=None)``),
moves the clock forward, and calls ``engine.sweep_ttl()`` where DynamoDB would,
at some point, delete the expired items.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field

from singletable import DB, TTL, Entity, GlobalIndex, Keys, Query, Table, Update
from singletable.backends.engine import LocalBackend
from singletable.backends.local.engine import LocalEngine

auth = Table(
    "auth",
    sk=None,  # one item per session: the partition key alone identifies it
    indexes=[GlobalIndex("by_user", pk="user_key", sk="expiry_key")],
    ttl_attribute="expires_at",
)
LIFETIME = timedelta(minutes=30)


class Session(Entity, table=auth):
    user_id: str
    expires_at: Annotated[datetime, TTL]  # stored as epoch seconds
    session_id: str = Field(default_factory=lambda: secrets.token_urlsafe(16))
    device: str = "web"

    keys = Keys(pk="SESSION#{session_id}", by_user=("USER#{user_id}", "{expires_at}"))
    of_user = Query(index="by_user", reverse=True)  # latest expiry first


class Clock:
    """A clock the program moves by hand: the engine's "now" and the application's."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, delta: timedelta) -> None:
        """Move the time forward."""
        self.now += delta

    def __call__(self) -> float:
        """Seconds since the epoch (what the engine asks for)."""
        return self.now.timestamp()


def log_in(db: DB, clock: Clock, user_id: str, device: str) -> Session:
    """A new session for ``user_id``, valid for :data:`LIFETIME`."""
    session = Session(user_id=user_id, device=device, expires_at=clock.now + LIFETIME)
    return db.put(session, mode="create")  # a random id that already exists is refused


# --8<-- [start:active-session]
def active_session(db: DB, clock: Clock, session_id: str) -> Session | None:
    """The session, if it exists and has not expired (expired items may still be stored)."""
    session = db.get(Session, session_id=session_id)
    if session is None or session.expires_at <= clock.now:
        return None
    return session
    # --8<-- [end:active-session]


def touch(db: DB, clock: Clock, session: Session) -> Session:
    """Extend an active session by :data:`LIFETIME` from now.

    The index key is built from ``expires_at``, so the update rewrites it too
    (given ``user_id``, the other field of that key); the condition refuses to
    revive a session that has already expired.
    """
    return db.update(
        Session,
        Update().set(Session.expires_at, clock.now + LIFETIME),
        condition=Session.expires_at > clock.now,
        session_id=session.session_id,
        user_id=session.user_id,
    )


# --8<-- [start:sessions-of]
def sessions_of(db: DB, clock: Clock, user_id: str) -> list[str]:
    """The devices of ``user_id``'s unexpired sessions (a filter on the index query)."""
    query = db.query(Session.of_user, user_id=user_id).where(Session.expires_at > clock.now)
    return [s.device for s in query]
    # --8<-- [end:sessions-of]


def main() -> dict[str, Any]:
    """Log in twice, let time pass, keep one session alive, sweep the expired one."""
    seen: dict[str, Any] = {}
    clock = Clock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    engine = LocalEngine(clock=clock, ttl_sweep_interval=None)
    with engine, DB(LocalBackend(engine)) as db:
        db.create_table(auth)  # also turns TTL on, for the table's ttl_attribute

        laptop = log_in(db, clock, "ada", "laptop")
        phone = log_in(db, clock, "ada", "phone")
        key = Session.key(session_id=laptop.session_id)  # the item's key, in wire shape
        stored = db.backend.call("GetItem", {"TableName": auth.name, "Key": key})
        print(f"09:00 two sessions; expires_at is stored as {stored['Item']['expires_at']}")
        seen["stored_expiry"] = stored["Item"]["expires_at"]

        clock.advance(timedelta(minutes=20))
        phone = touch(db, clock, phone)
        print(f"09:20 the phone is used: it now expires at {phone.expires_at:%H:%M}")
        seen["phone_expires"] = phone.expires_at

        clock.advance(timedelta(minutes=15))
        laptop_now = active_session(db, clock, laptop.session_id)
        still_stored = db.get(Session, session_id=laptop.session_id) is not None
        print(
            f"09:35 laptop session active: {laptop_now is not None}, "
            f"still stored: {still_stored}; active sessions: {sessions_of(db, clock, 'ada')}"
        )
        seen["at_0935"] = (laptop_now is not None, still_stored, sessions_of(db, clock, "ada"))

        deleted = engine.sweep_ttl()  # what DynamoDB does in the background, eventually
        left = db.query(Session.of_user, user_id="ada").all()
        print(f"TTL deleted {deleted} session(s); stored now: {[s.device for s in left]}")
        seen["swept"] = (deleted, [s.device for s in left])

        clock.advance(timedelta(hours=1))
        print(f"10:35 phone active: {active_session(db, clock, phone.session_id) is not None}")
        seen["phone_at_1035"] = active_session(db, clock, phone.session_id) is not None
        seen["final_sweep"] = engine.sweep_ttl()
    return seen


if __name__ == "__main__":
    main()
