"""The canonical Rails flows, each recorded against the reference venue on a fake clock.

The checked-in recordings live under ``transcripts/``; the tests record each flow again
and compare, so a change of behaviour shows up as a diff
(``TRADEWIRE_RECORD_TRANSCRIPTS=1`` writes the new recording).  They replay without
the venue: a transcript holds everything the client saw.

* ``token_connect_book``: a token fetched over HTTP (``UseToken``), the connection with
  ``publicOrderBook`` and ``publicTrades`` in its query string (active at once), the
  machine's own ``emitPublicOrderBook`` and ``ping``, the snapshot, then deltas on the
  book;
* ``order_lifecycle``: a limit buy (202 ``pending``, 200 ``active``), a partial fill by
  a second account (``partialFillOrder``, ``completedOrdersDelta``), the rest cancelled
  (202 ``cancelling``, 200 ``cancelled``), then a post-only order that would cross (202,
  200, ``rejectOrder``);
* ``reconnect_token_renewal``: a 60-second token wanted again 48 s after it came
  (``TokenWanted``), the new one given: the connection is closed ("renewing
  credentials") and the next upgrade carries it and the same streams; then the venue
  drops the connection while an order is on the wire (``ConnectionLost``), the client
  reconnects and its book starts again from a snapshot.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from tradewire.protocol import Command, HTTPResponse, UuidIds, WebSocketClientStack
from tradewire.protocol.rails import CancelOrder, CreateOrder, TokenClient
from tradewire.protocol.rails.server import ApiKey, ServerConfig

from ..market import MarketConfig
from ._config import DEMO_API_KEY, DEMO_API_SECRET, VenueConfig, rails_market
from ._harness import VenueHarness
from ._transcripts import RailsRecorder
from ._venue import RailsVenue

__all__ = [
    "BOOK_MARKET",
    "CANONICAL_FLOWS",
    "QUIET_MARKET",
    "START",
    "TRANSCRIPTS",
    "record_order_lifecycle",
    "record_reconnect_token_renewal",
    "record_token_connect_book",
    "transcript_file",
]

START = 1000.0
"""The flows' clock starts here (the venue's birth)."""

TAKER_KEY = "tradewire-taker"
TAKER_SECRET = "tradewire-taker-secret"
"""A second account's key (account ``2``), registered for the flows."""

BOOK_MARKET = rails_market(seed=11, maker_levels=3, taker_rate=0.0, past_hours=0)
"""Makers re-quote every tick (book deltas), nobody trades."""
QUIET_MARKET = rails_market(seed=11, maker_levels=0, taker_rate=0.0, past_hours=0)
"""No makers, no takers: every order in the book is a flow's own."""


class _Flow:
    """One recording: the venue in a harness, a recorded client, a token over HTTP."""

    def __init__(
        self,
        description: str,
        market_config: MarketConfig,
        *,
        server: ServerConfig | None = None,
        token_at: float = 0.0,
        **options: Any,
    ) -> None:
        keys = (*VenueConfig().keys, ApiKey(key=TAKER_KEY, secret=TAKER_SECRET, account="2"))
        config = VenueConfig(market=market_config, server=server or ServerConfig(), keys=keys)
        self.venue = RailsVenue(config, now=START)
        self.harness = VenueHarness(self.venue)
        self.recorder = RailsRecorder(
            description=description,
            server=f"tradewire reference venue (RailsVenue), {_market_text(market_config)}",
            ids=UuidIds(random.Random(f"flow/{description[:20]}")),
            **options,
        )
        self.stack = WebSocketClientStack(
            self.recorder.machine, host="ws.rails.test", rng=random.Random(7), ping_interval=None
        )
        self.http = self.harness.http()
        self.tokens = TokenClient(DEMO_API_KEY, DEMO_API_SECRET)
        if token_at:
            self.advance(token_at)  # off the market's tick grid: no timer ties a message
        self.give_token()
        self.harness.connect(self.stack)

    @property
    def now(self) -> float:
        return self.harness.now

    def give_token(self) -> None:
        """Fetch a token over HTTP and send ``UseToken`` (recorded, the token masked)."""
        self.http.client.request(self.tokens.request(), self.now)
        self.harness.pump()
        (response,) = [e for e in self.http.take_events() if isinstance(e, HTTPResponse)]
        self.send(self.tokens.token(response).use())

    def send(self, command: Command) -> Any:
        request_id = self.stack.send(command, self.now)
        self.harness.pump()
        return request_id

    def advance(self, seconds: float) -> None:
        self.harness.advance(seconds)

    def inject(self, fault: str) -> None:
        """A fault on the recorded client's connection (the newest one), now."""
        self.venue.inject(max(self.venue.sockets), fault, self.now)

    def dumps(self) -> str:
        return self.recorder.dumps()


