"""The WebSocket-or-HTTP router, bytes in and bytes out: a kept-alive HTTP connection
whose next request is a WebSocket upgrade (what aiohttp, and so ccxt, does), request
framing across every split of the client's bytes, pipelining, EOF and bounds.

No I/O: a small driver plays the serving binding (events to the application, output
collected, timers fired when due), a wsproto client plays the WebSocket peer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import h11
import pytest
import wsproto
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.frame_protocol import FrameProtocol

from tradewire.bindings import UpgradeOrHTTP
from tradewire.conformance import EchoServer
from tradewire.protocol import (
    HTTPRequestReceived,
    HTTPServerStack,
    RemoteProtocolError,
    WebSocketServerStack,
)

GET = b"GET /api/v2/public/test HTTP/1.1\r\nHost: venue\r\n\r\n"
POST_CHUNKED = (
    b"POST /api/v2 HTTP/1.1\r\nHost: venue\r\nTransfer-Encoding: chunked\r\n"
    b"Expect: 100-continue\r\n\r\n"
    b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
)
POST_LENGTH = b"POST /api/v2 HTTP/1.1\r\nHost: venue\r\nContent-Length: 11\r\n\r\nGET / HTTP/"


class RetiredHTTP(HTTPServerStack):
    """An HTTP stack that remembers being retired (``connection_lost``)."""

    lost = 0

    def connection_lost(self, now: float) -> None:
        self.lost += 1
        super().connection_lost(now)


class Driver:
    """Plays the binding: feeds bytes, answers each HTTP request with 200 and its path
    and body, collects output, fires timers when due (the clock never moves)."""

    def __init__(self, *, head_timeout: float = 10.0, max_pipelined: int = 1 << 17) -> None:
        self.http_stacks: list[RetiredHTTP] = []
        self.router: UpgradeOrHTTP[WebSocketServerStack, RetiredHTTP] = UpgradeOrHTTP(
            lambda peer: WebSocketServerStack(EchoServer(), peer=peer),
            self._http,
            "127.0.0.1:5",
            head_timeout=head_timeout,
            max_pipelined=max_pipelined,
        )
        self.now = 1.0
        self.out = bytearray()
        self.requests: list[HTTPRequestReceived] = []
        self.other_events: list[Any] = []
        self.errors: list[RemoteProtocolError] = []
        self.router.connection_made(self.now)

    def _http(self, peer: str | None) -> RetiredHTTP:
        stack = RetiredHTTP(peer=peer)
        self.http_stacks.append(stack)
        return stack

    def feed(self, *chunks: bytes) -> Driver:
        """Feed each non-empty chunk (an empty one would be EOF: see :meth:`eof`)."""
        for chunk in chunks:
            if not chunk:
                continue
            try:
                self.router.receive_data(chunk, self.now)
            except RemoteProtocolError as exc:
                self.errors.append(exc)
            self.settle()
        return self

    def eof(self) -> Driver:
        self.router.receive_data(b"", self.now)
        self.settle()
        return self

    def settle(self) -> None:
        router = self.router
        for _ in range(100):
            busy = False
            for event in router.events():
                busy = True
                if isinstance(event, HTTPRequestReceived):
                    self.requests.append(event)
                    stack = router.stack
                    assert isinstance(stack, HTTPServerStack)
                    body = {
                        "path": event.path,
                        "body": event.body.decode(),
                        "n": len(self.requests),
                    }
                    stack.respond(200, json=body, now=self.now)
                else:
                    self.other_events.append(event)
            out = router.data_to_send()
            if out:
                busy = True
                self.out += out
            deadline = router.next_deadline()
            if deadline is not None and deadline <= self.now:
                busy = True
                router.handle_timer(self.now)
            if not busy:
                return
        raise AssertionError("the router never settled")


def http_responses(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Parse the HTTP responses at the start of ``data`` (interim ones included); the
    rest (from a 101 on, or what is not HTTP) is returned as it is."""
    responses: list[tuple[int, bytes]] = []
    rest = data
    while rest.startswith(b"HTTP/"):
        if rest.startswith(b"HTTP/1.1 101 "):
            responses.append((101, b""))
            return responses, rest  # the WebSocket client reads the 101 itself
        client = h11.Connection(h11.CLIENT)
        client.send(h11.Request(method="GET", target="/", headers=[("Host", "venue")]))
        client.send(h11.EndOfMessage())
        client.receive_data(rest)
        status, body = 0, b""
        while True:
            event = client.next_event()
            if isinstance(event, h11.InformationalResponse):
                responses.append((event.status_code, b""))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                responses.append((status, body))
                rest = client.trailing_data[0]
                break
            else:
                raise AssertionError(f"incomplete response in {rest!r}: {event!r}")
    return responses, rest


