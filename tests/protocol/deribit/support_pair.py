"""The real Deribit client and server machines, paired through the WebSocket stacks.

h11's ``ConnectionPair`` for Deribit (docs/architecture.md, habit 3): a ``deribit.ClientProtocol``
in a ``WebSocketClientStack`` talks to ``deribit.ServerProtocol`` machines in
``WebSocketServerStack`` s (one per connection, all sharing one ``ServerState``) through
``MemoryLink`` on a fake clock.  The server machine answers the session methods itself
(auth, heartbeats, unsubscribe, cancel-on-disconnect ...); everything else it hands to
the venue as ``RequestReceived`` / ``SubscribeReceived``, and :class:`PairVenue` is that
venue: small, deterministic, and built from the wire models.

* :class:`PairVenue`: a fixed instrument set (``INSTRUMENTS``).  Subscribe accepts the
  channels it knows and leaves the others out silently, as Deribit does; a new book
  channel gets a snapshot.  Books keep a ``change_id`` chain per instrument on one
  shared counter that jumps by 1 to 3 (never a +1 test); :meth:`PairVenue.book_change`
  pushes a random change of up to 20 levels, or loses it on the way (a gap).  Tickers,
  trades and any channel on demand.  Orders: buy / sell (market orders fill at once,
  limit orders rest), edit, cancel, the ``cancel_all*`` methods (a count, or reports with
  ``detailed``), order and position queries, an account summary; canned market data.
  Knobs: ``ignore`` (methods lost before the server machine: requests never answered),
  ``hold_subscribes`` / :meth:`PairVenue.release` (subscribe calls left waiting),
  ``accept_unknown`` (serve any channel of valid grammar).
* :class:`RecordingServer`: a ``ServerProtocol`` that logs every message it receives
  (:class:`Received`), so tests check the order and the size of what reached the venue.
* :class:`Pair`: a ``MemoryLink`` whose ``pump`` also lets the venue answer, with the
  client's events kept in ``history`` and helpers to find a request's outcome.

The server's clock reads ``START = 1000.0`` as the epoch time of signing vector A
(spec 2.2); clients get the same ``epoch_offset``, so their signatures are fresh.
Test files add this folder to ``sys.path`` and import the module as ``support_pair``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import msgspec

from tradewire.conformance._link import FakeClock, MemoryLink
from tradewire.protocol import (
    Event,
    RequestFailed,
    RequestFailure,
    RequestSucceeded,
)
from tradewire.protocol.deribit import (
    AccountSummary,
    BookData,
    Buy,
    Cancel,
    CancelAll,
    CancelAllByCurrency,
    CancelAllByInstrument,
    CancelAllByKindOrType,
    CancelByLabel,
    CancelReport,
    ClientProtocol,
    Credentials,
    Currency,
    Edit,
    GetAccountSummary,
    GetCurrencies,
    GetIndexPrice,
    GetInstruments,
    GetLastTradesByInstrument,
    GetOpenOrders,
    GetOpenOrdersByCurrency,
    GetOpenOrdersByInstrument,
    GetOrderBook,
    GetOrderState,
    GetPosition,
    GetPositions,
    GetTicker,
    IndexPrice,
    Instrument,
    Order,
    OrderBookSnapshot,
    OrderResult,
    PlaceOrder,
    PlatformStatus,
    Position,
    PublicTrade,
    Sell,
    Status,
    Ticker,
    TickerStats,
    TradesPage,
    UserTrade,
    parse_channel,
)
from tradewire.protocol.deribit.server import (
    AcceptSubscription,
    Notify,
    Reply,
    ReplyError,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SubscribeReceived,
)
from tradewire.protocol.transport._ws_client import WebSocketClientStack
from tradewire.protocol.transport._ws_server import WebSocketServerStack

START = 1000.0
VECTOR_A_TIME = 1576074319.0  # epoch seconds of vector A's timestamp 1576074319000
EPOCH_OFFSET = VECTOR_A_TIME - START
CLIENT_ID = "AMANDA"
SECRET = "AMANDASECRECT"
VECTOR_A_NONCE = "1iqt2wls"
VECTOR_A_SIGNATURE = "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"
PEER = "203.0.113.7:40001"
HOST = "www.deribit.test"

INSTRUMENTS: dict[str, tuple[str, float, float]] = {
    # name: (currency, mid price, tick size)
    "BTC-PERPETUAL": ("BTC", 60_000.0, 0.5),
    "ETH-PERPETUAL": ("ETH", 3_000.0, 0.05),
}
INDEXES = {"btc_usd": 60_001.5, "eth_usd": 3_000.25}


def make_state(**config: Any) -> ServerState:
    """A venue state whose ``now == START`` is vector A's epoch time; AMANDA registered."""
    config.setdefault("epoch_offset", EPOCH_OFFSET)
    state = ServerState(ServerConfig(**config), rng=random.Random(42))
    state.add_client(CLIENT_ID, SECRET)
    return state


