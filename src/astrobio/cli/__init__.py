"""The `astrobio` command line: one module per command group, wired together in `commands.py`.

`astrobio.cli:main` is the console-script entry point (pyproject.toml).
"""

from astrobio.cli.commands import app, main

__all__ = ["app", "main"]