class WSClient:
    """A wsproto client: its upgrade request and a text frame, and what it reads back."""

    def __init__(self) -> None:
        self.ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.upgrade = self.ws.send(Request(host="venue", target="/ws/api/v2"))

    def frame(self, text: str) -> bytes:
        # wsproto sends no frame before the handshake completes; its frame encoder does
        return FrameProtocol(client=True, extensions=[]).send_data(text, fin=True)

    def read(self, data: bytes) -> list[Any]:
        self.ws.receive_data(data)
        return list(self.ws.events())


def splits(data: bytes) -> Iterable[tuple[bytes, bytes]]:
    for cut in range(len(data) + 1):
        yield data[:cut], data[cut:]


def check_upgraded(driver: Driver, ws: WSClient, statuses: list[int]) -> None:
    responses, rest = http_responses(bytes(driver.out))
    assert [status for status, _ in responses] == [*statuses, 101]
    events = ws.read(rest)
    assert isinstance(events[0], AcceptConnection)
    assert [e.data for e in events[1:] if isinstance(e, TextMessage)] == ['{"id":1,"echo":"hi"}']
    router = driver.router
    assert router.kind == "websocket"
    assert isinstance(router.stack, WebSocketServerStack)
    assert [stack.lost for stack in driver.http_stacks] == [1] * len(driver.http_stacks)
    assert driver.errors == []


def test_the_next_request_on_a_kept_alive_connection_upgrades_split_at_every_point() -> None:
    for first, second in splits(GET):
        ws = WSClient()
        driver = Driver().feed(first, second)
        assert [r.path for r in driver.requests] == ["/api/v2/public/test"]
        assert driver.router.kind == "http"
        driver.feed(ws.upgrade + ws.frame('{"id":1,"say":"hi"}'))
        check_upgraded(driver, ws, [200])
    size = len(WSClient().upgrade + WSClient().frame('{"id":1,"say":"hi"}'))
    for cut in range(size + 1):
        ws = WSClient()
        tail = ws.upgrade + ws.frame('{"id":1,"say":"hi"}')
        driver = Driver().feed(GET).feed(tail[:cut], tail[cut:])
        assert driver.router.requests == 1
        check_upgraded(driver, ws, [200])


def test_an_upgrade_pipelined_behind_an_unanswered_request_waits_for_its_answer() -> None:
    for cut in range(len(GET) + 250):
        ws = WSClient()
        stream = GET + ws.upgrade + ws.frame('{"id":1,"say":"hi"}')
        driver = Driver().feed(stream[:cut], stream[cut:])
        check_upgraded(driver, ws, [200])  # the 200 goes out before the 101
    ws = WSClient()
    stream = GET + ws.upgrade + ws.frame('{"id":1,"say":"hi"}')
    driver = Driver().feed(*(stream[i : i + 1] for i in range(len(stream))))  # byte by byte
    check_upgraded(driver, ws, [200])


