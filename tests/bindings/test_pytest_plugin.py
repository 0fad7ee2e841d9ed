"""The pytest plugin, tested the way its users meet it: a user's test file run by pytest
itself (``pytester``), with the plugin found through its ``pytest11`` entry point (no
conftest), under asyncio and trio.  Everything stays on 127.0.0.1."""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

#: Runs last among each test's fixtures' teardowns (it is set up first): the venue must
#: have stopped by then, leaving no task and no socket in the test's event loop.
LEAK_CHECK = """
import asyncio, os
import pytest, trio


def live_tasks():
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:
        return trio.lowlevel.current_statistics().tasks_living


@pytest.fixture
async def no_leaks(anyio_backend):
    tasks, fds = live_tasks(), len(os.listdir("/proc/self/fd"))
    yield
    assert live_tasks() == tasks
    assert len(os.listdir("/proc/self/fd")) == fds
"""

USER_TESTS = """
import random

import anyio
import pytest
from tradewire.protocol import Backoff, Connected, WebSocketClosed
from tradewire.protocol.deribit import (
    Authenticated, BookGap, BookResynced, BookUpdate, GetTime, Subscribe,
)

BOOK = "book.BTC-PERPETUAL.100ms"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param


@pytest.mark.anyio
async def test_a_session_with_the_demo_key(no_leaks, deribit_venue, anyio_backend):
    assert deribit_venue.backend == anyio_backend
    assert deribit_venue.url == f"ws://127.0.0.1:{deribit_venue.port}/ws/api/v2"
    assert deribit_venue.http_url == f"http://127.0.0.1:{deribit_venue.port}"
    assert (deribit_venue.client_id, deribit_venue.client_secret) == (
        "tradewire-demo", "tradewire-demo-secret",
    )
    assert deribit_venue.faults.empty
    with anyio.fail_after(10):
        async with deribit_venue.connect() as client:
            assert await client.request(GetTime()) > 0
            await client.request(Subscribe(channels=[BOOK]))
            async for event in client:
                if isinstance(event, BookUpdate):
                    break
        async with deribit_venue.binding.http_client(deribit_venue.http_url) as http:
            from tradewire.protocol import HTTPRequest
            answer = await http.request(HTTPRequest.get("/api/v2/public/get_time"))
    assert answer.status == 200


@pytest.mark.anyio
@pytest.mark.deribit_faults("gap:book.BTC-PERPETUAL.100ms@0.5s")
async def test_the_fault_marker_takes_effect(no_leaks, deribit_venue):
    assert deribit_venue.faults.spec() == "gap:book.BTC-PERPETUAL.100ms@0.5s"
    seen = []
    with anyio.fail_after(10):
        async with deribit_venue.connect(deribit_venue.machine(maintain_books=True)) as client:
            await client.request(Subscribe(channels=[BOOK]))
            async for event in client:
                seen.append(event)
                if isinstance(event, BookResynced):
                    break
    [gap] = [e for e in seen if isinstance(e, BookGap)]
    assert gap.channel == BOOK


@pytest.mark.anyio
@pytest.mark.parametrize(
    "deribit_venue", [{"faults": "disconnect@0.3s#1", "seed": 9}], indirect=True
)
async def test_a_fixture_parameter_and_inject(no_leaks, deribit_venue):
    assert deribit_venue.faults.spec() == "disconnect@0.3s#1"
    assert deribit_venue.venue.config.market.seed == 9
    seen = []
    with anyio.fail_after(10):
        fast = Backoff(random.Random(1), initial=0.05, maximum=0.1, minimum=0.01)
        async with deribit_venue.connect(backoff=fast) as client:
            async for event in client:
                seen.append(event)
                if isinstance(event, Connected) and event.attempt == 1:
                    break  # the plan dropped the first connection; the client came back
            await client.request(GetTime())
            deribit_venue.inject("disconnect=1011")  # a close handshake, now
            async for event in client:
                seen.append(event)
                if sum(isinstance(e, Authenticated) for e in seen) == 3:
                    break  # logged in again on the third connection
    closes = [e for e in seen if isinstance(e, WebSocketClosed)]
    assert [(c.code, c.by) for c in closes] == [(1006, "transport"), (1011, "remote")]
    assert [e.attempt for e in seen if isinstance(e, Connected)] == [0, 1, 2]
"""


def test_the_plugin_is_registered_through_its_entry_point() -> None:
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("tradewire") == "tradewire.bindings.pytest_plugin"


def test_a_users_tests_pass_under_asyncio_and_trio(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=LEAK_CHECK + USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", timeout=120)
    result.assert_outcomes(passed=6)
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_bad_fault_marker_fails_the_setup_naming_the_bad_part(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_bad=textwrap.dedent(
            """
            import pytest

            @pytest.mark.anyio
            @pytest.mark.deribit_faults("gap@1s")
            async def test_bad_plan(deribit_venue):
                pass
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider")  # in this process: quicker
    result.assert_outcomes(errors=2)  # anyio runs it on both backends
    result.stdout.fnmatch_lines(["*FaultSpecError*gap needs a target*"])
