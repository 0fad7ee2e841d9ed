"""The real Deribit client machine through the sync binding, against the reference
Deribit venue served by the sync binding's thread (``serve()`` + ``route_upgrade``), over
real sockets on 127.0.0.1.  Each test checks that no thread and no file descriptor
outlives it.  The venue's fault plans drop a connection or turn it into a zombie (the
server runs in its own thread, so faults come from the plan, not from the test).

The zombie test waits for Deribit's 10 s heartbeat deadline in real time (the sync
binding's clock is ``time.monotonic()``); the async bindings run it on a fast clock.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tradewire.bindings import sync as tw
from tradewire.protocol import (
    Connected,
    ConnectionLost,
    Event,
    HTTPRequest,
    LocalProtocolError,
    StackState,
    SubscriptionActive,
    WebSocketClosed,
)
from tradewire.protocol.deribit import (
    AccountSummary,
    Authenticated,
    AuthenticationFailed,
    BookUpdate,
    GetAccountSummary,
    GetTicker,
    GetTime,
    HeartbeatTimeout,
    LoggedOut,
    Logout,
    Status,
    Subscribe,
    Test,
    Ticker,
    Unauthorized,
    VersionResult,
)

from .reference_venue import (
    CHANNELS,
    RequestLog,
    client_machine,
    reference_venue,
    subscribe_calls,
)


@pytest.fixture(autouse=True)
def nothing_left_behind(kit: SimpleNamespace) -> Iterator[None]:
    threads, fds = set(threading.enumerate()), kit.fds()
    yield
    # none started here is left (idle worker threads of earlier trio tests may retire)
    assert set(threading.enumerate()) - threads == set()
    assert kit.fds() == fds


def of(events: list[Event], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def collect_until(
    client: tw.Client, done: Callable[[list[Event]], bool], timeout: float = 10.0
) -> list[Event]:
    """Events until ``done(events)``, within ``timeout`` seconds in all."""
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    for event in client.events(timeout=timeout):
        events.append(event)
        if done(events):
            return events
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"condition not met in {timeout}s; got {events[-5:]!r}")


def drain(client: tw.Client, timeout: float = 10.0) -> tuple[list[Event], bool]:
    """Events until the client's stream ends by itself (``True``) or ``timeout`` passes."""
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    for event in client.events(timeout=timeout):
        events.append(event)
        if time.monotonic() > deadline:
            return events, False
    return events, time.monotonic() <= deadline


def start(faults: str | None = None) -> tuple[Any, RequestLog]:
    return reference_venue(time.monotonic(), tw.epoch_offset(), faults=faults)


def serve(log: RequestLog, **options: Any) -> tw.Server:
    return tw.serve(log.factory, on_events=log.on_events, app=log.venue, **options)


def test_authenticates_with_a_signature_and_requests_typed_results(kit: SimpleNamespace) -> None:
    venue, log = start()
    with serve(log) as server:
        with tw.connect(server.url, client_machine()) as client:
            assert isinstance(client.request(Test(), timeout=10), VersionResult)
            server_ms = client.request(GetTime(), timeout=10)
            ticker = client.request(GetTicker(instrument_name="BTC-PERPETUAL"), timeout=10)
            summary = client.request(GetAccountSummary(currency="BTC"), timeout=10)
            client.request(Subscribe(channels=[CHANNELS[0]]), timeout=10)
            events = collect_until(client, lambda e: len(of(e, BookUpdate)) >= 3)
        with tw.http_client(server.http_url) as http:
            response = http.request(
                HTTPRequest.get("/api/v2/public/ticker", query={"instrument_name": "ETH-PERPETUAL"})
            )
        # without the epoch hand-off the signature is decades off: refused
        with tw.connect(server.url, client_machine(), epoch_offset=0.0) as client:
            with pytest.raises(Unauthorized):
                client.request(GetAccountSummary(currency="BTC"), timeout=10)
            refused = collect_until(client, lambda e: bool(of(e, AuthenticationFailed)))
        with pytest.raises(LocalProtocolError, match="already drives client machines"):
            tw.connect(server.url, client_machine(epoch_offset=time.time() - time.monotonic()))
    assert abs(server_ms - time.time() * 1000) < 5_000
    assert isinstance(ticker, Ticker)
    assert isinstance(summary, AccountSummary)
    assert len(of(events, Authenticated)) == 1
    books = [event.data for event in of(events, BookUpdate)]
    assert [b.prev_change_id for b in books[1:]] == [b.change_id for b in books[:-1]]
    assert log.requests(0)[0] == ("public/auth", "client_signature")
    assert response.status == 200
    assert response.json()["result"]["instrument_name"] == "ETH-PERPETUAL"
    assert isinstance(of(refused, AuthenticationFailed)[0].error, Unauthorized)
    assert venue.accepted == 2


