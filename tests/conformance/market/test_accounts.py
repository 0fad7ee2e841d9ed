"""Balances, positions, P&L and fees, with every number worked out by hand, and the
bounded histories.

Round trips run in the quiet market (marks at their start values, BTC at 60000, until
``advance``): alice takes, bob rests (maker).  Fees: perpetuals and spot 0 maker /
0.0005 taker, options 0.0003 both sides.
"""

from __future__ import annotations

import pytest
from support.markets import deribit_market

from tradewire.conformance.market import (
    Market,
    MarketError,
    Portfolio,
    _accounts,
    _config,
    _engine,
)

PERP = "BTC-PERPETUAL"
LINEAR = "BTC_USDC-PERPETUAL"
SPOT = "BTC_USDC"


def trade(m: Market, taker: str, side: str, name: str, *, amount: float, price: float) -> None:
    maker_side = "sell" if side == "buy" else "buy"
    m.place("bob" if taker != "bob" else "carol", name, maker_side, 1.0, amount=amount, price=price)
    result = m.place(taker, name, side, 1.0, amount=amount, price=price)
    assert result.order.order_state == "filled"


def test_a_new_account_starts_with_the_configured_balances(quiet: Market) -> None:
    assert [quiet.portfolio("zoe", c).balance for c in ("BTC", "ETH", "USDC")] == [
        10.0,
        100.0,
        1_000_000.0,
    ]
    summary = quiet.portfolio("zoe", "BTC")
    assert summary.equity == summary.available_funds == summary.margin_balance == 10.0
    assert summary.initial_margin == summary.total_pl == 0.0
    assert quiet.positions("zoe") == []
    assert quiet.position("zoe", PERP).direction == "zero"


def test_inverse_round_trip(quiet: Market) -> None:
    trade(quiet, "alice", "buy", PERP, amount=1000, price=60_000)
    long = quiet.position("alice", PERP)
    assert (long.direction, long.size, long.average_price) == ("buy", 1000.0, 60_000.0)
    assert long.size_currency == pytest.approx(1000 / 60_000)
    assert long.initial_margin == pytest.approx(1000 / 60_000 / 50)  # 1 / max_leverage
    assert long.maintenance_margin == pytest.approx(1000 / 60_000 / 100)
    assert quiet.portfolio("alice", "BTC").balance == pytest.approx(10 - 0.00000833)

    trade(quiet, "alice", "sell", PERP, amount=1000, price=62_000)
    realized = 1000 * (1 / 60_000 - 1 / 62_000)  # 0.000537634...
    closed = quiet.position("alice", PERP)
    assert (closed.direction, closed.size, closed.average_price) == ("zero", 0.0, 0.0)
    assert closed.realized_profit_loss == pytest.approx(realized)
    alice = quiet.portfolio("alice", "BTC")
    assert alice.balance == pytest.approx(10 + realized - 0.00000833 - 0.00000806)
    assert alice.session_rpl == alice.futures_session_rpl == pytest.approx(realized)
    assert alice.total_pl == pytest.approx(realized)
    assert alice.initial_margin == 0.0
    closing = quiet.user_trades("alice")[-1]
    assert (closing.fee, closing.fee_currency) == (0.00000806, "BTC")
    assert closing.profit_loss == pytest.approx(realized)
    bob = quiet.portfolio("bob", "BTC")
    assert bob.balance == pytest.approx(10 - realized)  # maker fee 0
    assert quiet.position("bob", PERP).realized_profit_loss == pytest.approx(-realized)


def test_inverse_averages_are_harmonic_and_floating_pnl_follows_the_mark(quiet: Market) -> None:
    trade(quiet, "alice", "buy", PERP, amount=1000, price=60_000)
    trade(quiet, "alice", "buy", PERP, amount=1000, price=62_000)
    average = 2000 / (1000 / 60_000 + 1000 / 62_000)  # 60983.6...
    assert quiet.position("alice", PERP).average_price == pytest.approx(average)
    quiet.advance(30.0)
    position = quiet.position("alice", PERP)
    mark = position.mark_price
    assert position.floating_profit_loss == pytest.approx(2000 * (1 / average - 1 / mark))
    short = quiet.position("bob", PERP)
    assert short.direction == "sell"
    assert short.size == -2000.0
    assert short.floating_profit_loss == pytest.approx(-2000 * (1 / average - 1 / mark))
    summary = quiet.portfolio("alice", "BTC")
    assert summary.equity == pytest.approx(summary.balance + position.floating_profit_loss)
    assert summary.delta_total == pytest.approx(2000 / mark)
    assert summary.delta_total_map == {"btc_usd": summary.delta_total}


