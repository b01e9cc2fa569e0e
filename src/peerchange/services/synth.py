"""The synthetic data generator: ``N`` shape-valid synthetic studies streamed to an N-Quads file.

Each study is built (a few hundred lines), written and dropped before the next one, so memory
stays flat whatever ``N`` is. Output is deterministic for a seed: every study draws from its
own ``random.Random`` seeded with the seed and its index, and nothing depends on hash order,
time or the environment. See :mod:`peerchange.services.synth_model` for what a study holds.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from peerchange.services.synth_claims import build
from peerchange.services.synth_model import Study
from peerchange.services.synth_terms import load_pool

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SynthResult:
    """What a run wrote: the file, the studies, the lines (quads or triples), the seconds."""

    path: Path
    studies: int
    quads: int
    seconds: float


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    """The output file, gzipped for ``.gz`` (with no name or time in the header, so the bytes
    are the same on every run)."""
    with path.open("wb") as raw:
        if path.suffix != ".gz":
            yield raw
            return
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            yield packed


def generate(path: Path, studies: int, seed: int = 0,
             progress: Progress | None = None, every: float = 1.0) -> SynthResult:
    """Write ``studies`` synthetic studies for ``seed`` to ``path``, ``.gz`` allowed.

    The format follows the name: N-Quads (``.nq``), or N-Triples (``.nt``: the same
    statements without their graphs, for loaders and benchmarks; only the N-Quads form keeps
    shortcut edges in their status graphs, which validation asks for).

    :param progress: called with a line (quads written, rate) about every ``every`` seconds
        and once at the end.
    """
    if studies < 0:
        raise ValueError("the number of studies must not be negative")
    pool = load_pool()
    quad_format = ".nq" in path.suffixes or ".nquads" in path.suffixes
    start = last = time.monotonic()
    quads = 0
    with _open(path) as out:
        for index in range(1, studies + 1):
            study = Study(index, seed, pool, quads=quad_format)
            build(study)
            out.write("".join(study.lines).encode("utf-8"))
            quads += len(study.lines)
            now = time.monotonic()
            if progress and now - last >= every:
                last = now
                progress(f"synth: {index}/{studies} studies, {quads:,} quads, "
                         f"{quads / (now - start):,.0f} quads/s")
    seconds = time.monotonic() - start
    if progress:
        progress(f"synth: wrote {studies} studies, {quads:,} quads to {path} in {seconds:.1f} s "
                 f"({quads / seconds if seconds else 0:,.0f} quads/s)")
    return SynthResult(path, studies, quads, seconds)