def credentials(grant: str = "client_signature", **fields: Any) -> Credentials:
    return Credentials(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        grant_type=grant,  # type: ignore[arg-type]
        **fields,
    )


# -- the venue ---------------------------------------------------------------------------


class Received(NamedTuple):
    """One message as the server machine received it."""

    connection_id: int
    at: float
    method: str | None
    params: dict[str, Any]
    size: int


class RecordingServer(ServerProtocol):
    """A ``ServerProtocol`` that logs what it receives into ``log`` (shared by a venue).

    Messages whose method is in ``ignore`` are logged and then lost, never reaching the
    machine: requests that go unanswered.
    """

    def __init__(
        self,
        state: ServerState,
        *,
        log: list[Received],
        ignore: set[str],
        peer: str | None,
    ) -> None:
        super().__init__(state, peer=peer)
        self.log = log
        self.ignore = ignore

    def receive_message(self, data: bytes | str, now: float) -> None:
        raw = data.encode() if isinstance(data, str) else data
        try:
            message = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            message = None
        method = message.get("method") if isinstance(message, dict) else None
        params = message.get("params") if isinstance(message, dict) else None
        self.log.append(
            Received(
                self.connection_id,
                now,
                method if isinstance(method, str) else None,
                params if isinstance(params, dict) else {},
                len(raw),
            )
        )
        if method not in self.ignore:
            super().receive_message(data, now)


