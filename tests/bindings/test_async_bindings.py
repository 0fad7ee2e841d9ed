"""The asyncio and trio bindings, one test body for both (anyio's pytest plugin picks
the backend; ``binding`` is the native module for it), over real sockets on 127.0.0.1."""

from __future__ import annotations

import ssl
from types import ModuleType, SimpleNamespace
from typing import Any

import anyio
import pytest

from tradewire.bindings import ConnectFailed, Lagging, ProtocolViolation, route_upgrade
from tradewire.conformance import EchoClient, Note, Push, Say
from tradewire.protocol import (
    Connected,
    ConnectionDead,
    ConnectionLost,
    Event,
    Handshake,
    HTTPRequest,
    ReconnectScheduled,
    RequestSucceeded,
    RequestTimeout,
    StackState,
    UpgradeRejected,
    WebSocketClosed,
)

pytestmark = pytest.mark.anyio


async def collect_until(client: Any, done: Any, limit: int = 100_000) -> list[Event]:
    """Iterate ``client`` until ``done(events)`` holds."""
    events: list[Event] = []
    async for event in client:
        events.append(event)
        if done(events) or len(events) >= limit:
            break
    return events


def of(events: list[Event], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


async def test_request_send_and_iterate(binding: ModuleType, kit: SimpleNamespace) -> None:
    fds = kit.fds()
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with binding.serve(venue.factory, on_events=venue.on_events) as server:
            assert server.port > 0
            async with binding.connect(server.url + "/ws", EchoClient()) as client:
                assert await client.request(Say(text="hello")) == "hello"
                push_id = await client.send(Push(count=3))
                events = await collect_until(client, lambda e: len(of(e, Note)) == 3)
    assert isinstance(events[0], Connected)
    assert [note.index for note in of(events, Note)] == [0, 1, 2]
    # the awaited request's answer went to request(), the fire-and-forget one to the iterator
    assert [done.request_id for done in of(events, RequestSucceeded)] == [push_id]
    assert venue.heard == ["hello"]
    assert kit.fds() == fds


async def test_a_cancelled_iteration_loses_no_event(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    # A consumer cancelled while it asks for the next event (a timeout around it, a
    # task group shutting down) must find that event on its next call.
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory, on_events=venue.on_events) as server,
            binding.connect(server.url + "/ws", EchoClient()) as client,
        ):
            await client.request(Push(count=5))
            seen: list[Event] = []
            while len(of(seen, Note)) < 5:
                with anyio.CancelScope() as scope:
                    scope.cancel()  # already cancelled when __anext__ runs
                    seen.append(await client.__anext__())  # returned, or cancelled
                seen.append(await client.__anext__())
    assert [note.index for note in of(seen, Note)] == [0, 1, 2, 3, 4]


