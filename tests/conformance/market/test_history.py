"""The market's seeded past and its hourly record (``_history``): a market started a moment
ago has traded; the past is the seed's, and the live market goes on from it."""

from __future__ import annotations

import itertools
import math

import msgspec
import pytest
from support.markets import deribit_market

from tradewire.conformance.market import Market, MarketConfig, MarketError
from tradewire.conformance.market._history import HOUR_MS, MAX_HOURS, VOLATILITY_WINDOW

PERP = "BTC-PERPETUAL"
SMALL = MarketConfig(
    seed=4, weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1
)


@pytest.fixture(scope="module")
def market() -> Market:
    return deribit_market(SMALL)


def test_a_new_market_has_traded_every_instrument_in_the_last_day(market: Market) -> None:
    start = SMALL.start_ms
    for info in market.instruments():
        trades = market.last_trades(info.instrument_name, 1000)
        assert len(trades) == SMALL.past_trades, info.instrument_name
        stamps = [t.timestamp for t in trades]
        assert stamps == sorted(stamps)
        assert start - 24 * HOUR_MS <= stamps[0]
        assert stamps[-1] < start
        assert [t.trade_seq for t in trades] == list(range(1, SMALL.past_trades + 1))
        ticker = market.ticker(info.instrument_name)
        assert ticker.last_price == trades[-1].price
        assert ticker.stats.high == max(t.price for t in trades)
        assert ticker.stats.volume > 0
    perp = market.last_trades(PERP, 1000)
    for trade in perp:  # near the index of their time, on the tick grid, both sides
        assert abs(trade.price / trade.index_price - 1) < 0.01
        assert trade.price * 2 == int(trade.price * 2)
    assert {t.direction for t in perp} == {"buy", "sell"}


def test_live_trades_follow_the_past() -> None:
    quiet = msgspec.structs.replace(SMALL, maker_levels=1, taker_rate=0.0)
    m = deribit_market(quiet)
    before = m.last_trades(PERP, 1000)[-1]
    ask = m.book(PERP).asks[0][0]
    result = m.buy("alice", PERP, 0.5, amount=10, type="market")
    trade = result.trades[0]
    assert trade.trade_seq == before.trade_seq + 1
    assert int(trade.trade_id) > int(before.trade_id)
    assert trade.price == ask


def test_the_past_is_the_seeds() -> None:
    again = deribit_market(SMALL)
    other = deribit_market(msgspec.structs.replace(SMALL, seed=5))
    first = deribit_market(SMALL)
    assert first.trades() == again.trades()
    assert first.index_history("btc_usd") == again.index_history("btc_usd")
    assert first.trades() != other.trades()
    # the live streams do not depend on the past: the same ticks with or without it
    bare = deribit_market(msgspec.structs.replace(SMALL, past_hours=0))
    assert bare.trades() == []
    assert bare.index_history("btc_usd") == []
    first.advance(3.0)
    bare.advance(3.0)
    assert first.index_price("btc_usd") == bare.index_price("btc_usd")
    assert first.book(PERP).bids == bare.book(PERP).bids


