"""An async service: a link shortener on aioboto3, requests served concurrently.

Run it with ``python examples/async_service.py``. It needs aioboto3
(``pip install singletable[async]``). The program starts singletable's
DynamoDB-compatible HTTP endpoint (:class:`singletable.server.Server`) on a
free port of 127.0.0.1 and talks to it through aioboto3, exactly as a service
would talk to DynamoDB: point ``endpoint_url`` elsewhere (or drop it) and the
same code runs on AWS. Nothing leaves the machine.

:func:`handle` is the whole service: a request handler (method, path, body) ->
(status, body), the shape any web framework wraps. It runs on
:class:`~singletable.AsyncDB`, which has :class:`~singletable.DB`'s API with
``await``. ``main`` fires requests at it concurrently with ``asyncio.gather``:

- ``POST /links`` creates a short link (a create-only put: a code is never reused);
- ``GET /l/<code>`` answers with the target and counts the click (an atomic ADD:
  fifty concurrent clicks count fifty, no lost update);
- ``GET /users/<owner>/links?cursor=...`` lists an owner's links a page at a
  time, through an index, with the opaque cursor the previous page returned.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from singletable import (
    AsyncDB,
    ConditionFailedError,
    CreatedAt,
    CursorError,
    Entity,
    GlobalIndex,
    Keys,
    Query,
    Table,
    Update,
)
from singletable.backends.aioboto3 import AioBoto3Backend
from singletable.server import Server

links = Table("links", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])
PAGE_SIZE = 2


class Link(Entity, table=links):
    code: str
    url: str
    owner: str
    clicks: int = 0
    created: Annotated[datetime | None, CreatedAt] = None

    keys = Keys(pk="LINK#{code}", sk="LINK", GSI1=("OWNER#{owner}", "LINK#{code}"))
    of_owner = Query(index="GSI1")  # an owner's links, by code


Response = tuple[int, dict[str, Any]]


async def create_link(db: AsyncDB, body: dict[str, Any]) -> Response:
    """``POST /links`` with ``{"url": ..., "owner": ...}``."""
    while True:
        link = Link(code=secrets.token_urlsafe(4), url=body["url"], owner=body["owner"])
        try:
            stored = await db.put(link, mode="create")
        except ConditionFailedError:
            continue  # that code is taken: draw another
        return 201, {"code": stored.code, "url": stored.url}


async def follow_link(db: AsyncDB, code: str) -> Response:
    """``GET /l/<code>``: the target, with the click counted."""
    try:
        link = await db.update(Link, Update().add(Link.clicks, 1), code=code)
    except ConditionFailedError:  # an update never creates: the link does not exist
        return 404, {"error": f"no link {code}"}
    return 302, {"location": link.url, "clicks": link.clicks}


async def list_links(db: AsyncDB, owner: str, cursor: str | None) -> Response:
    """``GET /users/<owner>/links``: one page and the cursor of the next."""
    query = db.query(Link.of_owner, owner=owner).page_size(PAGE_SIZE).after(cursor)
    try:
        page = await query.page()
    except CursorError as error:  # edited, or from another owner's listing
        return 400, {"error": str(error)}
    items = [{"code": link.code, "url": link.url, "clicks": link.clicks} for link in page.items]
    return 200, {"links": items, "next": page.cursor}


async def handle(
    db: AsyncDB, method: str, target: str, body: dict[str, Any] | None = None
) -> Response:
    """The service: route one request to its handler."""
    url = urlsplit(target)
    parts = url.path.strip("/").split("/")
    if method == "POST" and parts == ["links"] and body is not None:
        return await create_link(db, body)
    if method == "GET" and len(parts) == 2 and parts[0] == "l":
        return await follow_link(db, parts[1])
    if method == "GET" and len(parts) == 3 and parts[0] == "users" and parts[2] == "links":
        cursor = parse_qs(url.query).get("cursor", [None])[0]
        return await list_links(db, parts[1], cursor)
    return 404, {"error": f"no route {method} {url.path}"}


async def run(endpoint_url: str) -> dict[str, Any]:
    """Drive the service with concurrent requests against ``endpoint_url``."""
    seen: dict[str, Any] = {}
    backend = await AioBoto3Backend.connect(
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",  # the local endpoint takes any credentials
        aws_secret_access_key="local",
    )
    async with AsyncDB(backend) as db:
        await db.create_table(links)

        targets = [f"https://example.com/{n}" for n in range(5)]
        created = await asyncio.gather(
            *(handle(db, "POST", "/links", {"url": t, "owner": "ada"}) for t in targets)
        )
        codes = [body["code"] for _, body in created]
        print(f"5 concurrent POST /links -> {sorted({status for status, _ in created})}")
        seen["created"] = created

        clicks = await asyncio.gather(*(handle(db, "GET", f"/l/{codes[0]}") for _ in range(50)))
        counts = sorted(body["clicks"] for _, body in clicks)
        print(f"50 concurrent GET /l/{codes[0]} -> clicks counted 1..{counts[-1]}")
        seen["click_counts"] = counts

        pages: list[list[str]] = []
        cursor: str | None = None
        while True:
            target = "/users/ada/links" + (f"?cursor={cursor}" if cursor else "")
            status, body = await handle(db, "GET", target)
            pages.append([link["code"] for link in body["links"]])
            cursor = body["next"]
            if cursor is None:
                break
        print(f"GET /users/ada/links, {PAGE_SIZE} a page: {[len(p) for p in pages]} links")
        seen["pages"] = pages

        status, body = await handle(db, "GET", "/l/nope")
        print(f"GET /l/nope -> {status} {body}")
        seen["missing"] = status
        first_page_cursor = (await handle(db, "GET", "/users/ada/links"))[1]["next"]
        status, body = await handle(db, "GET", f"/users/bob/links?cursor={first_page_cursor}")
        print(f"ada's cursor on bob's listing -> {status}")
        seen["foreign_cursor"] = status
        seen["codes"] = codes
    return seen


def main() -> dict[str, Any]:
    """Start the local endpoint on 127.0.0.1, run the service against it, stop it."""
    with Server() as server:  # a free port on 127.0.0.1
        print(f"DynamoDB endpoint at {server.url}")
        return asyncio.run(run(server.url))


if __name__ == "__main__":
    main()
