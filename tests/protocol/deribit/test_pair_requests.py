"""The real client and server machines paired (``support_pair``): typed requests and
results for every family, venue errors as typed exceptions, silently dropped and unknown
channels, and the 32 kB limit in both directions."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.protocol import LocalProtocolError, RequestFailed, RequestSucceeded
from tradewire.protocol.deribit import (
    MAX_MESSAGE_SIZE,
    AccountSummary,
    BookUpdate,
    Buy,
    Cancel,
    CancelAll,
    CancelAllByCurrency,
    CancelAllByInstrument,
    CancelAllByKindOrType,
    CancelByLabel,
    CancelOnDisconnectState,
    CancelReport,
    Currency,
    DeribitError,
    DisableCancelOnDisconnect,
    Edit,
    EnableCancelOnDisconnect,
    GenericRequest,
    GetAccountSummary,
    GetCancelOnDisconnect,
    GetCurrencies,
    GetIndexPrice,
    GetInstruments,
    GetLastTradesByInstrument,
    GetOpenOrdersByCurrency,
    GetOpenOrdersByInstrument,
    GetOpenOrdersByLabel,
    GetOrderBook,
    GetOrderState,
    GetPosition,
    GetPositions,
    GetTicker,
    GetTime,
    Hello,
    IndexPrice,
    Instrument,
    InsufficientFunds,
    InvalidInstrument,
    InvalidParams,
    MethodNotFound,
    MethodNotImplemented,
    Notification,
    NotOpenOrder,
    Order,
    OrderBookSnapshot,
    OrderNotFound,
    OrderResult,
    PlatformStatus,
    Position,
    RequestTooLarge,
    Sell,
    Status,
    Subscribe,
    SubscribeResult,
    Test,
    Ticker,
    TickerUpdate,
    TradesPage,
    TradesUpdate,
    UnmatchedError,
    UserOrdersUpdate,
    VersionResult,
)
from tradewire.protocol.deribit.server import (
    CancelOnDisconnect,
)
from tradewire.protocol.transport._frames import OP_TEXT, encode_frame

sys.path.append(str(Path(__file__).parent))
from support_pair import INSTRUMENTS, Pair, PairVenue, credentials, make_pair

BTC = "BTC-PERPETUAL"
ETH = "ETH-PERPETUAL"


@pytest.fixture
def pair() -> Pair:
    pair = make_pair(credentials=credentials())
    pair.advance(0.1)  # connected, logged in, heartbeats on
    return pair


def run(pair: Pair, command: Any) -> Any:
    """Send ``command`` and return its typed result (it must succeed at once)."""
    return pair.result(pair.send(command))


def fail(pair: Pair, command: Any) -> Any:
    """Send ``command`` and return the error it fails with."""
    return pair.error(pair.send(command))


# -- 1. typed requests and results, every family -----------------------------------------


def test_session_methods_decode_into_their_result_types(pair: Pair) -> None:
    assert run(pair, GetTime()) == pair.venue.state.epoch_ms(pair.now) == 1_576_074_319_100
    assert run(pair, Test()) == VersionResult(version="1.2.26")
    assert run(pair, Hello(client_name="pair", client_version="1")) == VersionResult(
        version="1.2.26"
    )
    assert run(pair, Status()) == PlatformStatus(locked="false", locked_indices=[])
    error = fail(pair, Test(expected_result="exception"))
    assert type(error) is DeribitError
    assert error.code == 11094


def test_market_data_methods_decode_into_their_result_types(pair: Pair) -> None:
    ticker = run(pair, GetTicker(instrument_name=BTC))
    assert isinstance(ticker, Ticker)
    assert ticker.best_bid_price == pair.venue.book(BTC)[0][0][0]
    book = run(pair, GetOrderBook(instrument_name=BTC, depth=5))
    assert isinstance(book, OrderBookSnapshot)
    assert book.change_id == pair.venue.last[BTC]
    assert [tuple(level) for level in book.bids] == pair.venue.book(BTC)[0][:5]
    instruments = run(pair, GetInstruments(currency="ETH"))
    assert [type(i) for i in instruments] == [Instrument]
    assert instruments[0].instrument_name == ETH
    assert [i.instrument_name for i in run(pair, GetInstruments())] == list(INSTRUMENTS)
    assert [c.currency for c in run(pair, GetCurrencies())] == ["BTC", "ETH"]
    assert isinstance(run(pair, GetCurrencies())[0], Currency)
    assert run(pair, GetIndexPrice(index_name="btc_usd")) == IndexPrice(
        index_price=60_001.5, estimated_delivery_price=60_001.5
    )
    page = run(pair, GetLastTradesByInstrument(instrument_name=ETH, count=2))
    assert isinstance(page, TradesPage)
    assert [t.instrument_name for t in page.trades] == [ETH, ETH]


def test_placing_editing_and_cancelling_orders(pair: Pair) -> None:
    bought = run(pair, Buy(instrument_name=BTC, amount=10, type="market", label="m1"))
    assert isinstance(bought, OrderResult)
    assert bought.order.order_state == "filled"
    assert bought.order.label == "m1"
    assert [(t.amount, t.liquidity, t.order_id) for t in bought.trades] == [
        (10.0, "T", bought.order.order_id)
    ]
    resting = run(pair, Sell(instrument_name=BTC, amount=20, type="limit", price=61_000))
    assert (resting.order.order_state, resting.trades) == ("open", [])
    edited = run(pair, Edit(order_id=resting.order.order_id, amount=30, price=61_500))
    assert isinstance(edited, OrderResult)
    assert (edited.order.amount, edited.order.price, edited.order.replaced) == (
        30.0,
        61_500.0,
        True,
    )
    cancelled = run(pair, Cancel(order_id=resting.order.order_id))
    assert isinstance(cancelled, Order)
    assert (cancelled.order_state, cancelled.cancel_reason) == ("cancelled", "user_request")
    state = run(pair, GetOrderState(order_id=bought.order.order_id))
    assert isinstance(state, Order)
    assert state.order_state == "filled"


def _rest(pair: Pair, instrument: str, label: str = "l") -> str:
    result = run(pair, Buy(instrument_name=instrument, amount=10, price=1.0, label=label))
    order_id: str = result.order.order_id
    return order_id


def test_cancel_all_methods_answer_a_count_or_detailed_reports(pair: Pair) -> None:
    btc = [_rest(pair, BTC), _rest(pair, BTC)]
    eth = _rest(pair, ETH)
    reports = run(pair, CancelAllByInstrument(instrument_name=BTC, detailed=True))
    assert [type(r) for r in reports] == [CancelReport]
    assert reports[0].currency == "BTC"
    assert reports[0].instrument_name == BTC
    assert [o.order_id for o in reports[0].result or []] == btc
    assert run(pair, CancelAllByCurrency(currency="ETH")) == 1
    assert run(pair, CancelAllByCurrency(currency="ETH", detailed=True)) == []  # nothing left
    _rest(pair, BTC), _rest(pair, ETH)
    assert run(pair, CancelAllByKindOrType(currency=["BTC", "ETH"], kind="future")) == 2
    _rest(pair, BTC, label="keep"), _rest(pair, BTC, label="go")
    assert run(pair, CancelByLabel(label="go")) == 1
    detailed = run(pair, CancelAll(detailed=True))
    assert [(r.currency, [o.label for o in r.result or []]) for r in detailed] == [
        ("BTC", ["keep"])
    ]
    assert run(pair, CancelAll()) == 0
    assert eth not in [o.order_id for o in run(pair, GetOpenOrdersByCurrency(currency="any"))]


def test_account_methods_decode_into_their_result_types(pair: Pair) -> None:
    summary = run(pair, GetAccountSummary(currency="BTC", extended=True))
    assert isinstance(summary, AccountSummary)
    assert (summary.currency, summary.equity) == ("BTC", 1.3)
    assert summary.limits == {"non_matching_engine": {"burst": 1500, "rate": 1000}}
    run(pair, Buy(instrument_name=BTC, amount=40, type="market"))
    run(pair, Sell(instrument_name=BTC, amount=10, type="market"))
    positions = run(pair, GetPositions(currency="BTC"))
    assert [(type(p), p.size, p.direction) for p in positions] == [(Position, 30.0, "buy")]
    assert run(pair, GetPosition(instrument_name=BTC)) == positions[0]
    order_id = _rest(pair, ETH)
    orders = run(pair, GetOpenOrdersByInstrument(instrument_name=ETH))
    assert [(type(o), o.order_id) for o in orders] == [(Order, order_id)]
    assert run(pair, GetOpenOrdersByCurrency(currency="BTC")) == []


def test_cancel_on_disconnect_settings_and_the_event_when_the_connection_drops(
    pair: Pair,
) -> None:
    assert run(pair, GetCancelOnDisconnect()) == CancelOnDisconnectState(
        scope="connection", enabled=False
    )
    assert run(pair, EnableCancelOnDisconnect()) == "ok"
    assert run(pair, GetCancelOnDisconnect()) == CancelOnDisconnectState(
        scope="connection", enabled=True
    )
    connection = pair.server_machine().connection_id
    pair.drop()
    pair.advance(5.0)  # reconnected
    [cod] = [e for e in pair.venue.seen if isinstance(e, CancelOnDisconnect)]
    assert (cod.connection_id, cod.client_id, cod.reason) == (
        connection,
        "AMANDA",
        "connection lost",
    )
    # A connection scope does not outlive its connection; an account scope does.
    assert run(pair, GetCancelOnDisconnect()) == CancelOnDisconnectState(
        scope="connection", enabled=False
    )
    assert run(pair, EnableCancelOnDisconnect(scope="account")) == "ok"
    pair.drop()
    pair.advance(5.0)
    assert run(pair, GetCancelOnDisconnect(scope="account")).enabled
    assert run(pair, DisableCancelOnDisconnect(scope="account")) == "ok"
    assert not run(pair, GetCancelOnDisconnect(scope="account")).enabled


def test_generic_requests_get_plain_json_results(pair: Pair) -> None:
    summary = run(
        pair, GenericRequest(method="private/get_account_summary", params={"currency": "ETH"})
    )
    assert summary["currency"] == "ETH"
    assert isinstance(summary, dict)


# -- 1. venue errors surface typed ----------------------------------------------------------


def test_venue_errors_surface_as_their_deribit_error_subclasses(pair: Pair) -> None:
    assert isinstance(fail(pair, Cancel(order_id="BTC-1")), OrderNotFound)
    filled = run(pair, Buy(instrument_name=BTC, amount=10, type="market")).order.order_id
    assert isinstance(fail(pair, Cancel(order_id=filled)), NotOpenOrder)
    assert isinstance(fail(pair, Edit(order_id=filled, amount=5)), NotOpenOrder)
    assert isinstance(
        fail(pair, Buy(instrument_name="BTC-PERP", amount=10, type="market")), InvalidInstrument
    )
    assert isinstance(fail(pair, GetTicker(instrument_name="XRP-PERPETUAL")), InvalidInstrument)
    assert isinstance(
        fail(pair, Buy(instrument_name=BTC, amount=5_000_000, type="market")), InsufficientFunds
    )
    assert isinstance(fail(pair, GetIndexPrice(index_name="doge_usd")), InvalidParams)
    assert isinstance(fail(pair, GetOpenOrdersByLabel(currency="BTC")), MethodNotImplemented)
    error = fail(pair, GenericRequest(method="public/nope"))
    assert isinstance(error, MethodNotFound)
    assert (error.code, error.message) == (-32601, "Method not found")
    bad = fail(pair, GenericRequest(method="public/ticker", params={}))
    assert isinstance(bad, InvalidParams)
    assert bad.data == {"reason": "missing", "param": "instrument_name"}


def test_every_request_of_a_busy_session_resolves_exactly_once(pair: Pair) -> None:
    commands: list[Any] = [
        GetTime(),
        GetTicker(instrument_name=ETH),
        Cancel(order_id="nope"),
        Buy(instrument_name=ETH, amount=10, type="market"),
        GenericRequest(method="public/nope"),
    ] * 10
    ids = [pair.client.send(command, pair.now) for command in commands]
    pair.advance(5.0)
    outcomes = [pair.outcomes(i) for i in ids]
    assert all(len(o) == 1 for o in outcomes)
    kinds = [type(o[0]) for o in outcomes]
    assert kinds.count(RequestSucceeded) == 30
    assert kinds.count(RequestFailed) == 20


# -- 2. silently dropped channels, unknown channels ----------------------------------------


def test_a_channel_the_venue_drops_silently_is_named_by_the_client(pair: Pair) -> None:
    dropped = "ticker.BTC-PERP.100ms"
    sub = pair.send(Subscribe(channels=[f"ticker.{BTC}.100ms", dropped]))
    result = pair.result(sub)
    assert isinstance(result, SubscribeResult)
    assert result.active == (f"ticker.{BTC}.100ms",)
    [rejected] = result.rejected
    assert rejected.topic == dropped
    assert "dropped by the venue" in rejected.reason
    assert [e.topic for e in pair.of(type(rejected))] == [dropped]
    # The venue got the channel and left it out of its answer, without an error.
    [call] = [r for r in pair.venue.log if r.method == "public/subscribe"]
    assert dropped in call.params["channels"]
    assert pair.server_machine().channels == {f"ticker.{BTC}.100ms"}
    assert dropped not in pair.machine.ledger.desired()


def test_unknown_channels_arrive_as_generic_notifications_and_known_ones_typed(
    pair: Pair,
) -> None:
    channels = ["announcements", f"ticker.{ETH}.100ms", f"trades.{ETH}.100ms"]
    pair.send(Subscribe(channels=[*channels, "user.orders.any.any.raw"]))
    news = {"action": "new", "id": 7, "title": "t", "body": "b", "important": False}
    assert pair.venue.push("announcements", news, pair.now) == 1
    pair.venue.push_ticker(ETH, pair.now)
    pair.venue.push_trades(ETH, pair.now)
    order = run(pair, Buy(instrument_name=ETH, amount=10, type="market")).order
    pair.pump()
    [notification] = pair.of(Notification)
    assert (notification.channel, notification.data) == ("announcements", news)
    [ticker] = pair.of(TickerUpdate)
    assert ticker.data == pair.venue.ticker(ETH, pair.now)
    [trades] = pair.of(TradesUpdate)
    assert trades.data[0].instrument_name == ETH
    [orders] = pair.of(UserOrdersUpdate)
    assert orders.orders == [order]


# -- 8. the 32 kB limit, both ways ---------------------------------------------------------


def test_the_client_refuses_a_request_over_32_kb_before_it_reaches_the_wire(pair: Pair) -> None:
    sent = len(pair.venue.log)
    big = GenericRequest(method="public/get_time", params={"pad": "x" * MAX_MESSAGE_SIZE})
    with pytest.raises(LocalProtocolError, match="request too large"):
        pair.send(big)
    fits = GenericRequest(method="public/get_time", params={"pad": "x" * 32_000})
    assert isinstance(pair.result(pair.send(fits)), int)
    [received] = pair.venue.log[sent:]  # the big one never left the client
    assert 32_000 < received.size <= MAX_MESSAGE_SIZE


def test_a_frame_over_32_kb_is_refused_by_the_server_and_surfaces_unmatched(
    pair: Pair,
) -> None:
    payload = msgspec.json.encode(
        {"jsonrpc": "2.0", "id": 99, "method": "public/test", "params": {"p": "x" * 40_000}}
    )
    assert pair.server is not None
    pair.server.receive_data(encode_frame(OP_TEXT, payload, random.Random(1)), pair.now)
    pair.pump()
    [unmatched] = pair.of(UnmatchedError)
    assert isinstance(unmatched.error, RequestTooLarge)
    assert (unmatched.error.code, unmatched.request_id) == (-32600, None)
    assert pair.server_machine().is_open  # the socket stays usable
    assert isinstance(run(pair, GetTime()), int)


def test_venue_messages_over_32_kb_reach_the_client(pair: Pair) -> None:
    channel = f"book.{BTC}.100ms"
    pair.venue.reset_book(BTC, levels=1_500)
    pair.send(Subscribe(channels=[channel]))
    [snapshot] = pair.of(BookUpdate)
    assert len(snapshot.data.bids) == 1_500
    assert len(msgspec.json.encode(snapshot)) > 2 * MAX_MESSAGE_SIZE


def test_the_venue_used_here_answers_only_known_instruments() -> None:
    venue = PairVenue()
    assert venue.knows(f"book.{BTC}.100ms")
    assert not venue.knows("book.XRP-PERPETUAL.100ms")
    assert venue.knows("deribit_price_index.btc_usd")
    assert not venue.knows("deribit_price_index.doge_usd")
    assert venue.knows("user.orders.any.any.raw")
