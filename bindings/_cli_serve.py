"""``tradewire serve VENUE``: run a reference venue on one local port until stopped.

::

    tradewire serve deribit [--host 127.0.0.1] [--port 0] [--seed N] [--faults SPEC]
                            [--tls | --certfile FILE --keyfile FILE]

Serves the conformance kit's reference venue of ``VENUE`` (from the venue registry,
``tradewire.bindings._venues``; Deribit's is :class:`~tradewire.conformance.deribit.
DeribitVenue`) with the asyncio binding: for Deribit, WebSocket at ``/ws/api/v2`` and
HTTP at ``/api/v2/...`` on the same port (``route_upgrade``; a kept-alive HTTP
connection may upgrade on its next request, as ccxt's does).  ``--port 0`` (the
default) takes a free port; ``--host`` is loopback unless you say otherwise.  ``--seed``
makes the simulated market replayable; ``--faults`` is a fault plan in the compact
grammar of :mod:`tradewire.conformance._faults`
(``disconnect@30s#1,gap:book.BTC-PERPETUAL.100ms@5s``).

TLS.  ``--tls`` serves ``wss://`` and ``https://`` with a certificate made at start (a
fresh local CA signs one for 127.0.0.1, ::1, localhost and ``--host``; made with the
``cryptography`` package); the CA's certificate is written to a file in a private
temporary folder, removed when the venue stops, and named on the first line, so a
client can trust it (``SSL_CERT_FILE``, ``ssl.create_default_context(cafile=...)``,
``NODE_EXTRA_CA_CERTS``).  ``--certfile`` and ``--keyfile`` serve a certificate you
made instead.

Output.  The **first line of stdout** is the venue's address, flushed as soon as it
listens, then nothing more goes to stdout::

    ws://127.0.0.1:PORT/ws/api/v2 http://127.0.0.1:PORT
    wss://127.0.0.1:PORT/ws/api/v2 https://127.0.0.1:PORT /tmp/tradewire-tls-XXXX/ca.pem

that is, the WebSocket URL, one space, the HTTP base URL (ccxt's ``urls.api.rest``; REST
paths are ``/api/v2/{public|private}/{method}``; ``-`` for a venue without HTTP) and,
with ``--tls``, one space and the CA file; newline.  An IPv6 host is bracketed
(``ws://[::1]:PORT/ws/api/v2``).  A script reads it with ``read -r ws http ca``.  Status
lines (the demo credentials, the fault plan, ``stopped``) go to stderr.

It serves until Ctrl-C or SIGTERM, then closes every connection and exits 0 (a second
Ctrl-C: 130).  Errors are one line on stderr, ``tradewire serve: error: ...``, never a
traceback: exit 2 for bad arguments (an unknown venue, a bad port or seed, a fault plan
the parser refuses, whose message names the bad item and part, a certificate that does
not load), exit 1 when the venue cannot listen (the port is in use, the host does not
resolve).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from tradewire.conformance import FaultPlan, FaultSpecError
from tradewire.protocol import LocalProtocolError

from ._common import describe
from ._tls import TLSFailed, local_tls, tls_from_files
from ._venue_spec import VenueEntry
from ._venues import DEFAULT_SEED, entry, reference_names, served

__all__ = ["register", "run", "stop_on_signals"]

PROG = "tradewire serve"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad arguments: exit 2."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    names = reference_names()
    parser = commands.add_parser(
        "serve",
        help="run a reference venue on a local port",
        description=(
            "Run VENUE's reference venue (WebSocket and HTTP on one port) until Ctrl-C.  "
            "The first line of stdout is 'WS_URL HTTP_URL' (with --tls: 'WSS_URL "
            "HTTPS_URL CA_FILE'), e.g. 'ws://127.0.0.1:PORT/ws/api/v2 "
            "http://127.0.0.1:PORT'.  Demo credentials: tradewire-demo / "
            "tradewire-demo-secret.  Exit 1: cannot listen; exit 2: bad arguments."
        ),
    )
    parser.add_argument("venue", metavar="VENUE", help="accepted: " + ", ".join(names))
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", default="0", metavar="PORT", help="port (0: a free one)")
    parser.add_argument("--seed", default=str(DEFAULT_SEED), metavar="N", help="market seed")
    parser.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help="fault plan, e.g. 'disconnect@30s#1,gap:book.BTC-PERPETUAL.100ms@5s'",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve wss:// and https:// with a certificate made now (its CA file is the "
        "third field of the first line)",
    )
    parser.add_argument("--certfile", metavar="FILE", help="serve TLS with this certificate")
    parser.add_argument("--keyfile", metavar="FILE", help="the private key of --certfile")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Plan:
    """Checked arguments."""

    venue: VenueEntry
    host: str
    port: int
    seed: int
    faults: FaultPlan
    tls: bool
    certfile: str | None
    keyfile: str | None


def plan(args: argparse.Namespace) -> Plan:
    """Check the arguments; raises :class:`UsageError` with a one-line reason."""
    try:
        venue = entry(args.venue, reference=True)
    except LocalProtocolError as exc:
        raise UsageError(str(exc)) from None
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
    certfile, keyfile = args.certfile, args.keyfile
    if args.tls and (certfile or keyfile):
        raise UsageError("--tls makes its own certificate: give it, or --certfile, not both")
    if keyfile and not certfile:
        raise UsageError("--keyfile needs --certfile")
    return Plan(
        venue=venue,
        host=args.host,
        port=port,
        seed=seed,
        faults=faults,
        tls=bool(args.tls),
        certfile=certfile,
        keyfile=keyfile,
    )


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


@contextlib.contextmanager
def _tls(checked: Plan) -> Iterator[tuple[ssl.SSLContext | None, str]]:
    """The server's TLS context and the CA file to name ("" when none)."""
    if checked.certfile:
        try:
            context = tls_from_files(checked.certfile, checked.keyfile)
        except TLSFailed as exc:
            raise UsageError(str(exc)) from None
        yield context, ""
        return
    if not checked.tls:
        yield None, ""
        return
    made = local_tls(checked.host)
    try:
        yield made.context, str(made.ca_file)
    finally:
        shutil.rmtree(made.folder, ignore_errors=True)


async def serve_until_stopped(checked: Plan, out: TextIO, err: TextIO) -> int:
    """Serve until SIGINT / SIGTERM; the first line of ``out`` is the address."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stop_on_signals(loop, stop)
    venue = checked.venue
    with _tls(checked) as (context, ca_file):
        async with contextlib.AsyncExitStack() as resources:
            try:
                started = await resources.enter_async_context(
                    served(
                        venue,
                        host=checked.host,
                        port=checked.port,
                        ssl=context,
                        seed=checked.seed,
                        faults=checked.faults,
                    )
                )
            except LocalProtocolError as exc:
                raise UsageError(f"--faults: {exc}") from None
            fields = [started.url, started.http_url or "-"]
            if ca_file:
                fields.append(ca_file)
            print(" ".join(fields), file=out, flush=True)
            faults = checked.faults.spec() or "none"
            demo = venue.demo
            key = f"demo credentials {demo[0]} / {demo[1]}; " if demo else ""
            print(
                f"{PROG}: {venue.name} reference venue, seed {checked.seed}, faults: "
                f"{faults}; {key}Ctrl-C stops",
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
