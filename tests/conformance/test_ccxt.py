"""A real third-party client against the reference venue: ccxt.pro's Deribit exchange
(ccxt 4.5.90, spec 8.1) pointed at the venue served on 127.0.0.1 by the pytest plugin's
``deribit_venue`` fixture.  ccxt.pro is asyncio only.

ccxt does what spec 8.1 says: ``load_markets`` over HTTP (``get_currencies``, then
``get_instruments`` with no params), then ``ws_connect`` on the *same* kept-alive aiohttp
connection (the router's per-request upgrade), public subscriptions on ``100ms``
channels, ``public/auth`` with ``client_signature`` for trading, orders over the
WebSocket (``private/buy``, ``private/cancel``), and WebSocket pings for keepalive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import ccxt.pro as ccxtpro
import pytest

from tradewire.bindings.pytest_plugin import ServedDeribit

SYMBOL = "BTC/USD:BTC"  # ccxt's unified name of BTC-PERPETUAL

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]


@pytest.fixture
async def exchange(deribit_venue: ServedDeribit) -> AsyncIterator[Any]:
    """ccxt.pro's deribit with the demo key, its URLs pointed at the venue (spec 8.1)."""
    ex = ccxtpro.deribit({"apiKey": deribit_venue.client_id, "secret": deribit_venue.client_secret})
    ex.urls["api"]["ws"] = deribit_venue.url
    ex.urls["api"]["rest"] = deribit_venue.http_url
    ex.streaming["keepAlive"] = 200  # ms: ccxt pings every 0.2 s, gives up after 0.4 s
    try:
        yield ex
    finally:
        await ex.close()


async def test_ccxt_pro_loads_markets_and_watches_ticker_book_and_trades(
    exchange: Any, deribit_venue: ServedDeribit
) -> None:
    with anyio.fail_after(20):
        markets = await exchange.load_markets()
        ticker = await exchange.watch_ticker(SYMBOL)
        book = await exchange.watch_order_book(SYMBOL)
        trades: list[Any] = []
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                trades.extend(await exchange.watch_trades(SYMBOL))

            group.start_soon(watch)
            await anyio.sleep(0.2)  # subscribed; now make a trade happen: a market buy
            filled = await exchange.create_order(SYMBOL, "market", "buy", 10)
        # ccxt's keepalive: WebSocket pings the venue must answer in time (spec 8.1)
        began = anyio.current_time()
        while anyio.current_time() - began < 1.0:
            await exchange.watch_ticker(SYMBOL)  # raises RequestTimeout if a pong is late
        client = exchange.clients[deribit_venue.url]
        assert client.lastPong is not None
        assert exchange.milliseconds() - client.lastPong < 400
    market = markets[SYMBOL]
    assert market["id"] == "BTC-PERPETUAL"
    assert market["swap"]
    assert market["inverse"]
    assert "ETH/USD:ETH" in markets
    assert ticker["symbol"] == SYMBOL
    assert 0 < ticker["bid"] < ticker["ask"]
    bids, asks = book["bids"], book["asks"]
    assert bids
    assert asks
    assert [level[0] for level in bids] == sorted((level[0] for level in bids), reverse=True)
    assert [level[0] for level in asks] == sorted(level[0] for level in asks)
    assert bids[0][0] < asks[0][0]
    assert filled["status"] == "closed"
    assert filled["filled"] == 10
    assert trades
    assert {trade["symbol"] for trade in trades} == {SYMBOL}
    assert all(trade["price"] > 0 and trade["amount"] > 0 for trade in trades)
    assert deribit_venue.venue.accepted == 1  # one WebSocket for everything


async def test_ccxt_pro_creates_and_cancels_an_order_with_the_demo_key(
    exchange: Any, deribit_venue: ServedDeribit
) -> None:
    with anyio.fail_after(20):
        book = await exchange.watch_order_book(SYMBOL)
        price = int(book["bids"][0][0] * 0.98)  # far below the book: it rests
        order = await exchange.create_order(SYMBOL, "limit", "buy", 20, price)
        cancelled = await exchange.cancel_order(order["id"], SYMBOL)
    assert order["status"] == "open"
    assert (order["symbol"], order["side"], order["amount"], order["price"]) == (
        SYMBOL,
        "buy",
        20,
        price,
    )
    assert cancelled["id"] == order["id"]
    assert cancelled["status"] == "canceled"
    assert deribit_venue.venue.market.open_orders("1") == []  # nothing left open (account 1)


async def test_ccxt_market_data_and_account_calls_beyond_the_basics(
    exchange: Any, deribit_venue: ServedDeribit
) -> None:
    """The calls of spec 8.2's table that ccxt makes, over HTTP GET (public, and signed)."""
    with anyio.fail_after(20):
        await exchange.load_markets()
        tickers = await exchange.fetch_tickers(params={"code": "BTC"})
        candles = await exchange.fetch_ohlcv(SYMBOL, "1h", limit=30)
        trades = await exchange.fetch_trades(SYMBOL, limit=5)
        volatility = await exchange.fetch_volatility_history("BTC")
        funding = await exchange.fetch_funding_rate(SYMBOL)
        funding_history = await exchange.fetch_funding_rate_history(SYMBOL)
        address = await exchange.fetch_deposit_address("ETH")
    ticker = tickers[SYMBOL]
    assert 0 < ticker["bid"] < ticker["ask"]
    assert ticker["last"] is not None  # the venue has traded before anyone connected
    assert len(tickers) > 10  # every BTC instrument
    assert len(candles) >= 20
    assert all(low <= high for _, _, high, low, _, _ in candles)
    assert [c[0] for c in candles] == sorted(c[0] for c in candles)
    assert len(trades) == 5
    assert all(t["symbol"] == SYMBOL for t in trades)
    assert len(volatility) > 300
    assert all(v["volatility"] > 0 for v in volatility)
    assert isinstance(funding["fundingRate"], float)
    assert len(funding_history) > 24
    assert all(abs(r["fundingRate"]) <= 0.0005 for r in funding_history)
    assert address["currency"] == "ETH"
    assert address["address"].startswith("0x")
