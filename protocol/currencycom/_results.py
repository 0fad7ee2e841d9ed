"""Typed answers of the REST-over-WebSocket destinations (spec 4.3, 4.4), lenient: every
field the venue might leave out has a default, unknown fields are ignored, numbers that
the venue writes as strings in some answers (the ticker's) stay strings."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "Account",
    "Balance",
    "ExchangeInfo",
    "LeverageSettings",
    "OrderResult",
    "ServerTime",
    "Symbol",
    "Ticker24h",
    "TickerList",
    "TradingPosition",
    "TradingPositions",
]


class ServerTime(msgspec.Struct, frozen=True, kw_only=True):
    serverTime: int


class Symbol(msgspec.Struct, frozen=True, kw_only=True):
    """One market of ``exchangeInfo``; ``marketType`` is ``SPOT`` or ``LEVERAGE``."""

    symbol: str
    name: str | None = None
    status: str | None = None
    baseAsset: str | None = None
    quoteAsset: str | None = None
    marketType: str | None = None
    tickSize: float | None = None
    baseAssetPrecision: int | None = None
    quotePrecision: int | None = None
    makerFee: float | None = None
    takerFee: float | None = None
    exchangeFee: float | None = None
    tradingFee: float | None = None
    assetType: str | None = None
    marketModes: list[str] = msgspec.field(default_factory=list)
    filters: list[dict[str, Any]] = msgspec.field(default_factory=list)


class ExchangeInfo(msgspec.Struct, frozen=True, kw_only=True):
    timezone: str | None = None
    serverTime: int | None = None
    rateLimits: list[dict[str, Any]] = msgspec.field(default_factory=list)
    symbols: list[Symbol] = msgspec.field(default_factory=list)


class Ticker24h(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    lastPrice: str | float | None = None
    bidPrice: str | float | None = None
    askPrice: str | float | None = None
    openPrice: str | float | None = None
    highPrice: str | float | None = None
    lowPrice: str | float | None = None
    volume: str | float | None = None
    quoteVolume: str | float | None = None
    priceChange: str | float | None = None
    priceChangePercent: str | float | None = None
    openTime: int | None = None
    closeTime: int | None = None


class TickerList(msgspec.Struct, frozen=True, kw_only=True):
    """``/api/v1/ticker/24hr`` over WebSocket: ``{"tickers": [...]}`` (spec 4.3)."""

    tickers: list[Ticker24h] = msgspec.field(default_factory=list)


class Balance(msgspec.Struct, frozen=True, kw_only=True):
    asset: str
    free: float = 0.0
    locked: float = 0.0
    accountId: str | int | None = None
    collateralCurrency: bool | None = None
    default: bool | None = None


class Account(msgspec.Struct, frozen=True, kw_only=True):
    makerCommission: float | None = None
    takerCommission: float | None = None
    buyerCommission: float | None = None
    sellerCommission: float | None = None
    canTrade: bool | None = None
    canWithdraw: bool | None = None
    canDeposit: bool | None = None
    updateTime: int | None = None
    balances: list[Balance] = msgspec.field(default_factory=list)


class LeverageSettings(msgspec.Struct, frozen=True, kw_only=True):
    values: list[int] = msgspec.field(default_factory=list)
    value: int | None = None


class OrderResult(msgspec.Struct, frozen=True, kw_only=True):
    """An order as ``order/create`` and ``order/cancel`` answer it (Binance-like)."""

    orderId: str
    symbol: str | None = None
    clientOrderId: str | None = None
    transactTime: int | None = None
    price: float | None = None
    origQty: float | None = None
    executedQty: float | None = None
    status: str | None = None
    timeInForce: str | None = None
    type: str | None = None
    side: str | None = None
    accountId: str | None = None
    fills: list[dict[str, Any]] = msgspec.field(default_factory=list)


class TradingPosition(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    symbol: str | None = None
    state: str | None = None
    accountId: str | None = None
    openQuantity: float | None = None
    closeQuantity: float | None = None
    openPrice: float | None = None
    closePrice: float | None = None
    takeProfit: float | None = None
    stopLoss: float | None = None
    guaranteedStopLoss: bool | None = None
    trailingStopLoss: bool | None = None
    createdTimestamp: int | None = None


class TradingPositions(msgspec.Struct, frozen=True, kw_only=True):
    positions: list[TradingPosition] = msgspec.field(default_factory=list)
