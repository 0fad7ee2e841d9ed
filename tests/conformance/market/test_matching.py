"""The matching engine: crossing, partial fills, priority, market orders, post-only,
reduce-only, every time in force, self-trades, ids.

All in the quiet market (no simulated participants, prices at their start values):
BTC-PERPETUAL's mark is 60000, so limit prices must lie in [57000, 63000].
"""

from __future__ import annotations

from typing import Any

from tradewire.conformance.market import (
    BookChange,
    Execution,
    Market,
    Order,
    PublicTrade,
    Quote,
    UserTrade,
)

PERP = "BTC-PERPETUAL"


def limit(m: Market, who: str, side: str, amount: float, price: float, **kw: Any) -> Execution:
    return m.place(who, kw.pop("instrument", PERP), side, 1.0, amount=amount, price=price, **kw)


def market(m: Market, who: str, side: str, amount: float, **kw: Any) -> Execution:
    name = kw.pop("instrument", PERP)
    return m.place(who, name, side, 1.0, amount=amount, type="market", **kw)


def of(events: tuple[Any, ...], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# -- resting and crossing ---------------------------------------------------------------


def test_a_limit_order_that_does_not_cross_rests_and_shows_in_the_book(quiet: Market) -> None:
    result = limit(quiet, "bob", "sell", 100, 60_000)
    assert result.order.order_state == "open"
    assert result.order.filled_amount == 0
    assert result.order.average_price == 0
    assert result.trades == ()
    assert quiet.book(PERP).asks == ((60_000.0, 100.0),)
    (change,) = of(result.events, BookChange)
    assert change.asks == (("new", 60_000.0, 100.0),)
    assert change.bids == ()
    (quote,) = of(result.events, Quote)
    assert quote.best_ask_price == 60_000.0
    assert quote.best_bid_price is None
    assert quiet.open_orders("bob") == [result.order]


def test_a_crossing_limit_order_trades_at_the_resting_price(quiet: Market) -> None:
    ask = limit(quiet, "bob", "sell", 100, 60_000)
    bid = limit(quiet, "alice", "buy", 100, 60_500)
    (trade,) = bid.trades
    assert (trade.price, trade.amount, trade.direction, trade.liquidity) == (
        60_000.0,
        100.0,
        "buy",
        "T",
    )
    assert bid.order.order_state == "filled"
    assert bid.order.average_price == 60_000.0
    assert bid.order.price == 60_500.0
    (public,) = of(bid.events, PublicTrade)
    assert public.direction == "buy"
    assert public.trade_id == trade.trade_id
    makers = [t for t in of(bid.events, UserTrade) if t.account == "bob"]
    assert [(t.direction, t.liquidity, t.order_id) for t in makers] == [
        ("sell", "M", ask.order.order_id)
    ]
    assert quiet.order("bob", ask.order.order_id).order_state == "filled"
    assert quiet.book(PERP).asks == ()
    assert quiet.book(PERP).bids == ()
    assert quiet.open_orders("bob") == []
    assert quiet.open_orders("alice") == []


def test_a_partial_fill_rests_the_remainder(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 50, 60_000)
    result = limit(quiet, "alice", "buy", 100, 60_000)
    assert result.order.order_state == "open"
    assert (result.order.amount, result.order.filled_amount) == (100.0, 50.0)
    assert quiet.book(PERP).bids == ((60_000.0, 50.0),)
    (change,) = of(result.events, BookChange)
    assert change.asks == (("delete", 60_000.0, 0.0),)
    assert change.bids == (("new", 60_000.0, 50.0),)


def test_price_then_time_priority(quiet: Market) -> None:
    first = limit(quiet, "bob", "sell", 100, 60_000).order
    second = limit(quiet, "carol", "sell", 100, 60_000).order
    better = limit(quiet, "dave", "sell", 100, 59_999.5).order
    result = market(quiet, "alice", "buy", 150)
    makers = [(t.account, t.amount, t.price) for t in of(result.events, UserTrade)]
    assert [m for m in makers if m[0] != "alice"] == [
        ("dave", 100.0, 59_999.5),
        ("bob", 50.0, 60_000.0),
    ]
    assert quiet.order("dave", better.order_id).order_state == "filled"
    assert quiet.order("bob", first.order_id).filled_amount == 50.0
    assert quiet.order("carol", second.order_id).filled_amount == 0.0
    assert quiet.book(PERP).asks == ((60_000.0, 150.0),)


def test_a_market_order_sweeps_levels_then_cancels_the_rest(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 100, 60_000)
    limit(quiet, "bob", "sell", 100, 60_010)
    result = market(quiet, "alice", "buy", 300)
    assert [(t.price, t.amount) for t in result.trades] == [(60_000.0, 100.0), (60_010.0, 100.0)]
    order = result.order
    assert (order.order_type, order.order_state, order.filled_amount) == (
        "market",
        "cancelled",
        200.0,
    )
    assert order.price == 63_000.0  # the band limit: max_price
    assert order.average_price == 60_005.0
    assert quiet.book(PERP).asks == ()
    (change,) = of(result.events, BookChange)
    assert change.asks == (("delete", 60_000.0, 0.0), ("delete", 60_010.0, 0.0))


def test_a_market_order_on_an_empty_side_is_cancelled_unfilled(quiet: Market) -> None:
    result = market(quiet, "alice", "sell", 100)
    assert result.order.order_state == "cancelled"
    assert result.trades == ()
    assert result.order.price == 57_000.0  # min_price
    assert of(result.events, BookChange) == []


def test_a_market_order_trades_with_the_simulated_makers(busy: Market) -> None:
    busy.advance(1.0)
    asks = busy.book(PERP).asks
    result = market(busy, "alice", "buy", asks[0][1] + asks[1][1])
    assert [t.price for t in result.trades] == [asks[0][0], asks[1][0]]
    assert result.order.order_state == "filled"
    assert all(t.liquidity == "T" for t in result.trades)
    assert busy.book(PERP).asks[0] == asks[2]


def test_self_trades_are_allowed_and_net_out(quiet: Market) -> None:
    limit(quiet, "alice", "sell", 100, 60_000)
    result = limit(quiet, "alice", "buy", 100, 60_000)
    mine = of(result.events, UserTrade)
    assert sorted(t.liquidity for t in mine) == ["M", "T"]
    position = quiet.position("alice", PERP)
    assert position.size == 0
    assert position.direction == "zero"


# -- post only ------------------------------------------------------------------------------


def test_post_only_that_would_take_is_repriced_inside_the_spread(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 100, 60_000)
    limit(quiet, "bob", "buy", 100, 59_000)
    buy = limit(quiet, "alice", "buy", 10, 60_100, post_only=True)
    sell = limit(quiet, "alice", "sell", 10, 58_000, post_only=True)
    assert buy.trades == ()
    assert sell.trades == ()
    # the sell sees alice's own repriced bid at 59999.5 as the best bid
    assert (buy.order.price, sell.order.price) == (59_999.5, 60_000.0)
    assert buy.order.post_only
    assert buy.order.order_state == "open"


def test_post_only_that_does_not_cross_rests_unchanged(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 100, 60_000)
    assert limit(quiet, "alice", "buy", 10, 59_000, post_only=True).order.price == 59_000.0


def test_option_post_only_reprices_on_the_tick_steps(quiet: Market) -> None:
    option, other = (i.instrument_name for i in quiet.instruments(kind="option")[:2])
    limit(quiet, "bob", "sell", 1, 0.0055, instrument=option)
    result = limit(quiet, "alice", "buy", 1, 0.0060, instrument=option, post_only=True)
    assert result.order.price == 0.005  # 0.0055 - 0.0005: the step above 0.005
    option = other
    limit(quiet, "bob", "sell", 1, 0.0049, instrument=option)
    result = limit(quiet, "alice", "buy", 1, 0.0049, instrument=option, post_only=True)
    assert result.order.price == 0.0048


# -- time in force -------------------------------------------------------------------------


def test_immediate_or_cancel_cancels_the_remainder(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 50, 60_000)
    result = limit(quiet, "alice", "buy", 100, 60_000, time_in_force="immediate_or_cancel")
    assert (result.order.order_state, result.order.filled_amount) == ("cancelled", 50.0)
    assert quiet.book(PERP).bids == ()
    assert quiet.open_orders("alice") == []


def test_fill_or_kill_fills_everything_or_nothing(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 50, 60_000)
    limit(quiet, "bob", "sell", 50, 60_100)
    killed = limit(quiet, "alice", "buy", 150, 60_100, time_in_force="fill_or_kill")
    assert killed.order.order_state == "cancelled"
    assert killed.trades == ()
    assert of(killed.events, BookChange) == []
    assert quiet.book(PERP).asks == ((60_000.0, 50.0), (60_100.0, 50.0))
    beyond = limit(quiet, "alice", "buy", 100, 60_000, time_in_force="fill_or_kill")
    assert beyond.order.order_state == "cancelled"  # the limit excludes 60100
    filled = limit(quiet, "alice", "buy", 100, 60_100, time_in_force="fill_or_kill")
    assert filled.order.order_state == "filled"
    assert len(filled.trades) == 2


def test_good_til_day_orders_expire_at_the_0800_utc_settlement(quiet: Market) -> None:
    day = limit(quiet, "alice", "buy", 100, 59_000, time_in_force="good_til_day").order
    kept = limit(quiet, "alice", "buy", 100, 58_000).order
    events = quiet.advance(8 * 3600 - 1.0)  # the market starts at 00:00 UTC
    assert quiet.order("alice", day.order_id).order_state == "open"
    events = quiet.advance(8 * 3600 + 1.0)
    expired = [e for e in events if isinstance(e, Order) and e.order_id == day.order_id]
    assert [(o.order_state, o.cancel_reason) for o in expired] == [("cancelled", "settlement")]
    assert quiet.order("alice", kept.order_id).order_state == "open"


# -- reduce only ---------------------------------------------------------------------------


def long_position(m: Market, who: str, amount: float) -> None:
    limit(m, "bob", "sell", amount, 60_000)
    limit(m, who, "buy", amount, 60_000)


def test_reduce_only_without_a_position_to_reduce_is_refused(quiet: Market) -> None:
    error = _refused(lambda: limit(quiet, "alice", "sell", 10, 60_000, reduce_only=True))
    assert (error.reason, error.data) == ("other_reject", {"reason": "reduce_only"})
    long_position(quiet, "alice", 100)
    error = _refused(lambda: limit(quiet, "alice", "buy", 10, 59_000, reduce_only=True))
    assert error.reason == "other_reject"  # a buy cannot reduce a long


def test_reduce_only_is_cut_to_the_position(quiet: Market) -> None:
    long_position(quiet, "alice", 100)
    result = limit(quiet, "alice", "sell", 300, 61_000, reduce_only=True)
    assert result.order.amount == 100.0
    assert result.order.reduce_only
    second = _refused(lambda: limit(quiet, "alice", "sell", 10, 62_000, reduce_only=True))
    assert second.reason == "other_reject"  # the first order already covers the whole position


def test_a_reduce_only_market_order_never_flips_the_position(quiet: Market) -> None:
    long_position(quiet, "alice", 100)
    limit(quiet, "bob", "buy", 300, 59_000)
    result = market(quiet, "alice", "sell", 300, reduce_only=True)
    assert result.order.filled_amount == 100.0
    assert result.order.amount == 100.0
    assert quiet.position("alice", PERP).direction == "zero"


def test_resting_reduce_only_orders_shrink_then_cancel_as_the_position_closes(
    quiet: Market,
) -> None:
    long_position(quiet, "alice", 100)
    guard = limit(quiet, "alice", "sell", 100, 62_000, reduce_only=True).order
    limit(quiet, "bob", "buy", 100, 59_000)
    result = market(quiet, "alice", "sell", 60)
    shrunk = [e for e in result.events if isinstance(e, Order) and e.order_id == guard.order_id]
    assert [o.amount for o in shrunk] == [40.0]
    assert quiet.book(PERP).asks == ((62_000.0, 40.0),)
    result = market(quiet, "alice", "sell", 40)
    final = quiet.order("alice", guard.order_id)
    assert (final.order_state, final.cancel_reason) == ("cancelled", "reduce_only")
    assert quiet.book(PERP).asks == ()


def test_a_resting_reduce_only_order_fills_only_up_to_the_position(quiet: Market) -> None:
    long_position(quiet, "alice", 100)
    first = limit(quiet, "alice", "sell", 100, 61_000, reduce_only=True).order
    limit(quiet, "bob", "sell", 100, 61_500)
    result = limit(quiet, "carol", "buy", 200, 61_500)
    by_account = {(t.account, t.price): t.amount for t in of(result.events, UserTrade)}
    assert by_account[("alice", 61_000.0)] == 100.0
    assert by_account[("bob", 61_500.0)] == 100.0
    assert quiet.order("alice", first.order_id).order_state == "filled"
    assert quiet.position("alice", PERP).size == 0


# -- ids ---------------------------------------------------------------------------------------


def test_order_and_trade_ids_follow_deribits_shapes(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 10, 60_000)
    btc = limit(quiet, "alice", "buy", 10, 60_000)
    limit(quiet, "bob", "sell", 1, 3_000, instrument="ETH-PERPETUAL")
    eth = limit(quiet, "alice", "buy", 1, 3_000, instrument="ETH-PERPETUAL")
    limit(quiet, "bob", "sell", 0.001, 60_000, instrument="BTC_USDC-PERPETUAL")
    usdc = limit(quiet, "alice", "buy", 0.001, 60_000, instrument="BTC_USDC-PERPETUAL")
    assert btc.order.order_id.isdigit()
    assert btc.trades[0].trade_id.isdigit()
    assert eth.order.order_id.startswith("ETH-")
    assert eth.trades[0].trade_id.startswith("ETH-")
    assert usdc.order.order_id.startswith("USDC-")
    assert usdc.trades[0].trade_id.startswith("USDC-")
    again = limit(quiet, "bob", "sell", 10, 60_000)
    more = limit(quiet, "alice", "buy", 10, 60_000)
    assert int(again.order.order_id) > int(btc.order.order_id)
    assert (btc.trades[0].trade_seq, more.trades[0].trade_seq) == (1, 2)
    assert eth.trades[0].trade_seq == 1  # per instrument


def _refused(call: Any) -> Any:
    from tradewire.conformance.market import MarketError

    try:
        call()
    except MarketError as error:
        return error
    raise AssertionError("expected a MarketError")
