"""The reference venue's answers to requests (spec 4.3, 4.4), from the simulated market.

Each handler takes the request's params and account and returns the payload, or raises
:class:`Refusal` with the venue's code.  Shapes follow the notes (ccxt's recorded
samples, spec 4.3); what the notes leave open is ours: order ids are the market's,
``orderId`` strings; balances list every currency of the catalog (``showZeroBalance``
false hides empty ones); ``myTrades`` and ``tradingPositionsHistory`` answer from the
account's records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewire.protocol.currencycom import INTERVALS, js_number

from .. import market as mk
from ._catalog import LEVERAGE_VALUES, LISTINGS

__all__ = ["Methods", "Refusal", "book_payload", "candle_payload"]

_LEVERAGE = {item[0] for item in LISTINGS if item[6]}
_ASSET_TYPE = {item[0]: item[7] for item in LISTINGS}
_KLINE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w")


class Refusal(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_REASONS = {
    "invalid_or_unsupported_instrument": (-1121, "Invalid symbol."),
    "qty_too_low": (-1013, "Filter failure: LOT_SIZE"),
    "invalid_amount": (-1013, "Filter failure: LOT_SIZE"),
    "non_integer_contract_amount": (-1013, "Filter failure: LOT_SIZE"),
    "price_too_low": (-1013, "Filter failure: PRICE_FILTER"),
    "price_too_high": (-1013, "Filter failure: PRICE_FILTER"),
    "invalid_price": (-1128, "Invalid limit price"),
    "not_enough_funds": (-2010, "Account has insufficient balance for requested action."),
    "order_not_found": (-2013, "Order does not exist."),
    "not_open_order": (-2011, "Unknown order sent."),
}


def refusal(error: mk.MarketError) -> Refusal:
    code, message = _REASONS.get(error.reason, (-2010, f"Order rejected: {error.reason}"))
    return Refusal(code, message)


def _number(value: Any, name: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise Refusal(-1102, f"Parameter '{name}' was malformed.") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refusal(-1102, f"Mandatory parameter '{name}' was not sent, or malformed.")
    return float(value)


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise Refusal(-1102, f"Mandatory parameter '{name}' was not sent, or malformed.")
    return value


def book_payload(market: mk.Market, symbol: str, now: float, depth: int = 20) -> dict[str, Any]:
    """A ``marketdepth.event`` payload: the whole book (spec 4.2)."""
    book = market.book(symbol)
    return {
        "symbol": symbol,
        "data": {
            "ts": market.timestamp(now),
            "bid": {js_number(p): q for p, q in book.bids[:depth]},
            "ofr": {js_number(p): q for p, q in book.asks[:depth]},
        },
    }


def candle_payload(
    market: mk.Market, symbol: str, interval: str, kind: str, now: float
) -> dict[str, Any]:
    """An ``ohlc.event`` payload for the running bar; ``interval`` as the client sent it."""
    period = INTERVALS[interval] * 1000
    now_ms = market.timestamp(now)
    start = now_ms - now_ms % period
    candles = market.candles(symbol, start, now_ms, period)
    if candles.ticks:
        o, h, low, c = candles.open[-1], candles.high[-1], candles.low[-1], candles.close[-1]
    else:
        quote = market.quote(symbol)
        mid = quote.best_bid_price or quote.best_ask_price or 0.0
        o = h = low = c = mid
    return {
        "interval": interval,
        "symbol": symbol,
        "type": "classic" if kind == "ohlc" else "heikin-ashi",
        "t": start,
        "o": o,
        "h": h,
        "l": low,
        "c": c,
    }


class Methods:
    """Request answers (see the module docstring)."""

    def __init__(self, market: mk.Market) -> None:
        self.market = market
        self.table: dict[str, Callable[[dict[str, Any], str | None, float, str], Any]] = {
            "time": self._time,
            "exchangeInfo": self._exchange_info,
            "depth": self._depth,
            "ticker/24hr": self._ticker,
            "klines": self._klines,
            "currencies": self._currencies,
            "account": self._account,
            "leverageSettings": self._leverage,
            "order/create": self._create,
            "order/cancel": self._cancel,
            "openOrders": self._open_orders,
            "myTrades": self._my_trades,
            "tradingPositions": self._positions,
            "closeTradingPosition": self._close_position,
        }

    def answer(
        self, name: str, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        handler = self.table.get(name)
        if handler is None:
            raise Refusal(-1020, "This operation is not supported.")
        return handler(params, account, now, transport)

    def _symbol(self, params: dict[str, Any]) -> str:
        symbol = _text(params, "symbol")
        try:
            self.market.instrument(symbol)
        except mk.MarketError:
            raise Refusal(-1121, "Invalid symbol.") from None
        return symbol

    # -- public -----------------------------------------------------------------------------

    def _time(self, params: dict[str, Any], account: str | None, now: float, transport: str) -> Any:
        return {"serverTime": self.market.timestamp(now)}

    def _exchange_info(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        symbols = []
        for instrument in self.market.instruments():
            name = instrument.instrument_name
            leverage = name in _LEVERAGE
            tick, step = instrument.tick_size, instrument.amount_step
            symbols.append(
                {
                    "symbol": name,
                    "name": name,
                    "status": "TRADING",
                    "baseAsset": instrument.base_currency,
                    "baseAssetPrecision": max(0, len(js_number(step).partition(".")[2])),
                    "quoteAsset": instrument.quote_currency,
                    "quoteAssetId": instrument.quote_currency,
                    "quotePrecision": max(0, len(js_number(tick).partition(".")[2])),
                    "orderTypes": ["LIMIT", "MARKET"] + (["STOP"] if leverage else []),
                    "filters": [
                        {
                            "filterType": "LOT_SIZE",
                            "minQty": js_number(step),
                            "maxQty": "1000000",
                            "stepSize": js_number(step),
                        },
                        {"filterType": "MIN_NOTIONAL", "minNotional": "1"},
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": js_number(tick),
                            "maxPrice": "10000000",
                            "tickSize": js_number(tick),
                        },
                        {
                            "filterType": "MARKET_LOT_SIZE",
                            "minQty": js_number(step),
                            "maxQty": "1000000",
                            "stepSize": js_number(step),
                        },
                    ],
                    "marketModes": ["LEVERAGE"] if leverage else ["REGULAR"],
                    "marketType": "LEVERAGE" if leverage else "SPOT",
                    "longRate": -0.013 if leverage else None,
                    "shortRate": -0.007 if leverage else None,
                    "swapChargeInterval": 1440 if leverage else None,
                    "makerFee": instrument.maker_commission * 100,
                    "takerFee": instrument.taker_commission * 100,
                    "exchangeFee": instrument.taker_commission * 100,
                    "tradingFee": instrument.taker_commission * 100,
                    "tickSize": tick,
                    "tickValue": tick,
                    "assetType": _ASSET_TYPE.get(name, "CRYPTOCURRENCY"),
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": self.market.timestamp(now),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 1200,
                },
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 1, "limit": 10},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 864000},
            ],
            "exchangeFilters": [],
            "symbols": symbols,
        }

    def _depth(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        symbol = self._symbol(params)
        limit = int(_number(params.get("limit", 100), "limit"))
        book = self.market.book(symbol)
        return {
            "lastUpdateId": book.change_id,
            "asks": [[p, q] for p, q in book.asks[:limit]],
            "bids": [[p, q] for p, q in book.bids[:limit]],
        }

    def _ticker_of(self, symbol: str, now: float) -> dict[str, Any]:
        ticker = self.market.ticker(symbol)
        stats = ticker.stats
        last = ticker.last_price if ticker.last_price is not None else ticker.mark_price
        now_ms = self.market.timestamp(now)
        return {
            "symbol": symbol,
            "priceChange": js_number(stats.price_change or 0.0),
            "priceChangePercent": js_number(stats.price_change or 0.0),
            "weightedAvgPrice": js_number(last),
            "prevClosePrice": js_number(last),
            "lastPrice": js_number(last),
            "lastQty": "0",
            "bidPrice": js_number(ticker.best_bid_price or 0.0),
            "askPrice": js_number(ticker.best_ask_price or 0.0),
            "openPrice": js_number(last),
            "highPrice": js_number(stats.high if stats.high is not None else last),
            "lowPrice": js_number(stats.low if stats.low is not None else last),
            "volume": js_number(stats.volume),
            "quoteVolume": js_number(stats.volume_usd),
            "openTime": now_ms - 86_400_000,
            "closeTime": now_ms,
        }

    def _ticker(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        if params.get("symbol") is None:
            tickers = [self._ticker_of(i.instrument_name, now) for i in self.market.instruments()]
            return {"tickers": tickers} if transport == "ws" else tickers
        ticker = self._ticker_of(self._symbol(params), now)
        return {"tickers": [ticker]} if transport == "ws" else ticker

    def _klines(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        symbol = self._symbol(params)
        interval = params.get("interval", "1m")
        if interval not in _KLINE_INTERVALS:
            raise Refusal(-1102, "Parameter 'interval' was malformed.")
        limit = int(_number(params.get("limit", 500), "limit"))
        period = INTERVALS[interval] * 1000
        end = int(_number(params.get("endTime", self.market.timestamp(now)), "endTime"))
        start = int(_number(params.get("startTime", end - period * limit), "startTime"))
        candles = self.market.candles(symbol, start, end, period)
        rows = [
            [t, js_number(o), js_number(h), js_number(lo), js_number(c), js_number(v)]
            for t, o, h, lo, c, v in zip(
                candles.ticks,
                candles.open,
                candles.high,
                candles.low,
                candles.close,
                candles.volume,
                strict=True,
            )
        ]
        return rows[-limit:]

    # -- private ----------------------------------------------------------------------------

    def _currencies(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        return [
            {
                "name": c.currency,
                "displaySymbol": c.currency,
                "precision": 8,
                "type": "FIAT" if c.currency == "USD" else "CRYPTO",
                "minWithdrawal": 0.0,
                "commissionMin": 0.0,
                "commissionPercent": 0.0,
                "commissionFixed": 0.0,
            }
            for c in self.market.currencies()
        ]

    def _account(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        assert account is not None
        show_zero = params.get("showZeroBalance") in (True, "true")
        balances = []
        for currency in self.market.currencies():
            portfolio = self.market.portfolio(account, currency.currency)
            free = round(portfolio.available_funds, 8)
            locked = round(max(0.0, portfolio.balance - portfolio.available_funds), 8)
            if free == 0 and locked == 0 and not show_zero:
                continue
            balances.append(
                {
                    "accountId": account,
                    "collateralCurrency": currency.currency == "USD",
                    "asset": currency.currency,
                    "free": free,
                    "locked": locked,
                    "default": currency.currency == "USD",
                }
            )
        return {
            "makerCommission": 0.2,
            "takerCommission": 0.2,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "updateTime": self.market.timestamp(now),
            "balances": balances,
        }

    def _leverage(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        symbol = self._symbol(params)
        if symbol not in _LEVERAGE:
            raise Refusal(-1128, f"Only leverage symbol allowed here: {symbol}")
        return {"values": list(LEVERAGE_VALUES), "value": max(LEVERAGE_VALUES)}

    def _order(self, order: mk.Order, now: float) -> dict[str, Any]:
        status = {
            "open": "NEW",
            "filled": "FILLED",
            "cancelled": "CANCELED",
            "rejected": "REJECTED",
        }
        state = status.get(order.order_state, order.order_state.upper())
        if state == "NEW" and order.filled_amount:
            state = "PARTIALLY_FILLED"
        return {
            "symbol": order.instrument_name,
            "orderId": order.order_id,
            "clientOrderId": order.label or order.order_id,
            "transactTime": self.market.timestamp(now),
            "price": order.price if order.order_type == "limit" else order.average_price,
            "origQty": order.amount,
            "executedQty": order.filled_amount,
            "status": state,
            "timeInForce": {
                "good_til_cancelled": "GTC",
                "immediate_or_cancel": "IOC",
                "fill_or_kill": "FOK",
            }.get(order.time_in_force, "GTC"),
            "type": order.order_type.upper(),
            "side": order.direction.upper(),
            "accountId": order.account,
        }

    def _create(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        assert account is not None
        symbol = self._symbol(params)
        side = str(params.get("side", "")).upper()
        kind = str(params.get("type", "")).upper()
        if side not in ("BUY", "SELL"):
            raise Refusal(-1102, "Mandatory parameter 'side' was not sent, or malformed.")
        if kind not in ("LIMIT", "MARKET", "STOP"):
            raise Refusal(-1102, "Mandatory parameter 'type' was not sent, or malformed.")
        leverage = symbol in _LEVERAGE
        if kind == "STOP" and not leverage:
            raise Refusal(-1128, "Combination of parameters invalid")
        if params.get("leverage") is not None and not leverage:
            raise Refusal(-1128, f"Only leverage symbol allowed here: {symbol}")
        quantity = _number(params.get("quantity"), "quantity")
        price = (
            _number(params["price"], "price") if kind != "MARKET" and "price" in params else None
        )
        if kind != "MARKET" and price is None:
            raise Refusal(-1102, "Mandatory parameter 'price' was not sent, or malformed.")
        tif = {
            "GTC": "good_til_cancelled",
            "IOC": "immediate_or_cancel",
            "FOK": "fill_or_kill",
        }.get(str(params.get("timeInForce", "GTC")).upper())
        if tif is None:
            raise Refusal(-1102, "Parameter 'timeInForce' was malformed.")
        order_type = {"MARKET": "market", "STOP": "stop_limit"}.get(kind, "limit")
        try:
            execution = self.market.place(
                account, symbol, side.lower(), now, amount=quantity, type=order_type,
                price=price, time_in_force=tif if kind != "MARKET" else "good_til_cancelled",
            )  # fmt: skip
        except mk.MarketError as error:
            raise refusal(error) from None
        self.last_events = execution.events
        result = self._order(execution.order, now)
        result["fills"] = [
            {
                "price": t.price,
                "qty": t.amount,
                "commission": t.fee,
                "commissionAsset": t.fee_currency,
            }
            for t in execution.trades
        ]
        return result

    last_events: tuple[mk.MarketEvent, ...] = ()

    def _cancel(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        assert account is not None
        self._symbol(params)
        order_id = _text(params, "orderId")
        try:
            cancelled = self.market.cancel(account, order_id, now)
        except mk.MarketError as error:
            raise refusal(error) from None
        self.last_events = cancelled.events
        return self._order(cancelled.orders[0], now)

    def _open_orders(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        assert account is not None
        symbol = params.get("symbol")
        orders = (
            self.market.open_orders(account, instrument_name=symbol)
            if symbol
            else self.market.open_orders(account)
        )
        return [self._order(o, now) for o in orders]

    def _my_trades(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        assert account is not None
        symbol = self._symbol(params)
        return [
            {
                "symbol": t.instrument_name,
                "id": t.trade_id,
                "orderId": t.order_id,
                "price": t.price,
                "qty": t.amount,
                "commission": t.fee,
                "commissionAsset": t.fee_currency,
                "time": t.timestamp,
                "buyer": t.direction == "buy",
                "maker": t.liquidity == "M",
            }
            for t in self.market.user_trades(account, symbol)
        ]

    def _positions(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        assert account is not None
        positions = []
        for p in self.market.positions(account):
            if not p.size:
                continue
            positions.append(
                {
                    "id": f"{account}:{p.instrument_name}",
                    "accountId": account,
                    "symbol": p.instrument_name,
                    "state": "ACTIVE",
                    "openQuantity": p.size,
                    "openPrice": p.average_price,
                    "closeQuantity": 0.0,
                    "closePrice": p.mark_price,
                    "takeProfit": None,
                    "stopLoss": None,
                    "guaranteedStopLoss": False,
                    "trailingStopLoss": False,
                    "profitAndLoss": p.floating_profit_loss,
                }
            )
        return {"positions": positions}

    def _close_position(
        self, params: dict[str, Any], account: str | None, now: float, transport: str
    ) -> Any:
        assert account is not None
        position_id = _text(params, "positionId")
        owner, _, symbol = position_id.partition(":")
        if owner != account:
            raise Refusal(-1128, "Can not find position")
        try:
            position = self.market.position(account, symbol)
        except mk.MarketError:
            raise Refusal(-1128, "Can not find position") from None
        if not position.size:
            raise Refusal(-1128, "Can not find position")
        side = "sell" if position.size > 0 else "buy"
        try:
            execution = self.market.place(
                account, symbol, side, now, amount=abs(position.size), type="market"
            )
        except mk.MarketError as error:
            raise refusal(error) from None
        self.last_events = execution.events
        return {"request": {"id": position_id, "state": "PROCESSED"}}
