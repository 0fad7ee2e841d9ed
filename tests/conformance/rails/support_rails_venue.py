"""A tradewire Rails client against the reference venue in memory, with a token keeper.

:class:`Session` is what a user's program does, on the harness's fake clock: it fetches
a token over HTTP (``TokenClient`` through an ``HTTPClientStack``), gives it to a
``ClientProtocol`` (``UseToken``), connects the client's ``WebSocketClientStack`` to the
venue, and fetches a new token whenever the machine wants one (:meth:`Session.keep`,
run by :func:`run` between clock steps).  Every message the client machine receives is
kept, as the exact bytes, in ``received``.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec

from tradewire.conformance.rails import DEMO_API_KEY, DEMO_API_SECRET, RailsVenue, VenueHarness
from tradewire.protocol import (
    Command,
    Event,
    HTTPResponse,
    RequestFailed,
    RequestSucceeded,
    UuidIds,
    WebSocketClientStack,
)
from tradewire.protocol.rails import STREAMS, ClientProtocol, TokenClient

PUSHES = frozenset(
    {"publicOrderBookDelta", "publicCompletedOrdersDelta", "completedOrdersDelta", "fillOrder",
     "partialFillOrder"}
)  # fmt: skip


class Session:
    """One client of the venue (see the module docstring)."""

    def __init__(
        self,
        harness: VenueHarness,
        *,
        market: str = "BTC-USD",
        subscriptions: tuple[str, ...] = STREAMS,
        key: str = DEMO_API_KEY,
        secret: str = DEMO_API_SECRET,
        seed: int = 1,
        connect: bool = True,
        **options: Any,
    ) -> None:
        self.harness = harness
        options.setdefault("maintain_books", True)
        self.machine = ClientProtocol(
            market=market,
            ids=UuidIds(random.Random(f"ids/{seed}")),
            subscriptions=subscriptions,
            **options,
        )
        self.stack = WebSocketClientStack(
            self.machine, host="ws.rails.test", rng=random.Random(f"ws/{seed}")
        )
        self.http = harness.http()
        self.tokens = TokenClient(key, secret)
        self.received: list[bytes] = []
        self.token_errors: list[Exception] = []
        self.fetches = 0
        inner = self.machine.receive_message

        def receive(data: bytes | str, now: float) -> None:
            self.received.append(bytes(data) if isinstance(data, bytes) else data.encode())
            inner(data, now)

        self.machine.receive_message = receive  # type: ignore[method-assign]
        self.fetch()
        self.link = harness.connect(self.stack) if connect else None

    @property
    def now(self) -> float:
        return self.harness.now

    def fetch(self) -> None:
        """Fetch a token over HTTP and give it to the machine."""
        self.fetches += 1
        self.http.client.request(self.tokens.request(), self.now)
        self.harness.pump()
        for event in self.http.take_events():
            if isinstance(event, HTTPResponse):
                try:
                    token = self.tokens.token(event)
                except Exception as exc:  # a refusal: recorded, the machine keeps waiting
                    self.token_errors.append(exc)
                    return
                self.stack.send(token.use(), self.now)
                self.harness.pump()

    def keep(self) -> None:
        if self.machine.token_wanted:
            self.fetch()

    def send(self, command: Command) -> Any:
        request_id = self.stack.send(command, self.now)
        self.harness.pump()
        return request_id

    @property
    def events(self) -> list[Event]:
        assert self.link is not None
        return self.link.client_events

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def outcome(self, request_id: Any) -> RequestSucceeded | RequestFailed | None:
        for event in self.events:
            if (
                isinstance(event, RequestSucceeded | RequestFailed)
                and event.request_id == request_id
            ):
                return event
        return None

    def pushes(self) -> list[bytes]:
        """The stream messages received, as the exact bytes."""
        out = []
        for data in self.received:
            try:
                kind = msgspec.json.decode(data).get("resultType")
            except (msgspec.DecodeError, AttributeError):
                continue
            if kind in PUSHES:
                out.append(data)
        return out

    def book_matches_venue(self, market: str | None = None) -> bool:
        name = market or self.machine.market
        book = self.machine.book(name)
        if book is None or book.stale:
            return False
        venue = self.harness.venue.market.book(name)
        ours = (
            [(float(p), float(q)) for p, q in book.bids()],
            [(float(p), float(q)) for p, q in book.asks()],
        )
        return ours == ([tuple(x) for x in venue.bids], [tuple(x) for x in venue.asks])


def run(harness: VenueHarness, seconds: float, *sessions: Session, step: float = 0.5) -> None:
    """Move the clock ``seconds`` in steps, keeping every session's token fresh."""
    end = harness.now + seconds
    while harness.now < end - 1e-9:
        harness.advance(min(step, end - harness.now))
        for session in sessions:
            session.keep()


def harness(**config: Any) -> VenueHarness:
    """A venue on a fake clock (``config``: ``RailsVenue`` keyword arguments)."""
    return VenueHarness(RailsVenue(now=1000.0, **config))