def test_bodies_are_framed_chunked_and_by_length_before_the_upgrade() -> None:
    size = len(POST_CHUNKED + GET + WSClient().upgrade + WSClient().frame('{"id":1,"say":"hi"}'))
    for cut in range(size + 1):
        ws = WSClient()  # (a fresh key each time; the length stays the same)
        stream = POST_CHUNKED + GET + ws.upgrade + ws.frame('{"id":1,"say":"hi"}')
        driver = Driver().feed(stream[:cut], stream[cut:])
        assert [(r.method, r.body) for r in driver.requests] == [
            ("POST", b"hello, world"),
            ("GET", b""),
        ]
        assert driver.router.requests == 2
        check_upgraded(driver, ws, [100, 200, 200] if _continued(driver) else [200, 200])
    # a body that looks like a request head is still a body
    driver = Driver().feed(POST_LENGTH)
    assert [r.body for r in driver.requests] == [b"GET / HTTP/"]
    assert driver.router.kind == "http"


def _continued(driver: Driver) -> bool:
    return driver.out.startswith(b"HTTP/1.1 100")


def test_pipelined_http_requests_are_answered_in_order_one_at_a_time() -> None:
    second = GET.replace(b"/test", b"/get_time")
    for cut in range(2 * len(GET) + 1):
        stream = GET + second
        driver = Driver().feed(stream[:cut], stream[cut:])
        responses, rest = http_responses(bytes(driver.out))
        assert rest == b""
        assert [status for status, _ in responses] == [200, 200]
        assert [b'"n":1' in responses[0][1], b'"n":2' in responses[1][1]] == [True, True]
        paths = [r.path for r in driver.requests]
        assert paths == ["/api/v2/public/test", "/api/v2/public/get_time"]
        assert driver.router.kind == "http"
        assert len(driver.http_stacks) == 1


def test_empty_lines_before_a_request_line_are_ignored() -> None:
    ws = WSClient()
    driver = Driver().feed(GET + b"\r\n", b"\r\n" + ws.upgrade, ws.frame('{"id":1,"say":"hi"}'))
    check_upgraded(driver, ws, [200])


def test_eof_after_a_request_still_gets_the_answer_then_closes() -> None:
    driver = Driver().feed(GET).eof()
    responses, _ = http_responses(bytes(driver.out))
    assert [status for status, _ in responses] == [200]
    assert driver.router.should_close_transport
    pipelined = Driver()
    pipelined.router.receive_data(GET + GET, 1.0)
    pipelined.router.receive_data(b"", 1.0)  # both requests arrived before the EOF
    pipelined.settle()
    responses, _ = http_responses(bytes(pipelined.out))
    assert [status for status, _ in responses] == [200, 200]
    assert pipelined.router.should_close_transport
    ws = WSClient()
    upgraded = Driver()
    upgraded.router.receive_data(GET + ws.upgrade, 1.0)
    upgraded.router.receive_data(b"", 1.0)  # a client that half-closes after its upgrade
    upgraded.settle()
    responses, _ = http_responses(bytes(upgraded.out))
    assert [status for status, _ in responses] == [200, 101]
    assert upgraded.router.kind == "websocket"


def test_a_malformed_next_request_is_answered_by_the_http_stack() -> None:
    driver = Driver().feed(GET, b"GET / HTTP/1.1\r\nbad header line\r\n\r\n")
    responses, _ = http_responses(bytes(driver.out))
    assert [status for status, _ in responses] == [200, 400]
    assert driver.router.should_close_transport
    assert driver.router.kind == "http"


def test_an_incomplete_next_head_times_out_and_pipelining_is_bounded() -> None:
    driver = Driver(head_timeout=2.0).feed(GET, b"GET /ws/api/v2 HTTP/1.1\r\nHost: v")
    assert driver.router.next_deadline() == 3.0
    driver.router.handle_timer(2.9)
    assert not driver.router.should_close_transport
    driver.router.handle_timer(3.0)
    assert driver.router.should_close_transport
    greedy = Driver(max_pipelined=1000)
    greedy.router.receive_data(GET, 1.0)  # not answered: the next bytes wait
    greedy.router.receive_data(GET * 20, 1.0)
    with pytest.raises(RemoteProtocolError, match="max_pipelined=1000"):
        greedy.router.receive_data(GET * 20, 1.0)
    assert greedy.router.should_close_transport
