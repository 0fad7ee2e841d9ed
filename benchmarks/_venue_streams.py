"""What the loopback server streams for Deriv, Rails and Currency.com, and how it answers.

A :class:`Feed` is one venue's stream for :mod:`benchmarks._server` (``BlastServer(venue)``):

* ``frames``: the stream's messages, the venue's two hot kinds alternating (512 of each,
  cycled), built once from the micro benchmarks' generators (``bench_<venue>``), so the
  end-to-end rows carry the messages the micro rows decode;
* ``answer(payload)``: the venue's answer to a client's request (Deriv: a stream's first
  message, its ack, with the request echoed and its ``req_id``; a ``pong``.  Rails: the
  book snapshot to ``emitPublicOrderBook``, a ``pong``.  Currency.com: ``status OK`` to
  anything with a ``correlationId``);
* ``wanted`` requests containing ``marker`` are the subscriptions the server waits for
  (at most 10 s) before it streams: Deriv's two ``"subscribe":1`` requests,
  Currency.com's two ``*.subscribe`` ones, Rails' ``emitPublicOrderBook`` (its streams
  are in the upgrade's query, spec 1; the snapshot request is what a client sends);
* ``requests``: the exact bytes a tradewire machine with its defaults sends for those
  subscriptions, which the plain clients send too; ``query`` and ``subprotocols``: what
  they add to the upgrade (Rails' market, streams and token).

The server reads ``answer``, ``marker`` and ``wanted``; :func:`feed` builds a venue's
feed by name in the server process (it imports tradewire, only while setting up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = ["VENUES", "Feed", "feed"]

VENUES = ("deriv", "rails", "currencycom")
TEMPLATES = 512
BATCH = 128


@dataclass(frozen=True)
class Feed:
    """One venue's stream and its answers (see the module docstring)."""

    venue: str
    frames: list[bytes]
    answer: Callable[[bytes], bytes | None]
    marker: bytes
    wanted: int
    requests: tuple[bytes, ...]
    query: str = ""
    subprotocols: tuple[str, ...] = ()

    def batches(self, count: int) -> Iterator[bytes]:
        """``count`` frames of the stream, ``BATCH`` frames per ``bytes``."""
        from ._server import frame_header

        framed = [frame_header(len(f)) + f for f in self.frames]
        cycle = len(framed)
        for start in range(0, count, BATCH):
            end = min(start + BATCH, count)
            yield b"".join(framed[i % cycle] for i in range(start, end))


def _alternate(a: list[bytes], b: list[bytes]) -> list[bytes]:
    return [m for pair in zip(a, b, strict=True) for m in pair]


def _deriv() -> Feed:
    from . import bench_deriv as d

    tick_request, proposal_request = d.requests()

    def answer(payload: bytes) -> bytes | None:
        request = msgspec.json.decode(payload)
        if "ticks" in request:
            return d.tick_messages(1, payload, seed=1)[0]
        if "proposal" in request:
            return d.proposal_messages(1, payload, seed=1)[0]
        if "ping" in request:
            pong = {"echo_req": request, "msg_type": "ping", "ping": "pong"}
            return msgspec.json.encode({**pong, "req_id": request.get("req_id")})
        return None

    frames = _alternate(
        d.tick_messages(TEMPLATES, tick_request), d.proposal_messages(TEMPLATES, proposal_request)
    )
    return Feed("deriv", frames, answer, b'"subscribe":1', 2, (tick_request, proposal_request))


def _rails() -> Feed:
    from . import bench_rails as r

    client = r.client()
    client.connection_made(0.0)
    snapshot_request = next(m for m in client.messages_to_send() if b"emitPublicOrderBook" in m)
    frames = _alternate(r.delta_messages(TEMPLATES), r.trade_messages(TEMPLATES))
    return Feed(
        "rails",
        frames,
        r.answer,
        b'"emitPublicOrderBook"',
        1,
        (snapshot_request,),
        query=f"?market={r.MARKET}&subscriptions={','.join(r.STREAMS)}",
        subprotocols=(f"authorization#{r.TOKEN}",),
    )


def _currencycom() -> Feed:
    from tradewire.protocol.currencycom import ClientProtocol, Subscribe

    from . import bench_currencycom as c

    client = ClientProtocol()
    client.connection_made(0.0)
    client.messages_to_send()  # its ping
    client.send(Subscribe(topics=c.TOPICS), 0.0)
    requests = tuple(client.messages_to_send())

    def answer(payload: bytes) -> bytes | None:
        request: Any = msgspec.json.decode(payload)
        cid = request.get("correlationId") if isinstance(request, dict) else None
        if cid is None:
            return None
        body = {"status": "OK", "correlationId": str(cid), "payload": {}}
        return msgspec.json.encode(body)

    frames = _alternate(c.depth_messages(TEMPLATES), c.trade_messages(TEMPLATES))
    return Feed("currencycom", frames, answer, b'.subscribe"', 2, requests)


def feed(venue: str) -> Feed:
    """The feed of ``venue`` (one of :data:`VENUES`)."""
    makers = {"deriv": _deriv, "rails": _rails, "currencycom": _currencycom}
    return makers[venue]()
