"""``tradewire stream VENUE CHANNEL...``: subscribe and print the decoded events.

Connects with the asyncio binding, subscribes to the channels and prints every channel
event (market and user data) on stdout: by default in the line format every venue shares
(``book TOPIC bid PxQ ask PxQ``, ``trade TOPIC SIDE PxQ``, ``ticker TOPIC bid PxQ ask
PxQ last P``, ``EVENT TOPIC JSON`` for the rest; see :mod:`tradewire.bindings._venue_spec`),
where a book line shows the best bid and ask of the book the client maintains; JSON lines
with ``--json`` (``{"event": "BookUpdate", "channel": ..., "data": ...}``, encoded with
msgspec).  Session events (connected, authenticated, subscribed, book gaps and resyncs,
closed, reconnecting, heartbeat timeouts ...) go to stderr as readable status lines.
Secrets never print: credentials are held as :class:`~tradewire.protocol.Secret` and
masked by every encoder here.  The venues, their topics, client machines and line
formatters come from the venue registry (``tradewire.bindings._venues``).

``--url`` is used as given, path and query included (``wss://test.deribit.com/ws/api/v2``;
a URL with no path takes the venue's), so a wrong path is the venue's refusal of the
upgrade, not a stream from somewhere else.

It stops by itself after ``--count N`` channel events or ``--seconds S``; Ctrl-C (or
SIGTERM) closes the WebSocket with a close handshake.  Exit codes:

* ``0``: stopped by ``--count``, ``--seconds``, Ctrl-C or SIGTERM (a second Ctrl-C: 130);
* ``1``: the stream failed: the connection refused or timed out, TLS failed, the upgrade
  refused or timed out, no channel accepted, or the connection closed for good;
* ``2``: bad arguments: unknown venue, invalid channel, bad ``--url``, missing
  credentials for a private channel, or no ``--url`` for a venue without a reference
  venue.

Every failure is one line on stderr, ``tradewire stream: error: ...``, never a
traceback.  Without ``--url`` the stream uses the conformance kit's reference venue,
served in this process on 127.0.0.1 by :func:`embedded_venue` for as long as the stream
runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import ssl
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO
from urllib.parse import urlsplit

from tradewire.protocol import (
    ClientMachine,
    ConnectionDead,
    LocalProtocolError,
    RequestFailure,
    RequestTimeout,
    Secret,
    UpgradeRejected,
)

from . import asyncio as aio
from ._cli_serve import stop_on_signals
from ._cli_stream_format import PROG, json_line, one_line, status_line
from ._common import ConnectFailed, describe, parse_http_url, parse_ws_url, with_url_target
from ._venue_spec import VenueEntry
from ._venues import REGISTRY, entry, open_client, served

__all__ = ["embedded_urls", "embedded_venue", "register", "run"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
ENV_CLIENT_ID = "TRADEWIRE_CLIENT_ID"
ENV_CLIENT_SECRET = "TRADEWIRE_CLIENT_SECRET"


class UsageError(Exception):
    """Bad arguments: exit 2."""


class StreamFailed(Exception):
    """The stream could not start or ended on its own: exit 1."""


@contextlib.asynccontextmanager
async def embedded_venue(venue: VenueEntry) -> AsyncIterator[str | None]:
    """The ``ws://`` URL of ``venue``'s reference venue, served in this process by the
    asyncio binding (127.0.0.1, a free port) for the ``async with`` block; ``None`` for a
    venue the conformance kit has no reference venue for.

    Its demo key is registered, so (for Deribit) ``--client-id tradewire-demo
    --client-secret tradewire-demo-secret`` streams private and ``raw`` channels too.
    """
    async with embedded_urls(venue) as urls:
        yield None if urls is None else urls[0]


@contextlib.asynccontextmanager
async def embedded_urls(venue: VenueEntry) -> AsyncIterator[tuple[str, str | None] | None]:
    """:func:`embedded_venue` with the HTTP base too: ``(ws_url, http_url)``."""
    if venue.reference is None:
        yield None
        return
    async with served(venue) as running:
        yield running.url, running.http_url


# -- arguments ------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive count, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "stream",
        help="subscribe to channels and print the decoded events",
        description=(
            "Subscribe to CHANNELs on VENUE and print each channel event on stdout, one "
            "line each (JSON lines with --json); session events go to stderr.  Ctrl-C "
            "closes the WebSocket cleanly (exit 0).  Exit 1: the stream failed; exit 2: "
            "bad arguments."
        ),
    )
    parser.add_argument("venue", metavar="VENUE", help="accepted: " + ", ".join(REGISTRY))
    parser.add_argument("channels", metavar="CHANNEL", nargs="+", help="a channel name")
    parser.add_argument(
        "--url",
        help="ws:// or wss:// URL of the venue (default: its reference venue, in-process)",
    )
    parser.add_argument(
        "--http-url",
        help=(
            "http(s):// base of the venue's token endpoint, for a venue whose WebSocket "
            "needs a token fetched over HTTP (Rails; default: --url's host)"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    parser.add_argument("--count", type=_positive_int, metavar="N", help="stop after N events")
    parser.add_argument("--seconds", type=_positive_seconds, metavar="S", help="stop after S s")
    parser.add_argument("--client-id", help=f"API key id (or ${ENV_CLIENT_ID})")
    parser.add_argument(
        "--client-secret",
        help=f"API secret (or ${ENV_CLIENT_SECRET}, which other users cannot see in ps)",
    )
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Plan:
    """Checked arguments: everything the stream needs."""

    venue: VenueEntry
    channels: list[str]
    url: str | None
    credentials: tuple[str, Secret] | None
    json: bool
    count: int | None
    seconds: float | None
    http_url: str | None = None


def plan(args: argparse.Namespace, environ: Mapping[str, str]) -> Plan:
    """Check the arguments; raises :class:`UsageError` with a one-line reason."""
    try:
        venue = entry(args.venue)
    except LocalProtocolError as exc:
        raise UsageError(str(exc)) from None
    channels = list(dict.fromkeys(args.channels))
    private: list[str] = []
    for name in channels:
        try:
            if venue.check_topic(name):
                private.append(name)
        except LocalProtocolError as exc:
            raise UsageError(str(exc)) from None
    credentials = _credentials(args, environ, secret_only=venue.secret_only)
    if private and credentials is None:
        raise UsageError(
            f"channel {private[0]!r} needs an authenticated connection: pass --client-id "
            f"and --client-secret, or set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"
        )
    if args.url is not None:
        _check_url(args.url)
    http_url = getattr(args, "http_url", None)
    if http_url is not None:
        _check_http_url(http_url)
    return Plan(
        venue=venue,
        channels=channels,
        url=args.url,
        http_url=http_url,
        credentials=credentials,
        json=args.json,
        count=args.count,
        seconds=args.seconds,
    )


def _credentials(
    args: argparse.Namespace, environ: Mapping[str, str], *, secret_only: bool = False
) -> tuple[str, Secret] | None:
    """The key pair; for a venue whose credential is one token (``secret_only``), the
    secret alone (``--client-secret TOKEN``) is enough."""
    client_id = args.client_id if args.client_id is not None else environ.get(ENV_CLIENT_ID)
    secret = args.client_secret
    if secret is None:
        secret = environ.get(ENV_CLIENT_SECRET)
    if not client_id and not secret:
        return None
    if secret_only and secret:
        return client_id or "", Secret(secret)
    if not client_id or not secret:
        raise UsageError(
            "credentials need both a client id and a secret: --client-id and "
            f"--client-secret, or {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"
        )
    return client_id, Secret(secret)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "ws://[::1": not a URL
        raise UsageError(f"bad --url: {exc}") from None
    if parts.username is not None or parts.password is not None:
        # never echo it: the URL holds a credential
        raise UsageError("bad --url: credentials in the URL are not accepted")
    try:
        parse_ws_url(url)
    except LocalProtocolError as exc:
        raise UsageError(f"bad --url: {exc}".replace("invalid url: ", "")) from None


def _check_http_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UsageError(f"bad --http-url: {exc}") from None
    if parts.username is not None or parts.password is not None:
        raise UsageError("bad --http-url: credentials in the URL are not accepted")
    try:
        parse_http_url(url)
    except LocalProtocolError as exc:
        raise UsageError(f"bad --http-url: {exc}".replace("invalid url: ", "")) from None


def _http_of(url: str) -> str:
    """The HTTP base on ``url``'s host (``wss://h:p/x`` -> ``https://h:p``)."""
    endpoint = parse_ws_url(url)
    return f"{'https' if endpoint.secure else 'http'}://{endpoint.host_header}"


