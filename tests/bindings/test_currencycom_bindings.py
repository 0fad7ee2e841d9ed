"""Currency.com through all three bindings (asyncio, trio, sync): tradewire's client
machine over the WebSocket and the REST client over HTTP, against the reference venue
served by the same binding on one port (docs/venues/currencycom.md), real sockets on
127.0.0.1: pings, signed requests signed with the binding's epoch clock, whole-book
depth events, trades, a dropped connection with the subscriptions restored, and signed
REST calls."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import anyio
import pytest

from tradewire.bindings import sync as tw
from tradewire.bindings._venue_currencycom import ENTRY
from tradewire.bindings._venues import connection_factory, served, start_reference
from tradewire.protocol import Connected, Event, SubscriptionActive
from tradewire.protocol.currencycom import (
    Account,
    ClientProtocol,
    Credentials,
    DepthUpdate,
    ExchangeInfo,
    GetAccount,
    GetExchangeInfo,
    GetServerTime,
    InvalidSignature,
    RESTClient,
    ServerTime,
    Subscribe,
    TradeUpdate,
)

KEY, SECRET = "tradewire-demo", "tradewire-demo-secret"
TOPICS = ("depth:BTC/USD", "trades:BTC/USD")


def client(**options: Any) -> ClientProtocol:
    return ClientProtocol(credentials=Credentials(api_key=KEY, secret=SECRET), **options)


def of(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def enough(events: list[Event]) -> bool:
    return len(of(events, DepthUpdate)) >= 3 and len(of(events, TradeUpdate)) >= 1


async def collect_until(stream: Any, done: Callable[[list[Event]], bool]) -> list[Event]:
    events: list[Event] = []
    async for event in stream:
        events.append(event)
        if done(events):
            return events
    raise AssertionError(f"the stream ended first; got {events[-5:]!r}")


def check(server_time: Any, asked: float, account: Any, events: list[Event]) -> None:
    assert isinstance(server_time, ServerTime)
    assert abs(server_time.serverTime - asked * 1000) < 5_000  # epoch ms
    assert isinstance(account, Account)
    assert {b.asset: b.free for b in account.balances}["USD"] == 100_000.0
    depth = of(events, DepthUpdate)
    assert all(e.topic == "depth:BTC/USD" for e in depth)
    assert all(e.data.bid and e.data.ofr for e in depth)  # each one a whole book
    assert all(e.payload.symbol == "BTC/USD" for e in of(events, TradeUpdate))


@pytest.mark.anyio
async def test_async_bindings_websocket_and_rest(binding: ModuleType, kit: SimpleNamespace) -> None:
    fds, tasks = kit.fds(), kit.live_tasks()
    with anyio.fail_after(20):
        async with served(ENTRY, binding=binding, seed=3) as running:
            async with binding.connect(running.url, client()) as ws:
                asked = time.time()
                server_time = await ws.request(GetServerTime())
                account = await ws.request(GetAccount())
                await ws.request(Subscribe(topics=TOPICS))
                events = await collect_until(ws, enough)
            rest = RESTClient(Credentials(api_key=KEY, secret=SECRET))
            async with binding.http_client(running.http_url) as http:
                info = await http.request(rest.request(GetExchangeInfo(), time.time()))
                signed = await http.request(rest.request(GetAccount(), time.time()))
                forged = RESTClient(Credentials(api_key=KEY, secret="wrong"))
                refused = await http.request(forged.request(GetAccount(), time.time()))
    check(server_time, asked, account, events)
    assert isinstance(rest.response(GetExchangeInfo(), info).result, ExchangeInfo)  # type: ignore[union-attr]
    assert isinstance(rest.response(GetAccount(), signed).result, Account)  # type: ignore[union-attr]
    failed = forged.response(GetAccount(), refused)
    assert isinstance(failed.error, InvalidSignature)  # type: ignore[union-attr]
    assert refused.status == 400
    assert kit.live_tasks() == tasks
    assert kit.fds() == fds


@pytest.mark.anyio
async def test_async_bindings_restore_the_subscriptions_after_a_drop(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    with anyio.fail_after(20):
        async with (
            served(ENTRY, binding=binding, seed=4, faults="disconnect@1.5s#1") as running,
            binding.connect(running.url, client(), backoff=kit.fast_backoff()) as ws,
        ):
            await ws.request(Subscribe(topics=TOPICS))

            def back(events: list[Event]) -> bool:
                reconnected = any(c.attempt == 1 for c in of(events, Connected))
                return (
                    reconnected
                    and len(of(events, SubscriptionActive)) >= len(TOPICS)
                    and (
                        len(
                            of(
                                events[
                                    [i for i, e in enumerate(events) if isinstance(e, Connected)][
                                        -1
                                    ] :
                                ],
                                DepthUpdate,
                            )
                        )
                        >= 2
                    )
                )

            events = await collect_until(ws, back)
            account = await ws.request(GetAccount())
            active, desired = set(ws.machine.ledger.active()), set(ws.machine.ledger.desired())
    assert active == desired == set(TOPICS)
    assert running.venue.accepted == 2  # type: ignore[attr-defined]
    assert isinstance(account, Account)
    assert events


def test_sync_binding_websocket_and_rest(kit: SimpleNamespace) -> None:
    reference = start_reference(ENTRY, now=time.monotonic(), epoch_offset=tw.epoch_offset(), seed=5)
    factory = connection_factory(ENTRY, reference)
    with tw.serve(factory, on_events=reference.on_events, app=reference) as server:
        with tw.connect(server.url, client()) as ws:
            asked = time.time()
            server_time = ws.request(GetServerTime())
            account = ws.request(GetAccount())
            ws.request(Subscribe(topics=TOPICS))
            events: list[Event] = []
            deadline = time.monotonic() + 15
            for event in ws.events(timeout=15):
                events.append(event)
                if enough(events) or time.monotonic() > deadline:
                    break
        rest = RESTClient(Credentials(api_key=KEY, secret=SECRET))
        with tw.http_client(server.http_url) as http:
            signed = http.request(rest.request(GetAccount(), time.time()))
    check(server_time, asked, account, events)
    assert enough(events)
    assert isinstance(rest.response(GetAccount(), signed).result, Account)  # type: ignore[union-attr]


def test_demo_currencycom_runs_every_step() -> None:
    # tradewire demo currencycom, as a user runs it: streams and a kept book, a signed
    # account call, a signed order placed and cancelled, a dropped connection ridden through.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "tradewire.bindings.cli", "demo", "currencycom"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "signed GetAccount" in out
    assert " NEW at " in out
    assert " CANCELED" in out
    assert "every topic subscribed again" in out
    assert out.rstrip().endswith("tradewire demo: ok")
