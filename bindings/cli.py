"""The ``tradewire`` command line.

Each subcommand lives in its own module (``_cli_<name>.py``) with a ``register(commands)``
function that adds its parser and sets ``run``; this file only wires them together, so
subcommands stay small and independent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import _cli_demo, _cli_replay, _cli_serve, _cli_stream

__all__ = ["main"]

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

#: The subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: list[Registrar] = [
    _cli_demo.register,
    _cli_serve.register,
    _cli_stream.register,
    _cli_replay.register,
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tradewire",
        description="Sans-IO protocol toolkit for trading venues' WebSocket APIs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(commands)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
