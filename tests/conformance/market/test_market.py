"""The market as a whole: determinism, the clock and ticks, the price process, tickers,
and records that map onto the protocol's Deribit models."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest
from support.markets import deribit_market

from tradewire.conformance.market import (
    MAX_CATCHUP_TICKS,
    BookChange,
    IndexPrice,
    Market,
    MarketConfig,
    PublicTrade,
    Quote,
    Ticker,
    black_scholes,
    implied_volatility,
)
from tradewire.conformance.market._pricing import PREMIUM_LIMIT, YEAR_MS
from tradewire.protocol import LocalProtocolError, deribit

PERP = "BTC-PERPETUAL"


def session(config: MarketConfig, seed: int) -> list[Any]:
    m = deribit_market(msgspec.structs.replace(config, seed=seed), now=100.0)
    events: list[Any] = []
    for i in range(1, 31):
        now = 100.0 + i * 0.1
        events += m.advance(now)
        if i % 5 == 0:
            events += m.buy("alice", PERP, now, amount=100, type="market").events
            events += m.sell("bob", "BTC_USDC", now, amount=0.01, price=61_000).events
    return events


# -- determinism -----------------------------------------------------------------------------


def test_same_seed_and_times_give_identical_event_streams(busy: Market) -> None:
    first, second = session(busy.config, 1), session(busy.config, 1)
    assert first == second
    assert msgspec.json.encode(first) == msgspec.json.encode(second)
    kinds = {type(e).__name__ for e in first}
    assert {"IndexPrice", "BookChange", "PublicTrade", "Ticker", "Quote", "Order",
            "UserTrade", "Position", "Portfolio"} <= kinds  # fmt: skip


def test_a_different_seed_gives_a_different_stream(busy: Market) -> None:
    assert session(busy.config, 1) != session(busy.config, 2)


# -- the clock --------------------------------------------------------------------------------


def test_ticks_run_on_the_interval_and_map_now_to_epoch_ms(quiet: Market) -> None:
    assert quiet.next_deadline() == pytest.approx(0.1)
    assert quiet.advance(0.05) == []
    events = quiet.advance(0.25)
    stamps = sorted({e.timestamp for e in events if isinstance(e, IndexPrice)})
    start = quiet.config.start_ms
    assert stamps == [start + 100, start + 200]
    assert quiet.next_deadline() == pytest.approx(0.3)
    assert quiet.timestamp(12.5) == start + 12_500


def test_a_long_jump_runs_a_bounded_number_of_ticks(quiet: Market) -> None:
    events = quiet.advance(1_000.0)
    indexes = [e for e in events if isinstance(e, IndexPrice)]
    assert len(indexes) == 3 * MAX_CATCHUP_TICKS
    assert indexes[-1].timestamp == quiet.config.start_ms + 1_000_000
    assert quiet.next_deadline() == pytest.approx(1_000.1)


def test_now_must_not_go_backwards(quiet: Market) -> None:
    quiet.advance(5.0)
    with pytest.raises(LocalProtocolError, match="backwards"):
        quiet.advance(4.0)
    with pytest.raises(LocalProtocolError, match="backwards"):
        quiet.buy("alice", PERP, 4.0, amount=10, price=60_000)
    with pytest.raises(LocalProtocolError):
        quiet.advance(math.nan)


def test_a_tick_publishes_in_order(busy: Market) -> None:
    events = busy.advance(0.1)
    names = [type(e).__name__ for e in events]
    assert names[:3] == ["IndexPrice"] * 3
    indexes = [e.index_name for e in events[:3] if isinstance(e, IndexPrice)]
    assert indexes == ["btc_usd", "eth_usd", "btc_usdc"]
    tickers = [e for e in events if isinstance(e, Ticker)]
    assert [t.instrument_name for t in tickers] == [i.instrument_name for i in busy.instruments()]
    assert names.index("Ticker") > max(i for i, n in enumerate(names) if n == "BookChange")


def test_ticker_events_can_be_turned_off(quiet: Market) -> None:
    m = deribit_market(msgspec.structs.replace(quiet.config, ticker_events=False))
    assert not any(isinstance(e, Ticker) for e in m.advance(1.0))


# -- the price process -------------------------------------------------------------------------


def test_index_steps_are_bounded(quiet: Market) -> None:
    m = deribit_market(msgspec.structs.replace(quiet.config, walk_scale=1_000.0))
    sigma = 0.6 * math.sqrt(100 / YEAR_MS) * 1_000.0
    price = 60_000.0
    for i in range(1, 200):
        m.advance(i * 0.1)
        moved = m.index_price("btc_usd").price
        assert abs(math.log(moved / price)) <= 4 * sigma + 1e-6
        price = moved
    assert price != 60_000.0
    assert m.index_price("btc_usdc").price == price


def test_marks_follow_the_documented_model(busy: Market) -> None:
    busy.advance(3.0)
    index = busy.index_price("btc_usd").price
    perp = busy.ticker(PERP)
    premium = perp.current_funding
    assert premium is not None
    assert abs(premium) <= PREMIUM_LIMIT
    assert perp.funding_8h == premium
    assert perp.mark_price == pytest.approx(index * (1 + premium), abs=0.01)
    dated = busy.instruments("BTC", "future")[1]
    years = (dated.expiration_timestamp - busy.timestamp(3.0)) / YEAR_MS
    future = busy.ticker(dated.instrument_name)
    assert future.mark_price == pytest.approx(index * (1 + 0.05 * years), abs=0.01)
    option = busy.instruments("BTC", "option")[0]
    value = black_scholes(option.option_type == "call", index, option.strike or 0, years, 0.6)
    ticker = busy.ticker(option.instrument_name)
    assert ticker.mark_price == pytest.approx(value.price / index, abs=1e-8)
    assert ticker.mark_iv == 60.0
    assert ticker.underlying_price == index
    assert ticker.greeks is not None
    assert ticker.greeks.delta == pytest.approx(value.delta, abs=1e-5)


def test_black_scholes_parity_and_implied_volatility() -> None:
    call = black_scholes(True, 60_000, 62_000, 0.1, 0.6)
    put = black_scholes(False, 60_000, 62_000, 0.1, 0.6)
    assert call.price - put.price == pytest.approx(60_000 - 62_000)
    assert call.delta - put.delta == pytest.approx(1.0)
    assert call.gamma == pytest.approx(put.gamma)
    assert call.vega == pytest.approx(put.vega)
    assert implied_volatility(True, call.price, 60_000, 62_000, 0.1) == pytest.approx(0.6)
    assert implied_volatility(False, put.price, 60_000, 62_000, 0.1) == pytest.approx(0.6)
    assert implied_volatility(True, 0.0, 60_000, 62_000, 0.1) is None
    assert implied_volatility(True, 70_000.0, 60_000, 62_000, 0.1) is None  # above the spot
    expired = black_scholes(False, 60_000, 62_000, 0.0, 0.6)
    assert (expired.price, expired.delta) == (2_000, -1.0)


# -- tickers and quotes -------------------------------------------------------------------------


def test_ticker_of_an_empty_book(quiet: Market) -> None:
    ticker = quiet.ticker(PERP)
    assert (ticker.best_bid_price, ticker.best_ask_price) == (None, None)
    assert (ticker.best_bid_amount, ticker.best_ask_amount) == (0.0, 0.0)
    assert ticker.last_price is None
    assert ticker.stats.high is None
    assert (ticker.min_price, ticker.max_price) == (57_000.0, 63_000.0)
    assert ticker.state == "open"
    assert ticker.settlement_price == 60_000.0
    quote = quiet.quote(PERP)
    assert quote.best_bid_price is None
    assert quote.best_ask_price is None


def test_ticker_statistics_and_open_interest(quiet: Market) -> None:
    for price in (60_000, 60_100, 59_900):
        quiet.sell("bob", PERP, 1.0, amount=600, price=price)
        quiet.buy("alice", PERP, 1.0, amount=600, price=price)
    ticker = quiet.ticker(PERP)
    assert (ticker.last_price, ticker.stats.high, ticker.stats.low) == (59_900, 60_100, 59_900)
    assert ticker.stats.volume_usd == 1_800.0
    assert ticker.stats.volume == pytest.approx(600 / 60_000 + 600 / 60_100 + 600 / 59_900)
    assert ticker.stats.price_change == pytest.approx((59_900 - 60_000) / 60_000 * 100, abs=1e-4)
    assert ticker.open_interest == 1_800.0
    trades = quiet.last_trades(PERP)
    assert [t.tick_direction for t in trades] == [0, 0, 2]


def test_quotes_are_published_when_the_top_of_book_changes(quiet: Market) -> None:
    first = quiet.buy("alice", PERP, 1.0, amount=10, price=59_000).events
    assert [e.best_bid_price for e in first if isinstance(e, Quote)] == [59_000.0]
    deeper = quiet.buy("alice", PERP, 1.0, amount=10, price=58_000).events
    assert not any(isinstance(e, Quote) for e in deeper)
    assert any(isinstance(e, BookChange) for e in deeper)


def test_public_trades_carry_marks_and_option_iv(busy: Market) -> None:
    busy.advance(1.0)
    option = busy.instruments("BTC", "option")[0].instrument_name
    result = busy.buy("alice", option, 1.0, amount=0.1, type="market")
    (trade,) = [e for e in result.events if isinstance(e, PublicTrade)]
    assert trade.iv is not None
    assert 10 < trade.iv < 200
    assert trade.mark_price == busy.ticker(option).mark_price
    assert trade.index_price == busy.index_price("btc_usd").price
    assert trade.contracts == 0.1


# -- records map onto the protocol's models -----------------------------------------------------


def wire(record: Any, model: type) -> Any:
    """Encode like a venue would, then decode with the client's model."""
    return msgspec.json.decode(msgspec.json.encode(record), type=model)