async def test_url_path_and_query_fill_a_root_handshake(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with binding.serve(venue.factory) as server:
            machine = EchoClient(handshake=Handshake(path="/"))
            async with binding.connect(server.url + "/ws/api/v2?v=2", machine) as client:
                assert await client.request(Say(text="x")) == "x"
            # a machine that names its own path wins over the URL's
            own = EchoClient(handshake=Handshake(path="/mine", query=(("a", "1"),)))
            async with binding.connect(server.url + "/other?b=2", own) as client:
                assert await client.request(Say(text="y")) == "y"
    first, second = (machine.upgrade for machine in venue.machines)
    assert first is not None
    assert second is not None
    assert (first.path, first.query) == ("/ws/api/v2", (("v", "2"),))
    assert (second.path, second.query) == ("/mine", (("a", "1"),))


async def test_tls_with_a_trusted_ca_and_sni(
    binding: ModuleType,
    kit: SimpleNamespace,
    server_ssl: ssl.SSLContext,
    client_ssl: ssl.SSLContext,
) -> None:
    venue = kit.VenueServer()
    seen: list[str | None] = []

    def record_sni(sock: Any, name: str | None, context: ssl.SSLContext) -> None:
        seen.append(name)

    server_ctx = server_ssl
    server_ctx.sni_callback = record_sni
    try:
        with anyio.fail_after(10):
            async with binding.serve(venue.factory, ssl=server_ctx) as server:
                assert server.url.startswith("wss://")
                url = f"wss://localhost:{server.port}/ws"
                async with binding.connect(url, EchoClient(), ssl=client_ssl) as client:
                    assert await client.request(Say(text="secret")) == "secret"
                async with binding.http_client(
                    f"https://localhost:{server.port}", ssl=client_ssl
                ) as http:
                    # the WebSocket venue answers plain HTTP with 400: TLS itself worked
                    response = await http.request(HTTPRequest.get("/ws"))
                    assert response.status == 400
    finally:
        server_ctx.sni_callback = None
    assert seen[:1] == ["localhost"]


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
async def test_messages_larger_than_a_read_arrive_whole_on_shared_loops(
    binding: ModuleType,
    kit: SimpleNamespace,
    server_ssl: ssl.SSLContext,
    client_ssl: ssl.SSLContext,
    tls: bool,
) -> None:
    # Each message spans many reads (the asyncio binding reads 64 KiB at a time into one
    # buffer per thread, shared by every connection of the loop): two clients on one
    # loop, requests in flight at once, every text back intact.
    venue = kit.VenueServer()
    texts = ["".join(chr(0x41 + (i + j) % 26) for j in range(300_000)) for i in range(4)]
    texts.append("\u00e9\u20ac" * 50_000)  # multi-byte characters across read boundaries
    options: dict[str, Any] = {"ssl": server_ssl} if tls else {}
    with anyio.fail_after(20):
        async with binding.serve(venue.factory, **options) as server:
            url = f"{'wss' if tls else 'ws'}://localhost:{server.port}/ws"
            extra: dict[str, Any] = {"ssl": client_ssl} if tls else {}
            async with (
                binding.connect(url, EchoClient(), **extra) as first,
                binding.connect(url, EchoClient(), **extra) as second,
            ):
                answers: dict[int, str] = {}

                async def ask(client: Any, i: int) -> None:
                    answers[i] = await client.request(Say(text=texts[i]))

                async with anyio.create_task_group() as tasks:
                    for i in range(len(texts)):
                        tasks.start_soon(ask, first if i % 2 else second, i)
    assert [answers[i] == texts[i] for i in range(len(texts))] == [True] * len(texts)


async def test_untrusted_certificate_is_refused_with_a_clear_error(
    binding: ModuleType, kit: SimpleNamespace, server_ssl: ssl.SSLContext
) -> None:
    fds = kit.fds()
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with binding.serve(venue.factory, ssl=server_ssl) as server:
            with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
                # verification is on by default: the test CA is not trusted
                async with binding.connect(server.url + "/ws", EchoClient()):
                    pass
            async with binding.http_client(f"https://localhost:{server.port}") as http:
                started = anyio.current_time()
                with pytest.raises(ConnectionLost, match="certificate verify failed"):
                    await http.request(HTTPRequest.get("/"))  # fails fast, not at its deadline
                assert anyio.current_time() - started < 5
    assert venue.machines == []  # the TLS handshake failed: no connection object was built
    assert kit.fds() == fds


async def test_refused_connection_and_rejected_upgrade_raise(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer(refuse=403)
    with anyio.fail_after(10):
        async with binding.serve(venue.factory) as server:
            with pytest.raises(ConnectFailed, match="HTTP 403") as info:
                async with binding.connect(server.url + "/ws", EchoClient()):
                    pass
            assert info.value.event is not None
            port = server.port
        with pytest.raises(OSError, match="onnect"):  # nothing listens any more
            async with binding.connect(f"ws://127.0.0.1:{port}/ws", EchoClient()):
                pass


async def test_reconnects_after_the_server_aborts_the_connection(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory, on_events=venue.on_events) as server,
            binding.connect(server.url + "/ws", EchoClient(), backoff=kit.fast_backoff()) as client,
        ):
            assert await client.request(Say(text="die")) == "die"  # answered, then killed
            events = await collect_until(
                client, lambda e: any(c.attempt == 1 for c in of(e, Connected))
            )
            assert await client.request(Say(text="again")) == "again"
    assert of(events, WebSocketClosed) == [WebSocketClosed(code=1006, reason="", by="transport")]
    assert len(of(events, ReconnectScheduled)) == 1
    assert len(venue.connections) == 2


async def test_a_final_refusal_on_reconnect_ends_the_session(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer(refuse=403, refuse_from=1)
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory, on_events=venue.on_events) as server,
            binding.connect(server.url + "/ws", EchoClient(), backoff=kit.fast_backoff()) as client,
        ):
            await client.send(Say(text="die"))
            events = [event async for event in client]  # ends by itself: no reconnect left
            with pytest.raises(ConnectionLost, match="closed"):
                await client.request(Say(text="too late"))
    [rejected] = of(events, UpgradeRejected)
    assert (rejected.status, rejected.retrying) == (403, False)
    assert client.stack.state is StackState.CLOSED


