"""The epoch hand-off (``tradewire.bindings._epoch``): client stacks run in epoch
seconds, deadlines come back on the binding's clock never early, and a machine that
converts its own clock is refused rather than shifted twice."""

from __future__ import annotations

import math
import random
import time
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.bindings._client import ClientCore
from tradewire.bindings._common import parse_ws_url
from tradewire.bindings._epoch import (
    MAX_MACHINE_EPOCH_OFFSET,
    resolve_epoch_offset,
    to_binding_time,
)
from tradewire.bindings._session import Session
from tradewire.conformance import EchoClient
from tradewire.protocol import LocalProtocolError, WebSocketClientStack
from tradewire.protocol.deribit import ClientProtocol

_SECONDS = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@given(stack_deadline=_SECONDS, offset=_SECONDS)
def test_a_deadline_on_the_binding_clock_is_never_early(
    stack_deadline: float, offset: float
) -> None:
    at = to_binding_time(stack_deadline, offset)
    assert at + offset >= stack_deadline  # a timer fired at ``at`` finds it due
    assert at + offset - stack_deadline <= 4 * math.ulp(max(abs(stack_deadline), abs(offset)))


def test_rounding_is_corrected_upwards() -> None:
    assert 1e-20 - 1.0 + 1.0 < 1e-20  # the plain conversion would fire too early
    assert to_binding_time(1e-20, 1.0) + 1.0 >= 1e-20
    offset = 1_795_000_000.123
    assert to_binding_time(offset + 12.5, offset) == 12.5  # the usual case is exact


def test_requested_offsets_are_checked() -> None:
    machine = EchoClient()
    assert resolve_epoch_offset(machine, None) is None  # measure on entry
    assert resolve_epoch_offset(machine, 0) == 0.0
    assert resolve_epoch_offset(machine, 12.5) == 12.5
    for bad in ("0", float("nan"), math.inf, True):
        with pytest.raises(LocalProtocolError, match="invalid epoch_offset"):
            resolve_epoch_offset(machine, bad)  # type: ignore[arg-type]


def test_a_machine_converting_its_own_clock_is_not_shifted_twice() -> None:
    converted = ClientProtocol(epoch_offset=time.time() - time.monotonic())
    with pytest.raises(LocalProtocolError, match="already drives client machines"):
        resolve_epoch_offset(converted, None)
    with pytest.raises(LocalProtocolError, match="already drives client machines"):
        resolve_epoch_offset(converted, 3.0)
    assert resolve_epoch_offset(converted, 0.0) == 0.0  # the bare binding clock: fine
    skew = ClientProtocol(epoch_offset=-0.35)  # a venue clock-skew correction is kept
    assert resolve_epoch_offset(skew, None) is None
    plain = SimpleNamespace(epoch_offset=MAX_MACHINE_EPOCH_OFFSET + 1)
    with pytest.raises(LocalProtocolError, match="epoch_offset=86401"):
        resolve_epoch_offset(plain, None)


def test_the_session_drives_the_stack_in_epoch_seconds() -> None:
    offset = 1_700_000_000.0
    stack = WebSocketClientStack(EchoClient(), host="venue", rng=random.Random(1))
    session = Session(stack, ClientCore(), parse_ws_url("ws://venue/ws"), None, epoch_offset=offset)
    session.connected(5.0)
    stack_deadline = stack.next_deadline()
    assert stack_deadline == offset + 5.0 + stack.open_timeout
    assert session.next_deadline() == 5.0 + stack.open_timeout
    session.timer(5.0 + stack.open_timeout)  # the upgrade never came: due at that instant
    assert stack.should_close_transport
