"""The venue's JSON-RPC surface as a raw client sees it: ids, envelopes, the public
methods, heartbeats off unless asked, and a ccxt-shaped session (spec 8.1, 10)."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from tradewire.conformance.deribit import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, VenueHarness
from tradewire.protocol import ConnectionDead, StackState, UpgradeRejected, WebSocketClientStack
from tradewire.protocol.deribit import signature

sys.path.append(str(Path(__file__).parent))
from support_venue import BUSY, SMALL, Raw, RawClient, make_harness, raw_client


def call(
    harness: VenueHarness,
    machine: RawClient,
    method: str,
    params: dict[str, Any] | None = None,
    request_id: Any = None,
) -> Any:
    """Send one request on the last link and return the venue's answer."""
    wire_id = request_id if request_id is not None else machine.ids()
    harness.links[-1].client.send(machine.request(method, params, wire_id), harness.now)
    harness.pump()
    return machine.answer(wire_id)


def test_ids_are_echoed_and_responses_carry_the_envelope_extras() -> None:
    harness = make_harness(SMALL)
    machine, _ = raw_client(harness)
    harness.pump()
    for request_id in (7, "auth_5b1c", "101"):
        answer = call(harness, machine, "public/get_time", request_id=request_id)
        assert answer["id"] == request_id
        assert answer["result"] == harness.venue.state.epoch_ms(harness.now)
        assert answer["testnet"] is False
        assert answer["usOut"] - answer["usIn"] == answer["usDiff"]


def test_invalid_json_gets_11050_without_an_id_and_the_socket_stays_open() -> None:
    harness = make_harness(SMALL)
    machine, stack = raw_client(harness)
    harness.pump()
    stack.send(Raw(text='{"jsonrpc": "2.0", "id": 1, "method": '), harness.now)
    harness.pump()
    (error,) = machine.received
    assert "id" not in error
    assert error["error"] == {"code": 11050, "message": "bad_request", "data": "invalid json"}
    assert call(harness, machine, "public/test")["result"] == {"version": "1.2.26"}
    assert stack.state is StackState.OPEN


def test_the_public_methods() -> None:
    harness = make_harness(BUSY)
    machine, _ = raw_client(harness)
    harness.advance(5.0)
    assert call(harness, machine, "public/hello", {"client_name": "t", "client_version": "1"})[
        "result"
    ] == {"version": "1.2.26"}
    assert call(harness, machine, "public/status")["result"] == {
        "locked": "false",
        "locked_indices": [],
    }
    instruments = call(harness, machine, "public/get_instruments")["result"]  # no params: any
    assert len(instruments) == len(harness.venue.market.instruments())
    futures = call(
        harness, machine, "public/get_instruments", {"currency": "ETH", "kind": "future"}
    )
    assert {i["instrument_name"] for i in futures["result"]} >= {"ETH-PERPETUAL"}
    assert all(i["kind"] == "future" for i in futures["result"])
    perpetual = next(i for i in instruments if i["instrument_name"] == "BTC-PERPETUAL")
    by_id = call(harness, machine, "public/get_order_book_by_instrument_id",
                 {"instrument_id": perpetual["instrument_id"], "depth": 1})["result"]  # fmt: skip
    assert (by_id["instrument_name"], len(by_id["bids"]), len(by_id["asks"])) == (
        "BTC-PERPETUAL",
        1,
        1,
    )
    book = harness.venue.market.book("BTC-PERPETUAL")
    assert by_id["change_id"] == book.change_id
    assert by_id["bids"][0] == list(book.bids[0])
    ticker = call(harness, machine, "public/ticker", {"instrument_name": "BTC-PERPETUAL"})
    assert ticker["result"]["best_bid_price"] == book.bids[0][0]
    index = call(harness, machine, "public/get_index_price", {"index_name": "btc_usd"})["result"]
    assert set(index) == {"index_price", "estimated_delivery_price"}
    unknown = call(harness, machine, "public/get_index_price", {"index_name": "doge_usd"})
    assert unknown["error"]["code"] == -32602
    names = call(harness, machine, "public/get_index_price_names")["result"]
    assert names == ["btc_usd", "eth_usd", "btc_usdc"]
    trades = call(harness, machine, "public/get_last_trades_by_instrument",
                  {"instrument_name": "BTC-PERPETUAL", "count": 2, "sorting": "asc"})  # fmt: skip
    seqs = [t["trade_seq"] for t in trades["result"]["trades"]]
    assert seqs == [1, 2]
    assert trades["result"]["has_more"] is True
    missing = call(harness, machine, "public/ticker", {"instrument_name": "NOPE-PERPETUAL"})
    assert missing["error"]["code"] == 10020
    nope = call(harness, machine, "public/nope")
    assert nope["error"]["code"] == -32601


