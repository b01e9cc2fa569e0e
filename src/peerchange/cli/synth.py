"""``peerchange synth``: write a synthetic, shape-valid graph of N studies to an N-Quads file."""

from __future__ import annotations

from pathlib import Path

import click

from peerchange.cli.common import handle_errors, progress_printer


@click.command()
@click.option("--studies", "-n", type=click.IntRange(min=0), required=True,
              help="How many synthetic studies to write (about 1,500 quads each).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same seed writes the same bytes.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write: .nq (N-Quads, shape-valid) or .nt (N-Triples, no "
                   "graphs); add .gz to compress.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on standard error.")
@handle_errors
def synth(studies: int, seed: int, output: Path, quiet: bool) -> None:
    """Write N synthetic studies (each in its own named graph) as N-Quads, line by line
    (or as N-Triples, without the graphs, for loaders and benchmarks).

    Every study has a paper, a companion paper, a reference list, cases, participant groups,
    a change model with roles, mechanisms, components, outcomes and measures, and claims of
    every evidence status with citations; mechanisms are grounded in the shipped theories.
    Labels and notes say the data is synthetic. Shortcut edges go to the graph of their
    claim's evidence status, as for the shipped data. Progress goes to standard error.
    """
    from peerchange.services.synth import generate

    name = output.name.removesuffix(".gz")
    if not name.endswith((".nq", ".nquads", ".nt", ".ntriples")):
        raise click.BadParameter("name the output .nq (N-Quads) or .nt (N-Triples), "
                                 "optionally with .gz", param_hint="-o")
    generate(output, studies, seed, progress=progress_printer(quiet))
