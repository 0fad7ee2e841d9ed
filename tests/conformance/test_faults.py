"""The venue-neutral fault machinery: the compact grammar, ``Fault`` validation, the
per-connection schedule and the message-level faults."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.conformance._faults import (
    FAULT_KINDS,
    BinaryFrame,
    Fault,
    FaultPlan,
    FaultSchedule,
    FaultSpecError,
    MessageFaults,
)
from tradewire.protocol import LocalProtocolError


def test_a_spec_parses_into_faults_in_order() -> None:
    plan = FaultPlan.parse(
        " disconnect@30s , gap:book.BTC-PERPETUAL.100ms@2.5s#1,malformed=binary@40msg,"
        "disconnect=4001#2, zombie, stall@0msg "
    )
    assert plan.faults == (
        Fault(kind="disconnect", after_seconds=30.0),
        Fault(kind="gap", target="book.BTC-PERPETUAL.100ms", after_seconds=2.5, connection=1),
        Fault(kind="malformed", variant="binary", after_messages=40),
        Fault(kind="disconnect", variant="4001", connection=2),
        Fault(kind="zombie"),
        Fault(kind="stall", after_messages=0),
    )
    assert plan.faults[3].close_code == 4001
    assert plan.faults[0].close_code is None
    assert plan.spec() == (
        "disconnect@30s,gap:book.BTC-PERPETUAL.100ms@2.5s#1,malformed=binary@40msg,"
        "disconnect=4001#2,zombie,stall@0msg"
    )
    assert FaultPlan.parse(str(plan)) == plan


def test_empty_specs_are_the_empty_plan() -> None:
    assert FaultPlan.parse("").empty
    assert FaultPlan.parse("   ").faults == ()
    assert not FaultPlan.parse("zombie").empty


def test_a_plan_picks_the_faults_of_a_connection() -> None:
    plan = FaultPlan.parse("zombie#1,stall#2,expire")
    assert [f.kind for f in plan.for_connection(1)] == ["zombie", "expire"]
    assert [f.kind for f in plan.for_connection(2)] == ["stall", "expire"]
    assert [f.kind for f in plan.for_connection(3)] == ["expire"]
    assert [f.kind for f in (plan + FaultPlan.parse("heartbeat")).faults][-1] == "heartbeat"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope@1s", "item 1 'nope@1s': unknown kind 'nope'; accepted kinds: disconnect"),
        ("zombie,,stall", "item 2 '' is empty"),
        ("gap@2s", "item 1 'gap@2s': gap needs a target: gap:<channel or instrument>"),
        ("zombie:book.X.raw", "item 1 'zombie:book.X.raw': zombie takes no target"),
        ("disconnect@5x", "invalid trigger '5x'; expected seconds such as '@2.5s'"),
        ("disconnect@5", "invalid trigger '5'"),
        ("disconnect@-1s", "invalid trigger '-1s'"),
        ("disconnect#0", "invalid connection '0'; expected a connection number >= 1"),
        ("disconnect#x", "invalid connection 'x'"),
        ("disconnect=1006", "invalid variant '1006' for disconnect; accepted: 'abort', a close"),
        ("disconnect=999", "invalid variant '999'"),
        (
            "malformed=xml",
            "invalid variant 'xml' for malformed; accepted: 'json', 'utf8', 'binary'",
        ),
        ("expire=now", "expire takes no variant"),
        ("duplicate:", "empty target after ':'"),
        ("duplicate:book.X.raw/y", "invalid target 'book.X.raw/y'"),
        ("stall,malformed=json:quote.BTC-PERPETUAL@1s,gap", "item 3 'gap': gap needs a target"),
    ],
)
def test_bad_specs_name_the_bad_part(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        FaultPlan.parse(spec)
    assert message in str(caught.value)
    assert isinstance(caught.value, LocalProtocolError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "zombie", "after_seconds": 1.0, "after_messages": 3}, "give one trigger"),
        ({"kind": "zombie", "after_seconds": float("nan")}, "invalid after_seconds"),
        ({"kind": "zombie", "after_seconds": True}, "invalid after_seconds"),
        ({"kind": "zombie", "after_messages": -1}, "invalid after_messages"),
        ({"kind": "zombie", "connection": 0}, "invalid connection 0"),
        ({"kind": 3}, "unknown kind 3"),
    ],
)
def test_fault_objects_are_checked_too(fields: dict[str, object], message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        Fault(**fields)  # type: ignore[arg-type]
    with pytest.raises(FaultSpecError, match="expected a sequence of Fault"):
        FaultPlan(("zombie",))  # type: ignore[arg-type]


def test_every_kind_has_a_rule_and_every_spec_round_trips() -> None:
    for kind, rule in FAULT_KINDS.items():
        target = "book.BTC-PERPETUAL.raw" if rule.target == "required" else None
        fault = Fault(kind=kind, target=target, after_messages=3, connection=2)
        assert FaultPlan.parse(fault.spec()).faults == (fault,)


@given(
    kind=st.sampled_from(sorted(FAULT_KINDS)),
    seconds=st.none() | st.integers(0, 10_000).map(lambda n: n / 4),
    messages=st.none() | st.integers(0, 10_000),
    connection=st.none() | st.integers(1, 50),
)
def test_any_valid_fault_round_trips(
    kind: str, seconds: float | None, messages: int | None, connection: int | None
) -> None:
    if seconds is not None and messages is not None:
        messages = None
    target = "BTC-PERPETUAL" if FAULT_KINDS[kind].target == "required" else None
    fault = Fault(
        kind=kind,
        target=target,
        after_seconds=seconds,
        after_messages=messages,
        connection=connection,
    )
    assert FaultPlan.parse(fault.spec()) == FaultPlan((fault,))


@given(st.text(max_size=40))
def test_any_text_parses_or_fails_with_fault_spec_error(spec: str) -> None:
    with contextlib.suppress(FaultSpecError):
        FaultPlan.parse(spec)


# -- the schedule -------------------------------------------------------------------------


def test_a_schedule_fires_each_fault_once_by_time_or_count() -> None:
    plan = FaultPlan.parse("zombie@2s,expire,stall@5msg,heartbeat@1s")
    schedule = FaultSchedule(plan.faults, opened_at=100.0)
    assert schedule.next_deadline() == 100.0
    assert [f.kind for f in schedule.due(100.0, 0)] == ["expire"]
    assert schedule.due(100.0, 4) == []
    assert schedule.next_deadline() == 101.0
    assert [f.kind for f in schedule.due(None, 5)] == ["stall"]  # counts without a time
    assert [f.kind for f in schedule.due(102.0, 5)] == ["heartbeat", "zombie"]
    assert schedule.due(500.0, 500) == []
    assert schedule.next_deadline() is None
    assert schedule.pending == ()


# -- message faults -----------------------------------------------------------------------


def test_duplicate_and_reorder_apply_to_their_channel_once() -> None:
    faults = MessageFaults()
    assert not faults.armed
    faults.arm(Fault(kind="duplicate", target="a"))
    faults.arm(Fault(kind="reorder", target="b"))
    assert faults.armed
    assert faults.apply(b"r1", None) == [b"r1"]
    assert faults.apply(b"b1", "b") == []  # held
    assert faults.apply(b"a1", "a") == [b"a1", b"a1"]
    assert faults.apply(b"a2", "a") == [b"a2"]
    assert faults.apply(b"b2", "b") == [b"b2", b"b1"]  # swapped
    assert faults.apply(b"b3", "b") == [b"b3"]
    assert not faults.armed


def test_malformed_variants() -> None:
    faults = MessageFaults()
    message = b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"c"}}'
    faults.arm(Fault(kind="malformed"))
    (truncated,) = faults.apply(message, None)
    assert isinstance(truncated, bytes)
    assert message.startswith(truncated)
    assert len(truncated) < len(message)
    truncated.decode("utf-8")
    faults.arm(Fault(kind="malformed", variant="utf8", target="c"))
    assert faults.apply(message, "d") == [message]
    (bad,) = faults.apply(message, "c")
    assert isinstance(bad, bytes)
    with pytest.raises(UnicodeDecodeError):
        bad.decode("utf-8")
    faults.arm(Fault(kind="malformed", variant="binary"))
    assert faults.apply(message, "c") == [BinaryFrame(message)]
    with pytest.raises(FaultSpecError, match="not a message fault"):
        faults.arm(Fault(kind="zombie"))


def test_the_fault_engine_passes_control_pings_on_unless_a_zombie() -> None:
    from tradewire.conformance._fault_engine import FaultyMachine

    class Inner:
        def __init__(self) -> None:
            self.pinged: list[float] = []

        def ping_received(self, now: float) -> None:
            self.pinged.append(now)

    inner = Inner()
    machine = FaultyMachine(inner, hooks=None)  # type: ignore[arg-type]
    machine.ping_received(1.0)
    machine.zombie = True
    machine.ping_received(2.0)
    assert inner.pinged == [1.0]
    FaultyMachine(object(), hooks=None).ping_received(3.0)  # type: ignore[arg-type]


def test_an_idle_fault_closes_as_the_venues_hook_says_or_with_1000() -> None:
    from typing import Any

    from tradewire.conformance._fault_engine import FaultyMachine
    from tradewire.protocol.session import Disconnect

    class Inner:
        is_open = True
        close_request = None
        connection_id = 1

        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send(self, command: Any, now: float) -> None:
            self.sent.append(command)

    class Hooks:
        pass

    class IdleHooks:
        def __init__(self) -> None:
            self.closed: list[float] = []

        def idle_close(self, machine: Any, now: float) -> None:
            self.closed.append(now)

    (fault,) = FaultPlan.parse("idle@5s").faults
    inner = Inner()
    FaultyMachine(inner, Hooks()).apply(fault, 5.0)  # type: ignore[arg-type]
    assert inner.sent == [Disconnect(code=1000, reason="idle timeout")]
    hooks, inner = IdleHooks(), Inner()
    FaultyMachine(inner, hooks).apply(fault, 5.0)  # type: ignore[arg-type]
    assert hooks.closed == [5.0]
    assert inner.sent == []
