"""tradewire's Deriv client through the asyncio, trio and sync bindings, against the
reference Deriv venue served over real sockets on 127.0.0.1: typed results, typed
exceptions, streams, and a dropped connection ridden through with every stream restored."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from tradewire.bindings import sync as tw
from tradewire.bindings._venues import REGISTRY, connection_factory, start_reference
from tradewire.protocol import Connected, Event, SubscriptionActive
from tradewire.protocol import deriv as d

DERIV = REGISTRY["deriv"]
TOKEN = "tradewire-demo-token"
STREAMS = ("ticks.1HZ100V", "balance")


def of(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def restored_after_reconnect(events: list[Event]) -> bool:
    """A reconnect happened and every stream was active again after it."""
    marks = [n for n, e in enumerate(events) if isinstance(e, Connected) and e.attempt > 0]
    if not marks:
        return False
    after = {e.topic for e in events[marks[0] :] if isinstance(e, SubscriptionActive)}
    return after >= set(STREAMS)


@pytest.mark.anyio
async def test_typed_results_exceptions_and_streams_over_an_async_binding(deriv_venue: Any) -> None:
    assert deriv_venue.url.endswith("/websockets/v3?app_id=1089&l=EN&brand=")
    async with deriv_venue.connect() as client:  # the demo token
        now = await client.request(d.Time(), timeout=10)
        assert isinstance(now, int)
        assert abs(now - time.time()) < 5
        symbols = await client.request(d.ActiveSymbols(), timeout=10)
        assert all(isinstance(s, d.ActiveSymbol) for s in symbols)
        with pytest.raises(d.InvalidSymbol):
            await client.request(d.ContractsFor(contracts_for="R_XX"), timeout=10)
        result = await client.request(d.Subscribe(streams=STREAMS), timeout=10)
        assert result.active == STREAMS
        quote = await client.request(
            d.Proposal(
                contract_type="CALL",
                currency="USD",
                symbol="R_50",
                amount=5,
                duration=5,
                duration_unit="t",
            ),
            timeout=10,
        )
        bought = await client.request(d.Buy(buy=quote.id, price=quote.ask_price), timeout=10)
        assert isinstance(bought, d.BuyResult)
        seen: list[Event] = []
        with anyio.fail_after(10):
            async for event in client:
                seen.append(event)
                if len(of(seen, d.TickMessage)) >= 2 and of(seen, d.BalanceMessage):
                    break
    assert {t.topic for t in of(seen, d.TickMessage)} == {"ticks.1HZ100V"}


@pytest.mark.anyio
async def test_a_dropped_connection_is_ridden_through_over_an_async_binding(
    deriv_venue: Any,
) -> None:
    async with deriv_venue.connect() as client:
        await client.request(d.Subscribe(streams=STREAMS), timeout=10)
        deriv_venue.inject("disconnect")
        seen: list[Event] = []
        with anyio.fail_after(15):
            async for event in client:
                seen.append(event)
                if restored_after_reconnect(seen):
                    break
        assert await client.request(d.Time(), timeout=10)
    assert len(of(seen, d.Authorized)) == 2  # once per connection, private streams after it


@pytest.fixture
def no_leftovers(kit: SimpleNamespace) -> Iterator[None]:
    threads, fds = set(threading.enumerate()), kit.fds()
    yield
    assert set(threading.enumerate()) - threads == set()
    assert kit.fds() == fds


@pytest.mark.usefixtures("no_leftovers")
def test_the_sync_binding_with_typed_results_exceptions_and_a_reconnect() -> None:
    venue = start_reference(
        DERIV, now=time.monotonic(), epoch_offset=tw.epoch_offset(), faults="disconnect@2s#1"
    )
    with tw.serve(connection_factory(DERIV, venue), on_events=venue.on_events, app=venue) as server:
        url = DERIV.urls.ws_url("127.0.0.1", server.port)
        with tw.connect(url, d.ClientProtocol(token=TOKEN)) as client:
            assert client.request(d.Ping(), timeout=10) == "pong"
            with pytest.raises(d.ContractBuyValidationError):
                client.request(
                    d.Proposal(
                        contract_type="MULTUP",
                        currency="USD",
                        symbol="R_50",
                        amount=10,
                        multiplier=3,
                    ),
                    timeout=10,
                )
            client.request(d.Subscribe(streams=STREAMS), timeout=10)
            events: list[Event] = []
            deadline = time.monotonic() + 15
            for event in client.events(timeout=15):
                events.append(event)
                if restored_after_reconnect(events):
                    break
                assert time.monotonic() < deadline
            portfolio = client.request(d.Portfolio(), timeout=10)
    assert isinstance(portfolio, d.PortfolioResult)
    assert len(of(events, d.Authorized)) == 2
    assert venue.accepted == 2  # type: ignore[attr-defined]