def _where(url: str) -> str:
    """``scheme://host:port`` of ``url``: what error lines show (no path, no query)."""
    endpoint = parse_ws_url(url)
    return f"{'wss' if endpoint.secure else 'ws'}://{endpoint.host_header}"


# -- the stream -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """The ``stream`` subcommand; returns the exit code."""
    try:
        checked = plan(args, os.environ)
        return asyncio.run(stream(checked, sys.stdout, sys.stderr))
    except UsageError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except StreamFailed as exc:
        return _fail(EXIT_FAILED, str(exc))
    except KeyboardInterrupt:
        return _fail(EXIT_INTERRUPTED, "interrupted")
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except Exception as exc:  # a bug, still one line: the contract is no traceback
        return _fail(EXIT_FAILED, f"unexpected {describe(exc)}")


def _fail(code: int, message: str) -> int:
    print(one_line(f"{PROG}: error: {message}"), file=sys.stderr, flush=True)
    return code


def _quiet_stdout() -> None:
    """stdout's reader went away: make the interpreter's last flush harmless."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


async def stream(checked: Plan, out: TextIO, err: TextIO) -> int:
    """Connect, subscribe and print until stopped; raises :class:`UsageError` or
    :class:`StreamFailed`, returns :data:`EXIT_OK` after a clean stop."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stop_on_signals(loop, stop)
    if checked.seconds is not None:
        loop.call_later(checked.seconds, stop.set)
    async with contextlib.AsyncExitStack() as resources:
        url, http_url = checked.url, checked.http_url
        if url is None:
            urls = await resources.enter_async_context(embedded_urls(checked.venue))
            if urls is None:
                raise UsageError(
                    f"--url is required: there is no reference venue for {checked.venue.name!r}"
                )
            url, served_http = urls
            http_url = http_url or served_http
        if http_url is None:
            http_url = _http_of(url)
        session = asyncio.create_task(_session(checked, url, out, err, http_url))
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({session, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            session.cancel()  # a clean close: the client's ``async with`` closes it
            await asyncio.wait({session})
        if not session.cancelled():
            session.result()  # raises what the session raised
    return EXIT_OK


def _credentials_of(checked: Plan) -> Any:
    if checked.credentials is None:
        return None
    return checked.venue.credentials(*checked.credentials)


def _machine(checked: Plan) -> ClientMachine:
    """The venue's client machine, with books maintained (the book lines show them)."""
    return checked.venue.client(credentials=_credentials_of(checked), maintain_books=True)


async def _session(
    checked: Plan, url: str, out: TextIO, err: TextIO, http_url: str | None = None
) -> None:
    machine = _machine(checked)
    aimed = with_url_target(machine, parse_ws_url(url), prefer_url=True)  # the URL's path
    where = _where(url)
    opened = open_client(
        checked.venue, aio, url, aimed, http_url=http_url, credentials=_credentials_of(checked)
    )
    try:
        async with opened as client:
            await _subscribe(checked, client, err)
            await _print_events(checked, client, machine, out, err)
    except ssl.SSLError as exc:
        _failed(f"TLS failed with {where}: {exc}")
    except ConnectFailed as exc:
        event = exc.event
        if isinstance(event, UpgradeRejected):
            _failed(f"{where} refused the WebSocket upgrade: {exc}")
        if isinstance(event, ConnectionDead):
            _failed(f"{where} timed out during the WebSocket upgrade: {exc}")
        _failed(f"the WebSocket upgrade with {where} failed: {exc}")
    except (TimeoutError, ConnectionRefusedError) as exc:
        what = "timed out" if isinstance(exc, TimeoutError) else "connection refused"
        _failed(f"could not connect to {where}: {what}")
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        _failed(f"could not connect to {where}: {exc.strerror or describe(exc)}")
    except RequestTimeout:
        _failed("subscribing timed out: the venue did not answer")
    except RequestFailure as exc:  # the subscription: refused, connection lost
        _failed(f"subscribing failed: {describe(exc)}")


def _failed(message: str) -> NoReturn:
    raise StreamFailed(message) from None


async def _subscribe(checked: Plan, client: aio.Client, err: TextIO) -> None:
    result = await client.request(checked.venue.subscribe(checked.channels))
    rejected = getattr(result, "rejected", ())
    active = getattr(result, "active", checked.channels)
    if not active:
        reasons = "; ".join(f"{r.topic}: {r.reason}" for r in rejected) or "no reason given"
        _failed(f"no channel was accepted ({reasons})")
    for refusal in rejected:
        print(one_line(f"{PROG}: rejected {refusal.topic}: {refusal.reason}"), file=err)
    print(f"{PROG}: streaming {len(active)} channel(s)", file=err, flush=True)


async def _print_events(
    checked: Plan, client: aio.Client, machine: ClientMachine, out: TextIO, err: TextIO
) -> None:
    lines_of = checked.venue.lines
    printed = 0
    async for event in client:
        lines = lines_of(event, machine)
        if lines is None:
            print(status_line(event), file=err)
        elif checked.json or lines:
            if checked.json:
                out.write(json_line(event) + "\n")
            else:
                out.write("".join(one_line(line) + "\n" for line in lines))
            printed += 1
            if checked.count is not None and printed >= checked.count:
                out.flush()
                return
        if not client.queued:  # a batch is done: show it
            out.flush()
            err.flush()
    _failed("the connection closed and will not be reopened")
