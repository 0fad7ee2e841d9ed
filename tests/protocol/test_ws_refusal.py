"""A refused upgrade is read whatever the read boundaries, and its body is bounded.

The client stack gets the server's HTTP error response split at every byte (and byte by
byte), with and without the fast path: each time it reports the refusal once, by its
status, and stops (a 403 is final), instead of waiting for an upgrade that never comes.
"""

from __future__ import annotations

import random

import pytest

from tradewire.conformance import EchoClient
from tradewire.protocol import ConnectionDead, Event, WebSocketClientStack
from tradewire.protocol.transport._websocket import (
    ReconnectScheduled,
    StackState,
    UpgradeRejected,
)
from tradewire.protocol.transport._ws_client import MAX_REJECT_BODY

BODY = b'{"error":"forbidden","message":"this key may not connect from here"}'


def response(
    status: int, body: bytes, *, reason: str = "Forbidden", chunked: bool = False
) -> bytes:
    if chunked:
        head = f"HTTP/1.1 {status} {reason}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        size = f"{len(body):x}".encode()
        return head + size + b"\r\n" + body + b"\r\n0\r\n\r\n"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head + body


def dialed(fast_path: bool) -> WebSocketClientStack:
    stack = WebSocketClientStack(
        EchoClient(), host="venue.test", rng=random.Random(3), fast_path=fast_path
    )
    stack.connection_made(0.0)
    assert stack.data_to_send().startswith(b"GET ")
    return stack


def rejections(events: list[Event]) -> list[UpgradeRejected]:
    return [e for e in events if isinstance(e, UpgradeRejected)]


def assert_stopped(stack: WebSocketClientStack, events: list[Event]) -> None:
    assert stack.should_close_transport
    stack.connection_lost(1.0)
    assert stack.state is StackState.CLOSED  # a 403 is final: no reconnect
    assert not [e for e in events + stack.events() if isinstance(e, ReconnectScheduled)]


@pytest.mark.parametrize("fast_path", [True, False])
@pytest.mark.parametrize("chunked", [False, True])
def test_a_403_split_at_every_byte_is_reported_as_the_403(fast_path: bool, chunked: bool) -> None:
    wire = response(403, BODY, chunked=chunked)
    for cut in range(1, len(wire)):
        stack = dialed(fast_path)
        stack.receive_data(wire[:cut], 0.1)
        stack.receive_data(wire[cut:], 0.2)
        events = stack.events()
        assert [(e.status, e.body, e.retrying) for e in rejections(events)] == [
            (403, BODY, False)
        ], cut
        assert_stopped(stack, events)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_403_byte_by_byte_is_reported_as_the_403(fast_path: bool) -> None:
    stack = dialed(fast_path)
    for index, byte in enumerate(response(403, BODY)):
        stack.receive_data(bytes([byte]), 0.1 + index / 1000)
    events = stack.events()
    assert [(e.status, e.body) for e in rejections(events)] == [(403, BODY)]
    assert_stopped(stack, events)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_refusal_is_not_an_upgrade_timeout(fast_path: bool) -> None:
    wire = response(403, BODY)
    stack = dialed(fast_path)
    stack.receive_data(wire[:-5], 0.1)
    stack.receive_data(wire[-5:], 0.2)
    stack.handle_timer(30.0)  # long past open_timeout
    events = stack.events()
    assert len(rejections(events)) == 1
    assert not [e for e in events if isinstance(e, ConnectionDead)]


@pytest.mark.parametrize("fast_path", [True, False])
@pytest.mark.parametrize("chunked", [False, True])
def test_a_large_error_body_is_bounded_and_reported_by_status(
    fast_path: bool, chunked: bool
) -> None:
    body = b"x" * (4 * MAX_REJECT_BODY)
    wire = response(403, body, chunked=chunked)
    stack = dialed(fast_path)
    for start in range(0, 2 * MAX_REJECT_BODY, 4096):  # half of it: enough to report
        stack.receive_data(wire[start : start + 4096], 0.1)
    events = stack.events()
    (rejected,) = rejections(events)
    assert rejected.status == 403
    assert rejected.body == body[:MAX_REJECT_BODY]
    stack.receive_data(wire[2 * MAX_REJECT_BODY :], 0.2)  # the rest is not read
    assert rejections(stack.events()) == []
    assert_stopped(stack, events)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_body_cut_short_by_the_transport_still_reports_the_status(fast_path: bool) -> None:
    wire = response(401, BODY, reason="Unauthorized")
    stack = dialed(fast_path)
    stack.receive_data(wire[:-10], 0.1)
    stack.receive_data(b"", 0.2)  # end of file before the body's end
    events = stack.events()
    assert [(e.status, e.body) for e in rejections(events)] == [(401, BODY[:-10])]
    assert_stopped(stack, events)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_429_split_in_two_is_retried(fast_path: bool) -> None:
    wire = response(429, b"slow down", reason="Too Many Requests")
    stack = dialed(fast_path)
    stack.receive_data(wire[:-3], 0.1)
    stack.receive_data(wire[-3:], 0.2)
    (rejected,) = rejections(stack.events())
    assert (rejected.status, rejected.body, rejected.retrying) == (429, b"slow down", True)
    stack.connection_lost(0.3)
    assert stack.state is StackState.BACKOFF
