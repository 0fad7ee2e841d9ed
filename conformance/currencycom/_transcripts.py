"""Currency.com transcripts: the adapter, a recorder, the canonical flows.

The format and the runner are venue-neutral (:mod:`tradewire.conformance._transcripts`).
The header's ``client`` object is the ``ClientProtocol`` configuration with what varies
pinned::

    "client": {"credentials": {"api_key": "tradewire-demo", "secret": "..."},
               "ids": 1, "epoch_offset": 1733096600.0, "ping_interval": 15.0, ...}

``ids`` is the first id of a counter; ``credentials`` ``null`` for a public session.  The
demo key is public, so recordings keep its secret and replay byte for byte.

The canonical flows (``transcripts/``), recorded against :class:`CurrencycomVenue` in a
:class:`~tradewire.conformance.Harness` (the real WebSocket stacks over a memory link,
fake clock):

* ``depth_trades_reconnect``: subscribe to a book and trades, whole-book depth events and
  trades; the venue drops the connection; the stack reconnects and the client
  resubscribes exactly the same topics;
* ``signed_order_lifecycle``: signed requests (``/api/v1/account``, ``order/create``,
  ``openOrders``, ``order/cancel``), each signed with the time it was released;
* ``ping_idle_close``: pings every 15 s answered with ``destination: "ping"``; the venue
  ignores one ping, the pong deadline passes (``PongTimeout``), the client drops the
  connection and reconnects; then ``Unsubscribe`` closes the connection (no unsubscribe
  at the venue) and the next one subscribes the rest.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import msgspec

from tradewire.protocol import Command, CounterIds, Secret, WebSocketClientStack
from tradewire.protocol.currencycom import (
    COMMANDS,
    CancelOrder,
    ClientOptions,
    ClientProtocol,
    CreateOrder,
    Credentials,
    GetAccount,
    GetOpenOrders,
    Request,
    Subscribe,
    Unsubscribe,
)

from .._harness import Harness
from .._transcripts import PSEUDO_EVENTS, Header, Recorder, ReplayReport, Transcript, replay
from ._catalog import market_config
from ._venue import DEMO_KEY, DEMO_SECRET, CurrencycomVenue, VenueConfig

__all__ = [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "CurrencycomRecorder",
    "CurrencycomTranscripts",
    "replay_transcript",
    "transcript_file",
]

STRICT_EVENTS: tuple[str, ...] = (
    "RequestSucceeded",
    "RequestFailed",
    "SubscriptionActive",
    "SubscriptionRejected",
    "SubscriptionEnded",
    "PongTimeout",
    "UnmatchedError",
    *PSEUDO_EVENTS,
)
"""Events a recording lists exhaustively (the pushes are in its ``in`` lines)."""

OPTION_NAMES = (
    "request_timeout",
    "maintain_books",
    "max_book_levels",
    "max_pending",
    "max_outbound",
    "max_events",
    "max_subscriptions",
    "recv_window",
    "ping_interval",
    "pong_timeout",
    "max_symbols_per_request",
    "requests_per_second",
    "orders_per_second",
    "open_orders_per_second",
)
_CLIENT_KEYS = frozenset({"credentials", "ids", "epoch_offset", *OPTION_NAMES})
_COMMAND_TYPES: dict[str, type[Command]] = {cls.__name__: cls for cls in COMMANDS.values()}
_COMMAND_TYPES.update({cls.__name__: cls for cls in (Subscribe, Unsubscribe, Request)})


class CurrencycomTranscripts:
    """The Currency.com :class:`~tradewire.conformance._transcripts.VenueAdapter`."""

    venue = "currencycom"

    def build_client(self, header: Header) -> ClientProtocol:
        config = header.client
        unknown = sorted(set(config) - _CLIENT_KEYS)
        if unknown:
            raise ValueError(f"unknown client option {unknown[0]!r}")
        kwargs: dict[str, Any] = {name: config[name] for name in OPTION_NAMES if name in config}
        creds = config.get("credentials")
        if creds is not None:
            api_key, secret = (creds.get(k) for k in ("api_key", "secret"))
            if not isinstance(api_key, str) or not isinstance(secret, str):
                raise ValueError("credentials must be an object with api_key and secret")
            kwargs["credentials"] = Credentials(api_key=api_key, secret=Secret(secret))
        if "epoch_offset" in config:
            kwargs["epoch_offset"] = config["epoch_offset"]
        ids = config.get("ids", 1)
        if isinstance(ids, bool) or not isinstance(ids, int):
            raise ValueError("ids must be the first id of a counter")
        kwargs["ids"] = CounterIds(ids)
        return ClientProtocol(**kwargs)

    def decode_command(self, name: str, fields: dict[str, Any]) -> Command:
        command_type = _COMMAND_TYPES.get(name)
        if command_type is None:
            raise ValueError(f"unknown command type {name!r}")
        try:
            return msgspec.convert(fields, command_type)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None

    def encode_command(self, command: Command) -> tuple[str, dict[str, Any]]:
        fields: dict[str, Any] = msgspec.to_builtins(command)
        return type(command).__name__, fields

    def redacted(self, header: Header) -> bool:
        return False


class CurrencycomRecorder(Recorder):
    """Record a ``ClientProtocol`` session; takes the ``ClientProtocol`` options (the
    demo key's secret is kept: it is public)."""

    def __init__(
        self, *, description: str | None = None, server: str | None = None, **options: Any
    ) -> None:
        self.options = ClientOptions(**options)
        self.client = ClientProtocol(msgspec.structs.replace(self.options, ids=CounterIds()))
        self._meta = {"description": description, "server": server}
        super().__init__(
            self.client,
            CurrencycomTranscripts(),
            self._header,
            expects=lambda event: type(event).__name__ in STRICT_EVENTS,
        )

    def _header(self) -> Header:
        options = self.options
        creds = options.credentials
        client: dict[str, Any] = {
            "credentials": None
            if creds is None
            else {"api_key": creds.api_key, "secret": creds.secret.reveal()},
            "ids": 1,
            "epoch_offset": options.epoch_offset,
        }
        for name in OPTION_NAMES:
            client[name] = getattr(options, name)
        return Header(
            venue="currencycom",
            venue_version="v1",
            server=self._meta["server"],
            library="tradewire",
            description=self._meta["description"],
            client=client,
            strict=STRICT_EVENTS,
        )


def replay_transcript(text: str | bytes | Transcript) -> ReplayReport:
    """Replay a Currency.com transcript against a fresh ``ClientProtocol``."""
    return replay(text, CurrencycomTranscripts())


# -- the canonical flows ---------------------------------------------------------------------

START = 1000.0
BOOK_MARKET = market_config(seed=12, past_hours=0, past_trades=0, maker_levels=3, taker_rate=0.3)
"""Three maker levels a side, a taker now and then: book changes and trades."""
QUIET_MARKET = market_config(seed=13, past_hours=0, past_trades=0, maker_levels=0, taker_rate=0.0)
"""Nobody else trades: every order in the book is the flow's own."""


class _Flow:
    def __init__(self, description: str, market: Any, **options: Any) -> None:
        self.venue = CurrencycomVenue(VenueConfig(market=market), now=START)
        self.harness = Harness(self.venue)
        self.recorder = CurrencycomRecorder(
            description=description,
            server=f"tradewire reference venue (CurrencycomVenue), seed {market.seed}",
            epoch_offset=self.venue.epoch_offset,
            **options,
        )
        self.stack = WebSocketClientStack(
            self.recorder.machine, host="api-adapter.test", rng=random.Random(7), ping_interval=None
        )
        self.harness.connect(self.stack)
        self.harness.pump()

    @property
    def now(self) -> float:
        return self.harness.now

    def send(self, command: Command) -> None:
        self.stack.send(command, self.harness.now)
        self.harness.pump()

    def inject(self, fault: str) -> None:
        self.venue.inject(max(self.venue.sockets), fault, self.harness.now)


def _credentials() -> Credentials:
    return Credentials(api_key=DEMO_KEY, secret=Secret(DEMO_SECRET))


def record_depth_trades_reconnect() -> str:
    flow = _Flow(
        "no credentials; subscribe to depth:BTC/USD and trades:BTC/USD; whole-book depth "
        "events (each replaces the book) and trades; the venue drops the connection; the "
        "stack reconnects, pings at once and resubscribes exactly the same topics",
        BOOK_MARKET,
        maintain_books=True,
    )
    flow.send(Subscribe(topics=("depth:BTC/USD", "trades:BTC/USD")))
    flow.harness.advance(0.6)
    flow.recorder.comment("the venue drops the connection")
    flow.inject("disconnect")
    flow.harness.advance(1.0)
    return flow.recorder.dumps()


def record_signed_order_lifecycle() -> str:
    flow = _Flow(
        "the demo key; signed requests over the WebSocket (apiKey, timestamp, signature "
        "made when each request is released): account, a limit buy of 0.01 BTC/USD at "
        "59000, the open orders, the cancel, the account again",
        QUIET_MARKET,
        credentials=_credentials(),
    )
    flow.send(GetAccount())
    flow.harness.advance(0.1)
    flow.send(
        CreateOrder(symbol="BTC/USD", side="BUY", type="LIMIT", quantity=0.01, price=59_000.0)
    )
    flow.harness.advance(0.1)
    order_id = None
    for row in reversed(flow.recorder.rows):
        result = (
            row.get("fields", {}).get("result") if row.get("expect") == "RequestSucceeded" else None
        )
        if isinstance(result, dict) and "orderId" in result:
            order_id = result["orderId"]
            break
    assert isinstance(order_id, str)
    flow.send(GetOpenOrders(symbol="BTC/USD"))
    flow.harness.advance(0.1)
    flow.send(CancelOrder(symbol="BTC/USD", order_id=order_id))
    flow.harness.advance(0.1)
    flow.send(GetAccount())
    flow.harness.advance(0.1)
    return flow.recorder.dumps()


def record_ping_idle_close() -> str:
    flow = _Flow(
        "no credentials; a ping at once and every 15 s, each answered with destination "
        "ping; the venue ignores one ping: no answer within pong_timeout (10 s), "
        "PongTimeout, the client drops the connection and the stack reconnects; then "
        "Unsubscribe of one topic closes the connection (the venue has no unsubscribe) "
        "and the next connection subscribes the other topic only",
        QUIET_MARKET,
    )
    flow.send(Subscribe(topics=("quote:BTC/USD", "quote:ETH/USD")))
    flow.harness.advance(31.0)
    flow.recorder.comment("the venue will not read the next ping")
    flow.inject("heartbeat")
    flow.harness.advance(30.0)
    flow.send(Unsubscribe(topics=("quote:ETH/USD",)))
    flow.harness.advance(2.0)
    return flow.recorder.dumps()


CANONICAL_FLOWS: Mapping[str, Callable[[], str]] = {
    "depth_trades_reconnect": record_depth_trades_reconnect,
    "signed_order_lifecycle": record_signed_order_lifecycle,
    "ping_idle_close": record_ping_idle_close,
}
"""Name -> a function recording the flow again; ``transcripts/{name}.jsonl`` holds it."""


def transcript_file(name: str) -> Traversable:
    """The checked-in transcript of canonical flow ``name``."""
    if name not in CANONICAL_FLOWS:
        raise KeyError(f"unknown flow {name!r}; known: {', '.join(CANONICAL_FLOWS)}")
    return files("tradewire.conformance.currencycom") / "transcripts" / f"{name}.jsonl"
