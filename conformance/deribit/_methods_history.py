"""The methods real clients call beyond spec 5-6 (the table in spec 8.2), answered from the
simulated market and its seeded past (``tradewire.conformance.market._history``).

=============================================== ===========================================
method                                          answer
=============================================== ===========================================
``public/get_book_summary_by_currency``         one summary per active instrument filed
                                                under ``currency`` (and ``kind``): the
                                                ticker's best bid/ask, mid, last, 24 h
                                                high/low/volume, mark, open interest; funding
                                                for perpetuals, IV for options
``public/get_last_trades_by_currency``          the public trades kept of the currency's
                                                instruments (``kind``), filtered by trade id
                                                or time, ``count`` (default 10, at most
                                                1000), ``sorting`` (``asc``: oldest first;
                                                otherwise newest first); ``{trades,
                                                has_more}``
``public/get_historical_volatility``            ``[[timestamp, percent], ...]`` hourly, from
                                                the currency's ``{cur}_usd`` index
``public/get_instrument``                       the instrument (expired ones too)
``public/get_funding_rate_value``               the funding accrued by a perpetual over
                                                ``(start_timestamp, end_timestamp]``
``public/get_funding_rate_history``             hourly ``{timestamp, index_price,
                                                prev_index_price, interest_8h,
                                                interest_1h}`` in the range (at most 744)
``public/get_tradingview_chart_data``           candles of the public trades kept:
                                                ``{status, ticks, open, high, low, close,
                                                volume, cost}``; ``resolution`` in minutes
                                                (1 3 5 10 15 30 60 120 180 360 720) or ``1D``
``private/get_subaccounts``                     the key's main account (and the subaccounts
                                                it may switch to); ``with_portfolio`` adds
                                                each currency's balances (``account:read``)
``private/get_settlement_history_by_currency``  the account's positions settled at expiry
                                                (type ``delivery``), newest first, ``count``
                                                default 20; ``{settlements, continuation}``
                                                (``trade:read``)
``private/get_current_deposit_address``         ``{address, currency, type: "deposit",
                                                creation_timestamp, status,
                                                requires_confirmation}``: an address made up
                                                from the seed, the account and the currency
                                                (a ``bcrt1q...`` for BTC, ``0x...`` else;
                                                it receives nothing) (``wallet:read``)
=============================================== ===========================================

Result shapes follow Deribit's API reference (spec 8.4): the fields it marks required
are always present (``null`` where the reference says so: no bid, no
trade yet), the optional ones only where they apply.  Where the reference and the live
venue disagree, the live shape wins: historical volatility comes as ``[timestamp,
value]`` pairs, the shape Deribit sends and ccxt reads, not the objects of the
reference's schema.  Our choices where the reference is open: a funding method for an
instrument that is not a perpetual is 11029 ``invalid_arguments`` naming
``instrument_name``; ``get_historical_volatility`` for a currency without a ``_usd``
index is -32602.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from tradewire.protocol.deribit import (
    Instrument,
    PublicTrade,
    TradesPage,
)
from tradewire.protocol.deribit.server import (
    RequestReceived,
)

from .. import market as mk
from ._answers import (
    Answer,
    bool_param,
    int_param,
    invalid,
    optional_int_param,
    require,
    text_param,
)
from ._wire import convert, summary

__all__ = ["HISTORY_METHODS", "BookSummary", "HistoryMethods"]

MAX_TRADES = 1000
MAX_FUNDING_HOURS = 744
RESOLUTIONS = {
    **{str(m): m * 60_000 for m in (1, 3, 5, 10, 15, 30, 60, 120, 180, 360, 720)},
    "1D": 86_400_000,
}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

Handler = Callable[[Mapping[str, Any], RequestReceived], Answer]


class BookSummary(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One element of ``public/get_book_summary_by_currency``."""

    instrument_name: str
    base_currency: str
    quote_currency: str
    volume: float
    volume_usd: float
    bid_price: float | None
    ask_price: float | None
    mid_price: float | None
    mark_price: float
    last: float | None
    high: float | None
    low: float | None
    price_change: float | None
    creation_timestamp: int
    open_interest: float | None = None
    volume_notional: float | None = None
    estimated_delivery_price: float | None = None
    current_funding: float | None = None
    funding_8h: float | None = None
    mark_iv: float | None = None
    interest_rate: float | None = None
    underlying_index: str | None = None
    underlying_price: float | None = None


def _trade_number(trade_id: str) -> int:
    """``"2696532"`` / ``"ETH-123"`` as the number to compare ranges by."""
    tail = trade_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


_HANDLERS = {
    "public/get_book_summary_by_currency": "_book_summaries",
    "public/get_last_trades_by_currency": "_trades_by_currency",
    "public/get_historical_volatility": "_historical_volatility",
    "public/get_instrument": "_instrument",
    "public/get_funding_rate_value": "_funding_value",
    "public/get_funding_rate_history": "_funding_history",
    "public/get_tradingview_chart_data": "_chart",
    "private/get_subaccounts": "_subaccounts",
    "private/get_settlement_history_by_currency": "_settlements",
    "private/get_current_deposit_address": "_deposit_address",
}

