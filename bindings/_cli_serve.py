"""``tradewire serve VENUE``: run a reference venue on one local port until stopped.

::

    tradewire serve deribit [--host 127.0.0.1] [--port 0] [--seed N] [--faults SPEC]

Serves the conformance kit's reference venue (:class:`~tradewire.conformance.deribit.
DeribitVenue`) with the asyncio binding: WebSocket at ``/ws/api/v2`` and HTTP at
``/api/v2/...`` on the same port (``route_upgrade``; a kept-alive HTTP connection may
upgrade on its next request, as ccxt's does).  ``--port 0`` (the default) takes a free
port; ``--host`` is loopback unless you say otherwise.  ``--seed`` makes the simulated
market replayable; ``--faults`` is a fault plan in the compact grammar of
:mod:`tradewire.conformance._faults` (``disconnect@30s#1,gap:book.BTC-PERPETUAL.100ms@5s``).

Output.  The **first line of stdout** is the venue's address, flushed as soon as it
listens, then nothing more goes to stdout::

    ws://127.0.0.1:PORT/ws/api/v2 http://127.0.0.1:PORT

that is, the WebSocket URL, one space, the HTTP base URL (ccxt's ``urls.api.rest``; REST
paths are ``/api/v2/{public|private}/{method}``), newline.  An IPv6 host is bracketed
(``ws://[::1]:PORT/ws/api/v2``).  A script reads it with ``read -r ws http``.  Status lines
(the demo credentials, the fault plan, ``stopped``) go to stderr.

It serves until Ctrl-C or SIGTERM, then closes every connection and exits 0 (a second
Ctrl-C: 130).  Errors are one line on stderr, ``tradewire serve: error: ...``, never a
traceback: exit 2 for bad arguments (an unknown venue, a bad port or seed, a fault plan
the parser refuses, whose message names the bad item and part), exit 1 when the venue
cannot listen (the port is in use, the host does not resolve).

The helpers here (:func:`deribit_venue`, :func:`venue_factory`, :func:`venue_urls`) are
what ``tradewire demo``, ``tradewire stream`` without ``--url`` and the pytest plugin
use to start the same venue in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TextIO

import msgspec

from tradewire.conformance import FaultPlan, FaultSpecError
from tradewire.conformance.deribit import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DeribitVenue,
    VenueConfig,
)
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import LocalProtocolError

from . import asyncio as aio
from ._common import describe
from ._route import UpgradeOrHTTP, route_upgrade

__all__ = [
    "DEFAULT_SEED",
    "VENUES",
    "WS_PATH",
    "deribit_venue",
    "register",
    "run",
    "served_deribit",
    "stop_on_signals",
    "venue_factory",
    "venue_urls",
]

PROG = "tradewire serve"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

VENUES = ("deribit",)
"""The venues ``serve`` runs."""

WS_PATH = "/ws/api/v2"
"""Where the Deribit venue serves WebSocket (HTTP is under ``/api/v2``)."""

DEFAULT_SEED = 1


class UsageError(Exception):
    """Bad arguments: exit 2."""


# -- the venue, for every in-process user ------------------------------------------------------


def deribit_venue(
    *,
    now: float,
    epoch_offset: float,
    seed: int = DEFAULT_SEED,
    faults: FaultPlan | str | None = None,
    market: MarketConfig | None = None,
) -> DeribitVenue:
    """The reference Deribit venue for a server whose clock reads ``now``.

    ``epoch_offset`` is the binding's ``epoch_offset()``: the market starts at the
    current epoch time, so clients that sign with wall-clock time are accepted.
    ``market`` replaces the market's config (its ``seed`` and ``start_ms`` are set here).
    Raises :class:`FaultSpecError` (a ``ValueError``) for a bad fault plan and
    :class:`LocalProtocolError` for a plan naming an instrument the market lacks.
    """
    start_ms = round((now + epoch_offset) * 1000)
    base = market if market is not None else MarketConfig()
    config = VenueConfig(market=msgspec.structs.replace(base, seed=seed, start_ms=start_ms))
    return DeribitVenue(config, now=now, faults=faults)


def venue_factory(venue: DeribitVenue) -> Callable[[str | None], UpgradeOrHTTP[Any, Any]]:
    """The ``serve()`` connection factory: WebSocket and HTTP on one port."""
    return route_upgrade(venue.websocket_connection, venue.http_connection)


def venue_urls(host: str, port: int) -> tuple[str, str]:
    """``(ws_url, http_url)`` of a venue listening on ``host:port``."""
    where = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"ws://{where}:{port}{WS_PATH}", f"http://{where}:{port}"


@contextlib.asynccontextmanager
async def served_deribit(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = DEFAULT_SEED,
    faults: FaultPlan | str | None = None,
    market: MarketConfig | None = None,
) -> AsyncIterator[tuple[DeribitVenue, aio.Server]]:
    """``async with served_deribit() as (venue, server)``: the venue (see
    :func:`deribit_venue`) served by the asyncio binding for the block (``server.port``
    is the port taken)."""
    loop = asyncio.get_running_loop()
    venue = deribit_venue(
        now=loop.time(), epoch_offset=aio.epoch_offset(), seed=seed, faults=faults, market=market
    )
    async with aio.serve(
        venue_factory(venue), host=host, port=port, on_events=venue.on_events, app=venue
    ) as server:
        yield venue, server


# -- the command --------------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        help="run a reference venue on a local port",
        description=(
            "Run VENUE's reference venue (WebSocket and HTTP on one port) until Ctrl-C.  "
            "The first line of stdout is 'WS_URL HTTP_URL', e.g. "
            f"'ws://127.0.0.1:PORT{WS_PATH} http://127.0.0.1:PORT'.  Demo credentials: "
            f"{DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}.  Exit 1: cannot listen; exit 2: "
            "bad arguments."
        ),
    )
    parser.add_argument("venue", metavar="VENUE", help="accepted: " + ", ".join(VENUES))
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", default="0", metavar="PORT", help="port (0: a free one)")
    parser.add_argument("--seed", default=str(DEFAULT_SEED), metavar="N", help="market seed")
    parser.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help="fault plan, e.g. 'disconnect@30s#1,gap:book.BTC-PERPETUAL.100ms@5s'",
    )
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Plan:
    """Checked arguments."""

    venue: str
    host: str
    port: int
    seed: int
    faults: FaultPlan


def plan(args: argparse.Namespace) -> Plan:
    """Check the arguments; raises :class:`UsageError` with a one-line reason."""
    if args.venue not in VENUES:
        raise UsageError(f"unknown venue {args.venue!r}; accepted: {', '.join(VENUES)}")
    port = _int(args.port, "--port", "a port from 0 to 65535")
    if not 0 <= port <= 65535:
        raise UsageError(f"invalid --port {args.port!r}: expected a port from 0 to 65535")
    seed = _int(args.seed, "--seed", "an integer")
    try:
        faults = FaultPlan.parse(args.faults)
    except FaultSpecError as exc:
        raise UsageError(f"--faults: {exc}") from None
    if not args.host:
        raise UsageError("invalid --host '': expected an address such as 127.0.0.1")
    return Plan(venue=args.venue, host=args.host, port=port, seed=seed, faults=faults)


def _int(text: str, flag: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"invalid {flag} {text!r}: expected {expected}") from None


def run(args: argparse.Namespace) -> int:
    """The ``serve`` subcommand; returns the exit code."""
    try:
        checked = plan(args)
        return asyncio.run(serve_until_stopped(checked, sys.stdout, sys.stderr))
    except UsageError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except OSError as exc:
        return _fail(EXIT_FAILED, f"could not listen on {args.host}:{args.port}: {_why(exc)}")
    except KeyboardInterrupt:
        return _fail(EXIT_INTERRUPTED, "interrupted")
    except Exception as exc:  # a bug, still one line: the contract is no traceback
        return _fail(EXIT_FAILED, f"unexpected {describe(exc)}")


def _why(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text.rsplit(": ", 1)[-1] if "attempting to bind" in text else text


def _fail(code: int, message: str) -> int:
    line = " ".join(f"{PROG}: error: {message}".split())
    print(line, file=sys.stderr, flush=True)
    return code


async def serve_until_stopped(checked: Plan, out: TextIO, err: TextIO) -> int:
    """Serve until SIGINT / SIGTERM; the first line of ``out`` is the address."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stop_on_signals(loop, stop)
    try:
        venue = deribit_venue(
            now=loop.time(),
            epoch_offset=aio.epoch_offset(),
            seed=checked.seed,
            faults=checked.faults,
        )
    except LocalProtocolError as exc:
        raise UsageError(f"--faults: {exc}") from None
    async with aio.serve(
        venue_factory(venue),
        host=checked.host,
        port=checked.port,
        on_events=venue.on_events,
        app=venue,
    ) as server:
        ws_url, http_url = venue_urls(checked.host, server.port)
        print(f"{ws_url} {http_url}", file=out, flush=True)
        faults = checked.faults.spec() or "none"
        print(
            f"{PROG}: {checked.venue} reference venue, seed {checked.seed}, faults: {faults}; "
            f"demo credentials {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}; Ctrl-C stops",
            file=err,
            flush=True,
        )
        await stop.wait()
    print(f"{PROG}: stopped", file=err, flush=True)
    return EXIT_OK


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Ctrl-C and SIGTERM set ``stop`` (a clean stop of ``tradewire serve`` or
    ``tradewire stream``); a second Ctrl-C interrupts."""

    def first(signum: int) -> None:
        stop.set()
        if signum == signal.SIGINT:
            loop.remove_signal_handler(signal.SIGINT)  # the next one: KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, first, signum)
