"""The layout engine of the change-model diagram: finding it, running it, cleaning its SVG.

The engine is Graphviz's ``dot`` layout, run as a program on DOT text (see
:mod:`peerchange.services.diagram` for the choice). :func:`find_engine` looks for, in
order: the ``graphviz-pure`` program (the PyPI wheel this package depends on, so
``pip install .`` brings it) beside the running Python or on ``PATH``, then a system
``dot`` (Debian's ``graphviz`` package). ``PEERCHANGE_DOT`` names another program to use
instead (``none`` for no engine). When none is found the diagram is served as its text
equivalent with :data:`INSTALL_MESSAGE`.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path

from peerchange.core.errors import PeerchangeError

INSTALL_MESSAGE = (
    "No layout engine for the diagram was found, so it is shown as text only. Install one "
    "with `pip install graphviz-pure` (a self-contained build of Graphviz's dot, a "
    "dependency of peerchange) or `apt-get install graphviz`, then restart the server."
)
# how long one layout may take (the whole model lays out in well under a second)
TIMEOUT_SECONDS = 30


class LayoutFailed(PeerchangeError):
    """The layout engine was found but did not produce a diagram."""

    http_status = 500
    exit_code = 2
    title = "Diagram layout failed"


@dataclass(frozen=True)
class Engine:
    """A layout program: its path and the name it goes by (``graphviz-pure`` or ``dot``)."""

    path: str
    name: str

    def render(self, dot_text: str, fmt: str = "svg") -> str:
        """Lay out ``dot_text`` with the ``dot`` algorithm and return the output text."""
        try:
            done = subprocess.run(
                [self.path, "-Kdot", f"-T{fmt}"], input=dot_text.encode("utf-8"),
                capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LayoutFailed(f"The layout engine {self.name} could not run: {exc}") from exc
        if done.returncode != 0:
            raise LayoutFailed(
                f"The layout engine {self.name} failed (exit {done.returncode}).",
                detail=done.stderr.decode("utf-8", "replace")[:2000])
        return done.stdout.decode("utf-8")


_SYSCONFIG = threading.Lock()


@functools.cache
def _script_folders() -> tuple[Path, ...]:
    """Where pip put the wheel's program: beside this Python, or its (user) scripts folder.

    Read once, under a lock: ``sysconfig`` fills its variables on first use without one,
    and two threads asking at once (two trace pages at a worker's start) could see them
    half filled (``AttributeError: 'userbase'``, a 500)."""
    with _SYSCONFIG:
        folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
        user_scheme = f"{os.name}_user"
        if user_scheme in sysconfig.get_scheme_names():
            folders.append(Path(sysconfig.get_path("scripts", user_scheme)))
    return tuple(folders)


def find_engine() -> Engine | None:
    """The layout program to use, or ``None`` when none is installed."""
    chosen = os.environ.get("PEERCHANGE_DOT", "").strip()
    if chosen:
        if chosen.lower() == "none":
            return None
        path = shutil.which(chosen)
        return Engine(path, Path(path).name) if path else None
    for folder in _script_folders():
        for program in ("graphviz-pure", "graphviz-pure.exe"):
            beside = folder / program
            if beside.is_file() and os.access(beside, os.X_OK):
                return Engine(str(beside), "graphviz-pure")
    for name in ("graphviz-pure", "dot"):
        path = shutil.which(name)
        if path:
            return Engine(path, name)
    return None


_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SIZE = re.compile(r'\s(width|height)="[^"]*"')


def clean_svg(svg: str, title_id: str) -> str:
    """The engine's SVG as an element to inline: no XML prologue, doctype or comments
    (they repeat node names), no fixed size (it scales to its container; the viewBox
    stays), and labelled by its ``<title>`` (``role="img"`` is not set: it holds links)."""
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _COMMENT.sub("", svg)
    head, sep, rest = svg.partition(">")
    head = _SIZE.sub("", head)
    head += f' aria-labelledby="{title_id}" class="change-model-diagram"'
    svg = head + sep + rest
    # the graph's own <title> (the first one) gets the id the svg is labelled by
    return svg.replace("<title>", f'<title id="{title_id}">', 1).strip() + "\n"


def text_svg(title: str, message: str, lines: list[str]) -> str:
    """A plain SVG that says ``message`` and lists ``lines`` (the text equivalent), for
    ``/diagram.svg`` when no layout engine is installed. Every string is escaped."""
    from xml.sax.saxutils import escape

    height = 40 + 18 * (len(lines) + 2)
    rows = [f'<text x="10" y="{58 + 18 * i}">{escape(line)}</text>'
            for i, line in enumerate(lines)]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1200 '
        f'{height}" font-family="Arial, sans-serif" font-size="13" class="diagram-text-only">'
        f"<title>{escape(title)}</title>"
        f'<text x="10" y="22" font-weight="bold">{escape(message)}</text>'
        + "".join(rows) + "</svg>\n")
