"""The methods real clients call beyond spec 5-6 (spec 8.2's table), over WebSocket and
HTTP GET: results from the simulated market and its seeded past, in the shapes of
Deribit's API reference (the required fields present, nulls where it allows them)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec

from tradewire.conformance.deribit import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, VenueHarness
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import HTTPRequest, HTTPResponse
from tradewire.protocol.deribit import Instrument, PublicTrade, signature

sys.path.append(str(Path(__file__).parent))
from support_venue import START, RawClient, make_harness, raw_client

MARKET = MarketConfig(
    seed=11, weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1
)
HOUR = 3_600_000
SUMMARY_REQUIRED = {
    "instrument_name", "high", "low", "base_currency", "quote_currency", "volume", "bid_price",
    "ask_price", "mid_price", "mark_price", "last", "open_interest", "creation_timestamp",
}  # fmt: skip
SETTLEMENT_REQUIRED = {
    "type", "timestamp", "session_profit_loss", "position", "instrument_name", "index_price",
    "funding",
}  # fmt: skip


def call(harness: VenueHarness, machine: RawClient, method: str, params: Any = None) -> Any:
    wire_id = machine.ids()
    harness.links[-1].client.send(machine.request(method, params, wire_id), harness.now)
    harness.pump()
    return machine.answer(wire_id)


def logged_in(harness: VenueHarness) -> RawClient:
    machine, _ = raw_client(harness)
    harness.pump()
    ms = harness.venue.state.epoch_ms(harness.now)
    login = call(harness, machine, "public/auth", {
        "grant_type": "client_signature", "client_id": DEMO_CLIENT_ID, "timestamp": ms,
        "nonce": "n", "data": "", "signature": signature(DEMO_CLIENT_SECRET, ms, "n", ""),
    })  # fmt: skip
    assert "access_token" in login["result"]
    return machine


def test_a_venue_started_a_moment_ago_has_trade_history() -> None:
    harness = make_harness(MARKET)
    machine, _ = raw_client(harness)
    harness.advance(1.0)
    trades = call(harness, machine, "public/get_last_trades_by_instrument",
                  {"instrument_name": "BTC-PERPETUAL", "count": 5})["result"]  # fmt: skip
    assert len(trades["trades"]) == 5
    assert trades["has_more"] is True
    newest = trades["trades"][0]["timestamp"]
    assert newest < harness.venue.state.epoch_ms(START)  # before the venue was born
    ticker = call(harness, machine, "public/ticker", {"instrument_name": "BTC-PERPETUAL"})
    assert ticker["result"]["last_price"] is not None
    assert ticker["result"]["stats"]["volume"] > 0


def test_book_summaries() -> None:
    harness = make_harness(MARKET)
    machine, _ = raw_client(harness)
    harness.advance(0.5)
    market = harness.venue.market
    rows = call(harness, machine, "public/get_book_summary_by_currency", {"currency": "BTC"})
    by_name = {row["instrument_name"]: row for row in rows["result"]}
    assert set(by_name) == {i.instrument_name for i in market.instruments("BTC")}
    for row in by_name.values():
        if row["instrument_name"] != "BTC_USDC":
            assert set(row) >= SUMMARY_REQUIRED, row["instrument_name"]
    perpetual = by_name["BTC-PERPETUAL"]
    ticker = market.ticker("BTC-PERPETUAL")
    assert (perpetual["bid_price"], perpetual["ask_price"]) == (
        ticker.best_bid_price,
        ticker.best_ask_price,
    )
    assert perpetual["mid_price"] == (ticker.best_bid_price + ticker.best_ask_price) / 2
    assert perpetual["last"] == ticker.last_price
    assert perpetual["high"] == ticker.stats.high
    assert "current_funding" in perpetual
    assert "funding_8h" in perpetual
    option = next(row for name, row in by_name.items() if name.endswith("-C"))
    assert option["underlying_index"] == "index_price"
    assert option["mark_iv"] > 0
    assert "current_funding" not in option
    futures = call(harness, machine, "public/get_book_summary_by_currency",
                   {"currency": "ETH", "kind": "future"})["result"]  # fmt: skip
    assert {row["instrument_name"] for row in futures} == {
        i.instrument_name for i in market.instruments("ETH", "future")
    }
    bad = call(harness, machine, "public/get_book_summary_by_currency", {"currency": "XRP"})
    assert bad["error"]["code"] == -32602


def test_trades_by_currency() -> None:
    harness = make_harness(MARKET)
    machine, _ = raw_client(harness)
    harness.pump()
    market = harness.venue.market
    page = call(harness, machine, "public/get_last_trades_by_currency",
                {"currency": "ETH", "kind": "future", "count": 20})["result"]  # fmt: skip
    trades = msgspec.convert(page["trades"], list[PublicTrade])
    assert len(trades) == 20
    assert page["has_more"] is True
    names = {i.instrument_name for i in market.instruments("ETH", "future")}
    assert {t.instrument_name for t in trades} <= names
    stamps = [t.timestamp for t in trades]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    oldest = call(harness, machine, "public/get_last_trades_by_currency",
                  {"currency": "ETH", "count": 3, "sorting": "asc"})  # fmt: skip
    oldest = oldest["result"]["trades"]
    assert [t["timestamp"] for t in oldest] == sorted(t["timestamp"] for t in oldest)
    assert oldest[0]["timestamp"] == market.trades("ETH")[0].timestamp
    since = oldest[1]["timestamp"]
    after = call(harness, machine, "public/get_last_trades_by_currency",
                 {"currency": "ETH", "start_timestamp": since, "count": 2})["result"]  # fmt: skip
    assert all(t["timestamp"] >= since for t in after["trades"])


def test_instrument_volatility_funding_and_candles() -> None:
    harness = make_harness(MARKET)
    machine, _ = raw_client(harness)
    harness.pump()
    market = harness.venue.market
    instrument = call(harness, machine, "public/get_instrument",
                      {"instrument_name": "ETH-PERPETUAL"})["result"]  # fmt: skip
    assert msgspec.convert(instrument, Instrument).instrument_name == "ETH-PERPETUAL"
    assert instrument["settlement_period"] == "perpetual"
    unknown = call(harness, machine, "public/get_instrument", {"instrument_name": "X-1"})
    assert unknown["error"]["code"] == 10020
    vols = call(harness, machine, "public/get_historical_volatility", {"currency": "BTC"})
    pairs = vols["result"]
    assert pairs == [list(p) for p in market.volatility_history("btc_usd")]
    assert all(isinstance(at, int) and value > 0 for at, value in pairs)
    now = market.now_ms
    window = {"instrument_name": "BTC-PERPETUAL", "start_timestamp": now - 8 * HOUR,
              "end_timestamp": now}  # fmt: skip
    value = call(harness, machine, "public/get_funding_rate_value", window)["result"]
    assert value == market.funding_value("BTC-PERPETUAL", now - 8 * HOUR, now)
    history = call(harness, machine, "public/get_funding_rate_history", window)["result"]
    assert len(history) == 9  # the hours from now - 8 h to now, both included
    assert set(history[0]) == {
        "timestamp", "index_price", "prev_index_price", "interest_8h", "interest_1h",
    }  # fmt: skip
    dated = market.instruments("BTC", "future")[1].instrument_name
    refused = call(harness, machine, "public/get_funding_rate_value",
                   {**window, "instrument_name": dated})  # fmt: skip
    assert refused["error"]["code"] == 11029
    chart = call(harness, machine, "public/get_tradingview_chart_data",
                 {**window, "resolution": "60"})["result"]  # fmt: skip
    assert chart["status"] == "ok"
    assert set(chart) == {"status", "ticks", "open", "high", "low", "close", "volume", "cost"}
    assert len({len(chart[k]) for k in chart if k != "status"}) == 1
    assert chart["ticks"][1] - chart["ticks"][0] == HOUR
    bad = call(harness, machine, "public/get_tradingview_chart_data",
               {**window, "resolution": "7"})  # fmt: skip
    assert bad["error"]["code"] == -32602


def test_the_private_methods() -> None:
    harness = make_harness(MARKET)
    anonymous, _ = raw_client(harness)
    harness.pump()
    assert call(harness, anonymous, "private/get_subaccounts")["error"]["code"] == 13009
    machine = logged_in(harness)
    accounts = call(harness, machine, "private/get_subaccounts",
                    {"with_portfolio": True})["result"]  # fmt: skip
    [main] = accounts
    assert set(main) >= {
        "username", "email", "type", "tfa_enabled", "receive_notifications", "is_password",
        "system_name", "id",
    }  # fmt: skip
    assert (main["id"], main["type"], main["username"]) == (1, "main", DEMO_CLIENT_ID)
    assert main["portfolio"]["btc"]["balance"] == 10.0
    assert main["portfolio"]["usdc"]["currency"] == "USDC"
    plain = call(harness, machine, "private/get_subaccounts")["result"]
    assert "portfolio" not in plain[0]
    settlements = call(harness, machine, "private/get_settlement_history_by_currency",
                       {"currency": "BTC"})["result"]  # fmt: skip
    assert settlements == {"settlements": [], "continuation": None}  # nothing held yet
    address = call(harness, machine, "private/get_current_deposit_address",
                   {"currency": "BTC"})["result"]  # fmt: skip
    assert set(address) >= {"address", "currency", "type", "creation_timestamp"}
    assert (address["currency"], address["type"]) == ("BTC", "deposit")
    assert address["address"].startswith("bcrt1q")
    again = call(harness, machine, "private/get_current_deposit_address", {"currency": "BTC"})
    assert again["result"]["address"] == address["address"]
    eth = call(harness, machine, "private/get_current_deposit_address", {"currency": "ETH"})
    assert eth["result"]["address"].startswith("0x")
    assert len(eth["result"]["address"]) == 42


def test_a_settlement_after_an_expiry_over_http_get() -> None:
    quiet = msgspec.structs.replace(MARKET, maker_levels=0, taker_rate=0.0, tick_interval=3600.0)
    harness = make_harness(quiet)
    market = harness.venue.market
    dated = market.instruments("BTC", "future")[1]
    market.sell("2", dated.instrument_name, START, amount=100, price=60_000)  # the taker key
    market.buy("1", dated.instrument_name, START, amount=100, price=60_000)  # the demo key
    harness.advance((dated.expiration_timestamp - quiet.start_ms) / 1000 + 1)
    http = harness.http()
    token = _token(http)
    http.client.request(
        HTTPRequest.get(
            "/api/v2/private/get_settlement_history_by_currency",
            {"currency": "BTC", "count": "5"},
            headers=[("Authorization", f"Bearer {token}")],
        ),
        http.clock.now,
    )
    response = _response(http)
    [row] = response.json()["result"]["settlements"]
    assert set(row) >= SETTLEMENT_REQUIRED
    assert (row["type"], row["instrument_name"], row["position"]) == (
        "delivery",
        dated.instrument_name,
        100.0,
    )


def _response(http: Any) -> HTTPResponse:
    for _ in range(20):
        http.pump()
    [response] = [e for e in http.take_events() if isinstance(e, HTTPResponse)]
    return response


def _token(http: Any) -> str:
    http.client.request(
        HTTPRequest.get(
            "/api/v2/public/auth",
            {
                "grant_type": "client_credentials",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
            },
        ),
        http.clock.now,
    )
    token: str = _response(http).json()["result"]["access_token"]
    return token


def test_http_get_sends_strings_and_a_leading_slash_works_too() -> None:
    harness = make_harness(MARKET)
    http = harness.http()
    now = harness.venue.market.now_ms
    http.client.request(
        HTTPRequest.get(
            "/api/v2/public/get_tradingview_chart_data",
            {
                "instrument_name": "ETH-PERPETUAL",
                "start_timestamp": str(now - 2 * HOUR),
                "end_timestamp": str(now - 1),  # the venue starts at midnight UTC
                "resolution": "1D",
            },
        ),
        http.clock.now,
    )
    chart = _response(http).json()["result"]
    assert chart["status"] == "ok"
    assert len(chart["ticks"]) == 1
    machine, _ = raw_client(harness)
    harness.pump()
    slashed = call(harness, machine, "/public/get_book_summary_by_currency", {"currency": "ETH"})
    assert slashed["result"]
