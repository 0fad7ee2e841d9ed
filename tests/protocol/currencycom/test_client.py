"""The Currency.com client machine (docs/venues/currencycom.md): correlation, pushes,
errors, subscriptions across reconnects, no unsubscribe, pings, pacing."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tradewire.protocol import (
    CloseRequest,
    ConnectionLost,
    LocalProtocolError,
    RemoteProtocolError,
    RequestFailed,
    RequestSucceeded,
    RequestTimeout,
    SubscriptionActive,
    SubscriptionRejected,
)
from tradewire.protocol.currencycom import (
    ClientProtocol,
    CurrencycomError,
    DepthUpdate,
    GetServerTime,
    InvalidSymbol,
    Ping,
    Push,
    QuoteUpdate,
    Request,
    ServerTime,
    Subscribe,
    TooManyRequests,
    TradeUpdate,
    Unsubscribe,
    classify,
    error_for,
)
from tradewire.protocol.session import ErrorClass, PongTimeout, UnmatchedError


def sent(client: ClientProtocol) -> list[dict[str, Any]]:
    return [msgspec.json.decode(m) for m in client.messages_to_send()]


def answer(
    client: ClientProtocol, cid: Any, payload: Any = None, *, status: str = "OK", now: float = 0.0
) -> None:
    body = {"status": status, "correlationId": cid, "payload": {} if payload is None else payload}
    client.receive_message(msgspec.json.encode(body), now)


def connected(**options: Any) -> ClientProtocol:
    client = ClientProtocol(**options)
    client.connection_made(0.0)
    (ping,) = sent(client)
    assert ping == {"destination": "ping", "correlationId": 1, "payload": {}}
    answer(client, "1", {})
    return client


def test_correlation_ids_go_out_as_numbers_and_come_back_as_strings() -> None:
    client = connected()
    request_id = client.send(GetServerTime(), 0.0)
    (message,) = sent(client)
    assert message["correlationId"] == request_id
    assert isinstance(message["correlationId"], int)
    answer(client, "0" + str(request_id), {"serverTime": 5})  # "07" is not "7"
    answer(client, str(request_id), {"serverTime": 5})
    events = client.events()
    assert events == [
        RequestSucceeded(
            request_id=request_id, command=GetServerTime(), result=ServerTime(serverTime=5)
        )
    ]
    answer(client, request_id, {"serverTime": 6})  # a late duplicate (a number): ignored
    assert client.events() == []


@pytest.mark.parametrize("code", [-1121, "-1121"])
@pytest.mark.parametrize("status", ["BAD_REQUEST", "OK"])
def test_errors_from_a_status_or_a_code_msg_payload(code: Any, status: str) -> None:
    client = connected()
    request_id = client.send(GetServerTime(), 0.0)
    sent(client)
    answer(client, str(request_id), {"code": code, "msg": "Invalid symbol."}, status=status)
    (failed,) = client.events()
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, InvalidSymbol)
    assert failed.error.code == -1121


def test_a_status_without_an_error_payload_is_an_error_too() -> None:
    client = connected()
    request_id = client.send(GetServerTime(), 0.0)
    sent(client)
    answer(client, str(request_id), {"something": 1}, status="INTERNAL")
    (failed,) = client.events()
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, CurrencycomError)
    assert failed.error.status == "INTERNAL"


def test_an_error_nobody_asked_for_is_unmatched() -> None:
    client = connected()
    client.receive_message(b'{"status":"BAD_REQUEST","payload":{"code":-1102,"msg":"x"}}', 0.0)
    (event,) = client.events()
    assert isinstance(event, UnmatchedError)


def test_error_classes() -> None:
    assert classify(error_for(-1003, "")) is ErrorClass.RATE_LIMITED
    assert classify(error_for("-1000", "")) is ErrorClass.TRANSIENT
    assert classify(error_for(-1021, "")) is ErrorClass.TRANSIENT
    assert classify(error_for(-1022, "")) is ErrorClass.FINAL
    assert classify(error_for("weird", "")) is ErrorClass.FINAL
    assert isinstance(error_for("-1003", "x"), TooManyRequests)


def test_a_rate_limited_request_goes_again_with_the_same_id() -> None:
    client = connected(requests_per_second=2.0)
    request_id = client.send(GetServerTime(), 0.0)
    sent(client)
    answer(
        client,
        str(request_id),
        {"code": -1003, "msg": "Too many requests."},
        status="TOO_MANY_REQUESTS",
    )
    assert client.events() == []
    assert sent(client) == []
    client.handle_timer(client.next_deadline() or 0.0)
    (again,) = sent(client)
    assert again["correlationId"] == request_id


def test_pushes_decode_to_typed_events_and_odd_spellings_are_accepted() -> None:
    client = connected()
    client.receive_message(
        b'{"status":"OK","destination":"internal.quote","payload":{"symbolName":"TXN","bid":139.85,'
        b'"bidQty":2500,"ofr":139.92,"ofrQty":2500,"timestamp":1597850971558}}',
        0.0,
    )
    client.receive_message(
        '{"Status":"OK","Destination":"internal.trade","Payload":{"price":1.5,"size":2,"symbol":"BTC/USD","buyer":true}}',
        0.0,
    )
    client.receive_message(b'{"status":"OK","destination":"elsewhere","payload":{"a":1}}', 0.0)
    quote, trade, other = client.events()
    assert isinstance(quote, QuoteUpdate)
    assert quote.topic == "quote:TXN"
    assert quote.payload.ofr == 139.92
    assert isinstance(trade, TradeUpdate)
    assert trade.payload.buyer is True
    assert other == Push(destination="elsewhere", status="OK", payload={"a": 1})


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[1]",
        b'{"status":"OK","destination":"marketdepth.event","payload":{"symbol":"X","data":"{"}}',
        b'{"status":"OK","destination":"internal.trade","payload":{"price":"x","size":1}}',
        b'{"status":"OK","payload":{}}',
    ],
)
def test_bad_messages_are_remote_protocol_errors(data: bytes) -> None:
    client = connected()
    with pytest.raises(RemoteProtocolError):
        client.receive_message(data, 0.0)
    request_id = client.send(GetServerTime(), 0.0)  # still usable
    assert sent(client)[0]["correlationId"] == request_id


def subscribed(client: ClientProtocol, *topics: str) -> list[dict[str, Any]]:
    client.send(Subscribe(topics=topics), 0.0)
    requests = sent(client)
    for request in requests:
        statuses = {s: "PROCESSED" for s in request["payload"]["symbols"]}
        answer(client, str(request["correlationId"]), {"subscriptions": statuses})
    return requests


def test_topics_are_grouped_per_destination_and_interval() -> None:
    client = connected(max_symbols_per_request=2)
    requests = subscribed(
        client, "depth:BTC/USD", "depth:ETH/USD", "depth:AAPL", "ohlc:M1:BTC/USD",
        "ohlc:1h:BTC/USD", "heikin-ashi:M1:TSLA", "quote:Oil - Brent.",
    )  # fmt: skip
    shapes = sorted(
        (r["destination"], msgspec.json.encode(r["payload"]).decode()) for r in requests
    )
    assert shapes == sorted(
        [
            ("depthMarketData.subscribe", '{"symbols":["BTC/USD","ETH/USD"]}'),
            ("depthMarketData.subscribe", '{"symbols":["AAPL"]}'),
            (
                "OHLCMarketData.subscribe",
                '{"symbols":["BTC/USD"],"intervals":["M1"],"type":"classic"}',
            ),
            (
                "OHLCMarketData.subscribe",
                '{"symbols":["BTC/USD"],"intervals":["1h"],"type":"classic"}',
            ),
            (
                "OHLCMarketData.subscribe",
                '{"symbols":["TSLA"],"intervals":["M1"],"type":"heikin-ashi"}',
            ),
            ("marketData.subscribe", '{"symbols":["Oil - Brent."]}'),
        ]
    )
    assert len([e for e in client.events() if isinstance(e, SubscriptionActive)]) == 7


def test_a_symbol_the_venue_did_not_process_is_rejected() -> None:
    client = connected()
    client.send(Subscribe(topics=("depth:BTC/USD", "depth:NOPE")), 0.0)
    (request,) = sent(client)
    answer(
        client,
        str(request["correlationId"]),
        {"subscriptions": {"BTC/USD": "PROCESSED", "NOPE": "REJECTED"}},
    )
    events = client.events()
    assert SubscriptionActive(topic="depth:BTC/USD") in events
    assert [e.topic for e in events if isinstance(e, SubscriptionRejected)] == ["depth:NOPE"]


def test_after_a_reconnect_exactly_the_desired_topics_are_subscribed_again() -> None:
    client = connected()
    first = subscribed(client, "depth:BTC/USD", "trades:BTC/USD", "ohlc:M1:ETH/USD")
    client.events()
    pending = client.send(GetServerTime(), 0.0)
    sent(client)
    client.connection_lost(1.0)
    (lost,) = [e for e in client.events() if isinstance(e, RequestFailed)]
    assert lost.request_id == pending
    assert isinstance(lost.error, ConnectionLost)
    client.connection_made(2.0)
    again = sent(client)
    assert again[0]["destination"] == "ping"
    strip = [(r["destination"], r["payload"]) for r in first]
    assert [(r["destination"], r["payload"]) for r in again[1:]] == strip


def test_unsubscribe_closes_the_connection_and_the_next_one_subscribes_the_rest() -> None:
    client = connected()
    subscribed(client, "depth:BTC/USD", "depth:ETH/USD")
    client.events()
    request_id = client.send(Unsubscribe(topics=("depth:ETH/USD",)), 0.0)
    assert client.close_request == CloseRequest(
        code=1000, reason="dropping subscriptions: the venue has no unsubscribe"
    )
    client.connection_lost(0.5)
    client.connection_made(1.0)
    messages = sent(client)
    assert [(m["destination"], m["payload"]) for m in messages[1:]] == [
        ("depthMarketData.subscribe", {"symbols": ["BTC/USD"]})
    ]
    done = [e for e in client.events() if isinstance(e, RequestSucceeded)]
    assert [e.request_id for e in done] == [request_id]


def test_pings_every_interval_and_a_missing_pong_drops_the_connection() -> None:
    client = connected(ping_interval=20.0, pong_timeout=5.0)
    assert client.next_deadline() == 20.0
    client.handle_timer(20.0)
    (ping,) = sent(client)
    assert ping["destination"] == "ping"
    answer(client, str(ping["correlationId"]), {}, now=21.0)
    client.handle_timer(40.0)
    (ping,) = sent(client)
    client.handle_timer(45.0)
    events = client.events()
    assert any(isinstance(e, PongTimeout) for e in events)
    assert client.close_request == CloseRequest(abort=True)


def test_options_and_commands_are_checked() -> None:
    with pytest.raises(LocalProtocolError, match="ping_interval"):
        ClientProtocol(ping_interval=25.0)
    with pytest.raises(LocalProtocolError, match="recv_window"):
        ClientProtocol(recv_window=70_000)
    with pytest.raises(LocalProtocolError, match="invalid topic"):
        Subscribe(topics=("book:BTC/USD",))
    with pytest.raises(LocalProtocolError, match="unknown interval"):
        Subscribe(topics=("ohlc:2m:BTC/USD",))
    client = connected()
    with pytest.raises(LocalProtocolError, match="managed"):
        client.send(Ping(), 0.0)
    with pytest.raises(LocalProtocolError, match="managed"):
        client.send(Request(destination="trades.subscribe", payload={"symbols": ["X"]}), 0.0)
    with pytest.raises(LocalProtocolError, match="needs authentication"):
        client.send(Request(destination="/api/v1/account", private=True), 0.0)


def test_a_request_that_is_never_answered_times_out() -> None:
    client = connected(request_timeout=2.0)
    request_id = client.send(GetServerTime(), 0.0)
    client.handle_timer(2.0)
    (failed,) = [e for e in client.events() if isinstance(e, RequestFailed)]
    assert failed.request_id == request_id
    assert isinstance(failed.error, RequestTimeout)


def test_depth_events_replace_the_whole_book() -> None:
    client = connected(maintain_books=True)
    subscribed(client, "depth:BTC/USD")
    client.events()
    client.receive_message(
        b'{"status":"OK","destination":"marketdepth.event","payload":{"symbol":"BTC/USD",'
        b'"data":{"ts":1,"bid":{"10":1,"9":2},"ofr":{"11":1}}}}',
        0.0,
    )
    client.receive_message(
        b'{"status":"OK","destination":"marketdepth.event","payload":{"symbol":"BTC/USD",'
        b'"data":"{\\"ts\\":2,\\"bid\\":{\\"8\\":3},\\"ofr\\":{\\"12\\":4,\\"13\\":1}}"}}',
        0.0,
    )
    events = client.events()
    assert [type(e) for e in events] == [DepthUpdate, DepthUpdate]
    book = client.book("depth:BTC/USD")
    assert book is not None
    assert book.bids() == [(8.0, 3.0)]
    assert book.asks() == [(12.0, 4.0), (13.0, 1.0)]
