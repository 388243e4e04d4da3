"""A social timeline: posts, follows, and fan-out on write through a stream handler.

Run it with ``python examples/timeline.py`` (the embedded engine, in memory).

The design::

    PK              SK                                      type           GSI1PK / GSI1SK
    USER#ada        POST#2026-05-01T08:00:00.000000Z#p1     Post
    USER#bob        FOLLOWS#ada                             Follow         USER#ada / FOLLOWER#bob
    TIMELINE#bob    2026-05-01T08:00:00.000000Z#POST#p1     TimelineEntry

Writing a post only writes the post. The table has a stream; a handler
subscribed to it sees each new post as a typed change (``Change[Post]``, from
:mod:`singletable.changes`: no DynamoDB JSON to decode), looks up the author's
followers through the index, and writes one timeline entry per follower.
Reading a timeline is then one query on one partition, newest first.

The same handler runs in two places: here, subscribed to the embedded engine
(``db.subscribe(fan_out, entities=[Post])``), and on AWS as a Lambda function
with a DynamoDB Streams trigger (``lambda_handler`` below, which answers
Lambda's partial batch response). The engine delivers changes before the write
that made them returns, so the program (and its test) never waits or polls.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from singletable import DB, CreatedAt, Entity, GlobalIndex, Keys, Query, Table
from singletable.backends.engine import LocalBackend
from singletable.changes import Change, ChangeHandler

social = Table(
    "social",
    indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")],
    stream="NEW_IMAGE",  # each record carries the item as written
)


class Post(Entity, table=social):
    author: str
    post_id: str
    posted_at: datetime
    text: str

    keys = Keys(pk="USER#{author}", sk="POST#{posted_at}#{post_id}")
    by_author = Query(reverse=True)  # a user's own posts, newest first


class Follow(Entity, table=social):
    follower: str
    followee: str
    since: Annotated[datetime | None, CreatedAt] = None

    keys = Keys(
        pk="USER#{follower}",
        sk="FOLLOWS#{followee}",
        GSI1=("USER#{followee}", "FOLLOWER#{follower}"),  # the same edge, seen from the other end
    )
    following = Query()  # whom a user follows
    followers = Query(index="GSI1")  # who follows a user


class TimelineEntry(Entity, table=social):
    owner: str
    posted_at: datetime
    post_id: str
    author: str
    text: str

    keys = Keys(pk="TIMELINE#{owner}", sk="{posted_at}#POST#{post_id}")
    newest = Query(reverse=True)  # a timeline, newest first
    between = Query(sort="between")  # posted_at=(start, end)


class FanOut:
    """The stream handler: a timeline entry for every follower of a new post's author."""

    def __init__(self, db: DB) -> None:
        self.db = db
        self.delivered = 0
        """Timeline entries written so far."""

    def __call__(self, change: Change[Post]) -> None:
        """Handle one change of a post (edits and deletions are not fanned out)."""
        if change.event != "INSERT" or change.new is None:
            return
        post = change.new  # a Post, validated
        followers = self.db.query(Follow.followers, followee=post.author)
        entries = [
            TimelineEntry(
                owner=follow.follower,
                posted_at=post.posted_at,
                post_id=post.post_id,
                author=post.author,
                text=post.text,
            )
            for follow in followers
        ]
        self.delivered += self.db.write_many(puts=entries)  # batches of 25, retried


# --8<-- [start:lambda]
def lambda_handler_for(db: DB) -> ChangeHandler:
    """The Lambda function: ``handler(event, context)`` dispatches each record of the
    event to the handler of its entity and returns ``{"batchItemFailures": [...]}``
    (the failed record's sequence number, if a handler raised)."""
    handler = ChangeHandler(social)  # follows and timeline entries have no handler
    handler.add(Post, FanOut(db))
    return handler
# --8<-- [end:lambda]


def timeline(db: DB, user: str, limit: int = 10) -> list[str]:
    """The newest entries of ``user``'s timeline, one line each."""
    entries = db.query(TimelineEntry.newest, owner=user).limit(limit)
    return [f"{e.posted_at:%H:%M} {e.author}: {e.text}" for e in entries]


def main() -> dict[str, Any]:
    """Follow, post, and read timelines filled by the stream handler."""
    seen: dict[str, Any] = {}
    backend = LocalBackend()  # the embedded engine; the handler subscribes to it below
    with DB(backend) as db:
        db.create_table(social)
        fan_out = FanOut(db)
        subscription = db.subscribe(fan_out, entities=[Post])  # typed: Change[Post]

        for follower, followee in [("bob", "ada"), ("cy", "ada"), ("cy", "bob"), ("ada", "cy")]:
            db.put(Follow(follower=follower, followee=followee), mode="create")
        print("ada's followers:", [f.follower for f in db.query(Follow.followers, followee="ada")])
        print("cy follows:", [f.followee for f in db.query(Follow.following, follower="cy")])

        morning = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
        posts = [
            Post(author="ada", post_id="p1", posted_at=morning, text="Hello, world"),
            Post(author="bob", post_id="p2", posted_at=morning + timedelta(minutes=5),
                 text="Coffee first"),
            Post(author="ada", post_id="p3", posted_at=morning + timedelta(minutes=9),
                 text="Shipping the engine today"),
            Post(author="cy", post_id="p4", posted_at=morning + timedelta(minutes=20),
                 text="Who wants lunch?"),
        ]  # fmt: skip
        for post in posts:
            db.put(post, mode="create")  # the handler has run when put returns
        print(f"{len(posts)} posts fanned out as {fan_out.delivered} timeline entries")
        seen["delivered"] = fan_out.delivered

        for user in ("bob", "cy", "ada"):
            lines = timeline(db, user)
            seen[user] = lines
            print(f"{user}'s timeline:")
            for line in lines:
                print("  ", line)

        window = (morning, morning + timedelta(minutes=6))
        early = db.query(TimelineEntry.between, owner="cy", posted_at=window).all()
        print("cy's timeline, 08:00-08:06:", [e.post_id for e in early])
        seen["early"] = [e.post_id for e in early]
        seen["ada_posts"] = [p.post_id for p in db.query(Post.by_author, author="ada")]

        # Without the handler, a post stays on its author's page only.
        subscription.close()
        late = Post(author="ada", post_id="p5", posted_at=morning + timedelta(hours=1), text="Bye")
        db.put(late)
        seen["after_close"] = timeline(db, "bob", limit=1)
        print("unsubscribed; bob's newest entry is still:", seen["after_close"])

        # The same handler as a Lambda function, called with the event AWS would send.
        with backend.engine.stream_records(social.name) as records:
            db.put(Post(author="cy", post_id="p6", posted_at=late.posted_at, text="Back"))
            event = records.lambda_event()  # {"Records": [...]}, as a trigger gets them
        response = lambda_handler_for(db)(event, None)
        seen["lambda"] = (response, timeline(db, "ada", limit=1))
        print("lambda handler answered", response, "; ada now sees", seen["lambda"][1])
    return seen


if __name__ == "__main__":
    main()
