"""Deriv decode: a ``tick`` and a ``proposal`` stream update through the client machine,
in microseconds per message (docs/venues/deriv.md sections 1.3, 4.2, 5.2).

Rows, on the same list of ``bytes`` for each message kind (:mod:`benchmarks._venue_micro`):

* **through the machine**: ``deriv.ClientProtocol.receive_message(data, now)`` then
  ``events()``, on a connected machine with its defaults (pings every 30 s, pacing on,
  no token) that subscribed ``ticks.R_50`` and a ``CALL`` proposal on ``R_100``: the
  venue acked each request with the stream's first message (its ``subscription.id``),
  and one more message of each stream went through before the clock starts, so every
  timed message takes the codec's hot path for stream messages (a typed decode into the
  stream's own class, checked by its ``subscription.id``: ``DerivClientCodec.learn``),
  as in steady state;
* **bare msgspec typed decode**: ``msgspec.json.Decoder(TickMessage)`` for ticks,
  ``msgspec.json.Decoder(ProposalMessage)`` for proposals: the floor, the same event
  classes with the type known in advance (a tagged union of the two would cost more: its
  tag, ``msg_type``, comes after ``echo_req``, which it must skip first);
* **orjson.loads / json.loads + dict handling**: route by ``msg_type``, check the
  ``subscription.id``, read the fields an application would use (the tick's symbol,
  epoch, quote, bid, ask; the proposal's id, ask price, payout, spot, spot time,
  dates and long code).

Messages are what the reference venue sends (``deriv.server``): the envelope
``{"echo_req": <the request>, "msg_type", "req_id", "subscription": {"id"}, <payload>}``
with the request the machine sent echoed back, prices varying message to message.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec

from tradewire.protocol.deriv import (
    ClientProtocol,
    Proposal,
    ProposalMessage,
    Subscribe,
    TickMessage,
)

from ._timing import Result
from ._venue_micro import compare

__all__ = [
    "KINDS",
    "PROPOSAL",
    "TICKS",
    "handle_dict",
    "machine",
    "proposal_messages",
    "requests",
    "run",
    "tick_messages",
]

KINDS = ("tick", "proposal update")
GROUP = "deriv decode"
NOW = 1_000.0
TICKS = "ticks.R_50"
PROPOSAL = Proposal(
    contract_type="CALL",
    currency="USD",
    symbol="R_100",
    amount=10,
    basis="stake",
    duration=5,
    duration_unit="t",
)
TICK_SUB = "b4d42748-0744-c46b-f59b-cb7dd936bafa"
PROPOSAL_SUB = "042922fe-5664-09e4-c3bf-b3bbe98f31db"
LONGCODE = "Win payout if Volatility 100 Index after 5 ticks is strictly higher than entry spot."


def _connect(client: ClientProtocol) -> list[bytes]:
    """Connect ``client``, answer its first ping, subscribe both streams: the two
    subscribe requests it sent."""
    client.connection_made(NOW)
    subscribes = []
    for sent in client.messages_to_send():
        request = msgspec.json.decode(sent)
        if "ping" in request:
            pong = {"echo_req": request, "msg_type": "ping", "ping": "pong"}
            client.receive_message(msgspec.json.encode({**pong, "req_id": request["req_id"]}), NOW)
    client.send(Subscribe(streams=[TICKS, PROPOSAL]), NOW)
    for sent in client.messages_to_send():
        if b'"subscribe":1' in sent:
            subscribes.append(sent)
    if len(subscribes) != 2:
        raise RuntimeError(f"expected 2 subscribe requests, got {subscribes!r}")
    return subscribes


def requests() -> list[bytes]:
    """What a default machine sends to subscribe both streams (ticks, then proposal)."""
    return _connect(ClientProtocol())


def _envelope(request: bytes, msg_type: str, sub: str, payload: dict[str, Any]) -> bytes:
    echo = msgspec.json.decode(request)
    body = {
        "echo_req": echo,
        "msg_type": msg_type,
        "req_id": echo["req_id"],
        "subscription": {"id": sub},
        msg_type: payload,
    }
    return msgspec.json.encode(body)


def tick_messages(count: int, request: bytes | None = None, seed: int = 7) -> list[bytes]:
    request = request or requests()[0]
    rng = random.Random(seed)
    out = []
    for i in range(count):
        quote = round(218 + rng.uniform(-2, 2), 4)
        tick = {
            "ask": round(quote + 0.01, 4),
            "bid": round(quote - 0.01, 4),
            "epoch": 1_587_547_610 + i,
            "id": TICK_SUB,
            "pip_size": 4,
            "quote": quote,
            "symbol": "R_50",
        }
        out.append(_envelope(request, "tick", TICK_SUB, tick))
    return out


def proposal_messages(count: int, request: bytes | None = None, seed: int = 8) -> list[bytes]:
    request = request or requests()[1]
    rng = random.Random(seed)
    out = []
    for i in range(count):
        ask = round(10 + rng.uniform(-0.5, 0.5), 2)
        proposal = {
            "ask_price": ask,
            "date_expiry": 1_586_335_724 + i,
            "date_start": 1_586_335_719 + i,
            "display_value": f"{ask:.2f}",
            "id": PROPOSAL_SUB,
            "longcode": LONGCODE,
            "payout": round(ask * 1.955, 2),
            "spot": round(1234 + rng.uniform(-5, 5), 2),
            "spot_time": 1_586_335_713 + i,
        }
        out.append(_envelope(request, "proposal", PROPOSAL_SUB, proposal))
    return out


def machine() -> ClientProtocol:
    """A default machine with both streams acked and one more message of each seen."""
    client = ClientProtocol()
    tick_request, proposal_request = _connect(client)
    for message in (
        *tick_messages(2, tick_request, seed=1),
        *proposal_messages(2, proposal_request, seed=1),
    ):
        client.receive_message(message, NOW)
    events = client.events()
    streamed = [e for e in events if isinstance(e, TickMessage | ProposalMessage)]
    if len(streamed) != 4 or any(e.topic is None for e in streamed):
        raise RuntimeError(f"the Deriv machine did not subscribe: {events!r:.300}")
    return client


def handle_dict(message: dict[str, Any]) -> Any:
    msg_type = message["msg_type"]
    sub = message.get("subscription")
    sub_id = sub["id"] if sub else None
    if msg_type == "tick":
        tick = message["tick"]
        return (
            sub_id,
            tick["symbol"],
            tick["epoch"],
            tick["quote"],
            tick.get("bid"),
            tick.get("ask"),
        )
    if msg_type == "proposal":
        p = message["proposal"]
        return (
            sub_id,
            p["id"],
            p["ask_price"],
            p["payout"],
            p["spot"],
            p["spot_time"],
            p["date_start"],
            p.get("date_expiry"),
            p["longcode"],
        )
    return message


def run(repeats: int, scale: float) -> tuple[list[Result], dict[str, Result]]:
    """The rows; ``named`` maps ``"<kind>/<row>"`` to results for the targets."""
    tick_request, proposal_request = requests()
    tick, proposal = KINDS
    cases = (
        (tick, tick_messages(int(16_000 * scale), tick_request)),
        (proposal, proposal_messages(int(10_000 * scale), proposal_request)),
    )
    return compare(
        GROUP,
        cases,
        machine_label="through the machine: deriv.ClientProtocol",
        make=machine,
        bare={
            tick: msgspec.json.Decoder(TickMessage).decode,
            proposal: msgspec.json.Decoder(ProposalMessage).decode,
        },
        handle=handle_dict,
        now=NOW,
        repeats=repeats,
    )
