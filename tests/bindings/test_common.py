"""The loop-agnostic pieces: URLs, TLS defaults, handshake merging, the WebSocket-or-HTTP
router, the client core's routing and backpressure, and TLS over memory buffers."""

from __future__ import annotations

import ssl

import pytest
import trustme

from tradewire.bindings import Lagging, UpgradeOrHTTP, classify_request_head, merge_handshake
from tradewire.bindings._client import ClientCore
from tradewire.bindings._common import (
    client_ssl_context,
    parse_http_url,
    parse_ws_url,
    with_url_target,
)
from tradewire.bindings._tlspipe import TLSPipe
from tradewire.conformance import EchoClient, EchoServer, Note, Say
from tradewire.protocol import (
    ConnectionLost,
    Handshake,
    HTTPRequestReceived,
    HTTPServerStack,
    LocalProtocolError,
    RequestFailed,
    RequestSucceeded,
    UpgradeAccepted,
    WebSocketServerStack,
)

UPGRADE = (
    b"GET /ws/api/v2 HTTP/1.1\r\nHost: venue\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
PLAIN = b"GET /api/v2/public/test HTTP/1.1\r\nHost: venue\r\n\r\n"


def test_ws_urls() -> None:
    endpoint = parse_ws_url("wss://www.deribit.com/ws/api/v2")
    assert (endpoint.secure, endpoint.host, endpoint.port) == (True, "www.deribit.com", 443)
    assert (endpoint.path, endpoint.host_header) == ("/ws/api/v2", "www.deribit.com")
    endpoint = parse_ws_url("ws://127.0.0.1:8080/?a=1")
    assert (endpoint.port, endpoint.query, endpoint.host_header) == (8080, "a=1", "127.0.0.1:8080")
    assert parse_ws_url("ws://[::1]:9000").host_header == "[::1]:9000"
    for bad in ("http://x", "ws://", "ws://user:pw@x/", "ws://x:99999", 7):
        with pytest.raises(LocalProtocolError, match="invalid url"):
            parse_ws_url(bad)  # type: ignore[arg-type]


def test_http_base_url_has_no_path() -> None:
    assert parse_http_url("https://test.deribit.com").port == 443
    assert parse_http_url("http://127.0.0.1:80/").host_header == "127.0.0.1"
    with pytest.raises(LocalProtocolError, match=r"HTTPRequest\.path carries the full path"):
        parse_http_url("https://www.deribit.com/api/v2")


def test_tls_defaults_verify_and_refuse_contexts_for_plain_urls() -> None:
    context = client_ssl_context(parse_ws_url("wss://venue"), None)
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    mine = ssl.create_default_context()
    assert client_ssl_context(parse_ws_url("wss://venue"), mine) is mine
    assert client_ssl_context(parse_ws_url("ws://venue"), None) is None
    with pytest.raises(LocalProtocolError, match="use wss://"):
        client_ssl_context(parse_ws_url("ws://venue"), mine)


def test_the_machine_handshake_wins_and_the_url_fills_a_root_path() -> None:
    url = parse_ws_url("wss://www.deribit.com/ws/api/v2?x=1")
    merged = merge_handshake(Handshake(path="/"), url)
    assert (merged.path, merged.query) == ("/ws/api/v2", (("x", "1"),))
    own = Handshake(path="/mine", query=(("a", "b"),), subprotocols=("s",))
    assert merge_handshake(own, url) is own
    assert merge_handshake(Handshake(path="/mine"), url).query == (("x", "1"),)
    machine = EchoClient(handshake=Handshake(path="/"))
    assert with_url_target(machine, parse_ws_url("ws://venue/")) is machine
    proxy = with_url_target(machine, url)
    assert proxy.handshake.path == "/ws/api/v2"
    assert proxy.receive_message == machine.receive_message  # no extra call on the hot path
    assert proxy.connects == 0  # anything else is the machine's own


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (UPGRADE, "websocket"),
        (UPGRADE.replace(b"Upgrade: websocket", b"upgrade: h2c, WebSocket"), "websocket"),
        (UPGRADE.replace(b"GET", b"POST"), "http"),
        (PLAIN, "http"),
        (b"GET / HTTP/1.1\n\n", "http"),
        (UPGRADE[:40], None),
        (b"", None),
        (b"\x16\x03\x01\x02\x00", "http"),  # a TLS hello on a plain port: HTTP answers 400
        (b"G" * 20_000, "http"),
    ],
)
def test_classify_request_head(head: bytes, kind: str | None) -> None:
    assert classify_request_head(head) == kind


