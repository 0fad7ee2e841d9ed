"""The canonical flows: each one recorded against the reference venue on a fake clock.

The checked-in recordings live under ``transcripts/``; the tests record each flow again
and compare (see :mod:`tradewire.conformance.deribit._transcripts`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import msgspec

from tradewire.protocol import Command, Secret, WebSocketClientStack
from tradewire.protocol.deribit import (
    Buy,
    Cancel,
    ClientProtocol,
    Credentials,
    Edit,
    GetTicker,
    Sell,
    Subscribe,
)

from ..market import MarketConfig
from ._config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ApiClient, VenueConfig
from ._harness import VenueHarness
from ._transcript_recorder import DeribitRecorder
from ._venue import DeribitVenue

__all__ = [
    "BOOK_MARKET",
    "CANONICAL_FLOWS",
    "QUIET_MARKET",
    "START",
    "TAKER_ID",
    "TAKER_SECRET",
    "TRANSCRIPTS",
    "record_book_gap_resync",
    "record_heartbeats",
    "record_order_lifecycle",
    "record_reconnect",
    "transcript_file",
]

START = 1000.0
"""The flows' clock starts here (the venue's birth, ``MarketConfig.start_ms`` on the
epoch clock)."""

TAKER_ID = "tradewire-taker"
TAKER_SECRET = "tradewire-taker-secret"

_SMALL = MarketConfig(
    seed=11,
    weekly_expiries=1,
    quarterly_expiries=1,
    option_expiries=1,
    option_strikes=1,
    ticker_events=False,
    past_hours=0,  # no seeded past: the checked-in recordings predate it, ids and stats stay
)
BOOK_MARKET = msgspec.structs.replace(_SMALL, maker_levels=3, taker_rate=0.0)
"""Makers re-quote every tick (book changes), nobody trades."""
QUIET_MARKET = msgspec.structs.replace(_SMALL, maker_levels=0, taker_rate=0.0)
"""No makers, no takers: every order in the book is a flow's own."""


class _Flow:
    """One recording: the reference venue in a :class:`VenueHarness`, a recorded client."""

    def __init__(
        self, description: str, market: MarketConfig, *, taker: bool = False, **options: Any
    ) -> None:
        clients: tuple[ApiClient, ...] = (
            ApiClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET),
        )
        if taker:
            clients += (ApiClient(client_id=TAKER_ID, client_secret=TAKER_SECRET),)
        self.venue = DeribitVenue(VenueConfig(market=market, clients=clients), now=START)
        self.harness = VenueHarness(self.venue)
        self.recorder = DeribitRecorder(
            description=description,
            server=f"tradewire reference venue (DeribitVenue), MarketConfig {_market_text(market)}",
            include_secret=True,
            epoch_offset=self.venue.epoch_offset,
            **options,
        )
        self.stack = WebSocketClientStack(
            self.recorder.machine,
            host="www.deribit.test",
            rng=random.Random(7),
            ping_interval=None,
        )
        self.harness.connect(self.stack)

    @property
    def now(self) -> float:
        return self.harness.now

    def send(self, command: Command) -> None:
        self.stack.send(command, self.harness.now)
        self.harness.pump()

    def advance(self, seconds: float) -> None:
        self.harness.advance(seconds)

    def inject(self, fault: str) -> None:
        """A fault on the recorded client's connection (the newest one), now."""
        self.venue.inject(max(self.venue.sockets), fault, self.harness.now)

    def dumps(self) -> str:
        return self.recorder.dumps()


def _market_text(market: MarketConfig) -> str:
    fields = ("seed", "maker_levels", "taker_rate", "start_ms")
    return ", ".join(f"{name}={getattr(market, name)!r}" for name in fields)


def _credentials() -> Credentials:
    return Credentials(client_id=DEMO_CLIENT_ID, client_secret=Secret(DEMO_CLIENT_SECRET))


def record_book_gap_resync() -> str:
    """Auth, a private raw book and a public one, a gap on the raw one, its resync."""
    raw, public = "book.BTC-PERPETUAL.raw", "book.ETH-PERPETUAL.100ms"
    flow = _Flow(
        "auth (client_signature) and set_heartbeat; subscribe to a raw book (private, "
        "after auth) and a 100ms book (public); changes chained by prev_change_id; the "
        "venue skips a change on the raw book: BookGap, that channel alone is "
        "resubscribed (unsubscribe, subscribe), its snapshot ends the stale period "
        "(BookResynced); the other book carries on",
        BOOK_MARKET,
        credentials=_credentials(),
    )
    flow.advance(0.0625)
    flow.send(Subscribe(channels=[raw, public]))
    flow.advance(0.3)
    flow.recorder.comment("the venue skips a sequence number on the next BTC book change")
    flow.inject(f"gap:{raw}")
    flow.advance(0.4)
    return flow.dumps()


