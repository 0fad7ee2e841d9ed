"""Helpers for the reference Deribit venue's tests.

* :data:`SMALL` / :data:`STILL`: small market configs (few options, so ticks are cheap);
  ``STILL`` has no random takers and no maker churn, so only the tests' orders trade;
* :func:`make_harness`: a :class:`VenueHarness` with the demo key and a taker key;
* :class:`Client`: tradewire's own ``ClientProtocol`` in a ``WebSocketClientStack``
  linked to the venue, with its events collected;
* :class:`RawClient`: a client machine that sends raw frames and records what arrives
  (for ccxt-shaped traffic and envelope checks);
* :func:`assert_recovered`: the ledger's active set is its desired set, and every
  maintained book equals the venue's book.

Test files add this folder to ``sys.path`` and import the module as ``support_venue``.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec
from support_harness_client import HarnessClient

from tradewire.conformance.deribit import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    ApiClient,
    DeribitVenue,
    VenueConfig,
    VenueHarness,
)
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import (
    CloseRequest,
    Command,
    CounterIds,
    Event,
    Handshake,
    WebSocketClientStack,
)
from tradewire.protocol.deribit import ClientProtocol, Credentials

START = 1_000.0
TAKER_ID = "taker-key"
TAKER_SECRET = "taker-secret"
SMALL = MarketConfig(
    seed=11, weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1
)
STILL = msgspec.structs.replace(SMALL, taker_rate=0.0, maker_churn=0.0)
BUSY = msgspec.structs.replace(SMALL, taker_rate=0.2, walk_scale=5.0)


def make_harness(
    market: MarketConfig = SMALL, *, faults: str | None = None, **config: Any
) -> VenueHarness:
    clients = (
        ApiClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, account_id=1),
        ApiClient(client_id=TAKER_ID, client_secret=TAKER_SECRET, account_id=2),
    )
    config.setdefault("clients", clients)
    venue = DeribitVenue(VenueConfig(market=market, **config), now=START, faults=faults)
    return VenueHarness(venue)


class Client(HarnessClient):
    """tradewire's ClientProtocol in a client stack, linked to the harness's venue."""

    def __init__(
        self,
        harness: VenueHarness,
        *,
        client_id: str | None = DEMO_CLIENT_ID,
        secret: str = DEMO_CLIENT_SECRET,
        seed: int = 7,
        grant: str = "client_signature",
        ping_interval: float | None = None,
        **options: Any,
    ) -> None:
        credentials = (
            Credentials(client_id=client_id, client_secret=secret, grant_type=grant)  # type: ignore[arg-type]
            if client_id is not None
            else None
        )
        options.setdefault("maintain_books", True)
        self.machine: ClientProtocol
        super().__init__(
            harness,
            ClientProtocol(
                credentials=credentials, epoch_offset=harness.venue.epoch_offset, **options
            ),
            host="www.deribit.test",
            seed=seed,
            ping_interval=ping_interval,
        )


def assert_recovered(client: Client, *books: str) -> None:
    """No subscription lost and no corrupted book (see the module docstring)."""
    ledger = client.machine.ledger
    assert set(ledger.active()) == set(ledger.desired())
    market = client.harness.venue.market
    for channel in books:
        book = client.machine.book(channel)
        assert book is not None, channel
        assert not book.stale, channel
        truth = market.book(channel.split(".")[1])
        assert book.bids() == list(truth.bids), channel
        assert book.asks() == list(truth.asks), channel


class Raw(Command, frozen=True, kw_only=True):
    """Make :class:`RawClient` send this text as it is."""

    text: str


class RawClient:
    """A client machine that sends raw frames and decodes everything it receives."""

    def __init__(self, *, path: str = "/ws/api/v2") -> None:
        self.handshake = Handshake(path=path)
        self.ids = CounterIds()
        self.received: list[Any] = []
        self.close_request: CloseRequest | None = None
        self.connected = False
        self._out: list[bytes] = []

    def connection_made(self, now: float) -> None:
        self.connected = True

    def receive_message(self, data: bytes | str, now: float) -> None:
        self.received.append(msgspec.json.decode(data))

    def send(self, command: Command, now: float) -> None:
        assert isinstance(command, Raw)
        self._out.append(command.text.encode())

    def handle_timer(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def connection_lost(self, now: float) -> None:
        self.connected = False

    def messages_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        return []

    def request(self, method: str, params: dict[str, Any] | None = None, id: Any = None) -> Raw:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params or {}}
        body["id"] = id if id is not None else self.ids()
        return Raw(text=msgspec.json.encode(body).decode())

    def answer(self, request_id: Any) -> Any:
        found = [m for m in self.received if isinstance(m, dict) and m.get("id") == request_id]
        assert len(found) == 1, (request_id, self.received[-5:])
        return found[0]

    def notifications(self, channel: str | None = None) -> list[Any]:
        return [
            m
            for m in self.received
            if isinstance(m, dict)
            and m.get("method") == "subscription"
            and (channel is None or m["params"]["channel"] == channel)
        ]


def raw_client(harness: VenueHarness, **kwargs: Any) -> tuple[RawClient, WebSocketClientStack]:
    machine = RawClient(**kwargs)
    stack = WebSocketClientStack(
        machine, host="www.deribit.test", rng=random.Random(3), reconnect=False,
        ping_interval=None,
    )  # fmt: skip
    harness.connect(stack)
    return machine, stack
