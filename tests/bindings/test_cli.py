"""The ``tradewire`` command as a whole: ``--version``, and argument errors (argparse's own
included) as one line on stderr with exit 2, named after the subcommand, with no internal
names in them."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("tradewire")


def command(*args: str) -> list[str]:
    if SCRIPT.exists():
        return [str(SCRIPT), *args]
    code = "import sys; from tradewire.bindings.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=30, check=False)


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"tradewire {version('tradewire')}\n"
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("args", "prog", "says"),
    [
        ([], "tradewire", "the following arguments are required: COMMAND"),
        (["bogus"], "tradewire", "argument COMMAND: invalid choice: 'bogus'"),
        (["--bogus"], "tradewire", "required: COMMAND"),
        (["serve", "deribit", "--bogus"], "tradewire serve", "unrecognized arguments: --bogus"),
        (["stream", "deribit"], "tradewire stream", "required: CHANNEL"),
        (["stream", "deribit", "x", "--count", "0"], "tradewire stream", "positive count"),
        (["demo", "--seed", "x"], "tradewire demo", "argument --seed: expected an integer"),
        (["demo", "deribit", "extra"], "tradewire demo", "unrecognized arguments: extra"),
        (["replay"], "tradewire replay", "required: FILE"),
    ],
)
def test_argument_errors_are_one_line_exit_2(args: list[str], prog: str, says: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"{prog}: error: ")
    assert says in line
    assert f"(usage: {prog} " in line  # the usage of the command that was wrong
    assert "_positive" not in line
    assert "_seed" not in line
    assert "Traceback" not in line
