"""``python -m peerchange`` runs the command line."""

from peerchange.cli import main

main()
