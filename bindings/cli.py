"""The ``tradewire`` command line.

Each subcommand lives in its own module (``_cli_<name>.py``) with a ``register(commands)``
function that adds its parser and sets ``run``; this file only wires them together, so
subcommands stay small and independent.  The venues every subcommand accepts come from
one registry (``tradewire.bindings._venues``).

Argument errors, argparse's own included, are one line on stderr and exit 2:
``tradewire serve: error: <what is wrong> (usage: tradewire serve ...)``, named after
the subcommand whose arguments are wrong.  ``tradewire --version`` prints the installed
version.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn, cast

from . import _cli_demo, _cli_replay, _cli_serve, _cli_stream

__all__ = ["OneLineParser", "main", "one_line_error"]

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

#: The subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: list[Registrar] = [
    _cli_demo.register,
    _cli_serve.register,
    _cli_stream.register,
    _cli_replay.register,
]

EXIT_USAGE = 2


def one_line_error(prog: str, message: str, usage: str = "") -> str:
    """``PROG: error: MESSAGE (usage: ...)`` on one line (whitespace collapsed)."""
    line = f"{prog}: error: {message}"
    usage = " ".join(usage.split()).removeprefix("usage: ")
    if usage:
        line += f" (usage: {usage})"
    return " ".join(line.split())


class OneLineParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose errors are one line on stderr, exit 2.

    argparse prints the usage, then ``PROG: error: ...``; here both go on one line, the
    usage after the message, and a subcommand's parser names the subcommand.
    """

    def error(self, message: str) -> NoReturn:
        print(one_line_error(self.prog, message, self.format_usage()), file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _version() -> str:
    try:
        return version("tradewire")
    except PackageNotFoundError:  # a source tree without an install
        return "unknown (not installed)"


def build_parser() -> tuple[OneLineParser, dict[str, argparse.ArgumentParser]]:
    """The parser, and each subcommand's parser by name."""
    parser = OneLineParser(
        prog="tradewire",
        description="Sans-IO protocol toolkit for trading venues' WebSocket APIs.",
    )
    parser.add_argument("--version", action="version", version=f"tradewire {_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    for register in SUBCOMMANDS:
        register(cast("argparse._SubParsersAction[argparse.ArgumentParser]", commands))
    return parser, dict(commands.choices)


def main(argv: Sequence[str] | None = None) -> int:
    parser, subparsers = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # the subcommand's arguments: its own usage says what it takes
        subparsers[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
