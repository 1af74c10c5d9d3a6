"""`python -m runtime ...`: the same CLI as the `runtime` command."""

from runtime.cli.main import main

main()
