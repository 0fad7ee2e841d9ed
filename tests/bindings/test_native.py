"""What only one event loop can show: asyncio tasks and transports, trio tasks and
nurseries, exceptions leaving trio's nurseries unwrapped."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
import trio

from tradewire.bindings import asyncio as aio
from tradewire.bindings import trio as tri
from tradewire.conformance import EchoClient, Note, Push, Say
from tradewire.protocol import HTTPRequest, RequestFailed, RequestTimeout


def test_asyncio_leaves_no_task_or_socket_and_pauses_the_transport(kit: SimpleNamespace) -> None:
    async def main() -> None:
        fds = kit.fds()
        venue, app = kit.VenueServer(), kit.HTTPApp()
        async with asyncio.timeout(10):
            async with (
                aio.serve(venue.factory) as server,
                aio.serve(app.factory, on_events=app.on_events) as web,
            ):
                async with aio.connect(
                    server.url + "/ws", EchoClient(), max_queued_events=20
                ) as client:
                    assert len(asyncio.all_tasks()) > 1  # the dialer
                    await client.send(Push(count=5_000))
                    while not client.reading_paused:
                        await asyncio.sleep(0.01)
                    link = client._driver.link
                    assert link is not None
                    assert not link.transport.is_reading()
                    notes = 0
                    async for event in client:
                        notes += isinstance(event, Note)
                        if notes == 5_000:
                            break
                    assert link.transport.is_reading()
                async with aio.http_client(web.http_url) as http:
                    assert (await http.request(HTTPRequest.get("/x"))).status == 200
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert kit.fds() == fds

    asyncio.run(main())


def test_asyncio_request_cancelled_or_timed_out_drops_the_late_answer(
    kit: SimpleNamespace,
) -> None:
    async def main() -> None:
        venue = kit.VenueServer()
        async with (
            asyncio.timeout(10),
            aio.serve(venue.factory) as server,
            aio.connect(server.url + "/ws", EchoClient(timeout=0.2)) as client,
        ):
            task = asyncio.create_task(client.request(Say(text="ignore")))
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            with pytest.raises(RequestTimeout):
                await client.request(Say(text="ignore"), timeout=0.01)
            await asyncio.sleep(0.4)  # both core deadlines pass: RequestFailed x2
            await client.send(Push(count=1))
            seen = []
            async for event in client:
                seen.append(event)
                if isinstance(event, Note):
                    break
            assert not [e for e in seen if isinstance(e, RequestFailed)]
            assert client._core.waiters == {}

    asyncio.run(main())


def test_trio_leaves_no_task_behind_and_unwraps_exceptions(kit: SimpleNamespace) -> None:
    async def main() -> None:
        fds = kit.fds()
        tasks = trio.lowlevel.current_statistics().tasks_living
        venue = kit.VenueServer()
        with trio.fail_after(10):
            async with tri.serve(venue.factory) as server:
                inside: list[int] = []

                async def body() -> None:
                    async with tri.connect(server.url + "/ws", EchoClient()) as client:
                        assert await client.request(Say(text="x")) == "x"
                        inside.append(trio.lowlevel.current_statistics().tasks_living)
                        raise ValueError("from the body")

                with pytest.raises(ValueError, match="from the body"):
                    await body()
                assert inside[0] > tasks
                async with tri.connect(
                    server.url + "/ws", EchoClient(), max_queued_events=20
                ) as client:
                    await client.send(Push(count=5_000))
                    while not client.reading_paused:
                        await trio.sleep(0.01)
                    pipe = client._driver.pipe
                    assert pipe is not None
                    assert pipe.resume is not None  # the reader waits instead of reading
                    notes = 0
                    async for event in client:
                        notes += isinstance(event, Note)
                        if notes == 5_000:
                            break
                    assert pipe.resume is None
            with pytest.raises(KeyError):
                async with tri.serve(venue.factory):
                    raise KeyError("server body")
        assert trio.lowlevel.current_statistics().tasks_living == tasks
        assert kit.fds() == fds

    trio.run(main)


def test_trio_cancelled_request_is_abandoned(kit: SimpleNamespace) -> None:
    async def main() -> None:
        venue = kit.VenueServer()
        with trio.fail_after(10):
            async with (
                tri.serve(venue.factory) as server,
                tri.connect(server.url + "/ws", EchoClient(timeout=0.2)) as client,
            ):
                with trio.move_on_after(0.01):
                    await client.request(Say(text="ignore"))
                await trio.sleep(0.3)
                await client.send(Push(count=1))
                seen = []
                async for event in client:
                    seen.append(event)
                    if isinstance(event, Note):
                        break
                assert not [e for e in seen if isinstance(e, RequestFailed)]

    trio.run(main)
