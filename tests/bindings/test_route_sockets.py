"""The WebSocket-or-HTTP router over real sockets: one kept-alive TCP connection carries
HTTP requests and then a WebSocket upgrade, against the reference Deribit venue served
by each binding on 127.0.0.1.

The client side is a blocking socket in a worker thread (h11 and wsproto by hand, so
every byte is the test's), and aiohttp, whose ``ws_connect`` reuses an idle REST
connection of its session (what ccxt does)."""

from __future__ import annotations

import asyncio
import socket
import time
from types import ModuleType, SimpleNamespace
from typing import Any

import aiohttp
import anyio
import h11
import msgspec
import pytest
import wsproto
from wsproto.events import AcceptConnection, CloseConnection, TextMessage
from wsproto.events import Request as WSRequest

from tradewire.bindings import UpgradeOrHTTP, route_upgrade
from tradewire.bindings import sync as tw_sync
from tradewire.conformance.deribit import DeribitVenue, VenueConfig
from tradewire.conformance.market import MarketConfig

GET_TIME = "/api/v2/public/get_time"
TEST_CALL = b'{"jsonrpc":"2.0","id":7,"method":"public/test","params":{}}'


class Routed:
    """The reference venue behind ``route_upgrade``, remembering every router."""

    def __init__(self, now: float, epoch_offset: float) -> None:
        start_ms = round((now + epoch_offset) * 1000)
        self.venue = DeribitVenue(
            VenueConfig(market=MarketConfig(seed=3, start_ms=start_ms)), now=now
        )
        self._route = route_upgrade(self.venue.websocket_connection, self.venue.http_connection)
        self.routers: list[UpgradeOrHTTP[Any, Any]] = []

    def factory(self, peer: str | None) -> UpgradeOrHTTP[Any, Any]:
        router = self._route(peer)
        self.routers.append(router)
        return router


def _read_response(sock: socket.socket, client: h11.Connection) -> tuple[int, bytes, bytes]:
    """One HTTP response from ``sock``; returns status, body and the bytes after it."""
    status, body = 0, b""
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            data = sock.recv(65536)
            assert data, "the server closed the connection"
            client.receive_data(data)
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return status, body, client.trailing_data[0]
        else:
            raise AssertionError(f"unexpected {event!r}")


def exchange(port: int, *, pipelined: bool) -> dict[str, Any]:
    """One TCP connection: ``GET get_time`` (kept alive), then a WebSocket upgrade and a
    ``public/test`` call on it, then a clean close.  ``pipelined`` sends the upgrade
    right behind the GET, before its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        http = h11.Connection(h11.CLIENT)
        ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        get = http.send(h11.Request(method="GET", target=GET_TIME, headers=[("Host", "venue")]))
        get += http.send(h11.EndOfMessage())
        upgrade = ws.send(WSRequest(host="venue", target="/ws/api/v2"))
        sock.sendall(get + upgrade if pipelined else get)
        status, body, rest = _read_response(sock, http)
        if not pipelined:
            sock.sendall(upgrade)
        if rest:  # (an empty read would be EOF to wsproto)
            ws.receive_data(rest)
        events: list[Any] = list(ws.events())
        while not any(isinstance(e, AcceptConnection) for e in events):
            ws.receive_data(sock.recv(65536))
            events += ws.events()
        sock.sendall(ws.send(TextMessage(data=TEST_CALL.decode())))
        answers: list[str] = [e.data for e in events if isinstance(e, TextMessage)]
        while not answers:
            ws.receive_data(sock.recv(65536))
            answers += [e.data for e in ws.events() if isinstance(e, TextMessage)]
        sock.sendall(ws.send(CloseConnection(code=1000)))
        closed = False
        deadline = time.monotonic() + 10
        while not closed and time.monotonic() < deadline:
            data = sock.recv(65536)
            ws.receive_data(data or None)
            closed = not data or any(isinstance(e, CloseConnection) for e in ws.events())
    return {"status": status, "time": msgspec.json.decode(body)["result"], "answers": answers}


def check(result: dict[str, Any], routed: Routed) -> None:
    assert result["status"] == 200
    assert abs(result["time"] - time.time() * 1000) < 5_000  # the venue speaks epoch ms
    [answer] = result["answers"]
    message = msgspec.json.decode(answer)
    assert message["id"] == 7
    assert "version" in message["result"]
    [router] = routed.routers  # one TCP connection for both
    assert router.kind == "websocket"
    assert router.requests == 1
    assert routed.venue.accepted == 1  # one WebSocket session on it


@pytest.mark.anyio
@pytest.mark.parametrize("pipelined", [False, True], ids=["after-the-answer", "pipelined"])
async def test_a_kept_alive_connection_upgrades_with_the_async_bindings(
    binding: ModuleType, kit: SimpleNamespace, pipelined: bool
) -> None:
    fds, tasks = kit.fds(), kit.live_tasks()
    routed = Routed(anyio.current_time(), binding.epoch_offset())
    venue = routed.venue
    with anyio.fail_after(15):
        async with binding.serve(routed.factory, on_events=venue.on_events, app=venue) as server:
            port = server.port
            result = await anyio.to_thread.run_sync(lambda: exchange(port, pipelined=pipelined))
    check(result, routed)
    assert kit.live_tasks() == tasks
    assert kit.fds() == fds


@pytest.mark.parametrize("pipelined", [False, True], ids=["after-the-answer", "pipelined"])
def test_a_kept_alive_connection_upgrades_with_the_sync_binding(
    kit: SimpleNamespace, pipelined: bool
) -> None:
    fds = kit.fds()
    routed = Routed(time.monotonic(), tw_sync.epoch_offset())
    venue = routed.venue
    with tw_sync.serve(routed.factory, on_events=venue.on_events, app=venue) as server:
        result = exchange(server.port, pipelined=pipelined)
    check(result, routed)
    assert kit.fds() == fds


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_aiohttp_reuses_its_rest_connection_for_ws_connect(
    anyio_backend: str, kit: SimpleNamespace
) -> None:
    from tradewire.bindings import asyncio as aio

    fds, tasks = kit.fds(), kit.live_tasks()
    routed = Routed(asyncio.get_running_loop().time(), aio.epoch_offset())
    venue = routed.venue
    with anyio.fail_after(15):
        async with (
            aio.serve(routed.factory, on_events=venue.on_events, app=venue) as server,
            aiohttp.ClientSession() as session,
        ):
            async with session.get(server.http_url + GET_TIME) as response:
                status = response.status
                body = await response.json()
            async with session.ws_connect(server.url + "/ws/api/v2") as ws:
                await ws.send_str(TEST_CALL.decode())
                answer = await ws.receive_json()
    assert status == 200
    assert abs(body["result"] - time.time() * 1000) < 5_000
    assert answer["id"] == 7
    assert "version" in answer["result"]
    [router] = routed.routers  # aiohttp dialled once: the upgrade rode the REST connection
    assert router.kind == "websocket"
    assert router.requests == 1
    assert kit.live_tasks() == tasks
    assert kit.fds() == fds
