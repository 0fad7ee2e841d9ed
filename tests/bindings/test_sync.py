"""The sync binding: blocking client calls and a thread-backed server, real sockets on
127.0.0.1.  Every wait is bounded (``events(timeout=...)``, request deadlines), and
each test checks that no thread and no file descriptor outlives it."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tradewire.bindings import ConnectFailed, Lagging, route_upgrade
from tradewire.bindings import sync as tw
from tradewire.bindings._sync_client import EVENT_BATCH
from tradewire.conformance import EchoClient, Note, Push, Say
from tradewire.protocol import (
    Connected,
    ConnectionDead,
    ConnectionLost,
    Event,
    Handshake,
    HTTPRequest,
    RequestSucceeded,
    RequestTimeout,
    UpgradeRejected,
    WebSocketClosed,
)


@pytest.fixture(autouse=True)
def nothing_left_behind(kit: SimpleNamespace) -> Iterator[None]:
    threads, fds = set(threading.enumerate()), kit.fds()
    yield
    assert set(threading.enumerate()) == threads
    assert kit.fds() == fds


def collect_until(client: tw.Client, done: Any, timeout: float = 10.0) -> list[Event]:
    events: list[Event] = []
    for event in client.events(timeout=timeout):
        events.append(event)
        if done(events):
            return events
    raise AssertionError(f"condition not met; got {events[-5:]!r}")


def of(events: list[Event], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def test_request_send_and_iterate(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory, on_events=venue.on_events) as server,
        tw.connect(server.url + "/ws", EchoClient()) as client,
    ):
        assert [t.name for t in threading.enumerate()].count("tradewire-server") == 1
        assert client.request(Say(text="hello")) == "hello"
        push_id = client.send(Push(count=3))
        events = collect_until(client, lambda e: len(of(e, Note)) == 3)
    assert isinstance(events[0], Connected)
    assert [done.request_id for done in of(events, RequestSucceeded)] == [push_id]
    assert venue.heard == ["hello"]


def test_leaving_the_events_loop_loses_none_of_a_batch(kit: SimpleNamespace) -> None:
    # events() takes up to EVENT_BATCH events per lock; those not yet yielded when the
    # loop is left come first from the next events().
    total = 3 * EVENT_BATCH
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory) as server,
        tw.connect(server.url + "/ws", EchoClient()) as client,
    ):
        client.send(Push(count=total))
        notes: list[int] = []
        while len(notes) < total:
            for event in client.events(timeout=10):
                if isinstance(event, Note):
                    notes.append(event.index)
                    break  # leave after every note: the rest of its batch must wait
    assert notes == list(range(total))


def test_url_path_fills_a_root_handshake(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer()
    machine = EchoClient(handshake=Handshake(path="/"))
    with (
        tw.serve(venue.factory) as server,
        tw.connect(server.url + "/ws/api/v2", machine) as client,
    ):
        assert client.request(Say(text="x")) == "x"
    upgrade = venue.machines[0].upgrade
    assert upgrade is not None
    assert upgrade.path == "/ws/api/v2"


def test_tls_trusted_and_untrusted(
    kit: SimpleNamespace, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    venue = kit.VenueServer()
    with tw.serve(venue.factory, ssl=server_ssl) as server:
        url = f"wss://localhost:{server.port}/ws"
        with tw.connect(url, EchoClient(), ssl=client_ssl) as client:
            assert client.request(Say(text="secret")) == "secret"
        started = time.monotonic()
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            tw.connect(url, EchoClient())
        assert time.monotonic() - started < 5
        with (
            tw.http_client(f"https://localhost:{server.port}") as http,
            pytest.raises(ConnectionLost, match="certificate verify failed"),
        ):
            http.request(HTTPRequest.get("/"))


def test_rejected_upgrade_and_refused_connection_raise(kit: SimpleNamespace) -> None:
    with tw.serve(kit.VenueServer(refuse=403).factory) as server:
        with pytest.raises(ConnectFailed, match="HTTP 403"):
            tw.connect(server.url + "/ws", EchoClient())
        port = server.port
    with pytest.raises(ConnectionRefusedError):
        tw.connect(f"ws://127.0.0.1:{port}/ws", EchoClient())


def test_reconnects_after_the_server_aborts_the_connection(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory, on_events=venue.on_events) as server,
        tw.connect(server.url + "/ws", EchoClient(), backoff=kit.fast_backoff()) as client,
    ):
        assert client.request(Say(text="die")) == "die"
        events = collect_until(client, lambda e: any(c.attempt == 1 for c in of(e, Connected)))
        assert client.request(Say(text="again")) == "again"
    assert of(events, WebSocketClosed) == [WebSocketClosed(code=1006, reason="", by="transport")]
    assert len(venue.connections) == 2


def test_a_final_refusal_on_reconnect_ends_the_session(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer(refuse=403, refuse_from=1)
    with (
        tw.serve(venue.factory, on_events=venue.on_events) as server,
        tw.connect(server.url + "/ws", EchoClient(), backoff=kit.fast_backoff()) as client,
    ):
        client.send(Say(text="die"))
        events = list(client.events(timeout=10))  # ends by itself: no reconnect left
    [rejected] = of(events, UpgradeRejected)
    assert (rejected.status, rejected.retrying) == (403, False)


def test_a_zombie_server_is_declared_dead_then_reconnected(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer(zombies=1)
    with (
        tw.serve(venue.factory) as server,
        tw.connect(
            server.url + "/ws",
            EchoClient(),
            ping_interval=0.2,
            ping_timeout=0.3,
            backoff=kit.fast_backoff(),
        ) as client,
    ):
        events = collect_until(client, lambda e: any(c.attempt == 1 for c in of(e, Connected)))
        assert client.request(Say(text="alive")) == "alive"
    assert len(of(events, ConnectionDead)) == 1


def test_connection_lost_and_timeouts(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory, on_events=venue.on_events) as server,
        tw.connect(server.url + "/ws", EchoClient(timeout=0.3), backoff=kit.fast_backoff()) as c,
    ):
        with pytest.raises(RequestTimeout, match=r"unanswered after 0\.3s"):
            c.request(Say(text="ignore"))
        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            c.request(Say(text="ignore"), timeout=0.05)
        assert time.monotonic() - started < 0.25
        with pytest.raises(ConnectionLost):
            c.request(Say(text="hang"))


def test_backpressure_pauses_reading_then_reports_lagging(kit: SimpleNamespace) -> None:
    total, bound = 50_000, 200
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory) as server,
        tw.connect(server.url + "/ws", EchoClient(), max_queued_events=bound, low_water=50) as c,
    ):
        c.send(Push(count=total))
        deadline = time.monotonic() + 10
        while not c.reading_paused:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        held = []
        for _ in range(20):
            assert c.queued <= bound + EVENT_BATCH
            with c._cond:
                held.append(c.queued + len(c._core._spill))
            time.sleep(0.01)
        assert len(set(held)) == 1
        assert held[0] < total
        notes, lagging = [], []
        for event in c.events(timeout=10):
            assert c.queued <= bound + EVENT_BATCH  # the queue, and a batch taken off it
            if isinstance(event, Note):
                notes.append(event.index)
            elif isinstance(event, Lagging):
                lagging.append(event)
            if len(notes) == total:
                break
    assert notes == list(range(total))
    assert lagging
    assert lagging[0].paused_for >= 0.15


def test_http_keep_alive_and_one_port_for_both(kit: SimpleNamespace) -> None:
    venue, app = kit.VenueServer(), kit.HTTPApp()

    def on_events(conn: Any, events: list[Event], now: float) -> None:
        if conn.kind == "http":
            app.on_events(conn, events, now)
        else:
            venue.on_events(conn.stack, events, now)

    machine = EchoClient(handshake=Handshake(path="/"))
    with (
        tw.serve(route_upgrade(venue.factory, app.factory), on_events=on_events) as server,
        tw.http_client(server.http_url) as http,
        tw.connect(server.url + "/ws/api/v2", machine) as client,
    ):
        first = http.request(HTTPRequest.get("/api/v2/public/test"))
        assert client.request(Say(text="ws")) == "ws"
        second = http.request(HTTPRequest.post_json("/api/v2/public/get_time", {}))
    assert (first.status, second.status) == (200, 200)
    assert second.json()["path"] == "/api/v2/public/get_time"
    assert len(app.peers) == 1  # two requests, one TCP connection
    assert venue.heard == ["ws"]


def test_application_timer_and_cross_connection_writes(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer()
    ticker = kit.Ticker(venue, time.monotonic(), 0.3)
    with (
        tw.serve(venue.factory, on_events=venue.on_events, app=ticker) as server,
        tw.connect(server.url + "/ws", EchoClient()) as a,
        tw.connect(server.url + "/ws", EchoClient()) as b,
    ):
        got = collect_until(b, lambda e: bool(of(e, Note)))
        assert of(got, Note) == [Note(index=77)]
        a.send(Say(text="broadcast"))
        got = collect_until(b, lambda e: bool(of(e, Note)))
        assert of(got, Note) == [Note(index=99)]


def test_close_is_clean_and_final(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer()
    with tw.serve(venue.factory) as server:
        client = tw.connect(server.url + "/ws", EchoClient())
        client.close(code=1000, reason="done")
        events = list(client.events(timeout=5))
        with pytest.raises(ConnectionLost, match="closed"):
            client.send(Say(text="too late"))
    assert of(events, WebSocketClosed) == [WebSocketClosed(code=1000, reason="done", by="local")]
    assert venue.machines[0].lost
