"""``tradewire stream VENUE CHANNEL...``: subscribe and print the decoded events.

Connects with the asyncio binding, subscribes to the channels and prints every channel
event (market and user data, book gaps) on stdout, one line each: readable by default,
JSON lines with ``--json`` (``{"event": "BookUpdate", "channel": ..., "data": ...}``,
encoded with msgspec).  Session events (connected, authenticated, subscribed, closed,
reconnecting, heartbeat timeouts ...) go to stderr as readable status lines.  Secrets
never print: credentials are held as :class:`~tradewire.protocol.Secret` and masked by
every encoder here.

It stops by itself after ``--count N`` channel events or ``--seconds S``; Ctrl-C (or
SIGTERM) closes the WebSocket with a close handshake.  Exit codes:

* ``0``: stopped by ``--count``, ``--seconds``, Ctrl-C or SIGTERM (a second Ctrl-C: 130);
* ``1``: the stream failed: connection refused, TLS failed, upgrade refused, no channel
  accepted, or the connection closed for good;
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
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn, TextIO
from urllib.parse import urlsplit

from tradewire.protocol import (
    ClientMachine,
    Command,
    LocalProtocolError,
    RequestFailure,
    Secret,
    deribit,
)

from . import asyncio as aio
from ._cli_serve import stop_on_signals
from ._cli_stream_format import (
    PROG,
    is_channel_event,
    json_line,
    one_line,
    readable_line,
    status_line,
)
from ._common import ConnectFailed, describe, parse_ws_url

__all__ = ["VENUES", "embedded_venue", "register", "run"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
ENV_CLIENT_ID = "TRADEWIRE_CLIENT_ID"
ENV_CLIENT_SECRET = "TRADEWIRE_CLIENT_SECRET"


class UsageError(Exception):
    """Bad arguments: exit 2."""


class StreamFailed(Exception):
    """The stream could not start or ended on its own: exit 1."""


# -- venues ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Venue:
    """What ``stream`` needs to know about one venue."""

    #: Check a channel name; raises LocalProtocolError saying why; True if it needs auth.
    check_channel: Callable[[str], bool]
    #: The client machine, with credentials (``client_id``, ``client_secret``) or None.
    machine: Callable[[tuple[str, Secret] | None], ClientMachine]
    #: The command subscribing to the (checked) channels.
    subscribe: Callable[[list[str]], Command]


def _deribit_machine(credentials: tuple[str, Secret] | None) -> ClientMachine:
    if credentials is None:
        return deribit.ClientProtocol()
    client_id, secret = credentials
    return deribit.ClientProtocol(
        credentials=deribit.Credentials(client_id=client_id, client_secret=secret)
    )


VENUES: dict[str, Venue] = {
    "deribit": Venue(
        check_channel=lambda name: deribit.parse_channel(name).needs_auth,
        machine=_deribit_machine,
        subscribe=lambda channels: deribit.Subscribe(channels=channels),
    ),
}


@contextlib.asynccontextmanager
async def embedded_venue(venue: str) -> AsyncIterator[str | None]:
    """The ``ws://`` URL of ``venue``'s reference venue, served in this process by the
    asyncio binding (127.0.0.1, a free port) for the ``async with`` block; ``None`` for a
    venue the conformance kit has no reference venue for.

    Its demo key is registered, so ``--client-id tradewire-demo --client-secret
    tradewire-demo-secret`` streams private and ``raw`` channels too.
    """
    if venue != "deribit":
        yield None
        return
    from ._cli_serve import served_deribit, venue_urls  # the venue only when asked for

    async with served_deribit() as (_, server):
        yield venue_urls(server.host, server.port)[0]


# -- arguments ------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive count, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
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
    parser.add_argument("venue", metavar="VENUE", help="accepted: " + ", ".join(VENUES))
    parser.add_argument("channels", metavar="CHANNEL", nargs="+", help="a channel name")
    parser.add_argument(
        "--url",
        help="ws:// or wss:// URL of the venue (default: its reference venue, in-process)",
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

    venue_name: str
    venue: Venue
    channels: list[str]
    url: str | None
    credentials: tuple[str, Secret] | None
    json: bool
    count: int | None
    seconds: float | None


def plan(args: argparse.Namespace, environ: Mapping[str, str]) -> Plan:
    """Check the arguments; raises :class:`UsageError` with a one-line reason."""
    venue = VENUES.get(args.venue)
    if venue is None:
        raise UsageError(f"unknown venue {args.venue!r}; accepted: {', '.join(VENUES)}")
    channels = list(dict.fromkeys(args.channels))
    private: list[str] = []
    for name in channels:
        try:
            if venue.check_channel(name):
                private.append(name)
        except LocalProtocolError as exc:
            reason = str(exc)
            if repr(name) not in reason:
                reason = f"invalid channel {name!r}: {reason}"
            raise UsageError(reason) from None
    credentials = _credentials(args, environ)
    if private and credentials is None:
        raise UsageError(
            f"channel {private[0]!r} needs an authenticated connection: pass --client-id "
            f"and --client-secret, or set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"
        )
    if args.url is not None:
        _check_url(args.url)
    return Plan(
        venue_name=args.venue,
        venue=venue,
        channels=channels,
        url=args.url,
        credentials=credentials,
        json=args.json,
        count=args.count,
        seconds=args.seconds,
    )


def _credentials(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, Secret] | None:
    client_id = args.client_id if args.client_id is not None else environ.get(ENV_CLIENT_ID)
    secret = args.client_secret
    if secret is None:
        secret = environ.get(ENV_CLIENT_SECRET)
    if not client_id and not secret:
        return None
    if not client_id or not secret:
        raise UsageError(
            "credentials need both a client id and a secret: --client-id and "
            f"--client-secret, or {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"
        )
    return client_id, Secret(secret)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        # never echo it: the URL holds a credential
        raise UsageError("bad --url: credentials in the URL are not accepted")
    try:
        parse_ws_url(url)
    except LocalProtocolError as exc:
        raise UsageError(f"bad --url: {exc}".replace("invalid url: ", "")) from None


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
        url = checked.url
        if url is None:
            url = await resources.enter_async_context(embedded_venue(checked.venue_name))
            if url is None:
                raise UsageError(
                    f"--url is required: there is no reference venue for {checked.venue_name!r}"
                )
        session = asyncio.create_task(_session(checked, url, out, err))
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


async def _session(checked: Plan, url: str, out: TextIO, err: TextIO) -> None:
    machine = checked.venue.machine(checked.credentials)
    try:
        async with aio.connect(url, machine) as client:
            await _subscribe(checked, client, err)
            await _print_events(checked, client, out, err)
    except ssl.SSLError as exc:
        _failed(f"TLS failed with {_where(url)}: {exc}")
    except ConnectFailed as exc:
        _failed(f"{_where(url)} refused the WebSocket: {exc}")
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        _failed(f"could not connect to {_where(url)}: {describe(exc)}")
    except RequestFailure as exc:  # the subscription: refused, timed out, connection lost
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


async def _print_events(checked: Plan, client: aio.Client, out: TextIO, err: TextIO) -> None:
    render = json_line if checked.json else readable_line
    printed = 0
    async for event in client:
        if is_channel_event(event):
            out.write(render(event) + "\n")
            printed += 1
            if checked.count is not None and printed >= checked.count:
                out.flush()
                return
        else:
            print(status_line(event), file=err)
        if not client.queued:  # a batch is done: show it
            out.flush()
            err.flush()
    _failed("the connection closed and will not be reopened")
