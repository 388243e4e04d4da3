"""Progress of a long command on stderr: a live line on a terminal, plain lines in a log.

When stderr is a terminal, one line is rewritten in place (carriage return) a few
times a second and ends with a newline when the work is done. Otherwise (a file, a
pipe, a CI log) a plain line is written at most every :data:`PLAIN_EVERY`
seconds, so a long run leaves a readable, bounded log. The first update and the
last are always shown.

With a total, each line shows the share done and an estimate of the time left,
from the rate since the command started. A total may be approximate: DescribeTable's
``ItemCount`` is refreshed by DynamoDB about every six hours (Developer Guide,
"DescribeTable", ``ItemCount``), so it is shown as ``~N`` and the count may pass it.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["PLAIN_EVERY", "TTY_EVERY", "Progress"]

TTY_EVERY = 0.2
"""Seconds between updates of the live line on a terminal."""
PLAIN_EVERY = 5.0
"""Seconds between plain progress lines when stderr is not a terminal."""


class Progress:
    """``TABLE: COUNT [of TOTAL] items VERB (share, ETA)`` lines for one table.

    Args:
        table: the name each line starts with.
        verb: ``exported``, ``imported``, ...
        total: how many items there are, if known.
        approximate: ``total`` is an estimate (shown as ``~N``).
        stream: where lines go (default: ``sys.stderr`` at construction).
    """

    def __init__(
        self,
        table: str,
        verb: str,
        total: int | None = None,
        *,
        approximate: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self.table = table
        self.verb = verb
        self.total = total
        self.approximate = approximate
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty is not None and isatty())
        self.started = time.monotonic()
        self.base: int | None = None  # the count when timing started (after a resume)
        self.last = float("-inf")
        self.width = 0  # of the live line, to blank what a shorter one leaves behind

    def resumed(self, count: int, line: int) -> None:
        """Say that ``count`` items were done before, up to input line ``line``."""
        self._emit(f"{self._head(count)} before; resuming after line {line}", end=True)
        self.base = count

    def update(self, count: int, *, final: bool = False) -> None:
        """Show ``count`` items done (throttled, except the first and the final one)."""
        now = time.monotonic()
        if self.base is None:
            self.base = 0
        every = TTY_EVERY if self.live else PLAIN_EVERY
        if not final and now - self.last < every:
            return
        self.last = now
        if final:
            self._emit(f"{self._head(count)} (done)", end=True)
        else:
            self._emit(self._head(count) + self._estimate(count, now), end=False)

    def stop(self) -> None:
        """End a live line left open (the work stopped before its final update)."""
        if self.live and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0

    def _head(self, count: int) -> str:
        of = ""
        if self.total is not None:
            of = f" of {'~' if self.approximate else ''}{self.total}"
        return f"{self.table}: {count}{of} items {self.verb}"

    def _estimate(self, count: int, now: float) -> str:
        if not self.total:
            return ""
        share = min(count / self.total, 1.0)
        parts = [f"{share:.0%}"]
        done = count - (self.base or 0)
        elapsed = now - self.started
        left = self.total - count
        if done > 0 and elapsed > 0 and left > 0:
            parts.append(f"ETA {_clock(left * elapsed / done)}")
        return f" ({', '.join(parts)})"

    def _emit(self, line: str, *, end: bool) -> None:
        if self.live:
            padding = " " * max(0, self.width - len(line))
            self.width = 0 if end else len(line)
            self.stream.write("\r" + line + padding + ("\n" if end else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    """``M:SS``, or ``H:MM:SS`` from an hour."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
