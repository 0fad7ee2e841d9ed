"""``currencycom.ClientProtocol``: the Currency.com / Dzengi client machine.

One machine lives as long as the caller's session, across connections (the WebSocket
stack calls ``connection_made`` / ``connection_lost``).  It is the session layer's
:class:`~tradewire.protocol.session.ClientSession` with Currency.com's codec and
policies:

* correlation by ``correlationId``: sent as a number, echoed as a string, compared as
  strings (spec 2.2); every request resolves exactly once;
* signing (spec 5): private requests (``GetAccount``, ``CreateOrder`` ...) need
  ``credentials``; each is signed with the epoch time of its release
  (``now + epoch_offset``), a retry included (:class:`SignedRequests`: a connection is
  authenticated as soon as it is up);
* subscriptions (spec 4.1; topic grammar in ``_topics``): one subscribe request per
  destination (and candle interval), at most ``max_symbols_per_request`` symbols each;
  after a reconnect exactly the desired topics are subscribed again.  **The venue has no
  unsubscribe**: :class:`Unsubscribe` makes the machine close the connection (code
  1000), and the next connection subscribes the topics still wanted;
* heartbeat (spec 3): a ``ping`` request at once on every connection and then every
  ``ping_interval`` seconds (at most 20: the venue closes a connection not pinged for
  30 s), whose answer must come within ``pong_timeout`` (:class:`PongTimeout`, and the
  stack reconnects);
* books (spec 4.2): every ``marketdepth.event`` is the whole book (``ReplaceBooks``);
  ``maintain_books=True`` keeps an ``OrderBook`` per ``depth:`` topic;
* pacing (spec 6): every request draws on ``requests_per_second``, orders (create,
  cancel, close position) on ``orders_per_second`` too, ``openOrders`` on
  ``open_orders_per_second`` (5, the venue's published limit); pings are not paced;
* errors (:func:`classify`): -1003 is rate limited (retried with the same id once the
  buckets refill, if before the deadline), -1000 and -1021 transient, anything else
  final; codes sent as strings are the same codes.

Hosts are configuration: ``HOSTS`` lists both brands' WebSocket URLs (spec 1); the path
is ``/connect``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from .._contract import Handshake
from .._events import Command
from ..session import (
    BookAccess,
    BucketPacing,
    ClientSession,
    ClientSpec,
    Heartbeat,
    NoAuth,
    OrderBook,
    ReplaceBooks,
    SessionOptions,
    SignedRequests,
    SubscriptionOp,
    TokenBucket,
    bad_option,
    resolve_options,
    seconds,
)
from ._codec import Credentials, CurrencycomCodec, SubscribeCall, depth_handler
from ._commands import Ping, Subscribe, Unsubscribe
from ._errors import classify
from ._topics import parse_topic
from ._wire import DepthUpdate

__all__ = ["HOSTS", "PATH", "ClientOptions", "ClientProtocol", "CurrencycomSubscriptions"]

PATH = "/connect"
HOSTS: dict[str, str] = {
    "currency.com": "wss://api-adapter.backend.currency.com/connect",
    "currency.com-demo": "wss://demo-api-adapter.backend.currency.com/connect",
    "dzengi": "wss://api-adapter.dzengi.com/connect",
    "dzengi-demo": "wss://demo-api-adapter.dzengi.com/connect",
}
"""Both brands' WebSocket URLs (spec 1); the REST bases are the same hosts over https."""

MAX_PING_INTERVAL = 20.0
IDLE_CLOSE = 30.0


class ClientOptions(SessionOptions, frozen=True, kw_only=True):
    """The venue-neutral :class:`SessionOptions` plus Currency.com's:

    * ``credentials``: for private requests (``None``: public data only);
    * ``epoch_offset``: epoch seconds minus ``now`` (signatures carry epoch ms);
    * ``recv_window``: ms sent as ``recvWindow`` with signed requests (``None``: not
      sent, the venue's default; at most 60000, spec 5);
    * ``ping_interval`` (<= 20 s) and ``pong_timeout``;
    * ``max_symbols_per_request``;
    * ``requests_per_second``, ``orders_per_second``, ``open_orders_per_second``:
      pacing (spec 6: 10 orders a second, 5 ``openOrders`` a second; the general rate is
      the 1200 request weight a minute the venue publishes, taken as 20 a second with a
      burst of 20; ours).
    """

    credentials: Credentials | None = None
    epoch_offset: float = 0.0
    recv_window: int | None = None
    ping_interval: float = 15.0
    pong_timeout: float = 10.0
    max_symbols_per_request: int = 100
    requests_per_second: float | None = 20.0
    orders_per_second: float | None = 10.0
    open_orders_per_second: float | None = 5.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.credentials is not None and not isinstance(self.credentials, Credentials):
            raise bad_option("credentials", "a Credentials or None", self.credentials)
        if isinstance(self.epoch_offset, bool) or not isinstance(self.epoch_offset, int | float):
            raise bad_option("epoch_offset", "a number of seconds", self.epoch_offset)
        window = self.recv_window
        if window is not None and (
            isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= 60_000
        ):
            raise bad_option("recv_window", "an int of ms in 1..60000, or None", window)
        interval = seconds("ping_interval", self.ping_interval)
        if interval > MAX_PING_INTERVAL:
            raise bad_option(
                "ping_interval", f"seconds <= {MAX_PING_INTERVAL:g} (the venue closes at 30 s)",
                self.ping_interval,
            )  # fmt: skip
        msgspec.structs.force_setattr(self, "ping_interval", interval)
        msgspec.structs.force_setattr(
            self, "pong_timeout", seconds("pong_timeout", self.pong_timeout)
        )
        chunk = self.max_symbols_per_request
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise bad_option("max_symbols_per_request", "a positive int", chunk)
        for name in ("requests_per_second", "orders_per_second", "open_orders_per_second"):
            value = getattr(self, name)
            if value is not None:
                msgspec.structs.force_setattr(self, name, seconds(name, value))

    def session_options(self) -> SessionOptions:
        names = SessionOptions.__struct_fields__
        return SessionOptions(**{name: getattr(self, name) for name in names})