class PairVenue:
    """The venue side for :class:`Pair` (see the module docstring)."""

    def __init__(self, state: ServerState | None = None, *, seed: int = 7) -> None:
        self.state = state if state is not None else make_state()
        self.rng = random.Random(seed)
        self.log: list[Received] = []
        self.seen: list[Event] = []
        self.stacks: dict[int, WebSocketServerStack] = {}
        self.machines: list[RecordingServer] = []
        self.change_id = 1000
        self.last: dict[str, int] = {}  # instrument -> change_id of its last book event
        self.bids: dict[str, dict[float, float]] = {}
        self.asks: dict[str, dict[float, float]] = {}
        self.orders: dict[str, tuple[str, Order]] = {}  # order id -> (client_id, order)
        self.positions: dict[str, float] = {}
        self.trade_seq = 0
        self.next_order = 0
        self.accept_unknown = False  # serve every channel, known instrument or not
        self.hold_subscribes = False  # keep subscribe calls unanswered until release()
        self.held: list[SubscribeReceived] = []
        self.ignore: set[str] = set()  # methods lost on the way to the server machines
        self.answers: dict[type, Callable[[RequestReceived, float], Any]] = {
            GetTicker: self._ticker,
            GetOrderBook: self._order_book,
            GetInstruments: self._instruments,
            GetCurrencies: self._currencies,
            GetIndexPrice: self._index_price,
            GetLastTradesByInstrument: self._last_trades,
            Status: lambda event, now: PlatformStatus(locked="false", locked_indices=[]),
            Buy: self._place,
            Sell: self._place,
            Edit: self._edit,
            Cancel: self._cancel,
            CancelAll: self._cancel_many,
            CancelAllByCurrency: self._cancel_many,
            CancelAllByInstrument: self._cancel_many,
            CancelAllByKindOrType: self._cancel_many,
            CancelByLabel: self._cancel_many,
            GetOpenOrders: self._open_orders,
            GetOpenOrdersByCurrency: self._open_orders,
            GetOpenOrdersByInstrument: self._open_orders,
            GetOrderState: self._order_state,
            GetPositions: self._positions,
            GetPosition: self._positions,
            GetAccountSummary: self._account_summary,
        }
        for instrument in INSTRUMENTS:
            self.reset_book(instrument, levels=10)

    # -- connections ----------------------------------------------------------------------

    def factory(self) -> WebSocketServerStack:
        machine = RecordingServer(self.state, log=self.log, ignore=self.ignore, peer=PEER)
        self.machines.append(machine)
        stack = WebSocketServerStack(machine, peer=PEER)
        self.stacks[machine.connection_id] = stack
        return stack

    def live(self) -> list[RecordingServer]:
        return [m for m in self.machines if m.is_open]

    def methods(self, connection_id: int | None = None) -> list[str | None]:
        """The methods received, in order (on one connection, or on all)."""
        return [
            r.method for r in self.log if connection_id is None or r.connection_id == connection_id
        ]

    def handle(self, events: Iterable[Event], now: float) -> None:
        """Answer the requests the server machines handed out."""
        for event in events:
            self.seen.append(event)
            if isinstance(event, SubscribeReceived):
                if self.hold_subscribes:
                    self.held.append(event)
                else:
                    self._subscribe(event, now)
            elif isinstance(event, RequestReceived):
                self._answer(event, now)

    def _stack(self, event: RequestReceived) -> WebSocketServerStack:
        return self.stacks[event.connection_id]

    def _answer(self, event: RequestReceived, now: float) -> None:
        handler = self.answers.get(type(event.command))
        stack = self._stack(event)
        if handler is None:
            stack.send(ReplyError(request_id=event.request_id, code=10033), now)
            return
        result = handler(event, now)
        if isinstance(result, ReplyError):
            stack.send(result, now)
        else:
            stack.send(Reply(request_id=event.request_id, result=result), now)

    # -- subscriptions --------------------------------------------------------------------

    def knows(self, channel: str) -> bool:
        """Whether this venue serves ``channel`` (the others are dropped silently)."""
        if self.accept_unknown:
            return True
        parsed = parse_channel(channel)
        if parsed.instrument is not None:
            return parsed.instrument in INSTRUMENTS
        if parsed.index_name is not None:
            return parsed.index_name in INDEXES
        return True

    def _subscribe(self, event: SubscribeReceived, now: float) -> None:
        stack = self._stack(event)
        machine = stack.machine
        assert isinstance(machine, ServerProtocol)
        accepted = [c for c in event.channels if self.knows(c)]
        new = [c for c in accepted if not machine.is_subscribed(c)]
        stack.send(
            AcceptSubscription(request_id=event.request_id, channels=accepted[::-1]), now
        )  # reordered, as the live venue does
        for channel in new:
            parsed = parse_channel(channel)
            if parsed.family.value == "book" and parsed.group is None:
                assert parsed.instrument is not None
                if parsed.instrument not in INSTRUMENTS:
                    continue
                stack.send(Notify(channel=channel, data=self.snapshot(parsed.instrument)), now)

    def release(self, now: float) -> None:
        """Answer the subscribe calls held by ``hold_subscribes`` (and stop holding)."""
        self.hold_subscribes = False
        held, self.held = self.held, []
        for event in held:
            self._subscribe(event, now)

    def push(self, channel: str, data: Any, now: float, *, client_id: str | None = None) -> int:
        """Send ``data`` on ``channel`` to every connection subscribed (of ``client_id``);
        returns how many got it."""
        sent = 0
        for machine in self.live():
            if client_id is not None and machine.client_id != client_id:
                continue
            if machine.is_subscribed(channel):
                self.stacks[machine.connection_id].send(Notify(channel=channel, data=data), now)
                sent += 1
        return sent

    # -- books ----------------------------------------------------------------------------

    def _next_id(self) -> int:
        self.change_id += self.rng.randint(1, 3)  # a counter shared by every book
        return self.change_id

    def reset_book(self, instrument: str, *, levels: int) -> None:
        """A fresh book of ``levels`` levels a side (the chain goes on)."""
        _, mid, tick = INSTRUMENTS[instrument]
        self.bids[instrument] = {
            round(mid - tick * k, 4): float(self.rng.randint(1, 50) * 10)
            for k in range(1, levels + 1)
        }
        self.asks[instrument] = {
            round(mid + tick * k, 4): float(self.rng.randint(1, 50) * 10)
            for k in range(1, levels + 1)
        }
        self.last[instrument] = self._next_id()

    def _timestamp(self, now: float) -> int:
        return self.state.epoch_ms(now)

    def snapshot(self, instrument: str) -> BookData:
        return BookData(
            type="snapshot",
            instrument_name=instrument,
            timestamp=1_576_074_319_000,
            change_id=self.last[instrument],
            bids=[("new", p, a) for p, a in self.book(instrument)[0]],
            asks=[("new", p, a) for p, a in self.book(instrument)[1]],
        )

    def book(self, instrument: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The venue's book: bids best first, asks best first."""
        bids = sorted(self.bids[instrument].items(), reverse=True)
        asks = sorted(self.asks[instrument].items())
        return bids, asks

    def book_change(
        self, instrument: str, now: float, *, levels: int = 20, lose: bool = False
    ) -> BookData:
        """A random change of ``levels`` levels: new, changed and deleted ones, the book
        kept uncrossed.  ``lose``: applied here but never sent (a gap downstream)."""
        _, mid, tick = INSTRUMENTS[instrument]
        actions: dict[str, list[tuple[Any, float, float]]] = {"bid": [], "ask": []}
        for index in range(levels):
            side = "bid" if index % 2 == 0 else "ask"
            book = self.bids[instrument] if side == "bid" else self.asks[instrument]
            distance = self.rng.randint(1, 30)
            price = round(mid - tick * distance if side == "bid" else mid + tick * distance, 4)
            if any(p == price for _, p, _ in actions[side]):
                continue
            if price in book and self.rng.random() < 0.3:
                del book[price]
                actions[side].append(("delete", price, 0.0))
            else:
                amount = float(self.rng.randint(1, 50) * 10)
                actions[side].append(("change" if price in book else "new", price, amount))
                book[price] = amount
        prev = self.last[instrument]
        data = BookData(
            type="change",
            instrument_name=instrument,
            timestamp=1_576_074_319_000,
            change_id=self._next_id(),
            prev_change_id=prev,
            bids=actions["bid"],
            asks=actions["ask"],
        )
        self.last[instrument] = data.change_id
        if not lose:
            for channel in self._book_channels(instrument):
                self.push(channel, data, now)
        return data

    def _book_channels(self, instrument: str) -> list[str]:
        return [f"book.{instrument}.{interval}" for interval in ("raw", "100ms", "agg2")]

    # -- tickers and trades ---------------------------------------------------------------

    def ticker(self, instrument: str, now: float) -> Ticker:
        bids, asks = self.book(instrument)
        _, mid, _ = INSTRUMENTS[instrument]
        return Ticker(
            instrument_name=instrument,
            timestamp=self._timestamp(now),
            state="open",
            best_bid_price=bids[0][0] if bids else None,
            best_bid_amount=bids[0][1] if bids else 0.0,
            best_ask_price=asks[0][0] if asks else None,
            best_ask_amount=asks[0][1] if asks else 0.0,
            last_price=mid,
            mark_price=mid,
            index_price=mid + 1.5,
            min_price=mid * 0.98,
            max_price=mid * 1.02,
            stats=TickerStats(high=mid * 1.01, low=mid * 0.99, volume=12.5),
            open_interest=1_000_000.0,
            funding_8h=2.11e-5,
        )

    def trade(self, instrument: str, now: float, *, direction: str = "buy") -> PublicTrade:
        self.trade_seq += 1
        _, mid, _ = INSTRUMENTS[instrument]
        return PublicTrade(
            trade_id=str(48_079_000 + self.trade_seq),
            trade_seq=self.trade_seq,
            timestamp=self._timestamp(now),
            instrument_name=instrument,
            price=mid,
            amount=10.0,
            direction=direction,
            tick_direction=0,
            mark_price=mid,
            index_price=mid + 1.5,
        )

    def push_ticker(self, instrument: str, now: float) -> int:
        data = self.ticker(instrument, now)
        return sum(
            self.push(f"ticker.{instrument}.{interval}", data, now)
            for interval in ("raw", "100ms", "agg2")
        )

    def push_trades(self, instrument: str, now: float) -> int:
        data = [self.trade(instrument, now)]
        return sum(
            self.push(f"trades.{instrument}.{interval}", data, now)
            for interval in ("raw", "100ms", "agg2")
        )

    # -- market data answers --------------------------------------------------------------

    @staticmethod
    def _unknown(event: RequestReceived) -> ReplyError:
        return ReplyError(request_id=event.request_id, code=10020)

    def _ticker(self, event: RequestReceived, now: float) -> Ticker | ReplyError:
        command = event.command
        assert isinstance(command, GetTicker)
        if command.instrument_name not in INSTRUMENTS:
            return self._unknown(event)
        return self.ticker(command.instrument_name, now)

    def _order_book(self, event: RequestReceived, now: float) -> OrderBookSnapshot | ReplyError:
        command = event.command
        assert isinstance(command, GetOrderBook)
        instrument = command.instrument_name
        if instrument not in INSTRUMENTS:
            return self._unknown(event)
        bids, asks = self.book(instrument)
        depth = command.depth or 20
        fields = msgspec.structs.asdict(self.ticker(instrument, now))
        return OrderBookSnapshot(
            **fields, change_id=self.last[instrument], bids=bids[:depth], asks=asks[:depth]
        )

    def _instruments(self, event: RequestReceived, now: float) -> list[Instrument]:
        command = event.command
        assert isinstance(command, GetInstruments)
        return [
            Instrument(
                instrument_name=name,
                kind="future",
                base_currency=currency,
                quote_currency="USD",
                tick_size=tick,
                min_trade_amount=10.0,
                contract_size=10.0,
                is_active=True,
                creation_timestamp=1_534_167_754_000,
                expiration_timestamp=32_503_708_800_000,
                settlement_period="perpetual",
                instrument_type="reversed",
            )
            for name, (currency, _, tick) in INSTRUMENTS.items()
            if command.currency in ("any", currency)
        ]

    def _currencies(self, event: RequestReceived, now: float) -> list[Currency]:
        return [
            Currency(currency="BTC", currency_long="Bitcoin", fee_precision=4),
            Currency(currency="ETH", currency_long="Ethereum", fee_precision=4),
        ]

    def _index_price(self, event: RequestReceived, now: float) -> IndexPrice | ReplyError:
        command = event.command
        assert isinstance(command, GetIndexPrice)
        price = INDEXES.get(command.index_name)
        if price is None:
            return ReplyError(request_id=event.request_id, code=-32602)
        return IndexPrice(index_price=price, estimated_delivery_price=price)

    def _last_trades(self, event: RequestReceived, now: float) -> TradesPage | ReplyError:
        command = event.command
        assert isinstance(command, GetLastTradesByInstrument)
        if command.instrument_name not in INSTRUMENTS:
            return self._unknown(event)
        count = command.count or 10
        return TradesPage(
            trades=[self.trade(command.instrument_name, now) for _ in range(min(count, 3))],
            has_more=count < 3,
        )

    # -- trading answers ------------------------------------------------------------------

    def _mine(self, event: RequestReceived) -> dict[str, Order]:
        return {
            oid: order for oid, (owner, order) in self.orders.items() if owner == event.client_id
        }

    def _store(self, event: RequestReceived, order: Order, now: float) -> None:
        assert event.client_id is not None
        self.orders[order.order_id] = (event.client_id, order)
        for channel in (f"user.orders.{order.instrument_name}.raw", "user.orders.any.any.raw"):
            self.push(channel, order, now, client_id=event.client_id)

    def _place(self, event: RequestReceived, now: float) -> OrderResult | ReplyError:
        command = event.command
        assert isinstance(command, PlaceOrder)
        instrument = command.instrument_name
        if instrument not in INSTRUMENTS:
            return self._unknown(event)
        amount = command.amount if command.amount is not None else command.contracts or 0.0
        if amount > 1_000_000:
            return ReplyError(request_id=event.request_id, code=10009)
        currency, mid, _ = INSTRUMENTS[instrument]
        direction = "buy" if isinstance(command, Buy) else "sell"
        market = command.type == "market"
        self.next_order += 1
        order_id = f"{currency}-{584_849_853 + self.next_order}"
        stamp = self._timestamp(now)
        price = mid if market or command.price is None else command.price
        order = Order(
            order_id=order_id,
            instrument_name=instrument,
            direction=direction,
            amount=float(amount),
            filled_amount=float(amount) if market else 0.0,
            average_price=mid if market else 0.0,
            price=price,
            order_type=command.type or "limit",
            order_state="filled" if market else "open",
            time_in_force=command.time_in_force or "good_til_cancelled",
            label=command.label or "",
            post_only=bool(command.post_only),
            reduce_only=bool(command.reduce_only),
            replaced=False,
            api=True,
            web=False,
            creation_timestamp=stamp,
            last_update_timestamp=stamp,
        )
        trades: list[UserTrade] = []
        if market:
            self.trade_seq += 1
            trades.append(
                UserTrade(
                    trade_id=f"{currency}-{2_696_083 + self.trade_seq}",
                    trade_seq=self.trade_seq,
                    timestamp=stamp,
                    instrument_name=instrument,
                    price=mid,
                    amount=float(amount),
                    direction=direction,
                    tick_direction=0,
                    mark_price=mid,
                    index_price=mid + 1.5,
                    order_id=order_id,
                    order_type="market",
                    state="filled",
                    fee=0.00014757,
                    fee_currency=currency,
                    liquidity="T",
                )
            )
            signed = amount if direction == "buy" else -amount
            self.positions[instrument] = self.positions.get(instrument, 0.0) + signed
        self._store(event, order, now)
        return OrderResult(order=order, trades=trades)

    def _find_open(self, event: RequestReceived, order_id: str) -> Order | ReplyError:
        order = self._mine(event).get(order_id)
        if order is None:
            return ReplyError(request_id=event.request_id, code=10004)
        if order.order_state != "open":
            return ReplyError(request_id=event.request_id, code=11044)
        return order

    def _edit(self, event: RequestReceived, now: float) -> OrderResult | ReplyError:
        command = event.command
        assert isinstance(command, Edit)
        found = self._find_open(event, command.order_id)
        if isinstance(found, ReplyError):
            return found
        order = msgspec.structs.replace(
            found,
            amount=float(command.amount if command.amount is not None else found.amount),
            price=command.price if command.price is not None else found.price,
            replaced=True,
            last_update_timestamp=self._timestamp(now),
        )
        self._store(event, order, now)
        return OrderResult(order=order, trades=[])

    def _cancel_one(self, event: RequestReceived, order: Order, now: float) -> Order:
        cancelled = msgspec.structs.replace(
            order,
            order_state="cancelled",
            cancel_reason="user_request",
            last_update_timestamp=self._timestamp(now),
        )
        self._store(event, cancelled, now)
        return cancelled

    def _cancel(self, event: RequestReceived, now: float) -> Order | ReplyError:
        command = event.command
        assert isinstance(command, Cancel)
        found = self._find_open(event, command.order_id)
        if isinstance(found, ReplyError):
            return found
        return self._cancel_one(event, found, now)

    def _cancel_many(self, event: RequestReceived, now: float) -> int | list[CancelReport]:
        command = event.command
        cancelled = [
            self._cancel_one(event, order, now)
            for order in self._mine(event).values()
            if order.order_state == "open" and _cancels(command, order)
        ]
        if not getattr(command, "detailed", None):
            return len(cancelled)
        reports: dict[tuple[str, str], list[Order]] = {}
        for order in cancelled:
            currency = INSTRUMENTS[order.instrument_name][0]
            reports.setdefault((currency, order.instrument_name), []).append(order)
        return [
            CancelReport(currency=currency, type="limit", instrument_name=name, result=orders)
            for (currency, name), orders in reports.items()
        ]

    def _open_orders(self, event: RequestReceived, now: float) -> list[Order]:
        command = event.command
        orders = [o for o in self._mine(event).values() if o.order_state == "open"]
        if isinstance(command, GetOpenOrdersByInstrument):
            orders = [o for o in orders if o.instrument_name == command.instrument_name]
        elif isinstance(command, GetOpenOrdersByCurrency) and command.currency != "any":
            orders = [o for o in orders if INSTRUMENTS[o.instrument_name][0] == command.currency]
        return orders

    def _order_state(self, event: RequestReceived, now: float) -> Order | ReplyError:
        command = event.command
        assert isinstance(command, GetOrderState)
        order = self._mine(event).get(command.order_id)
        if order is None:
            return ReplyError(request_id=event.request_id, code=10004)
        return order

    def _position(self, instrument: str) -> Position:
        size = self.positions.get(instrument, 0.0)
        _, mid, _ = INSTRUMENTS[instrument]
        return Position(
            instrument_name=instrument,
            kind="future",
            direction="buy" if size > 0 else "sell" if size < 0 else "zero",
            size=size,
            average_price=mid,
            mark_price=mid,
            index_price=mid + 1.5,
            floating_profit_loss=0.0,
            total_profit_loss=0.0,
            initial_margin=0.0002,
            maintenance_margin=0.00014,
            delta=size / mid,
        )

    def _positions(self, event: RequestReceived, now: float) -> Any:
        command = event.command
        if isinstance(command, GetPosition):
            if command.instrument_name not in INSTRUMENTS:
                return self._unknown(event)
            return self._position(command.instrument_name)
        assert isinstance(command, GetPositions)
        return [
            self._position(name)
            for name, (currency, _, _) in INSTRUMENTS.items()
            if command.currency in (None, "any", currency) and name in self.positions
        ]

    def _account_summary(self, event: RequestReceived, now: float) -> AccountSummary:
        command = event.command
        assert isinstance(command, GetAccountSummary)
        return AccountSummary(
            currency=command.currency,
            balance=1.25,
            equity=1.3,
            available_funds=1.1,
            margin_balance=1.3,
            initial_margin=0.2,
            maintenance_margin=0.1,
            limits={"non_matching_engine": {"burst": 1500, "rate": 1000}}
            if command.extended
            else None,
        )


def _cancels(command: Any, order: Order) -> bool:
    """Whether a ``cancel_all*`` / ``cancel_by_label`` command covers ``order``."""
    if isinstance(command, CancelAllByInstrument):
        return order.instrument_name == command.instrument_name
    if isinstance(command, CancelAllByCurrency | CancelAllByKindOrType):
        currencies = command.currency if isinstance(command.currency, list) else [command.currency]
        return "any" in currencies or INSTRUMENTS[order.instrument_name][0] in currencies
    if isinstance(command, CancelByLabel):
        return order.label == command.label
    return True


# -- the pair ------------------------------------------------------------------------------


class Pair(MemoryLink):
    """A ``MemoryLink`` whose venue answers while it pumps.

    ``history`` keeps every client event (the stack's and the machine's, in order);
    ``machine`` is the client machine inside ``client`` (the stack).
    """

    def __init__(
        self,
        machine: ClientProtocol,
        venue: PairVenue,
        *,
        clock: FakeClock | None = None,
        seed: int = 5,
        ping_interval: float | None = None,
    ) -> None:
        stack = WebSocketClientStack(
            machine, host=HOST, rng=random.Random(seed), ping_interval=ping_interval
        )
        super().__init__(stack, venue.factory, clock=clock or FakeClock(START))
        self.machine = machine
        self.venue = venue
        self.history: list[Event] = []

    def pump(self) -> None:
        for _ in range(10_000):
            super().pump()
            self.history.extend(self.take_client_events())
            events = self.take_server_events()
            if not events:
                return
            self.venue.handle(events, self.now)
        raise RuntimeError("the pair never went quiet")

    # -- the client side -------------------------------------------------------------------

    def send(self, command: Any, *, timeout: float | None = None) -> Any:
        """``command`` through the client stack; returns its request id."""
        if timeout is None:
            request_id = self.client.send(command, self.now)
        else:  # the stack's send takes no timeout: go to the machine, then let the
            # stack move its messages (what a binding's timer call would do)
            request_id = self.machine.send(command, self.now, timeout=timeout)
            self.client.handle_timer(self.now)
        self.pump()
        return request_id

    def of(self, kind: type | tuple[type, ...]) -> list[Any]:
        return [e for e in self.history if isinstance(e, kind)]

    def outcomes(self, request_id: Any) -> list[RequestSucceeded | RequestFailed]:
        return [
            e
            for e in self.history
            if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id == request_id
        ]

    def result(self, request_id: Any) -> Any:
        """The result of a request that succeeded exactly once."""
        [outcome] = self.outcomes(request_id)
        assert isinstance(outcome, RequestSucceeded), outcome
        return outcome.result

    def error(self, request_id: Any) -> RequestFailure:
        """The error of a request that failed exactly once."""
        [outcome] = self.outcomes(request_id)
        assert isinstance(outcome, RequestFailed), outcome
        return outcome.error

    def server_machine(self) -> RecordingServer:
        """The server machine of the open connection."""
        assert self.server is not None
        machine = self.server.machine
        assert isinstance(machine, RecordingServer)
        return machine


def make_pair(
    venue: PairVenue | None = None,
    *,
    clock: FakeClock | None = None,
    seed: int = 5,
    **client_options: Any,
) -> Pair:
    """A client machine (``epoch_offset`` matching the venue) paired with ``venue``."""
    client_options.setdefault("epoch_offset", EPOCH_OFFSET)
    machine = ClientProtocol(**client_options)
    return Pair(machine, venue if venue is not None else PairVenue(), clock=clock, seed=seed)
