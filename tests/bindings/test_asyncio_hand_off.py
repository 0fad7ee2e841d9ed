"""The asyncio client hands a read to the consumer that waits for it (``_asyncio_driver``).

A read that comes while the consumer waits in ``async for`` is decoded in the
consumer's own turn, not in the transport's callback: with many connections ready in
one turn of the loop, each read's events are made just before they are consumed,
instead of every connection's whole read being decoded before any consumer runs (the
events of a hundred reads alive at once cost cache misses and garbage-collector work:
``benchmarks/bench_e2e.py``, 100 connections against 1).  Real sockets on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import pytest

from tradewire.bindings import asyncio as aio
from tradewire.conformance import EchoClient, Note, Push, Say
from tradewire.protocol import Connected, Event

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TaskSpy(EchoClient):
    """The echo client, noting the task that handles each message it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[asyncio.Task[Any] | None] = []

    def receive_message(self, data: bytes | str, now: float) -> None:
        self.tasks.append(asyncio.current_task())
        super().receive_message(data, now)


async def _first_of(client: Any, kind: type) -> Event:
    async for event in client:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__}")


async def test_a_read_while_the_consumer_waits_is_decoded_in_the_consumers_task(
    kit: SimpleNamespace,
) -> None:
    venue = kit.VenueServer()
    machine = TaskSpy()
    async with asyncio.timeout(10):
        async with (
            aio.serve(venue.factory, on_events=venue.on_events) as server,
            aio.connect(server.url + "/ws", machine) as client,
        ):
            await _first_of(client, Connected)
            notes: list[Event] = []

            async def consume() -> None:
                async for event in client:
                    if isinstance(event, Note):
                        notes.append(event)
                        if len(notes) == 3:
                            return

            consumer = asyncio.create_task(consume())
            await asyncio.sleep(0)  # the consumer now waits for an event
            machine.tasks.clear()
            await client.send(Push(count=3))
            await consumer
    assert [note.index for note in notes] == [0, 1, 2]  # type: ignore[attr-defined]
    assert machine.tasks, "the machine got no message"
    assert set(machine.tasks) == {consumer}


async def test_reads_of_many_connections_are_decoded_one_consumer_at_a_time(
    kit: SimpleNamespace,
) -> None:
    # The venue pushes a note to every connection in one write each, so all the clients'
    # sockets are readable in the same turn of the loop.  When a consumer gets its note,
    # no other client holds decoded events: each read waits, undecoded, for its consumer.
    venue = kit.VenueServer()
    seen: list[int] = []
    async with asyncio.timeout(10), contextlib.AsyncExitStack() as stack:
        server = await stack.enter_async_context(
            aio.serve(venue.factory, on_events=venue.on_events)
        )
        clients = [
            await stack.enter_async_context(aio.connect(server.url + "/ws", EchoClient()))
            for _ in range(5)
        ]
        for client in clients:
            await _first_of(client, Connected)
        sender, watched = clients[0], clients[1:]  # the sender also gets its echo's answer

        async def consume(client: Any) -> None:
            await _first_of(client, Note)
            seen.append(sum(other.queued for other in watched if other is not client))

        consumers = [asyncio.create_task(consume(client)) for client in watched]
        await asyncio.sleep(0)  # every consumer now waits
        await sender.send(Say(text="broadcast"))
        await asyncio.gather(*consumers)
        assert await _first_of(sender, Note) == Note(index=99)
    assert seen == [0, 0, 0, 0]


async def test_a_request_answered_while_the_consumer_waits_resolves(
    kit: SimpleNamespace,
) -> None:
    venue = kit.VenueServer()
    async with asyncio.timeout(10):
        async with (
            aio.serve(venue.factory, on_events=venue.on_events) as server,
            aio.connect(server.url + "/ws", EchoClient()) as client,
        ):
            await _first_of(client, Connected)
            consumer = asyncio.create_task(_first_of(client, Note))
            await asyncio.sleep(0)
            assert await client.request(Say(text="hello")) == "hello"
            await client.send(Push(count=1))
            assert await consumer == Note(index=0)


async def test_a_read_kept_for_a_consumer_that_never_runs_is_still_handled(
    kit: SimpleNamespace,
) -> None:
    # The consumer is woken for a read and cancelled before its turn: the read is
    # handled in the loop's next turn all the same, and its events wait in the queue.
    venue = kit.VenueServer()
    async with asyncio.timeout(10):
        async with (
            aio.serve(venue.factory, on_events=venue.on_events) as server,
            aio.connect(server.url + "/ws", EchoClient()) as client,
        ):
            await _first_of(client, Connected)
            consumer = asyncio.create_task(_first_of(client, Note))
            await asyncio.sleep(0)
            wake = client._core.wake

            def wake_then_cancel() -> None:  # the read wakes the consumer, then it is gone
                wake()
                consumer.cancel()
                client._core.wake = wake

            client._core.wake = wake_then_cancel
            async with asyncio.timeout(1):  # not at the next keepalive timer: the next turn
                answer = await client.request(Say(text="hi"))  # its answer's read wakes it
            assert answer == "hi"
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            assert consumer.cancelled()
            await client.send(Push(count=2))
            notes = [await _first_of(client, Note), await _first_of(client, Note)]
    assert notes == [Note(index=0), Note(index=1)]
