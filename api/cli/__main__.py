"""``python -m api.cli``: the same as the ``elicense`` script."""

from api.cli import main

main()