def test_server_heartbeats_are_off_until_the_client_asks() -> None:
    harness = make_harness(SMALL)
    machine, stack = raw_client(harness)
    harness.advance(60.0)
    assert [m for m in machine.received if m.get("method") == "heartbeat"] == []
    assert stack.state is StackState.OPEN
    assert call(harness, machine, "public/set_heartbeat", {"interval": 10})["result"] == "ok"
    harness.advance(10.5)
    kinds = [m["params"]["type"] for m in machine.received if m.get("method") == "heartbeat"]
    assert "test_request" in kinds


def test_a_ccxt_shaped_session() -> None:
    """What ccxt.pro does (spec 8.1): signed auth with nonce = timestamp, book at 100ms
    (a snapshot must come at once: ccxt resolves on the first notification), private
    user channels, protocol pings every 5 s and no heartbeat method."""
    harness = make_harness(BUSY)
    machine = RawClient()
    stack = WebSocketClientStack(
        machine, host="127.0.0.1", rng=random.Random(4), reconnect=False, ping_interval=5.0,
        ping_timeout=10.0,
    )  # fmt: skip
    link = harness.connect(stack)
    subscribe_book = machine.request(
        "public/subscribe", {"channels": ["book.BTC-PERPETUAL.100ms"]}, 1
    )
    stack.send(subscribe_book, harness.now)
    harness.pump()
    (snapshot,) = machine.notifications("book.BTC-PERPETUAL.100ms")
    assert snapshot["params"]["data"]["instrument_name"] == "BTC-PERPETUAL"
    timestamp = harness.venue.state.epoch_ms(harness.now)
    auth = machine.request(
        "public/auth",
        {
            "grant_type": "client_signature",
            "client_id": DEMO_CLIENT_ID,
            "timestamp": timestamp,
            "signature": signature(DEMO_CLIENT_SECRET, timestamp, str(timestamp)),
            "nonce": str(timestamp),
            "data": "",
        },
        2,
    )
    stack.send(auth, harness.now)
    channels = ["user.orders.any.any.raw", "user.trades.any.any.raw", "user.portfolio.BTC",
                "user.portfolio.ETH", "user.portfolio.USDC"]  # fmt: skip
    stack.send(machine.request("private/subscribe", {"channels": channels}, 3), harness.now)
    harness.advance(30.0)
    assert "access_token" in machine.answer(2)["result"]
    assert sorted(machine.answer(3)["result"]) == sorted(channels)
    assert {n["params"]["channel"] for n in machine.notifications()} == {
        "book.BTC-PERPETUAL.100ms",
        "user.portfolio.BTC",
        "user.portfolio.ETH",
        "user.portfolio.USDC",
    }  # pushed at once: ccxt's watch_balance resolves
    assert [m for m in machine.received if m.get("method") == "heartbeat"] == []
    assert [e for e in link.take_client_events() if isinstance(e, ConnectionDead)] == []
    assert stack.state is StackState.OPEN  # pongs answered the pings


def test_the_websocket_paths() -> None:
    harness = make_harness(SMALL)
    slash, slash_stack = raw_client(harness, path="/ws/api/v2/")
    harness.pump()
    assert slash_stack.state is StackState.OPEN
    _, wrong = raw_client(harness, path="/ws/api/v3")
    events = harness.links[-1].take_client_events()
    assert [e.status for e in events if isinstance(e, UpgradeRejected)] == [404]
    assert wrong.state is StackState.CLOSED
    assert slash is not None


def test_methods_with_a_leading_slash_are_served_like_the_plain_form() -> None:
    # deribit-trading-sdk writes every method as a path (spec 1.2): "/public/auth",
    # "/private/subscribe", "/private/buy" must work as their plain names do
    harness = make_harness(SMALL)
    machine, _ = raw_client(harness)
    harness.pump()
    plain = call(harness, machine, "public/get_time")["result"]
    assert call(harness, machine, "/public/get_time")["result"] == plain
    ms = harness.venue.state.epoch_ms(harness.now)
    login = call(
        harness,
        machine,
        "/public/auth",
        {
            "grant_type": "client_signature",
            "client_id": DEMO_CLIENT_ID,
            "timestamp": ms,
            "nonce": "slash1",
            "data": "",
            "signature": signature(DEMO_CLIENT_SECRET, ms, "slash1", ""),
        },
    )
    assert "access_token" in login["result"], login
    subscribed = call(
        harness, machine, "/private/subscribe", {"channels": ["book.BTC-PERPETUAL.raw"]}
    )
    assert subscribed["result"] == ["book.BTC-PERPETUAL.raw"]
    ask = harness.venue.market.book("BTC-PERPETUAL").asks[0][0]
    bought = call(
        harness,
        machine,
        "/private/buy",
        {"instrument_name": "BTC-PERPETUAL", "amount": 10, "type": "limit", "price": ask - 500},
    )
    assert bought["result"]["order"]["order_state"] == "open", bought
    # only one slash is dropped: "//public/get_time" is not a method
    assert call(harness, machine, "//public/get_time")["error"]["code"] == -32601