async def test_a_peer_protocol_violation_is_reported_then_reconnected(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory, on_events=venue.on_events) as server,
            binding.connect(server.url + "/ws", EchoClient(), backoff=kit.fast_backoff()) as client,
        ):
            assert await client.request(Say(text="garbage")) == "garbage"
            events = await collect_until(
                client, lambda e: any(c.attempt == 1 for c in of(e, Connected))
            )
            assert await client.request(Say(text="fine")) == "fine"
    [violation] = of(events, ProtocolViolation)
    assert violation.close_code == 1002
    assert of(events, WebSocketClosed)[0].code == 1002


async def test_a_zombie_server_is_declared_dead_by_keepalive_then_reconnected(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer(zombies=1)
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory) as server,
            binding.connect(
                server.url + "/ws",
                EchoClient(),
                ping_interval=0.2,
                ping_timeout=0.3,
                backoff=kit.fast_backoff(),
            ) as client,
        ):
            events = await collect_until(
                client, lambda e: any(c.attempt == 1 for c in of(e, Connected))
            )
            assert await client.request(Say(text="alive")) == "alive"
    dead = of(events, ConnectionDead)
    assert len(dead) == 1
    assert "no pong within 0.3s" in dead[0].reason
    assert len(venue.connections) == 2


async def test_request_raises_connection_lost_when_the_connection_drops(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory, on_events=venue.on_events) as server,
            binding.connect(server.url + "/ws", EchoClient(), backoff=kit.fast_backoff()) as client,
        ):
            with pytest.raises(ConnectionLost):
                await client.request(Say(text="hang"))
    assert venue.heard == ["hang"]