def route() -> UpgradeOrHTTP[WebSocketServerStack, HTTPServerStack]:
    return UpgradeOrHTTP(
        lambda peer: WebSocketServerStack(EchoServer(), peer=peer),
        lambda peer: HTTPServerStack(peer=peer),
        "127.0.0.1:5",
        head_timeout=2.0,
    )


def test_router_becomes_a_websocket_stack_from_split_bytes() -> None:
    conn = route()
    conn.connection_made(1.0)
    assert conn.next_deadline() == 3.0
    conn.receive_data(UPGRADE[:30], 1.1)
    assert conn.stack is None
    assert conn.data_to_send() == b""
    conn.receive_data(UPGRADE[30:], 1.2)
    assert conn.kind == "websocket"
    assert isinstance(conn.stack, WebSocketServerStack)
    assert conn.data_to_send().startswith(b"HTTP/1.1 101")
    assert any(isinstance(event, UpgradeAccepted) for event in conn.events())


def test_router_becomes_an_http_stack_and_times_out_a_silent_client() -> None:
    conn = route()
    conn.connection_made(1.0)
    conn.receive_data(PLAIN, 1.1)
    assert conn.kind == "http"
    [request] = conn.events()
    assert isinstance(request, HTTPRequestReceived)
    assert request.peer == "127.0.0.1:5"
    silent = route()
    silent.connection_made(1.0)
    silent.handle_timer(2.9)
    assert not silent.should_close_transport
    silent.handle_timer(3.0)
    assert silent.should_close_transport
    eof = route()
    eof.connection_made(1.0)
    eof.receive_data(b"", 1.5)
    assert eof.should_close_transport


def test_core_bounds_the_queue_pauses_and_reports_lagging() -> None:
    core = ClientCore(max_queued_events=10, low_water=3)
    calls: list[str] = []
    core.pause_reading = lambda: calls.append("pause")
    core.resume_reading = lambda: calls.append("resume")
    core.absorb([Note(index=i) for i in range(25)], 100.0)
    assert len(core.queue) == 10
    assert calls == ["pause"]
    core.absorb([Note(index=25)], 100.5)  # e.g. from a timer while paused
    taken = [core.pop(102.0) for _ in range(7)]
    assert len(core.queue) <= 10
    assert calls == ["pause"]  # the spill is not empty yet
    while (event := core.pop(104.0)) is not None:
        taken.append(event)
        assert len(core.queue) <= 10
    assert calls == ["pause", "resume"]
    notes = [e.index for e in taken if isinstance(e, Note)]
    assert notes == list(range(26))
    [lagging] = [e for e in taken if isinstance(e, Lagging)]
    assert lagging == Lagging(paused_for=4.0, limit=10)
    assert taken[-1] is lagging


def test_core_routes_answers_to_waiters_and_drops_abandoned_ones() -> None:
    core = ClientCore()
    resolved: list[object] = []

    class Waiter:
        def resolve(self, event: object) -> None:
            resolved.append(event)

    core.register(1, Waiter())
    core.register(2, Waiter())
    core.abandon(2)
    mine = RequestSucceeded(request_id=1, command=Say(text="a"), result="a")
    late = RequestSucceeded(request_id=2, command=Say(text="b"), result="b")
    other = RequestSucceeded(request_id=3, command=Say(text="c"), result="c")
    core.absorb([mine, late, other], 1.0)
    assert resolved == [mine]
    assert list(core.queue) == [other]
    assert core.waiters == {}
    core.register(4, Waiter())
    core.fail_waiters("the client is closed")
    failed = resolved[-1]
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, ConnectionLost)


def test_core_validates_its_bounds() -> None:
    for kwargs in ({"max_queued_events": 0}, {"max_queued_events": 5, "low_water": 5}):
        with pytest.raises(LocalProtocolError, match="invalid"):
            ClientCore(**kwargs)  # type: ignore[arg-type]


def test_tls_pipe_handshake_and_data_over_memory(ca: trustme.CA) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("venue.test").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    client = TLSPipe(client_ctx, server_side=False, server_hostname="venue.test")
    server = TLSPipe(server_ctx, server_side=True)
    client.send(b"early")  # held until the handshake is done
    client.start()
    received = b""
    for _ in range(10):  # b"" would mean end of file: move only what there is
        if cipher := client.take():
            received += server.feed(cipher)
        if cipher := server.take():
            client.feed(cipher)
    assert client.handshaken
    assert server.handshaken
    assert received == b"early"
    server.send(b"answer")
    assert client.feed(server.take()) == b"answer"
    untrusted = TLSPipe(ssl.create_default_context(), server_side=False, server_hostname="x")
    other = TLSPipe(server_ctx, server_side=True)
    untrusted.start()
    other.feed(untrusted.take())
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusted.feed(other.take())
