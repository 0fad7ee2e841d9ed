"""What every venue's ``tradewire demo`` shares: its output lines and its bounded steps.

A demo prints one line per event worth seeing and a live line a second on stdout, and
fails with one line (``DemoFailed``) when a step does not happen within its deadline or
its request fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TextIO, TypeVar

from tradewire.protocol import RequestFailure

from ._cli_demo import DemoFailed
from ._common import describe

__all__ = ["PROG", "say", "step"]

PROG = "tradewire demo"

T = TypeVar("T")


def say(out: TextIO, line: str) -> None:
    """One line on ``out``, flushed (a demo's output is read as it comes)."""
    print(line, file=out, flush=True)


async def step(what: str, awaitable: Awaitable[T], seconds: float) -> T:
    """``awaitable`` within ``seconds``; a timeout or a failed request is ``DemoFailed``
    naming ``what``."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise DemoFailed(f"{what} timed out ({seconds:.0f}s)") from None
    except RequestFailure as exc:
        raise DemoFailed(f"{what} failed: {describe(exc)}") from None
