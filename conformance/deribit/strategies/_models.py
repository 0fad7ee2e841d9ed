"""Wire models as the venue fills them: tickers, orders, trades, positions, accounts.

Each model's fields agree with each other (an option ticker has greeks, a filled
amount never exceeds the amount), since notifications and results reuse them.
"""

from __future__ import annotations

import functools
import string

import msgspec
from hypothesis import strategies as st

from tradewire.protocol._secrets import Secret
from tradewire.protocol.deribit import (
    KINDS,
    ORDER_TYPES,
    TIME_IN_FORCE,
    TRIGGERS,
    AccountSummary,
    AuthResult,
    Greeks,
    Instrument,
    Order,
    Position,
    PublicTrade,
    Ticker,
    TickerStats,
    UserTrade,
)

from ._names import currencies, index_names, instrument_names
from ._values import (
    _amounts,
    _choice,
    _floats,
    _labels,
    _maybe,
    _order_ids,
    _prices,
    _scopes,
    _text,
    _timestamps,
    _token,
)

__all__ = [
    "account_summaries",
    "auth_results",
    "instruments",
    "orders",
    "positions",
    "public_trades",
    "tickers",
    "user_trades",
]


@functools.cache
def _stats() -> st.SearchStrategy[TickerStats]:
    return st.builds(
        TickerStats,
        high=_maybe(_prices()),
        low=_maybe(_prices()),
        price_change=_maybe(_floats(-100, 100)),
        volume=_maybe(_amounts()),
        volume_usd=_maybe(_amounts()),
    )


@functools.cache
def _greeks() -> st.SearchStrategy[Greeks]:
    return st.builds(
        Greeks,
        delta=_floats(-1, 1),
        gamma=_floats(0, 1),
        rho=_floats(-1000, 1000),
        theta=_floats(-1e5, 0),
        vega=_floats(0, 1e5),
    )


@st.composite
def tickers(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> Ticker:
    """``Ticker`` models (``ticker.*`` data, ``public/ticker`` results): options get
    greeks and implied volatilities, futures funding fields; an empty side has a
    ``None`` best price."""
    name = draw(instrument if instrument is not None else instrument_names())
    mark = draw(_prices())
    option = name.endswith(("-C", "-P"))
    ticker = Ticker(
        instrument_name=name,
        timestamp=draw(_timestamps()),
        state=draw(st.sampled_from(("open", "open", "closed"))),
        best_bid_price=draw(_maybe(_prices())),
        best_bid_amount=draw(_amounts()),
        best_ask_price=draw(_maybe(_prices())),
        best_ask_amount=draw(_amounts()),
        last_price=draw(_maybe(_prices())),
        mark_price=mark,
        index_price=draw(_prices()),
        min_price=mark * 0.95,
        max_price=mark * 1.05,
        stats=draw(_stats()),
        estimated_delivery_price=draw(_maybe(_prices())),
        settlement_price=draw(_maybe(_prices())),
        open_interest=draw(_maybe(_amounts())),
    )
    if option:
        ticker = msgspec.structs.replace(
            ticker,
            greeks=draw(_greeks()),
            mark_iv=draw(_floats(0, 500)),
            bid_iv=draw(_floats(0, 500)),
            ask_iv=draw(_floats(0, 500)),
            underlying_price=draw(_prices()),
            underlying_index=draw(st.sampled_from(("index_price", "SYN.BTC-5AUG23"))),
            interest_rate=0.0,
        )
    elif name.endswith("PERPETUAL"):
        ticker = msgspec.structs.replace(
            ticker,
            current_funding=draw(_floats(-0.01, 0.01)),
            funding_8h=draw(_floats(-0.01, 0.01)),
            interest_value=draw(_floats(-10, 10)),
        )
    return ticker


@st.composite
def orders(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> Order:
    """``Order`` models in any state: filled amounts never exceed the amount, an
    untriggered market stop prices at ``"market_price"``."""
    amount = draw(_amounts())
    filled = draw(st.sampled_from((0.0, amount, amount / 2)))
    order_type = draw(_choice(ORDER_TYPES))
    state = draw(st.sampled_from(("open", "filled", "cancelled", "rejected", "untriggered")))
    price: float | str = draw(_prices())
    if order_type in ("stop_market", "take_market") and state == "untriggered":
        price = "market_price"
    created = draw(_timestamps())
    order = Order(
        order_id=draw(_order_ids()),
        instrument_name=draw(instrument if instrument is not None else instrument_names()),
        direction=draw(st.sampled_from(("buy", "sell"))),
        amount=amount,
        filled_amount=filled,
        average_price=0.0 if filled == 0 else draw(_prices()),
        price=price,
        order_type=order_type,
        order_state=state,
        time_in_force=draw(_choice(TIME_IN_FORCE)),
        label=draw(st.one_of(st.just(""), _labels())),
        post_only=draw(st.booleans()),
        reduce_only=draw(st.booleans()),
        replaced=draw(st.booleans()),
        api=draw(st.booleans()),
        web=draw(st.booleans()),
        creation_timestamp=created,
        last_update_timestamp=created + draw(st.integers(0, 10**7)),
    )
    extra = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "max_show": _amounts(),
                "is_liquidation": st.booleans(),
                "contracts": _amounts(),
                "trigger": _choice(TRIGGERS),
                "trigger_price": _prices(),
                "cancel_reason": st.sampled_from(("user_request", "cancel_on_disconnect")),
                "mmp": st.booleans(),
                "risk_reducing": st.booleans(),
                "app_name": _text(1, 16),
            },
        )
    )
    return msgspec.structs.replace(order, **extra) if extra else order