def required(model: type) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(model) if f.required}


def test_records_carry_every_field_the_deribit_models_require(busy: Market) -> None:
    busy.advance(1.0)
    option = busy.instruments("BTC", "option")[0].instrument_name
    busy.sell("bob", PERP, 1.0, amount=100, price=busy.book(PERP).bids[0][0] + 0.5)
    result = busy.buy("alice", PERP, 1.0, amount=200, type="market")
    pairs = [
        (result.order, deribit.Order),
        (result.trades[0], deribit.UserTrade),
        (busy.last_trades(PERP)[-1], deribit.PublicTrade),
        (busy.ticker(PERP), deribit.Ticker),
        (busy.ticker(option), deribit.Ticker),
        (busy.quote(PERP), deribit.Quote),
        (busy.position("alice", PERP), deribit.Position),
        (busy.portfolio("alice", "BTC"), deribit.AccountSummary),
        (busy.index_price("btc_usd"), deribit.PriceIndex),
        (busy.grouped_book(PERP, 10, 10), deribit.GroupedBookData),
    ]
    for record, model in pairs:
        names = {f.encode_name for f in msgspec.structs.fields(type(record))}
        assert required(model) <= names, (model, required(model) - names)
        decoded = wire(record, model)
        for name in required(model):
            assert getattr(decoded, name) == getattr(record, name) or isinstance(
                getattr(record, name), tuple | msgspec.Struct
            ), (model, name)
    change = busy.change_log(PERP)[-1]
    data = msgspec.structs.asdict(change) | {"type": "change"}
    decoded = msgspec.convert(msgspec.json.decode(msgspec.json.encode(data)), deribit.BookData)
    assert decoded.prev_change_id == change.prev_change_id
    assert not decoded.is_snapshot
    assert [tuple(level) for level in decoded.bids] == list(change.bids)
