"""Run by tests/conformance/currencycom/test_ccxt_currencycom.py inside a virtualenv with
ccxt 4.4.64 (the last release with ``currencycom``), unmodified, against the reference
venue whose WebSocket and HTTP URLs are argv[1] and argv[2].  Prints one JSON line of
what each call returned; exits non-zero on any failure."""

import asyncio
import json
import sys

import ccxt.pro as ccxtpro


async def main(ws_url: str, http_url: str) -> dict:
    exchange = ccxtpro.currencycom(
        {
            "apiKey": "tradewire-demo",
            "secret": "tradewire-demo-secret",
            "urls": {
                "api": {
                    "public": http_url + "/api",
                    "private": http_url + "/api",
                    "ws": ws_url,
                }
            },
        }
    )
    out: dict = {"version": ccxtpro.__version__}
    try:
        markets = await exchange.load_markets()
        out["markets"] = sorted(markets)
        balance = await exchange.fetch_balance()
        out["balance_usd"] = balance["USD"]["free"]
        book = await exchange.watch_order_book("BTC/USD")
        out["book"] = [book["bids"][0], book["asks"][0], len(book["bids"]), book["timestamp"]]
        trades = await asyncio.wait_for(exchange.watch_trades("BTC/USD"), 20)
        out["trades"] = [[t["symbol"], t["side"], t["price"], t["amount"]] for t in trades]
        candles = await asyncio.wait_for(exchange.watch_ohlcv("BTC/USD", "1m"), 20)
        out["ohlcv"] = candles[-1]
        ticker = await exchange.watch_ticker("ETH/USD")
        out["ticker"] = [ticker["symbol"], ticker["bid"], ticker["ask"], ticker["last"]]
        order = await exchange.create_order("BTC/USD", "limit", "buy", 0.01, 58000)
        out["order"] = [order["id"], order["status"], order["symbol"]]
        opened = await exchange.fetch_open_orders("BTC/USD")
        out["open"] = [o["id"] for o in opened]
        cancelled = await exchange.cancel_order(order["id"], "BTC/USD")
        out["cancelled"] = cancelled["status"]
        balance = await exchange.watch_balance()
        out["ws_balance_usd"] = balance["USD"]["free"]
    finally:
        await exchange.close()
    return out


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], sys.argv[2]))
    print(json.dumps(result))
