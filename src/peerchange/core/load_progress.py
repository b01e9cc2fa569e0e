"""Progress while a large source loads: bytes of the file read, statements per second
and the time left.

On a terminal it is a ``tqdm`` bar (the file's size is the total, so the ETA is honest
for any format; N-Triples and N-Quads also show statements and statements per second,
one line being one statement). Elsewhere (a log file, a pipe) it is a plain line every
10 % or 30 s, through the caller's progress function. ``-q`` shows nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Protocol

# a source smaller than this loads without a meter (it takes well under a second)
METER_BYTES = 4 * 1024 * 1024


class LoadMeter(Protocol):
    """What the loader tells about one large source as it reads it."""

    def start(self, label: str, total_bytes: int, counts_lines: bool) -> None: ...

    def advance(self, read_bytes: int, lines: int) -> None: ...

    def finish(self) -> None: ...


class PlainMeter:
    """One plain progress line every 10 % of the file or every 30 s."""

    def __init__(self, progress: Callable[[str], None], *, every_s: float = 30.0) -> None:
        self._progress = progress
        self._every_s = every_s

    def start(self, label: str, total_bytes: int, counts_lines: bool) -> None:
        self._label, self._total, self._counts = label, max(total_bytes, 1), counts_lines
        self._lines = 0
        self._t0 = self._last_t = time.monotonic()
        self._last_tenth = 0

    def advance(self, read_bytes: int, lines: int) -> None:
        self._lines += lines
        now = time.monotonic()
        tenth = min(10, read_bytes * 10 // self._total)
        if tenth > self._last_tenth or now - self._last_t >= self._every_s:
            self._last_tenth, self._last_t = tenth, now
            self._progress(self._line(read_bytes, now - self._t0))

    def _line(self, read_bytes: int, elapsed: float) -> str:
        share = read_bytes / self._total
        eta = elapsed * (1 - share) / share if share > 0 else 0.0
        text = (f"loading {self._label}: {share:.0%} of {self._total / 1e6:,.0f} MB, "
                f"{elapsed:.0f} s")
        if self._counts and elapsed > 0:
            text += f", {self._lines:,} statements ({self._lines / elapsed:,.0f}/s)"
        return text + f", about {eta:.0f} s left"

    def finish(self) -> None:
        pass


class BarMeter:
    """A ``tqdm`` bar on the terminal: MB read of the file, statements/s and the ETA."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._bar = None

    def start(self, label: str, total_bytes: int, counts_lines: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                         desc=f"  loading {label}", file=self._stream, leave=False,
                         dynamic_ncols=True, mininterval=0.5)
        self._counts, self._lines, self._done = counts_lines, 0, 0
        self._t0 = self._shown = time.monotonic()

    def advance(self, read_bytes: int, lines: int) -> None:
        bar = self._bar
        if bar is None:
            return
        self._lines += lines
        bar.update(read_bytes - self._done)
        self._done = read_bytes
        now = time.monotonic()
        if self._counts and now - self._shown >= 0.5:
            self._shown = now
            rate = self._lines / max(now - self._t0, 1e-9)
            bar.set_postfix_str(f"{self._lines:,} statements, {rate:,.0f}/s", refresh=False)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def load_meter(quiet: bool, progress: Callable[[str], None],
               stream: IO[str] | None = None) -> LoadMeter | None:
    """The meter for a command's output: none when ``quiet``, a bar when ``stream`` (by
    default standard error) is a terminal, plain lines through ``progress`` otherwise."""
    if quiet:
        return None
    stream = sys.stderr if stream is None else stream
    if stream.isatty():
        return BarMeter(stream)
    return PlainMeter(progress)