def test_linear_round_trip(quiet: Market) -> None:
    trade(quiet, "alice", "buy", LINEAR, amount=0.5, price=60_000)
    position = quiet.position("alice", LINEAR)
    assert (position.size, position.size_currency, position.delta) == (0.5, 0.5, 0.5)
    assert position.initial_margin == pytest.approx(0.5 * 60_000 / 50)
    trade(quiet, "alice", "sell", LINEAR, amount=0.5, price=61_000)
    alice = quiet.portfolio("alice", "USDC")
    # realised 0.5 * (61000 - 60000) = 500; fees 0.0005 * 0.5 * 60000 = 15, then 15.25
    assert alice.balance == pytest.approx(1_000_000 + 500 - 15 - 15.25)
    assert alice.session_rpl == pytest.approx(500)
    assert [t.fee for t in quiet.user_trades("alice")] == [15.0, 15.25]
    assert {t.fee_currency for t in quiet.user_trades("alice")} == {"USDC"}
    assert quiet.portfolio("bob", "USDC").balance == pytest.approx(1_000_000 - 500)
    assert quiet.position("alice", LINEAR).direction == "zero"


def test_option_round_trip_moves_premiums(quiet: Market) -> None:
    option = quiet.instruments("BTC", "option")[0].instrument_name
    trade(quiet, "alice", "buy", option, amount=1, price=0.05)
    mark = quiet.ticker(option).mark_price
    alice = quiet.portfolio("alice", "BTC")
    assert alice.balance == pytest.approx(10 - 0.05 - 0.0003)  # premium, then the fee
    assert alice.options_value == pytest.approx(mark)
    assert alice.equity == pytest.approx(alice.balance + mark)
    assert alice.options_session_upl == pytest.approx(mark - 0.05)
    bob = quiet.position("bob", option)
    assert bob.initial_margin == pytest.approx(0.1 + mark)  # a short option
    assert quiet.position("alice", option).initial_margin == 0.0
    trade(quiet, "alice", "sell", option, amount=1, price=0.06)
    alice = quiet.portfolio("alice", "BTC")
    assert alice.balance == pytest.approx(10 - 0.05 + 0.06 - 2 * 0.0003)
    assert alice.options_session_rpl == pytest.approx(0.01)
    assert alice.options_value == 0.0
    assert quiet.portfolio("bob", "BTC").balance == pytest.approx(10 + 0.05 - 0.06 - 2 * 0.0003)


def test_option_fees_are_capped_at_an_eighth_of_the_premium(quiet: Market) -> None:
    option = quiet.instruments("BTC", "option")[0].instrument_name
    trade(quiet, "alice", "buy", option, amount=1, price=0.001)
    assert quiet.user_trades("alice")[0].fee == 0.000125  # not 0.0003


def test_spot_round_trip_moves_both_balances(quiet: Market) -> None:
    trade(quiet, "alice", "buy", SPOT, amount=0.1, price=60_000)
    assert quiet.portfolio("alice", "BTC").balance == pytest.approx(10.1)
    assert quiet.portfolio("alice", "USDC").balance == pytest.approx(1_000_000 - 6_000 - 3)
    trade(quiet, "alice", "sell", SPOT, amount=0.1, price=61_000)
    assert quiet.portfolio("alice", "BTC").balance == pytest.approx(10.0)
    assert quiet.portfolio("alice", "USDC").balance == pytest.approx(1_000_093.95)
    assert quiet.positions("alice") == []  # spot holds balances, not positions
    assert quiet.portfolio("bob", "BTC").balance == pytest.approx(10.0)
    assert quiet.portfolio("bob", "USDC").balance == pytest.approx(1_000_000 + 6_000 - 6_100)


