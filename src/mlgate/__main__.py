"""``python -m mlgate`` runs the command line."""

from mlgate.cli.main import main

main()
