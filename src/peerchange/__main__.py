"""``python -m peerchange`` and the ``peerchange`` console script (:func:`run`).

A restart on a built store (``peerchange serve ... --store DIR``) answers SPARQL queries
before the command line and the web app are even imported
(:mod:`peerchange.serving.launch`); then the click command runs as always.
"""

import sys


def run() -> None:
    """Run the ``peerchange`` command line (the early answerer first, when it applies)."""
    from peerchange.serving.launch import early_answering

    with early_answering(sys.argv[1:]):
        from peerchange.cli import main

        main()


if __name__ == "__main__":
    run()
