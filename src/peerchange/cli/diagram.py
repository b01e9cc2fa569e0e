"""``peerchange diagram``: the change-model diagram on the command line.

Writes the diagram of a change model (default: the paper's) as SVG, laid out by the same
engine the web uses, or as the DOT text it is laid out from (``--format dot``, which needs
no engine), to standard output or ``-o FILE``. The same service draws ``/diagram.svg``
(:class:`peerchange.services.diagram.DiagramService`).
"""

from __future__ import annotations

import click

from peerchange.cli.common import handle_errors, load_services
from peerchange.core.errors import PeerchangeError


class NoLayoutEngine(PeerchangeError):
    """SVG was asked for and no layout engine is installed."""

    exit_code = 2
    title = "No layout engine"


@click.command("diagram")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@click.option("--format", "fmt", type=click.Choice(["svg", "dot"]), default="svg",
              show_default=True,
              help="The laid-out SVG, or the DOT text it is laid out from.")
@click.option("--model", "model", default=None, metavar="IRI",
              help="The change model to draw (default: the paper's model).")
@handle_errors
def diagram(output: str | None, fmt: str, model: str | None) -> None:
    """Draw the change-model diagram: the peer worker role, the change mechanisms and
    their components, the theories (with their founding texts) and families, and the
    outcomes, each link styled by the evidence status of its claim.

    Exit codes: 0 written, 2 unknown model, no layout engine for SVG, or bad usage.
    """
    from peerchange.core.config import Settings

    figure = load_services(Settings.from_env()).diagram.figure(model)
    if fmt == "dot":
        text = figure.dot
    elif figure.svg is None:
        raise NoLayoutEngine(figure.message or "No layout engine was found.")
    else:
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + figure.svg
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"Wrote the diagram of {figure.model_label} to {output}", err=True)
    else:
        click.echo(text, nl=False)