def _market_text(market: MarketConfig) -> str:
    fields = ("seed", "maker_levels", "taker_rate", "start_ms")
    return "MarketConfig " + ", ".join(f"{name}={getattr(market, name)!r}" for name in fields)


def record_token_connect_book() -> str:
    flow = _Flow(
        "a token from POST /api/v1/token (UseToken); connect with market=BTC-USD and "
        "subscriptions=publicOrderBook,publicTrades in the query (active at once); the "
        "client asks emitPublicOrderBook itself and pings; the snapshot starts the book "
        "and the deltas that follow apply to it",
        BOOK_MARKET,
        market="BTC-USD",
        subscriptions=("publicOrderBook", "publicTrades"),
        maintain_books=True,
    )
    flow.advance(0.45)
    return flow.dumps()


def record_order_lifecycle() -> str:
    flow = _Flow(
        "subscriptions orders and trades; a limit buy of 0.02 BTC-USD at 59990 (202 "
        "pending, 200 active); another account sells 0.01 at market "
        "(partialFillOrder, completedOrdersDelta); the rest is cancelled (202 cancelling, "
        "200 cancelled); a post-only sell at 59990 would cross a resting buy: 202, 200, "
        "then rejectOrder (400)",
        QUIET_MARKET,
        market="BTC-USD",
        subscriptions=("orders", "trades"),
        ping_interval=None,
    )
    buy = flow.send(CreateOrder(side="buy", price="59990", quantity="0.02"))
    order_id = _order_id(flow, buy)
    flow.recorder.comment("another account sells 0.01 at market into the order")
    sold = flow.venue.market.sell("2", "BTC-USD", flow.now, amount=0.01, type="market")
    flow.venue.feeds.publish(sold.events, flow.now)
    flow.harness.pump()
    flow.advance(0.2)
    flow.send(CancelOrder(order_id=order_id))
    flow.advance(0.2)
    flow.send(CreateOrder(side="buy", price="59980", quantity="0.01"))
    flow.send(CreateOrder(side="sell", price="59980", quantity="0.01", post_only=True))
    flow.advance(0.2)
    return flow.dumps()


def _order_id(flow: _Flow, request_id: Any) -> str:
    for row in reversed(flow.recorder.rows):
        fields = row.get("fields", {})
        if row.get("expect") == "RequestSucceeded" and fields.get("request_id") == request_id:
            order_id = fields["result"]["data"]["order"]["orderId"]
            assert isinstance(order_id, str)
            return order_id
    raise RuntimeError("the venue did not accept the order")  # pragma: no cover


def record_reconnect_token_renewal() -> str:
    flow = _Flow(
        "a 60 s token; publicOrderBook and orders in the query; at 48 s the client wants "
        "a new token (TokenWanted), gets one (UseToken): the connection is closed for it "
        "and the next upgrade carries it with the same streams; the book starts again "
        "from a snapshot; then the venue drops the connection while an order is on the "
        "wire (ConnectionLost), and the client reconnects with the same streams",
        BOOK_MARKET,
        server=ServerConfig(token_lifetime=60.0),
        token_at=0.05,
        market="BTC-USD",
        subscriptions=("publicOrderBook", "orders"),
        maintain_books=True,
        ping_interval=None,
    )
    flow.advance(48.0)
    flow.recorder.comment("the caller fetches a new token over HTTP")
    flow.give_token()
    flow.advance(1.5)
    flow.stack.send(CreateOrder(side="buy", price="59000", quantity="0.01"), flow.now)
    flow.recorder.comment("the venue drops the connection before it answers the order")
    flow.inject("disconnect")
    flow.advance(1.5)
    return flow.dumps()


CANONICAL_FLOWS: Mapping[str, Callable[[], str]] = {
    "token_connect_book": record_token_connect_book,
    "order_lifecycle": record_order_lifecycle,
    "reconnect_token_renewal": record_reconnect_token_renewal,
}
"""Name -> a function recording the flow again; ``transcripts/{name}.jsonl`` holds it."""

TRANSCRIPTS = "transcripts"
"""The folder of this package that holds the canonical transcripts."""


def transcript_file(name: str) -> Traversable:
    """The checked-in transcript of canonical flow ``name`` (read it with ``read_text``)."""
    if name not in CANONICAL_FLOWS:
        raise KeyError(f"unknown flow {name!r}; known: {', '.join(CANONICAL_FLOWS)}")
    return files(__package__ or "tradewire.conformance.rails") / TRANSCRIPTS / f"{name}.jsonl"
