"""The real Deribit client machine through the asyncio and trio bindings, against the
reference Deribit venue served by the same binding (``serve()`` + ``route_upgrade``, as
``tradewire serve`` starts it), over real sockets on 127.0.0.1.  One test body for both
backends (anyio's plugin picks the backend)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import anyio
import pytest

from tradewire.conformance.deribit import DeribitVenue
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
    LoggedOut,
    Logout,
    PlatformStatus,
    Status,
    Subscribe,
    SubscribeResult,
    Test,
    Ticker,
    Unauthorized,
    VersionResult,
)

from .reference_venue import (
    CHANNELS,
    CLIENT_ID,
    RequestLog,
    client_machine,
    reference_venue,
    subscribe_calls,
)

pytestmark = pytest.mark.anyio


def of(events: list[Event], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


async def collect_until(client: Any, done: Callable[[list[Event]], bool]) -> list[Event]:
    events: list[Event] = []
    async for event in client:
        events.append(event)
        if done(events):
            return events
    raise AssertionError(f"the stream ended first; got {events[-5:]!r}")


def start(binding: ModuleType, faults: str | None = None) -> tuple[DeribitVenue, RequestLog]:
    return reference_venue(anyio.current_time(), binding.epoch_offset(), faults=faults)


def serve(binding: ModuleType, log: RequestLog, **options: Any) -> Any:
    return binding.serve(log.factory, on_events=log.on_events, app=log.venue, **options)


async def test_authenticates_with_a_signature_and_requests_typed_results(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    fds, tasks = kit.fds(), kit.live_tasks()
    _venue, log = start(binding)
    with anyio.fail_after(10):
        async with serve(binding, log) as server:
            async with binding.connect(server.url, client_machine()) as client:
                version = await client.request(Test())
                server_ms = await client.request(GetTime())
                ticker = await client.request(GetTicker(instrument_name="BTC-PERPETUAL"))
                summary = await client.request(GetAccountSummary(currency="BTC"))
                subscribed = await client.request(Subscribe(channels=[CHANNELS[0]]))
                events = await collect_until(client, lambda e: len(of(e, BookUpdate)) >= 3)
            async with binding.http_client(server.http_url) as http:  # the same port
                response = await http.request(HTTPRequest.get("/api/v2/public/get_time"))
    assert isinstance(version, VersionResult)
    assert abs(server_ms - time.time() * 1000) < 5_000  # the venue speaks epoch ms
    assert isinstance(ticker, Ticker)
    assert ticker.instrument_name == "BTC-PERPETUAL"
    assert ticker.best_bid_price is not None
    assert ticker.best_ask_price is not None
    assert ticker.best_bid_price < ticker.best_ask_price
    assert isinstance(summary, AccountSummary)
    assert (summary.currency, summary.equity) == ("BTC", 10.0)  # the demo account
    assert subscribed == SubscribeResult(active=(CHANNELS[0],))
    [auth] = of(events, Authenticated)
    assert "trade:read_write" in auth.scope.split()
    books = [event.data for event in of(events, BookUpdate)]
    assert books[0].is_snapshot
    assert [b.prev_change_id for b in books[1:]] == [b.change_id for b in books[:-1]]
    assert log.requests(0)[0] == ("public/auth", "client_signature")  # login goes first
    assert response.status == 200
    assert abs(response.json()["result"] - time.time() * 1000) < 5_000
    assert log.closed == [WebSocketClosed(code=1000, reason="", by="remote")]
    assert kit.live_tasks() == tasks
    assert kit.fds() == fds


async def test_signatures_need_the_epoch_hand_off(binding: ModuleType) -> None:
    venue, log = start(binding)
    with anyio.fail_after(10):
        async with serve(binding, log) as server:
            # epoch_offset=0.0 drives the machine on the bare monotonic clock: the
            # signature's timestamp is decades off and the venue refuses the login
            async with binding.connect(server.url, client_machine(), epoch_offset=0.0) as client:
                with pytest.raises(Unauthorized):
                    await client.request(GetAccountSummary(currency="BTC"))
                events = await collect_until(client, lambda e: bool(of(e, AuthenticationFailed)))
            # a machine converting a monotonic clock itself would be shifted twice
            doubled = client_machine(epoch_offset=time.time() - time.monotonic())
            with pytest.raises(LocalProtocolError, match="already drives client machines"):
                async with binding.connect(server.url, doubled):
                    pass
            with pytest.raises(LocalProtocolError, match="invalid epoch_offset"):
                async with binding.connect(server.url, client_machine(), epoch_offset="0"):
                    pass
    assert isinstance(of(events, AuthenticationFailed)[0].error, Unauthorized)
    assert venue.accepted == 1  # nothing was dialled for the refused arguments


async def test_reconnects_after_the_server_aborts_with_auth_and_subscriptions_restored(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    fds, tasks = kit.fds(), kit.live_tasks()
    venue, log = start(binding, faults="disconnect@2s#1")  # no close frame, after 2 s
    with anyio.fail_after(10):
        async with (
            serve(binding, log) as server,
            binding.connect(server.url, client_machine(), backoff=kit.fast_backoff()) as client,
        ):
            result = await client.request(Subscribe(channels=list(CHANNELS)))
            assert set(result.active) == set(CHANNELS)
            assert isinstance(await client.request(Status()), PlatformStatus)
            events = await collect_until(
                client,
                lambda e: (
                    any(c.attempt == 1 for c in of(e, Connected))
                    and len(of(e, SubscriptionActive)) >= 2 * len(CHANNELS)
                ),
            )
            ledger = client.machine.ledger
            active, desired = set(ledger.active()), set(ledger.desired())
            summary = await client.request(GetAccountSummary(currency="BTC"))
    assert WebSocketClosed(code=1006, reason="", by="transport") in events
    assert venue.accepted == 2
    again = log.requests(1)
    methods = [method for method, _ in again]
    assert methods[0] == "public/auth"  # re-authenticated first ...
    calls = subscribe_calls(again)
    assert all(methods.index("public/auth") < again.index(call) for call in calls)
    resubscribed = [channel for _, channels in calls for channel in channels]
    assert sorted(resubscribed) == sorted(CHANNELS)  # ... then exactly the desired set
    assert dict(calls)["private/subscribe"] == CHANNELS[1:]  # the raw and user.* ones
    assert active == desired == set(CHANNELS)
    assert len(of(events, Authenticated)) == 2
    assert isinstance(summary, AccountSummary)
    assert kit.live_tasks() == tasks
    assert kit.fds() == fds


async def test_logout_ends_the_session_and_closes_the_stack(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    venue, log = start(binding)
    with anyio.fail_after(10):
        async with (
            serve(binding, log) as server,
            binding.connect(server.url, client_machine(), backoff=kit.fast_backoff()) as client,
        ):
            await client.request(Subscribe(channels=[CHANNELS[0]]))
            assert await client.request(Logout()) is None  # resolved by the venue's close
            events = [event async for event in client]  # ends by itself: no reconnect
            with pytest.raises(ConnectionLost, match="closed"):
                await client.request(Test())
            await anyio.sleep(0.2)  # a reconnect, if one were scheduled, would come now
    assert len(of(events, LoggedOut)) == 1
    assert WebSocketClosed(code=1000, reason="logout", by="remote") in events
    assert client.stack.state is StackState.CLOSED
    assert venue.accepted == 1
    assert log.requests(0)[-1] == ("private/logout", None)


async def test_wss_with_a_trusted_ca_and_an_untrusted_certificate_refused(
    binding: ModuleType,
    kit: SimpleNamespace,
    server_ssl: ssl.SSLContext,
    client_ssl: ssl.SSLContext,
) -> None:
    fds, tasks = kit.fds(), kit.live_tasks()
    venue, log = start(binding)
    with anyio.fail_after(10):
        async with serve(binding, log, ssl=server_ssl) as server:
            url = f"wss://localhost:{server.port}/ws/api/v2"
            async with binding.connect(url, client_machine(), ssl=client_ssl) as client:
                summary = await client.request(GetAccountSummary(currency="BTC"))
            with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
                async with binding.connect(url, client_machine()):  # the system CAs only
                    pass
    assert isinstance(summary, AccountSummary)
    assert venue.accepted == 1  # the refused handshake built no connection
    assert log.requests(0)[0] == ("public/auth", "client_signature")
    assert CLIENT_ID not in repr(log.requests(0)[1:])
    assert kit.live_tasks() == tasks
    assert kit.fds() == fds