async def test_request_timeout_from_the_core_deadline_and_the_extra_bound(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with binding.serve(venue.factory) as server:
            async with binding.connect(server.url + "/ws", EchoClient(timeout=0.3)) as client:
                started = anyio.current_time()
                with pytest.raises(RequestTimeout, match=r"unanswered after 0\.3s"):
                    await client.request(Say(text="ignore"))
                assert anyio.current_time() - started == pytest.approx(0.3, abs=0.2)
            async with binding.connect(server.url + "/ws", EchoClient(timeout=30)) as client:
                started = anyio.current_time()
                with pytest.raises(RequestTimeout):
                    await client.request(Say(text="ignore"), timeout=0.1)
                assert anyio.current_time() - started < 1.0
                assert await client.request(Say(text="next")) == "next"


async def test_backpressure_pauses_reading_then_reports_lagging(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    total, bound = 50_000, 200
    venue = kit.VenueServer()
    with anyio.fail_after(20):
        async with (
            binding.serve(venue.factory) as server,
            binding.connect(
                server.url + "/ws", EchoClient(), max_queued_events=bound, low_water=50
            ) as client,
        ):
            await client.send(Push(count=total))
            while not client.reading_paused:
                await anyio.sleep(0.01)
            held = []
            for _ in range(20):  # nobody consumes for a while: nothing grows
                assert client.queued <= bound
                held.append(client.queued + len(client._core._spill))
                await anyio.sleep(0.01)
            assert client.reading_paused
            assert len(set(held)) == 1  # reading stopped; TCP holds the rest
            assert held[0] < total
            notes: list[int] = []
            lagging: list[Lagging] = []
            async for event in client:
                assert client.queued <= bound
                if isinstance(event, Note):
                    notes.append(event.index)
                elif isinstance(event, Lagging):
                    lagging.append(event)
                if len(notes) == total:
                    break
    assert notes == list(range(total))
    assert lagging
    assert lagging[0].paused_for >= 0.15
    assert lagging[0].limit == bound


async def test_http_keep_alive_reuses_one_connection(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    fds = kit.fds()
    app = kit.HTTPApp()
    with anyio.fail_after(10):
        async with (
            binding.serve(app.factory, on_events=app.on_events) as server,
            binding.http_client(server.http_url) as http,
        ):
            first = await http.request(HTTPRequest.get("/api/v2/public/test"))
            second = await http.request(HTTPRequest.post_json("/api/v2/public/get_time", {"id": 1}))
    assert (first.status, second.status) == (200, 200)
    assert first.json()["path"] == "/api/v2/public/test"
    assert second.json()["path"] == "/api/v2/public/get_time"
    assert len(app.peers) == 1  # both requests on one TCP connection
    assert first.json()["peer"] == second.json()["peer"]
    assert kit.fds() == fds


async def test_one_port_serves_websocket_and_http(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue, app = kit.VenueServer(), kit.HTTPApp()

    def on_events(conn: Any, events: list[Event], now: float) -> None:
        if conn.kind == "http":
            app.on_events(conn, events, now)
        else:
            venue.on_events(conn.stack, events, now)

    factory = route_upgrade(venue.factory, app.factory)
    with anyio.fail_after(10):
        async with binding.serve(factory, on_events=on_events) as server:
            machine = EchoClient(handshake=Handshake(path="/"))
            async with (
                binding.connect(server.url + "/ws/api/v2", machine) as client,
                binding.http_client(server.http_url) as http,
            ):
                response = await http.request(HTTPRequest.get("/api/v2/public/test"))
                assert await client.request(Say(text="ws")) == "ws"
    assert response.status == 200
    assert response.json()["path"] == "/api/v2/public/test"
    assert venue.heard == ["ws"]
    assert venue.machines[0].upgrade is not None
    assert venue.machines[0].upgrade.path == "/ws/api/v2"


async def test_application_writes_reach_other_connections(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory, on_events=venue.on_events) as server,
            binding.connect(server.url + "/ws", EchoClient()) as a,
            binding.connect(server.url + "/ws", EchoClient()) as b,
        ):
            await a.send(Say(text="broadcast"))
            got = await collect_until(b, lambda e: bool(of(e, Note)))
    assert of(got, Note) == [Note(index=99)]


async def test_application_timer_is_driven_and_flushes_every_connection(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue = kit.VenueServer()
    ticker = kit.Ticker(venue, anyio.current_time(), 0.3)
    with anyio.fail_after(10):
        async with (
            binding.serve(venue.factory, app=ticker) as server,
            binding.connect(server.url + "/ws", EchoClient()) as a,
            binding.connect(server.url + "/ws", EchoClient()) as b,
        ):
            got_a = await collect_until(a, lambda e: bool(of(e, Note)))
            got_b = await collect_until(b, lambda e: bool(of(e, Note)))
    assert ticker.fired == 1
    assert of(got_a, Note) == of(got_b, Note) == [Note(index=77)]


async def test_close_is_clean_and_final(binding: ModuleType, kit: SimpleNamespace) -> None:
    fds = kit.fds()
    venue = kit.VenueServer()
    with anyio.fail_after(10):
        async with binding.serve(venue.factory) as server:
            async with binding.connect(server.url + "/ws", EchoClient()) as client:
                await client.request(Say(text="bye"))
                await client.close(code=1000, reason="done")
                events = [event async for event in client]  # ends after close
                with pytest.raises(ConnectionLost, match="closed"):
                    await client.send(Say(text="too late"))
            server_events = venue.connections[0].inner.events()
    assert of(events, WebSocketClosed) == [WebSocketClosed(code=1000, reason="done", by="local")]
    assert venue.machines[0].lost
    assert server_events == [] or not of(server_events, ConnectionDead)
    assert kit.fds() == fds
