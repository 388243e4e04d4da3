"""One ``DB`` shared by threads, one ``AsyncDB`` by tasks (docs/backends.md, "Sharing").

Run it with ``python docs/examples/sharing.py``; tests/docs/test_docs_examples.py runs
``main()`` and checks the counts. tests/orm/test_db_sharing.py runs a heavier workload
(versioned writes, index queries) on every backend.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from singletable import DB, AsyncDB, Entity, Keys, Table, Update
from singletable.backends.aioboto3 import AioBoto3Backend
from singletable.server import Server

site = Table("site")


class Page(Entity, table=site):
    path: str
    views: int = 0

    keys = Keys(pk="PAGE#{path}", sk="PAGE")


# --8<-- [start:threads]
def count_views_in_threads(db: DB, views: int) -> int:
    """``views`` page views counted by 8 threads through one DB."""

    def view(_: int) -> None:
        db.update(Page, Update().add(Page.views, 1), path="/home")  # an atomic ADD

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(view, range(views)))
    return db.require(Page, path="/home").views


# --8<-- [end:threads]


# --8<-- [start:tasks]
async def count_views_in_tasks(endpoint_url: str, views: int) -> int:
    """``views`` page views counted by concurrent tasks through one AsyncDB."""
    backend = await AioBoto3Backend.connect(endpoint_url=endpoint_url, region_name="us-east-1")
    async with AsyncDB(backend) as db:  # made in the loop whose tasks share it
        await db.create_table(site, exist_ok=True)
        await db.put(Page(path="/tasks"))
        await asyncio.gather(
            *(db.update(Page, Update().add(Page.views, 1), path="/tasks") for _ in range(views))
        )
        return (await db.require(Page, path="/tasks")).views


# --8<-- [end:tasks]


def main() -> dict[str, Any]:
    """Count 200 views from threads, 50 from tasks; return both counts."""
    with DB() as db:
        db.create_table(site)
        db.put(Page(path="/home"))  # db.update only changes an item that exists
        threads = count_views_in_threads(db, 200)
    print(f"8 threads, one DB: {threads} views counted")
    with Server() as server:  # an HTTP endpoint on 127.0.0.1 for aioboto3
        tasks = asyncio.run(count_views_in_tasks(server.url, 50))
    print(f"50 tasks, one AsyncDB: {tasks} views counted")
    return {"threads": threads, "tasks": tasks}


if __name__ == "__main__":
    main()