def test_reconnects_after_the_server_aborts_with_auth_and_subscriptions_restored(
    kit: SimpleNamespace,
) -> None:
    _venue, log = start(faults="disconnect@2s#1")  # no close frame, after 2 s
    with (
        serve(log) as server,
        tw.connect(server.url, client_machine(), backoff=kit.fast_backoff()) as client,
    ):
        client.request(Subscribe(channels=list(CHANNELS)), timeout=10)
        client.request(Status(), timeout=10)  # answered; the connection is dropped later
        events = collect_until(
            client,
            lambda e: (
                any(c.attempt == 1 for c in of(e, Connected))
                and len(of(e, SubscriptionActive)) >= 2 * len(CHANNELS)
            ),
        )
        with client._cond:
            active, desired = set(client.machine.ledger.active()), client.machine.ledger.desired()
    assert WebSocketClosed(code=1006, reason="", by="transport") in events
    again = log.requests(1)
    assert again[0] == ("public/auth", "client_signature")
    calls = subscribe_calls(again)
    assert sorted(c for _, cs in calls for c in cs) == sorted(CHANNELS)
    assert active == set(desired) == set(CHANNELS)


def test_a_zombie_venue_is_detected_by_the_heartbeat_deadline_then_replaced(
    kit: SimpleNamespace,
) -> None:
    _venue, log = start(faults="zombie@1s#1")  # silent from 1 s on, never closing
    machine = client_machine(heartbeat_interval=10, heartbeat_grace=0.5)
    with (
        serve(log) as server,
        tw.connect(server.url, machine, ping_interval=None, backoff=kit.fast_backoff()) as c,
    ):
        c.request(Subscribe(channels=list(CHANNELS)), timeout=10)
        silenced = time.monotonic()
        events = collect_until(
            c,
            lambda e: (
                any(x.attempt == 1 for x in of(e, Connected))
                and len(of(e, SubscriptionActive)) >= 2 * len(CHANNELS)
            ),
            timeout=15,
        )
        took = time.monotonic() - silenced
        with c._cond:
            active = set(c.machine.ledger.active())
    [detected] = of(events, HeartbeatTimeout)
    assert 10.49 <= detected.silence < 12.0  # interval 10 s plus 0.5 s grace
    assert 10.0 <= took < 15.0
    reconnected = next(e for e in events if isinstance(e, Connected) and e.attempt == 1)
    assert events.index(detected) < events.index(reconnected)
    assert log.requests(1)[0] == ("public/auth", "client_signature")
    assert active == set(CHANNELS)


def test_logout_ends_the_session_and_closes_the_stack(kit: SimpleNamespace) -> None:
    venue, log = start()
    with (
        serve(log) as server,
        tw.connect(server.url, client_machine(), backoff=kit.fast_backoff()) as client,
    ):
        assert client.request(Logout(), timeout=10) is None
        events, ended = drain(client)
        assert ended  # by itself: no reconnect
        with pytest.raises(ConnectionLost, match="closed"):
            client.request(Test())
        time.sleep(0.2)
    assert len(of(events, LoggedOut)) == 1
    assert client.stack.state is StackState.CLOSED
    assert venue.accepted == 1


def test_wss_with_a_trusted_ca_and_an_untrusted_certificate_refused(
    kit: SimpleNamespace, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    venue, log = start()
    with serve(log, ssl=server_ssl) as server:
        url = f"wss://localhost:{server.port}/ws/api/v2"
        with tw.connect(url, client_machine(), ssl=client_ssl) as client:
            summary = client.request(GetAccountSummary(currency="BTC"), timeout=10)
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            tw.connect(url, client_machine())
    assert isinstance(summary, AccountSummary)
    assert venue.accepted == 1
