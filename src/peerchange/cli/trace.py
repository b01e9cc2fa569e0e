"""``peerchange trace``: the reviewer's trace in the terminal.

Prints the trace of a change mechanism as a tree (or as JSON, Turtle, BibTeX, RIS or
CSL-JSON), the reverse trace of a work with ``--cited``, or the paper's whole reference
list with ``--references``. The same service answers ``/trace`` and ``/cited`` on the web,
and every format but the tree comes from the renderers the web uses
(:mod:`peerchange.services.trace.documents`), so both faces print the same documents.
"""

from __future__ import annotations

import shutil

import click

from peerchange.cli.common import handle_errors, load_services
from peerchange.cli.trace_tree import render_reverse, render_trace, render_works
from peerchange.services.trace.documents import (
    DOCUMENT_FORMATS,
    reference_list_document,
    reverse_trace_document,
    trace_document,
)

# the text tree is the command line's own; the other formats are the documents the web
# serves too, from the same renderers
FORMATS = ["text", *DOCUMENT_FORMATS]


@click.command("trace")
@click.argument("text", required=False, metavar="TEXT-OR-IRI")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="A tree in the terminal, the trace as JSON or Turtle, or the works it cites "
                   "as BibTeX, RIS or CSL-JSON.")
@click.option("--cited", is_flag=True,
              help="TEXT-OR-IRI is a reference key (e.g. Bandura1977): show the reverse trace "
                   "of that work, every claim it is cited in and in which role.")
@click.option("--references", "whole_list", is_flag=True,
              help="The paper's whole reference list (60 works) instead of a trace.")
@click.option("--width", type=click.IntRange(40), default=None,
              help="Wrap the tree at this many columns (default: the terminal's width).")
@handle_errors
def trace(text: str | None, fmt: str, cited: bool, whole_list: bool, width: int | None) -> None:
    """Trace a change mechanism back to the theory and literature that support it.

    TEXT-OR-IRI names the mechanism: its label (matched case-insensitively and fuzzily,
    e.g. "role modelling"), the last segment of its IRI (role-modelling) or its IRI. The
    tree shows every link with its evidence status (stated in the source, reported in a
    companion paper, curated inference), the locator or rationale, the works cited and in
    which role, and the gaps the material leaves.

    Exit codes: 0 printed, 2 nothing matches (the closest matches are listed) or bad usage.
    """
    from peerchange.core.config import Settings

    if whole_list and (text or cited):
        raise click.UsageError("--references takes no TEXT-OR-IRI and no --cited.")
    if not whole_list and not text:
        raise click.UsageError(
            "Name a mechanism (e.g. peerchange trace \"role modelling\"), a work with "
            "--cited KEY, or use --references.")
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    svc = load_services(Settings.from_env()).trace

    if whole_list:
        if fmt == "turtle":
            raise click.UsageError("--references offers text, json, bibtex, ris and csl-json.")
        works = svc.reference_list()
        out = render_works(works, width) if fmt == "text" else reference_list_document(works, fmt)
    elif cited:
        reverse = svc.cited(text or "")
        out = (render_reverse(reverse, width) if fmt == "text"
               else reverse_trace_document(svc, reverse, fmt))
    else:
        result = svc.trace(text or "")
        out = render_trace(result, width) if fmt == "text" else trace_document(svc, result, fmt)
    click.echo(out, nl=False)
