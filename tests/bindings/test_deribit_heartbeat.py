"""A Deribit venue that stops writing and answering (a zombie connection: the reference
venue's ``zombie`` fault) is detected by the client machine's heartbeat deadline, then
replaced by a reconnect, through the asyncio and trio bindings over real sockets on
127.0.0.1.

Deribit's heartbeat interval is at least 10 s (spec 1.5), so detection takes 10 s of
the binding's clock.  These tests run that clock ``RATE`` times faster than real time:
trio with ``MockClock(rate=RATE)``, asyncio with a loop whose ``time()`` (and select
timeouts) are scaled the same way.  Every bound below is in that clock.
"""

from __future__ import annotations

import asyncio
import importlib
import selectors
import time
from collections.abc import Callable, Mapping
from types import ModuleType, SimpleNamespace
from typing import Any

import anyio
import pytest
import trio.testing

from tradewire.protocol import Connected, ConnectionDead, Event, SubscriptionActive
from tradewire.protocol.deribit import Authenticated, HeartbeatTimeout, Subscribe

from .reference_venue import CHANNELS, client_machine, reference_venue, subscribe_calls

pytestmark = pytest.mark.anyio

RATE = 5.0


class _ScaledSelector(selectors.BaseSelector):
    """A selector whose ``select`` timeout is in a clock ``rate`` times faster."""

    def __init__(self, rate: float) -> None:
        self._inner = selectors.DefaultSelector()
        self._rate = rate

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        return self._inner.select(None if timeout is None else timeout / self._rate)

    def close(self) -> None:
        self._inner.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()


class FastLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock runs ``rate`` times faster than ``time.monotonic()``."""

    def __init__(self, rate: float) -> None:
        super().__init__(_ScaledSelector(rate))
        self._rate = rate
        self._base = time.monotonic()

    def time(self) -> float:
        return self._base + (time.monotonic() - self._base) * self._rate


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    if request.param == "asyncio":
        factory: Callable[[], asyncio.AbstractEventLoop] = lambda: FastLoop(RATE)  # noqa: E731
        return "asyncio", {"loop_factory": factory}
    return "trio", {"clock": trio.testing.MockClock(rate=RATE)}


@pytest.fixture
def binding(anyio_backend: tuple[str, dict[str, Any]]) -> ModuleType:
    return importlib.import_module(f"tradewire.bindings.{anyio_backend[0]}")


def of(events: list[Event], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


async def test_the_clock_runs_fast(binding: ModuleType) -> None:
    real, clock = time.monotonic(), anyio.current_time()
    await anyio.sleep(2.0)
    assert time.monotonic() - real < 1.5  # the premise of the next test: faster than real
    assert anyio.current_time() - clock >= 2.0


async def test_a_zombie_venue_is_detected_by_the_heartbeat_deadline_then_replaced(
    binding: ModuleType, kit: SimpleNamespace
) -> None:
    fds, tasks = kit.fds(), kit.live_tasks()
    venue, log = reference_venue(anyio.current_time(), binding.epoch_offset())
    machine = client_machine(heartbeat_interval=10, heartbeat_grace=0.5)
    with anyio.fail_after(60):
        async with (
            binding.serve(log.factory, on_events=log.on_events, app=venue) as server,
            binding.connect(
                server.url, machine, ping_interval=None, backoff=kit.fast_backoff()
            ) as client,
        ):
            await client.request(Subscribe(channels=list(CHANNELS)))
            silenced = anyio.current_time()
            # no more reads, writes, answers; never closes (same loop: applied at once)
            venue.inject(max(venue.sockets), "zombie", silenced)
            events: list[Event] = []
            async for event in client:
                events.append(event)
                if len(of(events, SubscriptionActive)) >= 2 * len(CHANNELS) and any(
                    c.attempt == 1 for c in of(events, Connected)
                ):
                    break
            detected = next(e for e in events if isinstance(e, HeartbeatTimeout))
            took = anyio.current_time() - silenced
            active = set(client.machine.ledger.active())
    assert 10.49 <= detected.silence < 14.0  # interval 10 s plus 0.5 s grace (+ scaled lag)
    assert 10.0 <= took < 30.0
    reconnected = next(e for e in events if isinstance(e, Connected) and e.attempt == 1)
    assert events.index(detected) < events.index(reconnected)  # dead, then replaced
    assert len(of(events, ConnectionDead)) == 1  # the heartbeat, not the keepalive ping
    assert len(of(events, Authenticated)) == 2
    assert venue.accepted == 2
    again = log.requests(1)
    assert again[0] == ("public/auth", "client_signature")
    assert sorted(c for _, cs in subscribe_calls(again) for c in cs) == sorted(CHANNELS)
    assert active == set(CHANNELS)
    assert kit.live_tasks() == tasks
    assert kit.fds() == fds