def test_open_orders_reserve_funds(quiet: Market) -> None:
    quiet.sell("alice", SPOT, 1.0, amount=0.2, price=62_000)
    assert quiet.portfolio("alice", "BTC").spot_reserve == pytest.approx(0.2)
    assert quiet.portfolio("alice", "BTC").available_funds == pytest.approx(9.8)
    quiet.buy("alice", PERP, 1.0, amount=6_000, price=60_000)
    summary = quiet.portfolio("alice", "BTC")
    assert summary.initial_margin == pytest.approx(6_000 / 60_000 / 50)
    assert summary.available_funds == pytest.approx(9.8 - 0.002)
    assert quiet.position("alice", PERP).open_orders_margin == pytest.approx(0.002)
    with pytest.raises(MarketError) as info:
        quiet.sell("alice", SPOT, 1.0, amount=9.9, price=62_000)
    assert info.value.reason == "not_enough_funds"


def test_positions_and_portfolios_are_published_after_fills(quiet: Market) -> None:
    quiet.sell("bob", PERP, 1.0, amount=100, price=60_000)
    result = quiet.buy("alice", PERP, 1.0, amount=100, price=60_000)
    portfolios = {(e.account, e.currency) for e in result.events if isinstance(e, Portfolio)}
    assert portfolios == {("alice", "BTC"), ("bob", "BTC")}
    events = quiet.advance(1.5)
    ticking = {(e.account, e.currency) for e in events if isinstance(e, Portfolio)}
    assert ticking == {("alice", "BTC"), ("bob", "BTC")}  # marks move every tick


def test_expiry_settles_positions_at_the_delivery_price(quiet: Market) -> None:
    dated = quiet.instruments("BTC", "future")[1]
    name = dated.instrument_name
    trade(quiet, "alice", "buy", name, amount=1000, price=60_000)
    later = (dated.expiration_timestamp - quiet.config.start_ms) / 1000 + 1
    quiet.advance(later)
    ticker = quiet.ticker(name)
    assert ticker.state == "closed"
    assert ticker.delivery_price is not None
    position = quiet.position("alice", name)
    delivery = ticker.delivery_price
    assert position.size == 0
    assert position.realized_profit_loss == pytest.approx(1000 * (1 / 60_000 - 1 / delivery))


# -- bounded histories --------------------------------------------------------------------


def test_order_and_trade_histories_are_bounded(
    quiet: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_accounts, "MAX_ORDER_HISTORY", 3)
    monkeypatch.setattr(_accounts, "MAX_TRADE_HISTORY", 2)
    ids = []
    for _ in range(5):
        quiet.sell("bob", PERP, 1.0, amount=10, price=60_000)
        ids.append(quiet.buy("alice", PERP, 1.0, amount=10, price=60_000).order.order_id)
    assert [o.order_id for o in quiet.order_history("alice")] == ids[-3:]
    assert len(quiet.user_trades("alice")) == 2
    with pytest.raises(MarketError) as info:
        quiet.order("alice", ids[0])
    assert info.value.reason == "order_not_found"


def test_public_trades_are_bounded(quiet: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_engine, "MAX_PUBLIC_TRADES", 3)
    m = deribit_market(quiet.config)
    for price in (60_000, 60_001, 60_002, 60_003, 60_004):
        m.sell("bob", PERP, 1.0, amount=10, price=price)
        m.buy("alice", PERP, 1.0, amount=10, price=price)
    assert [t.price for t in m.last_trades(PERP, 10)] == [60_002.0, 60_003.0, 60_004.0]
    assert [t.trade_seq for t in m.last_trades(PERP, 2)] == [4, 5]


def test_open_orders_per_account_are_bounded(
    quiet: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_config, "MAX_OPEN_ORDERS", 2)
    for price in (59_000, 59_001):
        quiet.buy("alice", PERP, 1.0, amount=10, price=price)
    with pytest.raises(MarketError) as info:
        quiet.buy("alice", PERP, 1.0, amount=10, price=59_002)
    assert (info.value.reason, info.value.data) == ("other_reject", {"reason": "max_open_orders"})
    ioc = quiet.buy(
        "alice", PERP, 1.0, amount=10, price=59_002, time_in_force="immediate_or_cancel"
    )
    assert ioc.order.order_state == "cancelled"  # an order that cannot rest is still taken
    assert len(quiet.open_orders("alice")) == 2
