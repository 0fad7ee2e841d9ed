"""The reference Currency.com venue with tradewire's own client over an in-memory link
(docs/venues/currencycom.md): subscriptions, pushes, signed requests, the REST-over-WS
destinations, both trading modes, pings and the idle close."""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec
import pytest

from tradewire.protocol import (
    RequestFailed,
    RequestSucceeded,
    SubscriptionActive,
    SubscriptionRejected,
)
from tradewire.protocol.currencycom import (
    Account,
    CancelOrder,
    CandleUpdate,
    CreateOrder,
    DepthUpdate,
    ExchangeInfo,
    GetAccount,
    GetExchangeInfo,
    GetLeverageSettings,
    GetOpenOrders,
    GetTicker,
    GetTradingPositions,
    InvalidParameters,
    InvalidSymbol,
    QuoteUpdate,
    Subscribe,
    TradeUpdate,
)

sys.path.append(str(Path(__file__).parent))
from support_currencycom import of_type, venue_and_client


def test_pushes_reach_the_client_and_the_book_is_the_whole_book() -> None:
    harness, client, link = venue_and_client(maintain_books=True)
    topics = ("depth:BTC/USD", "trades:BTC/USD", "ohlc:M1:BTC/USD", "quote:ETH/USD", "depth:NOPE")
    link.client.send(Subscribe(topics=topics), harness.now)
    harness.advance(5.0)
    events = link.take_client_events()
    assert {e.topic for e in of_type(events, SubscriptionActive)} == set(topics[:4])
    (rejected,) = of_type(events, SubscriptionRejected)
    assert rejected.topic == "depth:NOPE"
    depth = of_type(events, DepthUpdate)
    assert depth
    assert all(e.topic == "depth:BTC/USD" for e in depth)
    book = client.book("depth:BTC/USD")
    assert book is not None
    last = depth[-1].data
    assert book.best_bid() == max((float(p), q) for p, q in last.bid.items())
    assert book.best_ask() == min((float(p), q) for p, q in last.ofr.items())
    candles = of_type(events, CandleUpdate)
    assert candles
    assert all(c.payload.interval == "M1" for c in candles)  # the token sent
    assert of_type(events, QuoteUpdate)
    assert all(t.payload.symbol == "BTC/USD" for t in of_type(events, TradeUpdate))


def test_a_signed_order_lifecycle_in_both_modes() -> None:
    harness, _client, link = venue_and_client()
    send = link.client.send

    def result(command: object) -> object:
        request_id = send(command, harness.now)  # type: ignore[arg-type]
        harness.advance(0.5)
        for event in link.take_client_events():
            if (
                isinstance(event, RequestSucceeded | RequestFailed)
                and event.request_id == request_id
            ):
                if isinstance(event, RequestFailed):
                    return event.error
                return event.result
        raise AssertionError("no answer")

    info = result(GetExchangeInfo())
    assert isinstance(info, ExchangeInfo)
    types = {s.symbol: s.marketType for s in info.symbols}
    assert types["BTC/USD"] == "SPOT"
    assert types["BTC/USD_LEVERAGE"] == "LEVERAGE"
    assert types["AAPL"] == "SPOT"
    assert types["Oil - Brent."] == "LEVERAGE"
    account = result(GetAccount())
    assert isinstance(account, Account)
    usd = {b.asset: b.free for b in account.balances}["USD"]
    placed = result(
        CreateOrder(symbol="BTC/USD", side="BUY", type="LIMIT", quantity=0.01, price=58_000.0)
    )
    assert placed.status == "NEW"  # type: ignore[attr-defined]
    opened = result(GetOpenOrders(symbol="BTC/USD"))
    assert [o["orderId"] for o in opened] == [placed.orderId]  # type: ignore[attr-defined,index]
    cancelled = result(CancelOrder(symbol="BTC/USD", order_id=placed.orderId))  # type: ignore[attr-defined]
    assert cancelled.status == "CANCELED"  # type: ignore[attr-defined]
    filled = result(CreateOrder(symbol="AAPL", side="BUY", type="MARKET", quantity=1.0))
    assert filled.status == "FILLED"  # type: ignore[attr-defined]
    after = result(GetAccount())
    assert {b.asset: b.free for b in after.balances}["USD"] < usd  # type: ignore[attr-defined]
    levered = result(
        CreateOrder(
            symbol="BTC/USD_LEVERAGE", side="BUY", type="MARKET", quantity=0.01, leverage=20
        )
    )
    assert levered.status == "FILLED"  # type: ignore[attr-defined]
    positions = result(GetTradingPositions())
    assert [p.symbol for p in positions.positions] == ["BTC/USD_LEVERAGE"]  # type: ignore[attr-defined]
    assert result(GetLeverageSettings(symbol="BTC/USD_LEVERAGE")).values == [2, 5, 10, 20]  # type: ignore[attr-defined]
    assert isinstance(result(GetLeverageSettings(symbol="BTC/USD")), InvalidParameters)
    assert isinstance(result(GetTicker(symbol="NOPE")), InvalidSymbol)
    ticker = result(GetTicker(symbol="ETH/USD"))
    assert ticker.tickers[0].symbol == "ETH/USD"  # type: ignore[attr-defined]