HISTORY_METHODS = frozenset(_HANDLERS)
"""The method names answered here (the venue lets them through its server machine)."""


class HistoryMethods:
    """Answers the methods of the module docstring on ``market`` (addresses from its
    seed)."""

    def __init__(self, market: mk.Market) -> None:
        self.market = market
        self.seed = market.config.seed

    def table(self) -> dict[str, Handler]:
        """Method name -> handler (``handler(params, event) -> Answer``)."""
        handlers: dict[str, Handler] = {
            method: getattr(self, name) for method, name in _HANDLERS.items()
        }
        return handlers

    def _currency(self, params: Mapping[str, Any]) -> str:
        currency = text_param(params, "currency")
        known = [c.currency for c in self.market.currencies()]
        if currency not in known and currency != "any":
            raise invalid("currency", f"expected one of {', '.join(known)}")
        return currency

    @staticmethod
    def _kind(params: Mapping[str, Any]) -> str | None:
        kind = params.get("kind")
        if kind in (None, "any"):
            return None
        if kind not in ("future", "option", "spot", "future_combo", "option_combo", "combo"):
            raise invalid("kind", "expected future, option, spot or any")
        return str(kind)

    def _now_ms(self) -> int:
        return self.market.now_ms

    # -- public ---------------------------------------------------------------------------

    def _book_summaries(self, params: Mapping[str, Any], _: RequestReceived) -> Answer:
        currency = self._currency(params)
        kind = self._kind(params)
        market = self.market
        now_ms = self._now_ms()
        out = []
        for info in market.instruments(None if currency == "any" else currency, kind):
            ticker = market.ticker(info.instrument_name)
            bid, ask = ticker.best_bid_price, ticker.best_ask_price
            stats = ticker.stats
            derivative = info.kind != "spot"
            notional = None
            if info.kind != "option":
                notional = stats.volume_usd if info.quote_currency in ("USD", "USDC") else None
            out.append(
                BookSummary(
                    instrument_name=info.instrument_name,
                    base_currency=info.base_currency,
                    quote_currency=info.quote_currency,
                    volume=stats.volume,
                    volume_usd=stats.volume_usd,
                    volume_notional=notional,
                    bid_price=bid,
                    ask_price=ask,
                    mid_price=None if bid is None or ask is None else (bid + ask) / 2,
                    mark_price=ticker.mark_price,
                    last=ticker.last_price,
                    high=stats.high,
                    low=stats.low,
                    price_change=stats.price_change,
                    creation_timestamp=now_ms,
                    open_interest=float(ticker.open_interest) if derivative else None,
                    estimated_delivery_price=(
                        ticker.estimated_delivery_price if derivative else None
                    ),
                    current_funding=ticker.current_funding,
                    funding_8h=ticker.funding_8h,
                    mark_iv=ticker.mark_iv,
                    interest_rate=ticker.interest_rate,
                    underlying_index=ticker.underlying_index,
                    underlying_price=ticker.underlying_price,
                )
            )
        return Answer(result=out)

    def _trades_by_currency(self, params: Mapping[str, Any], _: RequestReceived) -> Answer:
        currency = self._currency(params)
        kind = self._kind(params)
        start_id, end_id = params.get("start_id"), params.get("end_id")
        start_ts = optional_int_param(params, "start_timestamp")
        end_ts = optional_int_param(params, "end_timestamp")
        count = int_param(params, "count", 10)
        if count > MAX_TRADES:
            raise invalid("count", f"expected an integer from 1 to {MAX_TRADES}")
        kept = [
            t
            for t in self.market.trades(None if currency == "any" else currency, kind)
            if (start_id is None or _trade_number(t.trade_id) >= _trade_number(str(start_id)))
            and (end_id is None or _trade_number(t.trade_id) <= _trade_number(str(end_id)))
            and (start_ts is None or t.timestamp >= start_ts)
            and (end_ts is None or t.timestamp <= end_ts)
        ]
        if params.get("sorting") == "asc" or (start_ts is not None and end_ts is None):
            page = kept[:count]  # from the earliest, as the reference says for start_*
        else:
            page = kept[-count:][::-1]
        if params.get("sorting") == "asc":
            page.sort(key=lambda t: t.timestamp)
        trades = [convert(t, PublicTrade) for t in page]
        return Answer(result=TradesPage(trades=trades, has_more=len(kept) > count))

    def _historical_volatility(self, params: Mapping[str, Any], _: RequestReceived) -> Answer:
        currency = self._currency(params)
        index = f"{currency.lower()}_usd"
        if index not in self.market.index_names():
            raise invalid("currency", "no historical volatility for this currency")
        return Answer(result=[[at, value] for at, value in self.market.volatility_history(index)])

    def _instrument(self, params: Mapping[str, Any], _: RequestReceived) -> Answer:
        name = text_param(params, "instrument_name")
        return Answer(result=convert(self.market.instrument(name), Instrument))

    def _range(self, params: Mapping[str, Any]) -> tuple[str, int, int]:
        name = text_param(params, "instrument_name")
        start = optional_int_param(params, "start_timestamp")
        end = optional_int_param(params, "end_timestamp")
        if start is None:
            raise invalid("start_timestamp", "required")
        if end is None:
            raise invalid("end_timestamp", "required")
        return name, start, end

    def _funding_value(self, params: Mapping[str, Any], _: RequestReceived) -> Answer:
        name, start, end = self._range(params)
        return Answer(result=self.market.funding_value(name, start, end))

    def _funding_history(self, params: Mapping[str, Any], _: RequestReceived) -> Answer:
        name, start, end = self._range(params)
        rates = self.market.funding_history(name, start, end)[-MAX_FUNDING_HOURS:]
        return Answer(result=[msgspec.to_builtins(rate) for rate in rates])

    def _chart(self, params: Mapping[str, Any], _: RequestReceived) -> Answer:
        name, start, end = self._range(params)
        resolution = str(params.get("resolution", ""))
        period = RESOLUTIONS.get(resolution)
        if period is None:
            raise invalid(
                "resolution", "expected 1, 3, 5, 10, 15, 30, 60, 120, 180, 360, 720 or 1D"
            )
        return Answer(result=msgspec.to_builtins(self.market.candles(name, start, end, period)))

    # -- private --------------------------------------------------------------------------

    def _subaccounts(self, params: Mapping[str, Any], event: RequestReceived) -> Answer:
        require(event, "account", 1)
        with_portfolio = bool_param(params, "with_portfolio")
        username = event.client_id or str(event.account_id)
        account = str(event.account_id)
        entry: dict[str, Any] = {
            "id": event.account_id,
            "username": username,
            "email": f"{username}@tradewire.invalid",
            "system_name": username,
            "type": "main",
            "is_password": True,
            "login_enabled": True,
            "receive_notifications": False,
            "security_keys_enabled": False,
            "tfa_enabled": False,
            "margin_model": "cross_sm",
        }
        if with_portfolio:
            entry["portfolio"] = {
                cur.currency.lower(): _portfolio(self.market.portfolio(account, cur.currency))
                for cur in self.market.currencies()
            }
        return Answer(result=[entry])

    def _settlements(self, params: Mapping[str, Any], event: RequestReceived) -> Answer:
        require(event, "trade", 1)
        currency = self._currency(params)
        count = int_param(params, "count", 20)
        if count > MAX_TRADES:
            raise invalid("count", f"expected an integer from 1 to {MAX_TRADES}")
        wanted = params.get("type")
        if wanted not in (None, "settlement", "delivery", "bankruptcy"):
            raise invalid("type", "expected settlement, delivery or bankruptcy")
        before = optional_int_param(params, "search_start_timestamp")
        records = self.market.settlements(
            str(event.account_id), None if currency == "any" else currency
        )
        kept = [
            s
            for s in reversed(records)
            if (wanted is None or s.type == wanted) and (before is None or s.timestamp <= before)
        ]
        rows = []
        for record in kept[:count]:
            row = msgspec.to_builtins(record)
            del row["account"]
            rows.append(row)
        return Answer(result={"settlements": rows, "continuation": None})

    def _deposit_address(self, params: Mapping[str, Any], event: RequestReceived) -> Answer:
        require(event, "wallet", 1)
        currency = self._currency(params)
        if currency == "any":
            raise invalid("currency", "expected one currency")
        account = str(event.account_id)
        digest = hashlib.sha256(f"{self.seed}/{account}/{currency}".encode()).digest()
        if currency == "BTC":
            address = "bcrt1q" + "".join(_BECH32[b % 32] for b in digest[:32])[:38]
        else:
            address = "0x" + digest[:20].hex()
        created = self.market.portfolio(account, currency).creation_timestamp
        result = {
            "address": address,
            "currency": currency,
            "type": "deposit",
            "creation_timestamp": created,
            "status": "ready",
            "requires_confirmation": True,
        }
        return Answer(result=result)


def _portfolio(record: mk.Portfolio) -> dict[str, Any]:
    """A currency of ``get_subaccounts``'s ``portfolio``."""
    full = msgspec.to_builtins(summary(record))
    fields = (
        "currency", "balance", "equity", "available_funds", "available_withdrawal_funds",
        "initial_margin", "maintenance_margin", "margin_balance", "additional_reserve",
        "spot_reserve",
    )  # fmt: skip
    return {name: full[name] for name in fields if name in full}
