"""`python -m narrate` runs the CLI."""

from narrate.cli import main

main()
