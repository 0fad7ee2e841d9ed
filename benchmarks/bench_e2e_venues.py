"""End to end on loopback for Deriv, Rails and Currency.com: stream messages per second.

Per venue, one :class:`~benchmarks._server.BlastServer` process (``BlastServer(venue)``,
its feed from :mod:`benchmarks._venue_streams`) streams the venue's two hot message kinds
alternating (Deriv: ``tick`` and ``proposal`` updates; Rails: 10-level book deltas and
public trades; Currency.com: 20-level depth events and trades), the same frames as the
micro rows of ``bench_<venue>``, as fast as the socket takes them, once the client sent
its subscription requests.  Each client connects, subscribes, and counts *decoded*
stream messages until it has ``n``; the clock runs from before the TCP connect to the
``n``-th message.  Rows:

* **tradewire asyncio / trio / sync**: ``tradewire.bindings.*.connect(url, machine)``
  with the venue's ``ClientProtocol`` with its defaults (app-level pings on: the one each
  sends at connect is answered and the next falls due after 30 s, after the run; pacing
  on; books not maintained), iterating the client's events and counting the stream's;
  Deriv and Currency.com subscribe with ``Subscribe`` after connecting, Rails names its
  streams in the upgrade's query (``subscriptions=``) and asks for the book snapshot;
* **websockets + json.loads + dict handling**: ``websockets.asyncio.client.connect``,
  the same subscription requests (the bytes the tradewire machine sends; Rails: the same
  query and token subprotocol), ``async for`` over the messages (``str``),
  ``json.loads`` and the venue's dict handling of its micro benchmark (route by the
  message type, read every field an application would use);
* **websockets + msgspec typed decode**: the same connection, ``recv(decode=False)``
  (bytes, no UTF-8 decode), ``msgspec.json.Decoder(KindA | KindB)`` into tradewire's own
  event classes (a message of another type fails the typed decode and is skipped), then
  the field that routes it (Deriv's ``subscription.id``, Rails' ``market``,
  Currency.com's ``payload.symbol``).

WebSocket keepalive pings are off in every row (``ping_interval=None``), the server sends
none.  Each run is bounded (``asyncio.timeout``, ``trio.fail_after``, an event timeout);
a run that fails or times out is left out and counted in the label.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import msgspec

from ._server import BlastServer
from ._timing import Result
from ._venue_streams import VENUES, Feed, feed

__all__ = ["ROWS", "SPECS", "feed", "run"]

_STACK: dict[str, Any] = {"ping_interval": None, "close_timeout": 2.0, "reconnect": False}


def _deadline(count: int) -> float:
    return 30.0 + count / 5_000


class Incomplete(Exception):
    """The stream ended (or timed out) before ``count`` stream messages were decoded."""


def _rate(client: Callable[..., float], spec: Spec, venue: Feed, url: str, count: int) -> float:
    """One sample of ``client``: messages per second over ``count`` messages."""
    return count / client(spec, venue, url, count)


def _check(got: int, count: int) -> None:
    if got != count:
        raise Incomplete(f"{got} of {count} stream messages")


@dataclass(frozen=True)
class Spec:
    """What the clients of one venue need: the machine, and how to tell stream messages."""

    venue: str
    make: Callable[[], tuple[Any, Any]]  # (machine, command to send after connecting)
    events: tuple[type, ...]  # the stream's event classes
    key: str  # the dict key naming the message type
    kinds: frozenset[str]  # its values for the stream's messages
    handle: Callable[[Any], Any]
    route: Callable[[Any], object]  # the field that routes a typed event


def _deriv() -> Spec:
    from tradewire.protocol.deriv import ClientProtocol, ProposalMessage, Subscribe, TickMessage

    from . import bench_deriv as d

    def make() -> tuple[Any, Any]:
        return ClientProtocol(), Subscribe(streams=[d.TICKS, d.PROPOSAL])

    return Spec(
        "deriv",
        make,
        (TickMessage, ProposalMessage),
        "msg_type",
        frozenset({"tick", "proposal"}),
        d.handle_dict,
        lambda e: e.subscription.id,
    )


def _rails() -> Spec:
    from tradewire.protocol.rails import BookDelta, PublicTrades

    from . import bench_rails as r

    return Spec(
        "rails",
        lambda: (r.client(), None),
        (BookDelta, PublicTrades),
        "resultType",
        frozenset({"publicOrderBookDelta", "publicCompletedOrdersDelta"}),
        r.handle_dict,
        lambda e: e.market,
    )


def _currencycom() -> Spec:
    from tradewire.protocol.currencycom import ClientProtocol, DepthUpdate, Subscribe, TradeUpdate

    from . import bench_currencycom as c

    return Spec(
        "currencycom",
        lambda: (ClientProtocol(), Subscribe(topics=c.TOPICS)),
        (DepthUpdate, TradeUpdate),
        "destination",
        frozenset({"marketdepth.event", "internal.trade"}),
        c.handle_dict,
        lambda e: e.payload.symbol,
    )


SPECS: dict[str, Callable[[], Spec]] = {
    "deriv": _deriv,
    "rails": _rails,
    "currencycom": _currencycom,
}


def tradewire_asyncio(spec: Spec, venue: Feed, url: str, count: int) -> float:
    from tradewire.bindings import asyncio as aio

    wanted = spec.events

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            machine, command = spec.make()
            async with aio.connect(url, machine, **_STACK) as client:
                if command is not None:
                    await client.send(command)
                async for event in client:
                    if isinstance(event, wanted):
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


def tradewire_trio(spec: Spec, venue: Feed, url: str, count: int) -> float:
    import trio

    from tradewire.bindings import trio as tw_trio

    wanted = spec.events

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        with trio.fail_after(_deadline(count)):
            machine, command = spec.make()
            async with tw_trio.connect(url, machine, **_STACK) as client:
                if command is not None:
                    await client.send(command)
                async for event in client:
                    if isinstance(event, wanted):
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return trio.run(main)


def tradewire_sync(spec: Spec, venue: Feed, url: str, count: int) -> float:
    from tradewire.bindings import sync

    wanted = spec.events
    start = time.perf_counter()
    got = 0
    machine, command = spec.make()
    with sync.connect(url, machine, **_STACK) as client:
        if command is not None:
            client.send(command)
        for event in client.events(timeout=10.0):
            if isinstance(event, wanted):
                got += 1
                if got == count:
                    break
        elapsed = time.perf_counter() - start
    _check(got, count)
    return elapsed


def _websockets(venue: Feed, url: str) -> Any:
    from websockets.asyncio.client import connect

    protocols: Any = list(venue.subprotocols) or None
    return connect(url + venue.query, subprotocols=protocols, ping_interval=None, close_timeout=2.0)


def websockets_json(spec: Spec, venue: Feed, url: str, count: int) -> float:
    key, kinds, handle, loads = spec.key, spec.kinds, spec.handle, json.loads

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            async with _websockets(venue, url) as ws:
                for request in venue.requests:
                    await ws.send(request.decode())
                async for message in ws:
                    data = loads(message)
                    if data.get(key) in kinds:  # the stream's (not an answer, a pong)
                        handle(data)
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


def websockets_msgspec(spec: Spec, venue: Feed, url: str, count: int) -> float:
    first, second = spec.events
    union: Any = first | second
    decode = msgspec.json.Decoder(union).decode
    route = spec.route
    skip = (msgspec.ValidationError,)

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            async with _websockets(venue, url) as ws:
                for request in venue.requests:
                    await ws.send(request.decode())
                recv = ws.recv
                while got < count:
                    try:
                        event = decode(await recv(decode=False))
                    except skip:
                        continue  # an answer, a pong, a snapshot: not the stream
                    if route(event) is not None:
                        got += 1
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


Client = Callable[[Spec, Feed, str, int], float]
ROWS: list[tuple[str, Client]] = [
    ("tradewire asyncio binding", tradewire_asyncio),
    ("tradewire trio binding", tradewire_trio),
    ("tradewire sync binding", tradewire_sync),
    ("websockets (asyncio) + json.loads + dict handling", websockets_json),
    ("websockets (asyncio) + msgspec typed decode", websockets_msgspec),
]


def run(
    repeats: int, count: int, venues: tuple[str, ...] = VENUES
) -> tuple[list[Result], dict[str, Result]]:
    """Per venue, every client ``repeats`` times, interleaved; ``named["<venue>/<row>"]``."""
    results: list[Result] = []
    named: dict[str, Result] = {}
    for name in venues:
        spec, venue = SPECS[name](), feed(name)
        size = sum(map(len, venue.frames)) // len(venue.frames)
        group = f"end to end: {name} stream through a client, loopback ({size} bytes mean)"
        rows = {label: Result(group, label, "msg/s") for label, _ in ROWS}
        with BlastServer(name) as server:
            expect = partial(server.expect, count)
            server.rounds(
                repeats,
                [
                    (rows[label], expect, partial(_rate, client, spec, venue, server.url, count))
                    for label, client in ROWS
                ],
            )
        for label, result in rows.items():
            results.append(result)
            named[f"{name}/{label}"] = result
    return results, named