@st.composite
def public_trades(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> PublicTrade:
    """``PublicTrade`` models (``trades.*``); options carry ``iv``, some are liquidations."""
    name = draw(instrument if instrument is not None else instrument_names())
    prefix = "" if name.startswith("BTC-") else name.split("-")[0].split("_")[-1] + "-"
    return PublicTrade(
        trade_id=f"{prefix}{draw(st.integers(1, 10**9))}",
        trade_seq=draw(st.integers(1, 10**9)),
        timestamp=draw(_timestamps()),
        instrument_name=name,
        price=draw(_prices()),
        amount=draw(_amounts()),
        direction=draw(st.sampled_from(("buy", "sell"))),
        tick_direction=draw(st.integers(0, 3)),
        mark_price=draw(_prices()),
        index_price=draw(_prices()),
        iv=draw(_floats(0, 500)) if name.endswith(("-C", "-P")) else None,
        liquidation=draw(_maybe(st.sampled_from(("M", "T", "MT")))),
    )


@st.composite
def user_trades(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> UserTrade:
    """``UserTrade`` models (``user.trades.*``, ``trades`` of order results)."""
    trade = draw(public_trades(instrument))
    fields = msgspec.structs.asdict(trade)
    return UserTrade(
        **fields,
        order_id=draw(_order_ids()),
        order_type=draw(st.sampled_from(("limit", "market", "liquidation"))),
        state=draw(st.sampled_from(("filled", "open"))),
        fee=draw(_floats(-1, 1)),
        fee_currency=draw(currencies()),
        liquidity=draw(st.sampled_from(("M", "T"))),
        post_only=draw(_maybe(st.booleans())),
        reduce_only=draw(_maybe(st.booleans())),
        label=draw(_maybe(_labels())),
        profit_loss=draw(_maybe(_floats())),
    )


@st.composite
def positions(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> Position:
    """``Position`` models (``user.changes.*``, ``private/get_position*``)."""
    size = draw(_floats(-1e7, 1e7))
    return Position(
        instrument_name=draw(instrument if instrument is not None else instrument_names()),
        kind=draw(_choice(KINDS)),
        direction="zero" if size == 0 else ("buy" if size > 0 else "sell"),
        size=size,
        average_price=draw(_prices()),
        mark_price=draw(_prices()),
        index_price=draw(_prices()),
        floating_profit_loss=draw(_floats()),
        total_profit_loss=draw(_floats()),
        initial_margin=draw(_floats(0)),
        maintenance_margin=draw(_floats(0)),
        delta=draw(_floats()),
        leverage=draw(_maybe(st.integers(1, 100).map(float))),
        estimated_liquidation_price=draw(_maybe(_prices())),
    )


@st.composite
def account_summaries(
    draw: st.DrawFn, currency: st.SearchStrategy[str] | None = None
) -> AccountSummary:
    """``AccountSummary`` models (``user.portfolio.*``, ``private/get_account_summary``)."""
    balance = draw(_floats(0, 1e7))
    return AccountSummary(
        currency=draw(currency if currency is not None else currencies()),
        balance=balance,
        equity=balance + draw(_floats(-1e3, 1e3)),
        available_funds=draw(_floats(0, 1e7)),
        margin_balance=draw(_floats(0, 1e7)),
        initial_margin=draw(_floats(0, 1e6)),
        maintenance_margin=draw(_floats(0, 1e6)),
        delta_total=draw(_maybe(_floats())),
        delta_total_map=draw(_maybe(st.dictionaries(index_names(), _floats(), max_size=3))),
        margin_model=draw(_maybe(st.sampled_from(("segregated_sm", "cross_pm", "cross_sm")))),
        portfolio_margining_enabled=draw(_maybe(st.booleans())),
        limits=draw(_maybe(st.just({"non_matching_engine": {"burst": 1500, "rate": 1000}}))),
    )


@st.composite
def auth_results(draw: st.DrawFn) -> AuthResult:
    """``AuthResult`` models: tokens as ``Secret``, the granted scope, the lifetime."""
    return AuthResult(
        access_token=Secret(draw(_token())),
        refresh_token=Secret(draw(_token())),
        expires_in=draw(st.integers(1, 31_536_000)),
        scope=draw(_scopes()),
        token_type="bearer",
        enabled_features=draw(
            st.lists(
                st.sampled_from(("restricted_block_trades", "block_trade_approval")), unique=True
            )
        ),
        sid=draw(_maybe(st.text(string.ascii_letters + string.digits, min_size=4, max_size=12))),
        state=draw(_maybe(_text(1, 16))),
    )


@st.composite
def instruments(draw: st.DrawFn) -> Instrument:
    """``Instrument`` models whose fields agree with the name (kind, option type,
    strike, settlement period, linearity)."""
    name = draw(instrument_names())
    linear = "_" in name.split("-")[0]
    spot = "-" not in name
    option = name.endswith(("-C", "-P"))
    perpetual = name.endswith("PERPETUAL")
    base = name.split("-")[0].split("_")[0]
    created = draw(_timestamps())
    instrument = Instrument(
        instrument_name=name,
        kind="spot" if spot else ("option" if option else "future"),
        base_currency=base,
        quote_currency=name.split("-")[0].split("_")[1] if linear else "USD",
        tick_size=draw(st.sampled_from((0.5, 0.05, 0.0001, 2.5))),
        min_trade_amount=draw(st.sampled_from((10.0, 1.0, 0.1, 0.001))),
        contract_size=draw(st.sampled_from((10.0, 1.0, 0.001))),
        is_active=draw(st.booleans()),
        creation_timestamp=created,
        expiration_timestamp=32_503_708_800_000 if perpetual or spot else created + 10**9,
        instrument_id=draw(st.integers(1, 10**6)),
        instrument_type="linear" if linear else "reversed",
        settlement_currency=None if spot else ("USDC" if linear else base),
        settlement_period=None if spot else ("perpetual" if perpetual else "month"),
        price_index=f"{base.lower()}_usd",
        taker_commission=0.0005,
        maker_commission=0.0,
    )
    if option:
        strike = name.split("-")[2].replace("d", ".")
        instrument = msgspec.structs.replace(
            instrument,
            option_type="call" if name.endswith("-C") else "put",
            strike=float(strike),
        )
    return instrument
