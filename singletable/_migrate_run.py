"""Running a migration over a whole table: parallel scan segments, resumable, stoppable.

:class:`MigrationRun` scans a table in ``segments`` parallel segments (a Scan's
``Segment``/``TotalSegments``, one thread each; DynamoDB Developer Guide, "Parallel
scan") and migrates each item with :func:`._migrate_items.migrate_item`, on any
synchronous backend (the embedded engine, a durable file, boto3 on AWS or any
endpoint).

State: after every page a segment finished, the state file records where each
segment stands (its last page's ``LastEvaluatedKey``) and the counts so far, at
most once a second and always when the run stops. The file is removed when the
run completes, so its presence means "interrupted"; ``resume=True`` continues
each segment from its recorded key. Items of a page that was being worked on
when the run stopped are seen again: their rewrite is then ``unchanged`` (a
migration is idempotent), so a resumed run ends where one uninterrupted run would.

Stopping: :meth:`MigrationRun.stop` (or SIGINT, when run from the main thread,
which the run turns into a stop instead of a KeyboardInterrupt) makes every
segment finish the item at hand, records the state and raises
:class:`MigrationInterrupted`. A worker that fails (a backend error after the
backend's own retries) stops the others the same way, then its error is raised.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Literal

from singletable._flows import run
from singletable._migrate_items import Models, Outcome, migrate_item, shown_key
from singletable.errors import SingletableError

if TYPE_CHECKING:
    from singletable.backends.base import Backend

__all__ = ["COUNTS", "MigrationInterrupted", "MigrationRun", "Summary"]

COUNTS = ("scanned", "rewritten", "moved", "unchanged", "skipped", "gone", "failed", "conflict")
_SAVE_EVERY = 1.0
_PROGRESS_EVERY = 1.0
_FAILURES_KEPT = 50


class MigrationInterrupted(SingletableError):
    """The run was stopped (Ctrl-C, :meth:`MigrationRun.stop`); the state file says
    where, and ``resume=True`` continues."""

    def __init__(self, message: str, summary: Summary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class Summary:
    """What a run did: counts per outcome, the failures (first 50), time and rate."""

    table: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    failures: list[Outcome] = field(default_factory=list)
    retried: int = 0
    """Items written on a second or later attempt (changed by a concurrent writer)."""
    seconds: float = 0.0
    dry_run: bool = False
    complete: bool = False

    def add(self, outcome: Outcome) -> None:
        self.counts["scanned"] += 1
        self.counts[outcome.kind] += 1
        if outcome.attempts > 1:
            self.retried += 1
        if outcome.kind in ("failed", "conflict") and len(self.failures) < _FAILURES_KEPT:
            self.failures.append(outcome)

    @property
    def rate(self) -> float:
        """Items scanned a second."""
        return self.counts["scanned"] / self.seconds if self.seconds > 0 else 0.0

    def progress_line(self) -> str:
        c = self.counts
        would = "would be " if self.dry_run else ""
        return (
            f"{self.table}: {c['scanned']} scanned, {c['rewritten']} {would}rewritten, "
            f"{c['moved']} {would}moved, {c['unchanged']} unchanged, "
            f"{c['failed'] + c['conflict']} failed ({self.rate:.0f} items/s)"
        )

    def lines(self) -> list[str]:
        """The summary, one line a count, then the failures."""
        mode = " (dry run: nothing written)" if self.dry_run else ""
        state = "complete" if self.complete else "interrupted"
        out = [f"table {self.table}: migration {state}{mode} in {self.seconds:.1f}s"]
        labels = {
            "rewritten": "rewritten in place (same key)",
            "moved": "moved to a new table key",
            "unchanged": "already current",
            "skipped": "skipped (no entity of the new model)",
            "gone": "deleted by another writer meanwhile",
            "failed": "failed (see below)",
            "conflict": "changed on every attempt (run again)",
        }
        for name in COUNTS:
            label = labels.get(name, "items scanned")
            out.append(f"  {self.counts[name]:>8}  {label}")
        if self.retried:
            out.append(f"  {self.retried:>8}  written after a concurrent change (retried)")
        for failure in self.failures:
            out.append(f"  failed: {failure.entity or 'item'} ({shown_key(failure.key)}): "
                       f"{failure.reason}")  # fmt: skip
        return out

    def to_json(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "retried": self.retried}


class MigrationRun:
    """One table's migration (see the module docstring).

    Args:
        backend: a synchronous backend (thread-safe: boto3 clients and the engine are).
        models: the table's old and new model.
        segments: parallel scan segments (threads).
        page_size: the Scan ``Limit`` (default: DynamoDB's 1 MB pages).
        dry_run: compute every rewrite, write nothing (and keep no state).
        state_path: where the state is kept (None: nowhere; the run cannot resume).
        resume: continue from ``state_path``.
        progress: where progress lines go (default ``sys.stderr`` as it is when a
            line is printed; None: nowhere).
    """

    def __init__(
        self,
        backend: Backend,
        models: Models,
        *,
        segments: int = 4,
        page_size: int | None = None,
        dry_run: bool = False,
        state_path: str | None = None,
        resume: bool = False,
        progress: IO[str] | Literal["stderr"] | None = "stderr",
    ) -> None:
        if segments < 1:
            raise SingletableError("segments must be at least 1")
        self.backend = backend
        self.models = models
        self.table = models.new.name
        self.page_size = page_size
        self.dry_run = dry_run
        self.state_path = None if dry_run else state_path
        self.progress = progress
        self.summary = Summary(self.table, dry_run=dry_run)
        self.positions: dict[int, dict[str, Any] | None] = {}
        self.done: set[int] = set()
        self.segments = segments
        self.resumed = resume
        if resume:
            self._load()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._saved = 0.0
        self._reported = 0.0
        self._started = 0.0
        self._before = 0.0

    # ----------------------------------------------------------------- state

    def _load(self) -> None:
        if self.state_path is None or not os.path.isfile(self.state_path):
            raise SingletableError(
                f"nothing to resume: {self.state_path} does not exist "
                "(the migration finished or never started)"
            )
        try:
            with open(self.state_path, encoding="utf-8") as file:
                state = json.load(file)
            if state["Table"] != self.table:
                raise SingletableError(
                    f"{self.state_path} is the state of a migration of table {state['Table']}, "
                    f"not {self.table}"
                )
            self.segments = int(state["Segments"])
            self.positions = {int(k): v for k, v in state["Positions"].items()}
            self.done = {int(s) for s in state["Done"]}
            self.summary.counts.update(state["Counts"])
            self.summary.retried = int(state.get("Retried", 0))
            self._before = float(state.get("Seconds", 0.0))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SingletableError(f"{self.state_path} is not a migration state: {error}") from None

    def _save(self, force: bool = False) -> None:
        """Record the state (under the lock), at most once a second unless ``force``."""
        if self.state_path is None:
            return
        now = time.monotonic()
        if not force and now - self._saved < _SAVE_EVERY:
            return
        self._saved = now
        state = {
            "Table": self.table,
            "Segments": self.segments,
            "Positions": {str(k): v for k, v in self.positions.items()},
            "Done": sorted(self.done),
            "Counts": self.summary.counts,
            "Retried": self.summary.retried,
            "Seconds": self._before + now - self._started,
        }
        temporary = self.state_path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(state, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.state_path)

    # ----------------------------------------------------------------- running

    def stop(self) -> None:
        """Ask every segment to stop after the item at hand."""
        self._stop.set()

    def run(self) -> Summary:
        """Migrate the table; returns the summary.

        Raises:
            MigrationInterrupted: stopped before the end (the state is saved).
            DynamoDBServiceError: a backend error stopped a segment (state saved).
        """
        if self.state_path is not None and not self.resumed and os.path.exists(self.state_path):
            raise SingletableError(
                f"{self.state_path} exists: a migration of {self.table} was interrupted; "
                "continue it with resume (--resume) or remove the state file"
            )
        self._started = time.monotonic()
        restore = self._catch_sigint()
        try:
            with self._lock:
                self._save(force=True)
            threads = [
                threading.Thread(target=self._segment, args=(s,), daemon=True)
                for s in range(self.segments)
                if s not in self.done
            ]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(0.1)
                self._report()
        finally:
            restore()
        self.summary.seconds = self._before + time.monotonic() - self._started
        finished = len(self.done) == self.segments
        with self._lock:
            if finished and self.state_path is not None and os.path.exists(self.state_path):
                os.remove(self.state_path)
            elif not finished:
                self._save(force=True)
        self._report(final=True)
        errors = [e for e in self._errors if not isinstance(e, KeyboardInterrupt)]
        if errors:
            raise errors[0]
        if not finished:
            raise MigrationInterrupted(
                f"migration of {self.table} stopped after {self.summary.counts['scanned']} items",
                self.summary,
            )
        self.summary.complete = True
        return self.summary

    def _catch_sigint(self) -> Callable[[], None]:
        """In the main thread, SIGINT stops the run instead of raising KeyboardInterrupt."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)

        def stop(signum: int, frame: Any) -> None:
            self._stop.set()

        signal.signal(signal.SIGINT, stop)

        def restore() -> None:
            signal.signal(signal.SIGINT, previous)

        return restore

    def _segment(self, segment: int) -> None:
        try:
            self._scan(segment)
        except BaseException as error:  # reported by run(); the others stop too
            with self._lock:
                self._errors.append(error)
            self._stop.set()

    def _scan(self, segment: int) -> None:
        start = self.positions.get(segment)
        while not self._stop.is_set():
            request: dict[str, Any] = {
                "TableName": self.table,
                "Segment": segment,
                "TotalSegments": self.segments,
                "ConsistentRead": True,
            }
            if self.page_size is not None:
                request["Limit"] = self.page_size
            if start is not None:
                request["ExclusiveStartKey"] = start
            page = self.backend.call("Scan", request)
            for item in page.get("Items", []):
                if self._stop.is_set():
                    return  # this page is seen again on resume
                outcome = run(self.backend, migrate_item(self.models, item, dry_run=self.dry_run))
                with self._lock:
                    self.summary.add(outcome)
            start = page.get("LastEvaluatedKey")
            with self._lock:
                self.positions[segment] = start
                if start is None:
                    self.done.add(segment)
                self._save()
            if start is None:
                return

    def _report(self, final: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not final and now - self._reported < _PROGRESS_EVERY:
            return
        self._reported = now
        self.summary.seconds = self._before + now - self._started
        out = sys.stderr if self.progress == "stderr" else self.progress
        print(self.summary.progress_line(), file=out, flush=True)