class CurrencycomSubscriptions:
    """Topics as subscribe requests (see ``_topics``); no unsubscribe (spec 4.1)."""

    max_chars: int | None = None
    in_handshake = False

    def __init__(self, max_per_request: int) -> None:
        self.max_per_request = max_per_request

    @staticmethod
    def request(command: Command) -> tuple[SubscriptionOp, tuple[str, ...]] | None:
        if isinstance(command, Subscribe):
            return SubscriptionOp.SUBSCRIBE, command.topics
        if isinstance(command, Unsubscribe):
            return SubscriptionOp.UNSUBSCRIBE, command.topics
        return None

    @staticmethod
    def check(topics: Sequence[str], has_credentials: bool) -> None:
        for topic in topics:
            parse_topic(topic)

    @staticmethod
    def group(topic: str) -> str:
        return parse_topic(topic).group

    @staticmethod
    def group_needs_auth(group: str) -> bool:
        return False

    @staticmethod
    def subscribe_command(group: str, topics: list[str]) -> Command:
        parsed = [parse_topic(t) for t in topics]
        first = parsed[0]
        return SubscribeCall(
            destination=first.destination,
            symbols=tuple(dict.fromkeys(t.symbol for t in parsed)),
            intervals=(first.interval,) if first.interval is not None else (),
            type=first.candle_type,
        )

    @staticmethod
    def unsubscribe_command(group: str, topics: list[str]) -> Command | None:
        return None  # the venue has none: the machine reconnects without the topics

    @staticmethod
    def accepted(result: Any, topics: list[str]) -> tuple[list[str], Mapping[str, str] | None]:
        """All the request's topics, unless the answer lists per-symbol statuses
        (``{"subscriptions": {"BTC/USD": "PROCESSED"}}``, the shape spec 4.1 mentions):
        then the symbols marked ``PROCESSED`` only."""
        statuses = result.get("subscriptions") if isinstance(result, dict) else None
        if not isinstance(statuses, dict):
            return list(topics), None
        return [t for t in topics if statuses.get(parse_topic(t).symbol) == "PROCESSED"], None


def _depth_topic(message: Any) -> str:
    return "depth:" + message.payload.symbol  # type: ignore[no-any-return]


def _apply_depth(book: OrderBook, message: Any, snapshot: bool) -> None:
    from .._errors import RemoteProtocolError

    data = message.payload.data
    try:
        bids = [(float(price), size) for price, size in data.bid.items()]
        asks = [(float(price), size) for price, size in data.ofr.items()]
    except ValueError as exc:
        raise RemoteProtocolError(f"a price that is not a number: {exc}") from None
    book.apply_snapshot(bids, asks)


DEPTH = BookAccess(topic=_depth_topic, apply=_apply_depth)


def _pacing(options: ClientOptions) -> BucketPacing | None:
    table: dict[object, Any] = {}
    general = options.requests_per_second
    everything = () if general is None else ((TokenBucket(general, general, name="requests"), 1.0),)
    table["request"] = everything
    orders = options.orders_per_second
    table["order"] = everything + (
        () if orders is None else ((TokenBucket(orders, orders, name="orders"), 1.0),)
    )
    open_orders = options.open_orders_per_second
    table["openOrders"] = everything + (
        ()
        if open_orders is None
        else ((TokenBucket(open_orders, open_orders, name="openOrders"), 1.0),)
    )
    table["ping"] = ()
    return BucketPacing(table, default="request")


class ClientProtocol(ClientSession):
    """The Currency.com client machine (see the module docstring).

    ``ClientProtocol(options)`` or ``ClientProtocol(credentials=..., maintain_books=True,
    ...)`` (every :class:`ClientOptions` field as a keyword, replacing the field of
    ``options`` when both are given); a bad value raises
    :class:`~tradewire.protocol.LocalProtocolError` naming it.
    """

    def __init__(self, options: ClientOptions | None = None, /, **overrides: Any) -> None:
        options = resolve_options(ClientOptions, options, overrides)
        self.options = options
        codec = CurrencycomCodec(
            options.credentials, epoch_offset=options.epoch_offset, recv_window=options.recv_window
        )
        self.codec = codec
        self.books = ReplaceBooks(
            DEPTH,
            (DepthUpdate,),
            maintain=options.maintain_books,
            max_levels=options.max_book_levels,
            max_books=options.max_subscriptions,
        )
        spec = ClientSpec(
            codec=codec,
            subscriptions=CurrencycomSubscriptions(options.max_symbols_per_request),
            auth=SignedRequests() if options.credentials is not None else NoAuth(),
            heartbeat=Heartbeat(
                ping=Ping, ping_interval=options.ping_interval, pong_timeout=options.pong_timeout
            ),
            pacing=_pacing(options),
            classify=classify,
            handshake=lambda: Handshake(path=PATH),
            books=(self.books,),
            handlers={DepthUpdate: depth_handler(self.books.on_message)},
            auth_hint="pass credentials=Credentials(api_key=..., secret=...)",
            dropped="not PROCESSED in the venue's subscribe answer",
        )
        super().__init__(spec, options.session_options())
