"""The HTTP stacks: a client stack against server stacks through memory, fake clock."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from tradewire.protocol import (
    ConnectionLost,
    Event,
    LocalProtocolError,
    RemoteProtocolError,
    RequestFailed,
    RequestId,
    RequestTimeout,
)
from tradewire.protocol.transport._http import (
    HTTPRequest,
    HTTPRequestReceived,
    HTTPResponse,
    InvalidResponse,
)
from tradewire.protocol.transport._http_client import HTTPClientStack
from tradewire.protocol.transport._http_server import HTTPServerStack

HOST = "venue.test"
Handler = Callable[[HTTPServerStack, HTTPRequestReceived, float], None]


def echo(server: HTTPServerStack, request: HTTPRequestReceived, now: float) -> None:
    """Answer with what the server saw, as JSON."""
    server.respond(
        200,
        now=now,
        json={
            "method": request.method,
            "path": request.path,
            "query": [list(pair) for pair in request.query],
            "body": request.body.decode(),
        },
    )


class Link:
    """One long-lived client stack, a fresh server stack per connection, a fake clock."""

    def __init__(
        self,
        handler: Handler = echo,
        client: HTTPClientStack | None = None,
        **server_options: Any,
    ) -> None:
        self.client = client if client is not None else HTTPClientStack(host=HOST)
        self.handler = handler
        self.server_options = server_options
        self.server: HTTPServerStack | None = None
        self.now = 0.0
        self.connections = 0
        self.received: list[HTTPRequestReceived] = []
        self.events: list[Event] = []

    def connect(self) -> HTTPServerStack:
        self.client.connection_made(self.now)
        self.server = HTTPServerStack(**self.server_options)
        self.server.connection_made(self.now)
        self.connections += 1
        return self.server

    def drop(self) -> None:
        self.client.connection_lost(self.now)
        if self.server is not None:
            self.server.connection_lost(self.now)
        self.server = None
        self.events += self.client.events()

    def wait_for_backoff(self) -> None:
        """The last connection answered nothing, so the next dial waits for the backoff."""
        assert not self.client.wants_connection
        deadline = self.client.next_deadline()
        assert deadline is not None
        self.now = deadline
        self.client.handle_timer(self.now)
        assert self.client.wants_connection

    def run(self, rounds: int = 50) -> list[Event]:
        """Dial when asked, move bytes, answer requests, close when asked; until quiet."""
        for _ in range(rounds):
            if self.server is None:
                if not self.client.wants_connection:
                    break
                self.connect()
            server = self.server
            assert server is not None
            moved = False
            if data := self.client.data_to_send():
                server.receive_data(data, self.now)
                moved = True
            for event in server.events():
                assert isinstance(event, HTTPRequestReceived)
                self.received.append(event)
                self.handler(server, event, self.now)
                moved = True
            if data := server.data_to_send():
                self.client.receive_data(data, self.now)
                moved = True
            self.events += self.client.events()
            if server.should_close_transport:
                self.client.receive_data(b"", self.now)  # the client reads EOF
                self.drop()
                moved = True
            elif self.client.should_close_transport:
                server.receive_data(b"", self.now)
                self.drop()
                moved = True
            if not moved:
                break
        return self.take()

    def take(self) -> list[Event]:
        self.events += self.client.events()
        events, self.events = self.events, []
        return events


def feed(stack: HTTPClientStack | HTTPServerStack, pieces: list[bytes]) -> None:
    for piece in pieces:
        stack.receive_data(piece, 0.0)


def only(events: list[Event]) -> Event:
    assert len(events) == 1, events
    return events[0]


def response(events: list[Event]) -> HTTPResponse:
    event = only(events)
    assert isinstance(event, HTTPResponse), event
    return event


def rid(event: Event) -> RequestId:
    """The request an outcome event belongs to."""
    assert isinstance(event, HTTPResponse | RequestFailed), event
    return event.request_id


def failure(event: Event) -> BaseException:
    assert isinstance(event, RequestFailed), event
    return event.error


# -- round trips ---------------------------------------------------------------------------


def test_get_query_round_trip_percent_encoding() -> None:
    query = (
        ("instrument_name", "BTC-PERPETUAL"),
        ("path", "a/b/c"),
        ("text", "two words & more=yes+no"),
        ("pct", "100%"),
        ("unicode", "é€"),
        ("blank", ""),
    )
    request = HTTPRequest.get("/api/v2/public/ticker", query)
    assert " " not in request.target
    assert "a%2Fb%2Fc" in request.target
    link = Link()
    request_id = link.client.request(request, link.now)
    answer = response(link.run())
    assert answer.request_id == request_id
    assert answer.status == 200
    assert answer.json()["query"] == [list(pair) for pair in query]
    (seen,) = link.received
    assert seen.method == "GET"
    assert seen.path == "/api/v2/public/ticker"
    assert seen.query == query
    assert seen.target == request.target
    assert seen.query_param("path") == "a/b/c"


def test_get_query_values_json_spelling() -> None:
    request = HTTPRequest.get("/x", {"currency": "BTC", "expired": False, "depth": 5})
    assert request.query == (("currency", "BTC"), ("expired", "false"), ("depth", "5"))
    assert request.target == "/x?currency=BTC&expired=false&depth=5"


def test_post_json_both_ways() -> None:
    payload = {"jsonrpc": "2.0", "id": 7, "method": "public/test", "params": {"x": [1, 2]}}

    def handler(server: HTTPServerStack, request: HTTPRequestReceived, now: float) -> None:
        assert request.header("Content-Type") == "application/json"
        body = request.json()
        server.respond(200, now=now, json={"jsonrpc": "2.0", "id": body["id"], "result": body})

    link = Link(handler)
    link.client.request(HTTPRequest.post_json("/api/v2", payload), link.now)
    answer = response(link.run())
    assert answer.header("content-type") == "application/json"
    assert answer.json() == {"jsonrpc": "2.0", "id": 7, "result": payload}
    assert link.received[0].method == "POST"


def test_client_request_headers() -> None:
    client = HTTPClientStack(host="www.deribit.com", user_agent="bot/1.0")
    client.connection_made(0.0)
    client.request(HTTPRequest.post_json("/p", [1], headers=(("X-Trace", "abc"),)), 0.0)
    head = client.data_to_send().split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == b"POST /p HTTP/1.1"
    assert b"Host: www.deribit.com" in head
    assert b"User-Agent: bot/1.0" in head
    assert b"Accept: application/json" in head
    assert b"Content-Length: 3" in head
    assert b"X-Trace: abc" in head


def test_keep_alive_reuses_one_connection() -> None:
    link = Link()
    first = link.client.request(HTTPRequest.get("/one"), link.now)
    second = link.client.request(HTTPRequest.get("/two"), link.now)
    events = link.run()
    assert link.connections == 1
    assert [rid(e) for e in events] == [first, second]
    assert [response([e]).json()["path"] for e in events] == ["/one", "/two"]
    third = link.client.request(HTTPRequest.get("/three"), link.now)
    assert response(link.run()).request_id == third
    assert link.connections == 1


def test_server_connection_close_sends_queued_request_on_new_connection() -> None:
    def closing(server: HTTPServerStack, request: HTTPRequestReceived, now: float) -> None:
        server.respond(200, request.path.encode(), (("Connection", "close"),), now=now)

    link = Link(closing)
    first = link.client.request(HTTPRequest.get("/one"), link.now)
    second = link.client.request(HTTPRequest.get("/two"), link.now)
    events = link.run()
    assert [(rid(e), response([e]).body) for e in events] == [
        (first, b"/one"),
        (second, b"/two"),
    ]
    assert link.connections == 2


def test_client_connection_close_header_retires_connection() -> None:
    link = Link()
    link.client.request(HTTPRequest.get("/a", headers=(("Connection", "close"),)), 0.0)
    link.client.request(HTTPRequest.get("/b"), 0.0)
    assert len(link.run()) == 2
    assert link.connections == 2


def chunked_response_bytes() -> tuple[HTTPClientStack, RequestId, bytes]:
    client = HTTPClientStack(host=HOST)
    client.connection_made(0.0)
    request_id = client.request(HTTPRequest.get("/stream"), 0.0)
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(client.data_to_send(), 0.0)
    server.events()
    server.respond(200, chunks=[b"hel", b"", b"lo ", b"w", b"orld"], now=0.0)
    return client, request_id, server.data_to_send()


def test_chunked_response_split_at_every_byte_boundary() -> None:
    _, _, wire = chunked_response_bytes()
    assert b"transfer-encoding: chunked" in wire.lower()
    for cut in range(len(wire) + 1):
        client, request_id, _ = chunked_response_bytes()
        for piece in (wire[:cut], wire[cut:]):
            if piece:  # b"" would mean EOF
                assert client.events() == []
                client.receive_data(piece, 1.0)
        answer = response(client.events())
        assert (answer.request_id, answer.body) == (request_id, b"hello world")
    client, request_id, _ = chunked_response_bytes()
    for i in range(len(wire)):
        client.receive_data(wire[i : i + 1], 1.0)
    assert response(client.events()).body == b"hello world"


def test_chunked_request_body_is_decoded() -> None:
    server = HTTPServerStack(peer="203.0.113.7:50000")
    server.connection_made(0.0)
    wire = (
        b"POST /api/v2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n'
    )
    for i in range(len(wire)):
        server.receive_data(wire[i : i + 1], 0.0)
    (event,) = server.events()
    assert isinstance(event, HTTPRequestReceived)
    assert event.json() == {"a": 1}
    assert event.peer == "203.0.113.7:50000"
    assert event.http_version == "1.1"
    server.respond(204, now=0.0)
    assert server.data_to_send().startswith(b"HTTP/1.1 204 No Content\r\n")
    assert not server.should_close_transport


def test_server_chunked_response_to_http10_client_is_close_delimited() -> None:
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(b"GET / HTTP/1.0\r\n\r\n", 0.0)
    server.events()
    server.respond(200, chunks=[b"ab", b"cd"], now=0.0)
    wire = server.data_to_send()
    assert wire.endswith(b"\r\n\r\nabcd")
    assert b"transfer-encoding" not in wire.lower()
    assert server.should_close_transport


def test_eof_completes_close_delimited_body() -> None:
    client = HTTPClientStack(host=HOST)
    client.connection_made(0.0)
    request_id = client.request(HTTPRequest.get("/"), 0.0)
    client.receive_data(b"HTTP/1.1 200 OK\r\n\r\nhel", 0.0)
    client.receive_data(b"lo", 0.0)
    client.receive_data(b"", 0.0)
    answer = response(client.events())
    assert (answer.request_id, answer.body) == (request_id, b"hello")
    assert client.should_close_transport


def test_head_response_has_headers_but_no_body() -> None:
    def handler(server: HTTPServerStack, request: HTTPRequestReceived, now: float) -> None:
        server.respond(200, b"0123456789", now=now)

    link = Link(handler)
    link.client.request(HTTPRequest(method="HEAD", path="/"), 0.0)
    link.client.request(HTTPRequest.get("/"), 0.0)
    head, get = link.run()
    assert response([head]).header("content-length") == "10"
    assert response([head]).body == b""
    assert response([get]).body == b"0123456789"
    assert link.connections == 1


def test_deribit_signature_covers_the_target_on_the_wire() -> None:
    # docs/venues/deribit.md 2.3, test vector B.
    request = HTTPRequest.get("/api/v2/private/get_account_summary", {"currency": "BTC"})
    data = f"GET\n{request.target}\n{request.body.decode()}\n"
    to_sign = f"1576074319000\n1iqt2wls\n{data}"
    signature = hmac.new(b"AMANDASECRECT", to_sign.encode(), hashlib.sha256).hexdigest()
    assert signature == "9bfbc51a2bc372d72cc396cf1a213dc78d42eb74cb7dc272351833ad0de276ab"
    auth = f"deri-hmac-sha256 id=AMANDA,ts=1576074319000,nonce=1iqt2wls,sig={signature}"
    link = Link()
    link.client.request(
        HTTPRequest.get(request.path, request.query, headers=(("Authorization", auth),)), 0.0
    )
    link.run()
    (seen,) = link.received
    assert seen.target == request.target
    assert seen.header("authorization") == auth


# -- deadlines and connection loss --------------------------------------------------------


def test_queued_request_times_out_once() -> None:
    client = HTTPClientStack(host=HOST, default_timeout=5.0)
    client.request(HTTPRequest.get("/"), 0.0)
    assert client.wants_connection
    assert client.next_deadline() == 5.0
    client.handle_timer(4.9)
    assert client.events() == []
    client.handle_timer(5.0)
    assert isinstance(failure(only(client.events())), RequestTimeout)
    assert not client.wants_connection
    assert client.next_deadline() is None
    client.handle_timer(100.0)
    client.connection_made(100.0)
    assert client.data_to_send() == b""
    client.connection_lost(100.0)
    assert client.events() == []


def test_expired_request_is_not_sent_on_connect() -> None:
    client = HTTPClientStack(host=HOST)
    client.request(HTTPRequest.get("/late"), 0.0, timeout=1.0)
    keep = client.request(HTTPRequest.get("/fine"), 0.0, timeout=50.0)
    client.connection_made(2.0)
    assert isinstance(failure(only(client.events())), RequestTimeout)
    assert client.data_to_send().startswith(b"GET /fine ")
    assert client.in_flight == keep


def test_in_flight_timeout_retires_connection_and_drops_late_response() -> None:
    link = Link()
    slow = link.client.request(HTTPRequest.get("/slow"), 0.0, timeout=2.0)
    after = link.client.request(HTTPRequest.get("/after"), 0.0, timeout=30.0)
    server = link.connect()
    server.receive_data(link.client.data_to_send(), 0.0)
    (seen,) = server.events()
    assert isinstance(seen, HTTPRequestReceived)
    link.client.handle_timer(2.0)
    event = only(link.client.events())
    assert rid(event) == slow
    assert isinstance(failure(event), RequestTimeout)
    assert link.client.should_close_transport
    echo(server, seen, 2.5)  # the late answer
    link.client.receive_data(server.data_to_send(), 2.5)
    assert link.client.events() == []
    link.drop()
    assert link.take() == []
    link.wait_for_backoff()
    answer = response(link.run())
    assert answer.request_id == after
    assert answer.json()["path"] == "/after"


def test_connection_lost_fails_in_flight_keeps_queued() -> None:
    link = Link()
    first = link.client.request(HTTPRequest.get("/one"), 0.0)
    second = link.client.request(HTTPRequest.get("/two"), 0.0)
    link.connect()
    assert link.client.in_flight == first
    link.drop()
    event = only(link.take())
    assert rid(event) == first
    error = failure(event)
    assert isinstance(error, ConnectionLost)
    assert not isinstance(error, InvalidResponse)
    link.wait_for_backoff()
    answer = response(link.run())
    assert (answer.request_id, answer.json()["path"]) == (second, "/two")


def test_eof_mid_response_is_connection_lost_not_an_error() -> None:
    client = HTTPClientStack(host=HOST)
    client.connection_made(0.0)
    client.request(HTTPRequest.get("/"), 0.0)
    client.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0.0)
    client.receive_data(b"", 0.0)
    assert isinstance(failure(only(client.events())), ConnectionLost)
    assert client.should_close_transport


def test_failed_dials_back_off_and_success_resets() -> None:
    link = Link(client=HTTPClientStack(host=HOST, default_timeout=100.0))
    link.client.request(HTTPRequest.get("/a"), 0.0)
    dials = []
    for _ in range(4):
        assert link.client.wants_connection
        dials.append(link.now)
        link.client.connection_lost(link.now)  # the dial failed
        assert not link.client.wants_connection
        assert link.take() == []
        deadline = link.client.next_deadline()
        assert deadline is not None
        link.client.handle_timer(deadline - 0.01)
        assert not link.client.wants_connection
        link.now = deadline
        link.client.handle_timer(link.now)
    assert dials == [0.0, 0.5, 1.5, 3.5]  # 0.5 s doubling, no jitter by default
    assert response(link.run()).json()["path"] == "/a"
    assert link.client.backoff.attempt == 0  # an answer resets the backoff
    link.client.request(HTTPRequest.get("/b"), link.now)
    link.client.request(HTTPRequest.get("/c"), link.now)
    link.drop()  # this connection answered before: the next dial is not delayed
    assert isinstance(failure(only(link.take())), ConnectionLost)
    assert link.client.wants_connection


def test_max_connection_age_retires_idle_connection() -> None:
    link = Link(client=HTTPClientStack(host=HOST, max_connection_age=14 * 60.0))
    link.client.request(HTTPRequest.get("/a"), 0.0)
    link.run()
    assert link.client.next_deadline() == 14 * 60.0
    link.now = 14 * 60.0
    link.client.handle_timer(link.now)
    assert link.client.should_close_transport
    assert link.client.close_reason == "connection reached max_connection_age"
    link.drop()
    link.client.request(HTTPRequest.get("/b"), link.now)
    assert response(link.run()).json()["path"] == "/b"
    assert link.connections == 2


# -- limits -----------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_client_rejects_oversized_response_body(chunked: bool) -> None:
    def big(server: HTTPServerStack, request: HTTPRequestReceived, now: float) -> None:
        if chunked:
            server.respond(200, chunks=[b"x" * 60, b"y" * 41], now=now)
        else:
            server.respond(200, b"x" * 101, now=now)

    link = Link(big, client=HTTPClientStack(host=HOST, max_body_size=100))
    request_id = link.client.request(HTTPRequest.get("/"), 0.0)
    with pytest.raises(RemoteProtocolError, match="max_body_size=100"):
        link.run()
    event = only(link.take())
    assert rid(event) == request_id
    assert isinstance(failure(event), InvalidResponse)
    assert link.client.should_close_transport
    link.drop()
    assert link.take() == []


def test_client_accepts_body_at_the_limit() -> None:
    def exact(server: HTTPServerStack, request: HTTPRequestReceived, now: float) -> None:
        server.respond(200, b"x" * 100, now=now)

    link = Link(exact, client=HTTPClientStack(host=HOST, max_body_size=100))
    link.client.request(HTTPRequest.get("/"), 0.0)
    assert len(response(link.run()).body) == 100


@pytest.mark.parametrize("chunked", [False, True])
def test_server_413_for_oversized_body(chunked: bool) -> None:
    server = HTTPServerStack(max_body_size=10)
    server.connection_made(0.0)
    if chunked:
        wire = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n"
        server.receive_data(wire, 0.0)
        assert server.data_to_send() == b""
        more = b"5\r\nghijk\r\n"
    else:
        more = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
    with pytest.raises(RemoteProtocolError, match="max_body_size=10"):
        server.receive_data(more, 0.0)
    assert server.data_to_send().startswith(b"HTTP/1.1 413 ")
    assert server.should_close_transport
    assert server.events() == []
    server.receive_data(b"more", 0.0)  # ignored while closing


def test_client_sees_413_as_a_response() -> None:
    link = Link(max_body_size=32 * 1024)
    link.client.request(HTTPRequest.post_json("/api/v2", "x" * 40_000), 0.0)
    link.client.request(HTTPRequest.get("/next"), 0.0)
    with pytest.raises(RemoteProtocolError, match="max_body_size"):
        link.run()
    server = link.server
    assert server is not None
    link.client.receive_data(server.data_to_send(), 0.0)
    assert response(link.take()).status == 413
    assert link.client.should_close_transport
    link.drop()
    assert response(link.run()).json()["path"] == "/next"


@pytest.mark.parametrize("one_shot", [False, True])
def test_server_431_for_oversized_headers(one_shot: bool) -> None:
    server = HTTPServerStack(max_header_size=200)
    server.connection_made(0.0)
    wire = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300 + b"\r\n\r\n"
    pieces = [wire] if one_shot else [wire[i : i + 1] for i in range(len(wire))]
    with pytest.raises(RemoteProtocolError, match="max_header_size=200"):
        feed(server, pieces)
    assert server.data_to_send().startswith(b"HTTP/1.1 431 ")
    assert server.should_close_transport


def test_client_rejects_oversized_headers() -> None:
    client = HTTPClientStack(host=HOST, max_header_size=100)
    client.connection_made(0.0)
    client.request(HTTPRequest.get("/"), 0.0)
    with pytest.raises(RemoteProtocolError):
        client.receive_data(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200 + b"\r\n\r\n", 0.0)
    assert isinstance(failure(only(client.events())), InvalidResponse)


def test_request_queue_bound_names_max_pending() -> None:
    client = HTTPClientStack(host=HOST, max_pending=2)
    client.request(HTTPRequest.get("/"), 0.0)
    client.request(HTTPRequest.get("/"), 0.0)
    with pytest.raises(LocalProtocolError, match="max_pending=2"):
        client.request(HTTPRequest.get("/"), 0.0)
    client.handle_timer(100.0)  # both time out: two undrained events still count
    with pytest.raises(LocalProtocolError, match="events"):
        client.request(HTTPRequest.get("/"), 100.0)
    assert len(client.events()) == 2
    client.request(HTTPRequest.get("/"), 100.0)


# -- the server on its own ----------------------------------------------------------------


def test_server_400_for_malformed_request() -> None:
    server = HTTPServerStack()
    server.connection_made(0.0)
    with pytest.raises(RemoteProtocolError, match="400"):
        server.receive_data(b"NOT HTTP AT ALL\r\n\r\n", 0.0)
    assert server.data_to_send().startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert server.should_close_transport
    assert server.next_deadline() is None


def test_server_pipelined_requests_one_at_a_time() -> None:
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", 0.0
    )
    (first,) = server.events()
    assert isinstance(first, HTTPRequestReceived)
    assert first.path == "/a"
    assert server.awaiting_response
    server.respond(200, b"A", now=1.0)
    (second,) = server.events()
    assert isinstance(second, HTTPRequestReceived)
    assert second.path == "/b"
    server.respond(200, b"B", now=1.0)
    wire = server.data_to_send()
    assert wire.count(b"HTTP/1.1 200 OK") == 2
    assert wire.endswith(b"B")
    assert server.next_deadline() == 61.0


def test_server_garbage_after_pipelined_request_answers_400_without_raising() -> None:
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\x00garbage\r\n\r\n", 0.0)
    server.events()
    server.respond(200, b"A", now=0.0)
    wire = server.data_to_send()
    assert wire.startswith(b"HTTP/1.1 200 OK")
    assert b"HTTP/1.1 400 Bad Request" in wire
    assert server.should_close_transport
    assert server.events() == []


def test_server_idle_timeout_closes_without_response() -> None:
    server = HTTPServerStack(idle_timeout=30.0)
    server.connection_made(0.0)
    assert server.next_deadline() == 30.0
    server.handle_timer(29.0)
    assert not server.should_close_transport
    server.handle_timer(30.0)
    assert server.should_close_transport
    assert server.close_reason == "idle timeout"
    assert server.data_to_send() == b""


def test_server_request_timeout_answers_408() -> None:
    server = HTTPServerStack(request_timeout=5.0)
    server.connection_made(0.0)
    server.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", 10.0)
    assert server.next_deadline() == 15.0
    server.handle_timer(15.0)
    assert server.data_to_send().startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert server.should_close_transport


def test_server_expect_100_continue() -> None:
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", 0.0
    )
    assert server.data_to_send() == b"HTTP/1.1 100 Continue\r\n\r\n"
    server.receive_data(b"{}", 0.0)
    (event,) = server.events()
    assert isinstance(event, HTTPRequestReceived)
    assert event.json() == {}


def test_server_http10_and_connection_close_requests_close_after_response() -> None:
    for wire in (
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ):
        server = HTTPServerStack()
        server.connection_made(0.0)
        server.receive_data(wire, 0.0)
        server.events()
        assert not server.should_close_transport
        server.respond(200, b"ok", now=0.0)
        assert server.data_to_send().endswith(b"ok")
        assert server.should_close_transport


def test_server_half_closed_client_still_gets_its_response() -> None:
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.0)
    server.receive_data(b"", 0.0)
    assert not server.should_close_transport
    server.events()
    server.respond(200, b"ok", now=0.0)
    assert server.data_to_send().endswith(b"ok")
    assert server.should_close_transport


def test_server_eof_mid_request_closes_quietly() -> None:
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(b"GET / HT", 0.0)
    server.receive_data(b"", 0.0)
    assert server.should_close_transport
    assert server.data_to_send() == b""


def test_server_bounds_pipelined_data() -> None:
    server = HTTPServerStack(max_body_size=100, max_header_size=100)
    server.connection_made(0.0)
    server.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.0)
    with pytest.raises(RemoteProtocolError, match="max_header_size \\+ max_body_size"):
        server.receive_data(b"G" * 201, 0.0)
    assert server.should_close_transport


# -- garbage and fuzz ---------------------------------------------------------------------

VALID_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
)
VALID_REQUEST = (
    b"POST /api?a=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
)


def wire_data(valid: bytes) -> st.SearchStrategy[tuple[bytes, list[int]]]:
    """A prefix of a valid message, then arbitrary bytes; and where to cut them."""

    def build(cut: int, tail: bytes, mutate: int | None) -> bytes:
        data = bytearray(valid[:cut] + tail)
        if mutate is not None and data:
            data[mutate % len(data)] ^= 0x20
        return bytes(data)

    data = st.builds(
        build,
        st.integers(0, len(valid)),
        st.binary(max_size=64),
        st.none() | st.integers(0, 1000),
    )
    return data.flatmap(
        lambda d: st.tuples(st.just(d), st.lists(st.integers(0, len(d)), max_size=6))
    )


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


@settings(max_examples=300, deadline=None)
@given(wire_data(VALID_RESPONSE), st.booleans())
def test_client_garbage_raises_remote_protocol_error_only(
    sample: tuple[bytes, list[int]], in_flight: bool
) -> None:
    data, cuts = sample
    client = HTTPClientStack(host=HOST, max_body_size=1000, max_header_size=200)
    client.connection_made(0.0)
    ids = []
    if in_flight:
        ids = [client.request(HTTPRequest.get(p), 0.0) for p in ("/a", "/b")]
    resolved: Counter[object] = Counter()
    for piece in [*pieces(data, cuts), b""]:
        try:
            client.receive_data(piece, 0.0)
        except RemoteProtocolError:
            assert client.should_close_transport
        resolved.update(rid(e) for e in client.events())
    assert client.should_close_transport  # EOF at least
    client.connection_lost(0.0)
    client.handle_timer(1e9)
    resolved.update(rid(e) for e in client.events())
    assert resolved == Counter(ids)


@settings(max_examples=300, deadline=None)
@given(wire_data(VALID_REQUEST))
def test_server_garbage_raises_remote_protocol_error_only(
    sample: tuple[bytes, list[int]],
) -> None:
    data, cuts = sample
    server = HTTPServerStack(max_body_size=100, max_header_size=200)
    server.connection_made(0.0)
    for piece in pieces(data, cuts):
        try:
            server.receive_data(piece, 0.0)
        except RemoteProtocolError:
            assert server.should_close_transport
            assert re.match(rb"HTTP/1\.1 (4\d\d|501) ", server.data_to_send())
        for event in server.events():
            assert isinstance(event, HTTPRequestReceived)
            server.respond(200, event.body, now=0.0)
            assert server.data_to_send().startswith(b"HTTP/1.1 200 OK\r\n")
    server.receive_data(b"", 0.0)
    for event in server.events():
        assert isinstance(event, HTTPRequestReceived)
        server.respond(200, now=0.0)
    assert server.should_close_transport or server.awaiting_response


def test_client_unsolicited_data_is_remote_protocol_error() -> None:
    client = HTTPClientStack(host=HOST)
    client.connection_made(0.0)
    with pytest.raises(RemoteProtocolError, match="no request was in flight"):
        client.receive_data(b"HTTP/1.1 408 Request Timeout\r\n\r\n", 0.0)
    assert client.should_close_transport
    client.receive_data(b"more", 0.0)  # ignored while closing


def test_client_garbage_fails_in_flight_request() -> None:
    client = HTTPClientStack(host=HOST)
    client.connection_made(0.0)
    client.request(HTTPRequest.get("/"), 0.0)
    client.request(HTTPRequest.get("/queued"), 0.0)
    with pytest.raises(RemoteProtocolError, match="invalid HTTP response"):
        client.receive_data(b"\x16\x03\x01 not http\r\n\r\n", 0.0)
    assert isinstance(failure(only(client.events())), InvalidResponse)
    client.connection_lost(0.0)
    assert not client.wants_connection  # the connection answered nothing: back off
    client.handle_timer(0.5)
    assert client.wants_connection
    assert client.events() == []


def test_response_json_decode_error_is_remote_protocol_error() -> None:
    def handler(server: HTTPServerStack, request: HTTPRequestReceived, now: float) -> None:
        server.respond(502, b"<html>bad gateway</html>", now=now)

    link = Link(handler)
    link.client.request(HTTPRequest.get("/"), 0.0)
    answer = response(link.run())
    assert answer.status == 502
    assert answer.reason == "Bad Gateway"
    with pytest.raises(RemoteProtocolError, match="not valid JSON"):
        answer.json()


# -- exactly once -------------------------------------------------------------------------


class Scenario:
    """A client and a server under arbitrary interleavings of the driving calls."""

    def __init__(self) -> None:
        self.now = 0.0
        self.client = HTTPClientStack(host=HOST, default_timeout=5.0)
        self.server: HTTPServerStack | None = None
        self.c2s = bytearray()  # bytes written by one side, not yet read by the other
        self.s2c = bytearray()
        self.current: HTTPRequestReceived | None = None
        self.opened: dict[object, str] = {}
        self.resolved: Counter[object] = Counter()
        self.kinds: Counter[str] = Counter(response=0, RequestTimeout=0, ConnectionLost=0)

    def request(self, timeout: float) -> None:
        path = f"/r{len(self.opened)}"
        self.opened[self.client.request(HTTPRequest.get(path), self.now, timeout=timeout)] = path

    def connect(self) -> None:
        if self.server is None:
            self.client.connection_made(self.now)
            self.server = HTTPServerStack()
            self.server.connection_made(self.now)

    def c2s_bytes(self, size: int) -> None:
        if self.server is None:
            return
        self.c2s += self.client.data_to_send()
        piece = bytes(self.c2s[:size])
        del self.c2s[:size]
        if piece:
            self.server.receive_data(piece, self.now)
        self.take_request()

    def take_request(self) -> None:
        assert self.server is not None
        for received in self.server.events():
            assert isinstance(received, HTTPRequestReceived)
            assert self.current is None
            self.current = received

    def respond(self, close: bool) -> None:
        if self.server is None or self.current is None:
            return
        headers = (("Connection", "close"),) if close else ()
        path, self.current = self.current.path, None
        self.server.respond(200, path.encode(), headers, now=self.now)
        self.take_request()

    def s2c_bytes(self, size: int) -> None:
        if self.server is None:
            return
        self.s2c += self.server.data_to_send()
        piece = bytes(self.s2c[:size])
        del self.s2c[:size]
        if piece:
            self.client.receive_data(piece, self.now)

    def tick(self, seconds: float) -> None:
        self.now += seconds
        self.client.handle_timer(self.now)
        if self.server is not None:
            self.server.handle_timer(self.now)

    def eof(self) -> None:
        if self.server is not None:
            self.client.receive_data(b"", self.now)

    def drop(self) -> None:
        if self.server is not None:
            self.client.connection_lost(self.now)
            self.server.connection_lost(self.now)
            self.server, self.current = None, None
            self.c2s.clear()
            self.s2c.clear()

    def settle(self) -> None:
        """Collect events; close the link when either side asked for it."""
        self.collect()
        server = self.server
        if self.client.should_close_transport or (server and server.should_close_transport):
            self.drop()
            self.collect()

    def collect(self) -> None:
        for outcome in self.client.events():
            request_id = rid(outcome)
            assert request_id in self.opened
            self.resolved[request_id] += 1
            if isinstance(outcome, HTTPResponse):  # never attributed to the wrong request
                assert outcome.body == self.opened[request_id].encode()
                self.kinds["response"] += 1
            else:
                self.kinds[type(failure(outcome)).__name__] += 1


ALL = 10**6
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("request"), st.floats(0.5, 20.0)),
        st.tuples(st.just("connect"), st.just(0)),
        st.tuples(st.just("c2s"), st.sampled_from([ALL, ALL, 1, 7, 40])),
        st.tuples(st.just("s2c"), st.sampled_from([ALL, ALL, 1, 7, 40])),
        st.tuples(st.just("respond"), st.sampled_from([False, False, True])),
        st.tuples(st.just("serve"), st.sampled_from([False, False, True])),
        st.tuples(st.just("tick"), st.floats(0.0, 3.0)),
        st.tuples(st.just("drop"), st.just(0)),
        st.tuples(st.just("eof"), st.just(0)),
    ),
    min_size=10,
    max_size=80,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_every_request_resolves_exactly_once(ops: list[tuple[str, Any]]) -> None:
    s = Scenario()
    for op, arg in ops:
        if op == "serve":  # a whole round trip, as far as the link allows
            s.connect()
            s.c2s_bytes(ALL)
            s.respond(arg)
            s.s2c_bytes(ALL)
        else:
            steps: dict[str, Callable[..., None]] = {
                "request": s.request,
                "connect": s.connect,
                "c2s": s.c2s_bytes,
                "s2c": s.s2c_bytes,
                "respond": s.respond,
                "tick": s.tick,
                "drop": s.drop,
                "eof": s.eof,
            }
            if op in ("connect", "drop", "eof"):
                steps[op]()
            else:
                steps[op](arg)
        s.settle()
    s.tick(1000.0)
    s.collect()
    for kind, count in sorted(s.kinds.items()):
        label(f"{kind}: {min(count, 2)}{'+' if count >= 2 else ''}")
    assert s.resolved == Counter(s.opened.keys())
    assert s.client.next_deadline() is None


# -- misuse and secrets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: HTTPRequest(method="FETCH", path="/"), "method"),
        (lambda: HTTPRequest(method="get", path="/"), "method"),
        (lambda: HTTPRequest(method="GET", path="api"), "path"),
        (lambda: HTTPRequest(method="GET", path="/a b"), "path"),
        (lambda: HTTPRequest(method="GET", path="/a?b=1"), "path"),
        (lambda: HTTPRequest(method="GET", path="/", headers=(("X", "a\r\nB: c"),)), "headers"),
        (lambda: HTTPRequest(method="GET", path="/", headers=(("X\n", "a"),)), "headers"),
        (lambda: HTTPRequest(method="GET", path="/", headers=(("Bad Name", "a"),)), "headers"),
        (
            lambda: HTTPRequest(method="GET", path="/", headers=(("Content-Length", "1"),)),
            "headers",
        ),
        (lambda: HTTPRequest(method="GET", path="/", headers=(("Host", "evil"),)), "headers"),
        (lambda: HTTPRequest(method="GET", path="/", headers=(("Upgrade", "h2c"),)), "headers"),
        (lambda: HTTPRequest(method="GET", path="/", body="text"), "body"),  # type: ignore[arg-type]
        (lambda: HTTPRequest.get("/", {"x": object()}), "query"),
        (lambda: HTTPRequest.post_json("/", object()), "obj"),
        (lambda: HTTPClientStack(host=""), "host"),
        (lambda: HTTPClientStack(host="a\r\nb"), "host"),
        (lambda: HTTPClientStack(host=HOST, max_pending=0), "max_pending"),
        (lambda: HTTPClientStack(host=HOST, max_body_size=-1), "max_body_size"),
        (lambda: HTTPClientStack(host=HOST, default_timeout=0), "default_timeout"),
        (lambda: HTTPClientStack(host=HOST, user_agent="a\nb"), "user_agent"),
        (lambda: HTTPClientStack(host=HOST, max_connection_age=0), "max_connection_age"),
        (lambda: HTTPServerStack(max_body_size=0), "max_body_size"),
        (lambda: HTTPServerStack(idle_timeout=-1), "idle_timeout"),
        (lambda: HTTPClientStack(host=HOST).request("GET /", 0.0), "request"),  # type: ignore[arg-type]
        (lambda: HTTPClientStack(host=HOST).request(HTTPRequest.get("/"), 0, timeout=0), "timeout"),
    ],
)
def test_bad_arguments_raise_local_protocol_error_naming_them(
    build: Callable[[], object], argument: str
) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        build()


def answering_server() -> HTTPServerStack:
    server = HTTPServerStack()
    server.connection_made(0.0)
    server.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.0)
    return server


@pytest.mark.parametrize(
    ("respond", "argument"),
    [
        (lambda s: s.respond(99, now=0.0), "status"),
        (lambda s: s.respond(600, now=0.0), "status"),
        (lambda s: s.respond(200, b"x", now=0.0, json={}), "body"),
        (lambda s: s.respond(200, now=0.0, json={}, chunks=[b"a"]), "body"),
        (lambda s: s.respond(204, b"x", now=0.0), "body"),
        (lambda s: s.respond(200, now=0.0, chunks=[b"a", "b"]), "chunks"),
        (lambda s: s.respond(200, now=0.0, json=object()), "json"),
        (lambda s: s.respond(200, headers=[("Transfer-Encoding", "gzip")], now=0.0), "headers"),
    ],
)
def test_bad_respond_arguments_name_them(
    respond: Callable[[HTTPServerStack], None], argument: str
) -> None:
    server = answering_server()
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        respond(server)
    assert server.awaiting_response  # nothing was sent; the request can still be answered
    assert server.data_to_send() == b""
    server.respond(200, now=0.0)


def test_misuse_in_the_wrong_state() -> None:
    server = HTTPServerStack()
    with pytest.raises(LocalProtocolError, match="connection_made"):
        server.receive_data(b"GET", 0.0)
    server.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match="already"):
        server.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match="no request is awaiting a response"):
        server.respond(200, now=0.0)
    client = HTTPClientStack(host=HOST)
    with pytest.raises(LocalProtocolError, match="connection_made"):
        client.receive_data(b"x", 0.0)
    client.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match="connection_lost first"):
        client.connection_made(0.0)


def test_repr_redacts_credentials() -> None:
    request = HTTPRequest.get(
        "/api/v2/public/auth",
        {"grant_type": "client_credentials", "client_id": "ID", "client_secret": "S3CR3T"},
        headers=(("Authorization", "Bearer T0KEN"), ("Cookie", "sid=C00KIE")),
    )
    text = repr(request)
    for secret in ("S3CR3T", "T0KEN", "C00KIE"):
        assert secret not in text
        assert secret not in str(request)
    assert "<redacted>" in text
    assert "client_credentials" in text
    assert "Authorization" in text
    with pytest.raises(LocalProtocolError) as info:
        HTTPRequest.get("/", headers=(("Authorization", "Bearer T0KEN\n"),))
    assert "T0KEN" not in str(info.value)

    link = Link(lambda s, r, now: s.respond(200, b'{"access_token":"AT0K"}', now=now))
    link.client.request(request, 0.0)
    answer = response(link.run())
    (seen,) = link.received
    link.client.request(request, 0.0, timeout=1.0)
    link.client.handle_timer(1.0)
    timed_out = only(link.client.events())
    assert isinstance(timed_out, RequestFailed)
    for secret in ("S3CR3T", "T0KEN", "C00KIE", "AT0K"):
        assert secret not in repr(seen)
        assert secret not in repr(answer)
        assert secret not in repr(timed_out)
        assert secret not in str(timed_out.error)
    assert seen.header("authorization") == "Bearer T0KEN"  # still there to use
    assert answer.json() == {"access_token": "AT0K"}


def test_repr_redacts_headers_named_like_credentials() -> None:
    # Rails' token endpoint takes the key and secret as X-Api-Key / X-Api-Secret.
    headers = (("X-Api-Key", "K3Y"), ("X-Api-Secret", "S3CR3T"), ("X-Auth-Token", "T0K"))
    request = HTTPRequest(method="POST", path="/api/v1/token", headers=headers)
    for secret in ("K3Y", "S3CR3T", "T0K"):
        assert secret not in repr(request)
    assert "X-Api-Secret" in repr(request)
    assert request.header("x-api-secret") == "S3CR3T"  # still there to use
    with pytest.raises(LocalProtocolError) as info:
        HTTPRequest(method="POST", path="/", headers=(("X-Api-Secret", "S3CR3T\n"),))
    assert "S3CR3T" not in str(info.value)