def test_hourly_index_and_historical_volatility(market: Market) -> None:
    history = market.index_history("btc_usd")
    assert len(history) == SMALL.past_hours + 1
    assert history[-1] == (SMALL.start_ms // HOUR_MS * HOUR_MS, 60_000.0)
    assert all(b[0] - a[0] == HOUR_MS for a, b in itertools.pairwise(history))
    assert market.index_history("btc_usdc") == history  # USDC at par
    vols = market.volatility_history("eth_usd")
    assert len(vols) == SMALL.past_hours - VOLATILITY_WINDOW + 1
    prices = [p for _, p in market.index_history("eth_usd")][-VOLATILITY_WINDOW - 1 :]
    returns = [math.log(b / a) for a, b in itertools.pairwise(prices)]
    mean = sum(returns) / len(returns)
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    assert vols[-1][1] == pytest.approx(sd * math.sqrt(365 * 24) * 100, rel=1e-5)
    assert 20 < vols[-1][1] < 200  # about the walk's 75 %
    with pytest.raises(KeyError):
        market.index_history("doge_usd")


def test_funding_history_and_value(market: Market) -> None:
    top = SMALL.start_ms // HOUR_MS * HOUR_MS
    rates = market.funding_history(PERP, top - 8 * HOUR_MS, top)
    assert [r.timestamp for r in rates] == [top - h * HOUR_MS for h in range(8, -1, -1)]
    for rate in rates:
        assert abs(rate.interest_8h) <= 0.0005
        assert rate.interest_1h == rate.interest_8h / 8
    assert [r.prev_index_price for r in rates[1:]] == [r.index_price for r in rates[:-1]]
    value = market.funding_value(PERP, top - 8 * HOUR_MS, top)
    assert value == pytest.approx(sum(r.interest_1h for r in rates[1:]))
    with pytest.raises(MarketError) as info:
        market.funding_history("BTC_USDC", 0, top)
    assert info.value.reason == "invalid_arguments"


def test_the_hourly_record_goes_on_while_the_market_runs() -> None:
    config = msgspec.structs.replace(SMALL, tick_interval=600.0, past_hours=2)
    m = deribit_market(config)
    before = len(m.index_history("btc_usd"))
    m.advance(2 * 3600.0)  # two hours of ticks (10 minutes each)
    history = m.index_history("btc_usd")
    assert len(history) == before + 2
    assert history[-1] == (history[-2][0] + HOUR_MS, m.pricer.index["btc_usd"])
    long = msgspec.structs.replace(SMALL, past_hours=10_000, past_trades=1)
    assert len(deribit_market(long).index_history("eth_usd")) == MAX_HOURS  # bounded


def test_candles(market: Market) -> None:
    top = SMALL.start_ms // HOUR_MS * HOUR_MS
    candles = market.candles(PERP, top - 6 * HOUR_MS, SMALL.start_ms, HOUR_MS)
    assert candles.status == "ok"
    assert list(candles.ticks) == [top - h * HOUR_MS for h in range(6, -1, -1)]
    trades = [t for t in market.last_trades(PERP, 1000) if t.timestamp >= top - 6 * HOUR_MS]
    for i, at in enumerate(candles.ticks):
        inside = [t for t in trades if at <= t.timestamp < at + HOUR_MS]
        if inside:
            assert candles.open[i] == inside[0].price
            assert candles.close[i] == inside[-1].price
            assert candles.high[i] == max(t.price for t in inside)
            assert candles.cost[i] == sum(t.amount for t in inside)  # USD of an inverse perp
        else:  # a quiet hour repeats the last close
            assert candles.open[i] == candles.high[i] == candles.close[i] == candles.close[i - 1]
            assert candles.volume[i] == 0.0
    empty = market.candles(PERP, 0, 60_000, 60_000)
    assert empty.status == "no_data"
    assert empty.ticks == ()


def test_a_position_held_through_expiry_is_a_settlement() -> None:
    quiet = msgspec.structs.replace(SMALL, maker_levels=0, taker_rate=0.0)
    m = deribit_market(quiet)
    dated = m.instruments("BTC", "future")[1]
    m.sell("bob", dated.instrument_name, 1.0, amount=100, price=60_000)
    m.buy("alice", dated.instrument_name, 1.0, amount=100, price=60_000)
    later = (dated.expiration_timestamp - quiet.start_ms) / 1000 + 1
    m.advance(later)
    [settled] = m.settlements("alice", "BTC")
    assert (settled.type, settled.instrument_name, settled.position) == (
        "delivery",
        dated.instrument_name,
        100.0,
    )
    assert settled.timestamp >= dated.expiration_timestamp
    assert settled.mark_price > 0
    assert m.settlements("alice", "ETH") == []
    assert m.settlements("bob")[0].position == -100.0