def test_a_bad_signature_is_refused_with_1022() -> None:
    from tradewire.protocol.currencycom import Credentials, InvalidSignature

    harness, client, link = venue_and_client()
    client.codec.credentials = Credentials(api_key="tradewire-demo", secret="wrong")
    request_id = link.client.send(GetAccount(), harness.now)
    harness.advance(0.5)
    (failed,) = [e for e in link.take_client_events() if isinstance(e, RequestFailed)]
    assert failed.request_id == request_id
    assert isinstance(failed.error, InvalidSignature)


def test_pings_keep_the_connection_and_silence_closes_it() -> None:
    harness, _client, _link = venue_and_client(ping_interval=20.0)
    harness.advance(120.0)
    sockets = list(harness.venue.sockets.values())
    assert len(sockets) == 1
    assert sockets[0].machine.is_open  # pinged every 20 s
    assert harness.venue.accepted == 1


@pytest.mark.parametrize("as_string", [False, True])
def test_depth_data_as_an_object_or_a_string(as_string: bool) -> None:
    from tradewire.conformance.currencycom import CurrencycomVenue, VenueConfig
    from tradewire.protocol.currencycom.server import ServerConfig

    config = VenueConfig(server=ServerConfig(depth_data_as_string=as_string))
    venue = CurrencycomVenue(config, now=0.0)
    socket = venue.websocket_connection("127.0.0.1:1")
    machine = socket.machine.inner
    machine.connection_made(0.0)  # type: ignore[attr-defined]
    machine.receive_message(  # type: ignore[attr-defined]
        b'{"destination":"depthMarketData.subscribe","correlationId":1,"payload":{"symbols":["BTC/USD"]}}',
        0.0,
    )
    venue.on_events(socket, machine.events(), 0.0)  # type: ignore[attr-defined]
    frames = [msgspec.json.decode(m) for m in machine.messages_to_send()]  # type: ignore[attr-defined]
    assert frames[0] == {
        "status": "OK",
        "correlationId": "1",
        "payload": {"subscriptions": {"BTC/USD": "PROCESSED"}},
    }
    data = frames[1]["payload"]["data"]
    assert isinstance(data, str) is as_string


def test_pushes_go_out_at_the_market_tick_not_with_the_next_ping() -> None:
    harness, _client, link = venue_and_client(ping_interval=20.0)
    link.client.send(Subscribe(topics=("depth:BTC/USD",)), harness.now)
    harness.advance(0.05)
    link.take_client_events()
    arrived = 0
    for _ in range(10):
        harness.advance(0.2)
        arrived += bool(of_type(link.take_client_events(), DepthUpdate))
    assert arrived >= 8  # the book changes nearly every tick (0.1 s)
