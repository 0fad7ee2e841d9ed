"""The trio client hands a read to the consumer that waits for it (``_trio_driver``).

A read that comes while the consumer waits in ``async for`` is decoded in the
consumer's own task, not in the pipe's reader task, and the reader reads again only
once it is: a read's events are made just before they are consumed, instead of the next
read's being made while the consumer still holds the last one's (which, on the book
stream of ``benchmarks/bench_e2e.py``, kept the garbage collector busy).  Real sockets
on 127.0.0.1.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import trio

from tradewire.bindings import trio as tw_trio
from tradewire.conformance import EchoClient, Note, Push, Say
from tradewire.protocol import Connected, Event, WebSocketClosed

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


class TaskSpy(EchoClient):
    """The echo client, noting the task that handles each message it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[trio.lowlevel.Task] = []

    def receive_message(self, data: bytes | str, now: float) -> None:
        self.tasks.append(trio.lowlevel.current_task())
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
    notes: list[Event] = []
    consumer: list[trio.lowlevel.Task] = []
    with trio.fail_after(10):
        async with (
            tw_trio.serve(venue.factory, on_events=venue.on_events) as server,
            tw_trio.connect(server.url + "/ws", machine) as client,
            trio.open_nursery() as nursery,
        ):
            await _first_of(client, Connected)

            async def consume() -> None:
                consumer.append(trio.lowlevel.current_task())
                async for event in client:
                    if isinstance(event, Note):
                        notes.append(event)
                        if len(notes) == 3:
                            return

            nursery.start_soon(consume)
            await trio.testing.wait_all_tasks_blocked()  # the consumer now waits
            machine.tasks.clear()
            await client.send(Push(count=3))
    assert [note.index for note in notes] == [0, 1, 2]  # type: ignore[attr-defined]
    assert machine.tasks, "the machine got no message"
    assert set(machine.tasks) == set(consumer)


async def test_a_request_answered_while_the_consumer_waits_resolves(
    kit: SimpleNamespace,
) -> None:
    venue = kit.VenueServer()
    got: list[Event] = []
    with trio.fail_after(10):
        async with (
            tw_trio.serve(venue.factory, on_events=venue.on_events) as server,
            tw_trio.connect(server.url + "/ws", EchoClient()) as client,
            trio.open_nursery() as nursery,
        ):
            await _first_of(client, Connected)

            async def consume() -> None:
                got.append(await _first_of(client, Note))

            nursery.start_soon(consume)
            await trio.testing.wait_all_tasks_blocked()
            assert await client.request(Say(text="hello")) == "hello"
            await client.send(Push(count=1))
    assert got == [Note(index=0)]


async def test_a_read_kept_for_a_consumer_that_never_takes_it_is_still_handled(
    kit: SimpleNamespace,
) -> None:
    # The consumer is woken for a read and cancelled before its turn: the reader hands
    # the read over itself two batches later (not at the next keepalive timer, 20 s
    # away), and its events wait in the queue.
    venue = kit.VenueServer()
    with trio.fail_after(10):
        async with (
            tw_trio.serve(venue.factory, on_events=venue.on_events) as server,
            tw_trio.connect(server.url + "/ws", EchoClient()) as client,
        ):
            await _first_of(client, Connected)
            async with trio.open_nursery() as nursery:
                scope = trio.CancelScope()

                async def consume() -> None:
                    with scope:
                        await _first_of(client, Note)

                nursery.start_soon(consume)
                await trio.testing.wait_all_tasks_blocked()
                wake = client._core.wake

                def wake_then_cancel() -> None:  # the read wakes the consumer, then it is gone
                    wake()
                    scope.cancel()
                    client._core.wake = wake

                client._core.wake = wake_then_cancel
                with trio.fail_after(1):
                    answer = await client.request(Say(text="hi"))  # its answer's read wakes it
                assert answer == "hi"
            assert scope.cancelled_caught
            await client.send(Push(count=2))
            notes = [await _first_of(client, Note), await _first_of(client, Note)]
    assert notes == [Note(index=0), Note(index=1)]


async def test_a_close_hands_the_kept_read_over_first(kit: SimpleNamespace) -> None:
    # The read of three notes wakes the consumer, and the client is closed before the
    # consumer runs: the session sees the notes before the close, so all three come
    # out of the iteration ahead of the close.
    venue = kit.VenueServer()
    events: list[Event] = []
    with trio.fail_after(10):
        async with (
            tw_trio.serve(venue.factory, on_events=venue.on_events) as server,
            tw_trio.connect(server.url + "/ws", EchoClient()) as client,
        ):
            await _first_of(client, Connected)
            wake = client._core.wake
            closed: list[bool] = []

            def wake_then_close() -> None:
                wake()
                if not closed:
                    closed.append(True)
                    client._driver.close()

            async def consume() -> None:
                async for event in client:
                    events.append(event)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume)
                await trio.testing.wait_all_tasks_blocked()
                client._core.wake = wake_then_close
                await client.send(Push(count=3))
    notes = [event for event in events if isinstance(event, Note)]
    assert notes == [Note(index=0), Note(index=1), Note(index=2)]
    closes = [i for i, event in enumerate(events) if isinstance(event, WebSocketClosed)]
    assert closes
    assert closes[0] > events.index(notes[-1])
