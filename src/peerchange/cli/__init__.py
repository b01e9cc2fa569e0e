"""The ``peerchange`` command line: the click group :func:`main` and its commands.

Exit codes follow pySHACL: 0 success (or conforms), 1 the data does not conform,
2 the command could not run (bad file, bad syntax, missing tool), with a message that
names the file and line where it can.

Each command lives in its own module (``validate``, ``serve``, ``query``, ``export``,
``trace``) and imports the shared pieces from :mod:`peerchange.cli.common`; this module
only builds the group and registers them.
"""

from __future__ import annotations

import click

from peerchange import __version__
from peerchange.cli.diagram import diagram
from peerchange.cli.export import export
from peerchange.cli.publish import publish
from peerchange.cli.query import query
from peerchange.cli.reload import reload
from peerchange.cli.serve import serve
from peerchange.cli.synth import synth
from peerchange.cli.trace import trace
from peerchange.cli.validate import validate

__all__ = ["main"]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "PEERCHANGE"}
)
@click.version_option(__version__, prog_name="peerchange")
def main() -> None:
    """peerchange: the knowledge graph of the change model for peer worker
    interventions in mental health services (Gillard et al. 2015)."""


main.add_command(validate)
main.add_command(serve)
main.add_command(query)
main.add_command(trace)
main.add_command(export)
main.add_command(diagram)
main.add_command(reload)
main.add_command(synth)
main.add_command(publish)