def record_order_lifecycle() -> str:
    """Buy, edit, a partial fill by another account, cancel the rest."""
    orders, trades = "user.orders.BTC-PERPETUAL.raw", "user.trades.BTC-PERPETUAL.raw"
    flow = _Flow(
        "auth; subscribe to user.orders and user.trades; buy 100 USD of BTC-PERPETUAL at "
        "59990 (limit, post_only, labelled); edit the price to 59995; another account "
        "sells 40 at market, a partial fill; cancel the rest",
        QUIET_MARKET,
        taker=True,
        credentials=_credentials(),
    )
    taker = ClientProtocol(
        credentials=Credentials(client_id=TAKER_ID, client_secret=Secret(TAKER_SECRET)),
        epoch_offset=flow.venue.epoch_offset,
        heartbeat_interval=None,
    )
    taker_stack = WebSocketClientStack(
        taker, host="www.deribit.test", rng=random.Random(8), ping_interval=None
    )
    flow.harness.connect(taker_stack)
    flow.advance(0.0625)
    flow.send(Subscribe(channels=[orders, trades]))
    flow.advance(0.0625)
    flow.send(
        Buy(
            instrument_name="BTC-PERPETUAL",
            amount=100.0,
            type="limit",
            price=59_990.0,
            label="tw-lifecycle",
            post_only=True,
        )
    )
    flow.advance(0.25)
    order_id = _last_order_id(flow)
    flow.send(Edit(order_id=order_id, amount=100.0, price=59_995.0))
    flow.advance(0.25)
    flow.recorder.comment("another account sells 40 at market into the order")
    taker_stack.send(Sell(instrument_name="BTC-PERPETUAL", amount=40.0, type="market"), flow.now)
    flow.advance(0.25)
    flow.send(Cancel(order_id=order_id))
    flow.advance(0.25)
    return flow.dumps()


def _last_order_id(flow: _Flow) -> str:
    for row in reversed(flow.recorder.rows):
        if row.get("expect") == "RequestSucceeded":
            result = row["fields"].get("result")
            if isinstance(result, dict) and isinstance(result.get("order"), dict):
                order_id = result["order"]["order_id"]
                assert isinstance(order_id, str)
                return order_id
    raise RuntimeError("the venue did not accept the order")  # pragma: no cover


def record_heartbeats() -> str:
    """set_heartbeat; heartbeat and test_request frames, each test_request answered."""
    flow = _Flow(
        "no credentials; set_heartbeat 10 s; the venue sends heartbeat and test_request "
        "frames every 10 s and the client answers each test_request with public/test; no "
        "HeartbeatTimeout",
        QUIET_MARKET,
        heartbeat_interval=10,
    )
    for _ in range(7):
        flow.advance(5.0)
    return flow.dumps()


def record_reconnect() -> str:
    """Connection lost with a request in flight, reconnect, re-auth, exact resubscribe."""
    book, orders = "book.BTC-PERPETUAL.100ms", "user.orders.BTC-PERPETUAL.raw"
    flow = _Flow(
        "auth; subscribe to a public book and a private channel; a ticker request is on "
        "the wire when the venue drops the connection (RequestFailed: ConnectionLost); the "
        "stack reconnects; the client logs in again, resubscribes the public channel at "
        "once and the private one once authenticated, exactly the desired set; the book "
        "starts again from a snapshot (BookResynced)",
        BOOK_MARKET,
        credentials=_credentials(),
    )
    flow.advance(0.0625)
    flow.send(Subscribe(channels=[book, orders]))
    flow.advance(0.2)
    flow.stack.send(GetTicker(instrument_name="BTC-PERPETUAL"), flow.now)
    flow.recorder.comment("the venue drops the connection before it reads the ticker request")
    flow.inject("disconnect")
    flow.advance(0.5)
    return flow.dumps()


CANONICAL_FLOWS: Mapping[str, Callable[[], str]] = {
    "book_gap_resync": record_book_gap_resync,
    "order_lifecycle": record_order_lifecycle,
    "heartbeats": record_heartbeats,
    "reconnect": record_reconnect,
}
"""Name -> a function recording the flow again; ``transcripts/{name}.jsonl`` holds it."""

TRANSCRIPTS = "transcripts"
"""The folder of this package that holds the canonical transcripts."""


def transcript_file(name: str) -> Traversable:
    """The checked-in transcript of canonical flow ``name`` (read it with ``read_text``)."""
    if name not in CANONICAL_FLOWS:
        raise KeyError(f"unknown flow {name!r}; known: {', '.join(CANONICAL_FLOWS)}")
    return files(__package__ or "tradewire.conformance.deribit") / TRANSCRIPTS / f"{name}.jsonl"
