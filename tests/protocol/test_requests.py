"""The request table: ids from the source, deadlines, exactly-once resolution."""

from __future__ import annotations

import math
from collections import Counter

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import (
    Command,
    ConnectionLost,
    CounterIds,
    LocalProtocolError,
    RequestFailed,
    RequestSucceeded,
    RequestTable,
    RequestTimeout,
    VenueError,
)


class Ping(Command, frozen=True, kw_only=True):
    n: int = 0


def test_ids_come_from_the_injected_source() -> None:
    table = RequestTable(ids=CounterIds(start=100))
    assert [table.open(Ping(), 0.0).request_id for _ in range(3)] == [100, 101, 102]
    assert table.open(Ping(), 0.0, request_id="auth_1").request_id == "auth_1"


def test_result_resolves_once_and_late_answers_find_nothing() -> None:
    table = RequestTable(ids=CounterIds())
    entry = table.open(Ping(n=1), 0.0)
    event = table.succeed(entry.request_id, {"ok": True})
    assert event == RequestSucceeded(request_id=1, command=Ping(n=1), result={"ok": True})
    assert table.succeed(entry.request_id, "again") is None
    assert table.fail(entry.request_id, VenueError(1, "x")) is None
    assert table.expire(100.0) == []
    assert table.abort_all() == []


def test_deadlines_expire_in_order_with_timeout_errors() -> None:
    table = RequestTable(ids=CounterIds(), default_timeout=10.0)
    a = table.open(Ping(), 0.0)
    b = table.open(Ping(), 1.0, timeout=2.0)
    assert table.next_deadline() == 3.0
    assert table.expire(2.9) == []
    (first,) = table.expire(3.0)
    assert first.request_id == b.request_id
    assert isinstance(first.error, RequestTimeout)
    assert table.next_deadline() == 10.0
    (second,) = table.expire(50.0)
    assert second.request_id == a.request_id
    assert table.next_deadline() is None


def test_moved_deadline_is_honoured() -> None:
    table = RequestTable(ids=CounterIds(), default_timeout=10.0)
    entry = table.open(Ping(), 0.0)
    table.set_deadline(entry.request_id, 4.0)
    assert table.next_deadline() == 4.0
    assert len(table.expire(4.0)) == 1
    with pytest.raises(LocalProtocolError, match="not pending"):
        table.set_deadline(entry.request_id, 5.0)


def test_a_deadline_moved_later_does_not_fire_at_the_old_time() -> None:
    table = RequestTable(ids=CounterIds(), default_timeout=10.0)
    entry = table.open(Ping(), 0.0)
    other = table.open(Ping(), 1.0)  # keeps its own deadline, 11.0
    table.set_deadline(entry.request_id, 20.0)
    assert table.expire(10.0) == []  # the old deadline passes: nothing fires
    assert entry.request_id in table
    assert table.next_deadline() == 11.0
    (expired,) = table.expire(11.0)
    assert expired.request_id == other.request_id
    assert table.next_deadline() == 20.0
    assert table.expire(19.999) == []
    (late,) = table.expire(20.0)
    assert late.request_id == entry.request_id
    assert isinstance(late.error, RequestTimeout)
    assert "unanswered after 20s" in str(late.error)
    assert table.next_deadline() is None


def test_a_deadline_moved_back_and_forth_fires_once_at_the_last_one() -> None:
    table = RequestTable(ids=CounterIds(), default_timeout=10.0)
    entry = table.open(Ping(), 0.0)
    for deadline in (30.0, 5.0, 15.0):
        table.set_deadline(entry.request_id, deadline)
    assert table.expire(14.0) == []  # neither 5.0 nor 10.0 fires
    assert table.next_deadline() == 15.0
    assert [f.request_id for f in table.expire(100.0)] == [entry.request_id]
    assert table.expire(1000.0) == []  # nor 30.0 afterwards


def test_moving_a_deadline_many_times_keeps_the_heap_small() -> None:
    table = RequestTable(ids=CounterIds())
    entry = table.open(Ping(), 0.0)
    for i in range(10_000):
        table.set_deadline(entry.request_id, 10.0 + i)
    assert len(table._deadlines) <= 64
    assert table.next_deadline() == 10_009.0
    assert table.expire(10_008.0) == []
    assert len(table.expire(10_009.0)) == 1


def test_get_pop_contains_and_pending_see_open_requests_only() -> None:
    table = RequestTable(ids=CounterIds(), default_timeout=10.0)
    a = table.open(Ping(n=1), 1.0, context={"retries": 2})
    b = table.open(Ping(n=2), 2.0, timeout=3.0)
    got = table.get(a.request_id)
    assert got is a
    assert (got.command, got.opened_at, got.deadline, got.context) == (
        Ping(n=1),
        1.0,
        11.0,
        {"retries": 2},
    )
    assert table.get(99) is None
    assert a.request_id in table
    assert 99 not in table
    assert table.pending() == [a, b]  # oldest first
    # pop resolves without an event: no answer, no timeout and no loss reports it later
    assert table.pop(b.request_id) is b
    assert table.pop(b.request_id) is None
    assert b.request_id not in table
    assert table.pending() == [a]
    assert len(table) == 1
    assert table.next_deadline() == 11.0  # b's deadline (5.0) no longer counts
    assert table.expire(6.0) == []
    assert table.succeed(b.request_id, "late") is None
    assert [f.request_id for f in table.abort_all()] == [a.request_id]


def test_pending_request_repr_names_the_command_type_not_its_fields() -> None:
    table = RequestTable(ids=CounterIds())
    entry = table.open(Ping(n=424242), 0.0, context="secret-context")
    text = repr(entry)
    assert text == "PendingRequest(request_id=1, command=Ping, deadline=10.0)"


def test_abort_all_fails_every_request_with_connection_lost() -> None:
    table = RequestTable(ids=CounterIds())
    for _ in range(3):
        table.open(Ping(), 0.0)
    failed = table.abort_all()
    assert [f.request_id for f in failed] == [1, 2, 3]
    assert all(isinstance(f.error, ConnectionLost) for f in failed)
    assert len(table) == 0


def test_bounds_and_bad_arguments_are_named() -> None:
    table = RequestTable(ids=CounterIds(), max_pending=2)
    table.open(Ping(), 0.0)
    table.open(Ping(), 0.0)
    with pytest.raises(LocalProtocolError, match="max_pending=2"):
        table.open(Ping(), 0.0)
    with pytest.raises(LocalProtocolError, match="timeout"):
        RequestTable(ids=CounterIds()).open(Ping(), 0.0, timeout=0)
    with pytest.raises(LocalProtocolError, match="max_pending"):
        RequestTable(ids=CounterIds(), max_pending=0)
    table2 = RequestTable(ids=CounterIds())
    table2.open(Ping(), 0.0, request_id=1)
    with pytest.raises(LocalProtocolError, match="already pending"):
        table2.open(Ping(), 0.0, request_id=1)


@pytest.mark.parametrize("bad", [math.inf, math.nan, -math.inf])
def test_a_deadline_that_would_never_fire_is_refused(bad: float) -> None:
    # Every request resolves because every entry has a deadline that can pass: a NaN
    # deadline never compares due (and was dropped from the heap as stale), an infinite
    # one is never reached; both would leave the request pending for good.
    table = RequestTable(ids=CounterIds())
    entry = table.open(Ping(), 0.0)
    with pytest.raises(LocalProtocolError, match="invalid deadline"):
        table.set_deadline(entry.request_id, bad)
    assert table.next_deadline() == 10.0  # unchanged
    with pytest.raises(LocalProtocolError, match="invalid timeout"):
        table.open(Ping(), 0.0, timeout=bad)
    with pytest.raises(LocalProtocolError, match="invalid default_timeout"):
        RequestTable(ids=CounterIds(), default_timeout=bad)
    assert len(table) == 1


def test_heap_stays_proportional_to_open_requests() -> None:
    table = RequestTable(ids=CounterIds(), default_timeout=60.0)
    for i in range(10_000):
        entry = table.open(Ping(), float(i) / 1000)
        table.succeed(entry.request_id, None)
    assert len(table._deadlines) <= 64


#: One operation: its kind (weighted by repetition: moves and ticks are what the
#: deadline claims are about; a disconnect resolves everything, so it is rare), an index
#: that picks a request and a number of seconds.  ``hypothesis.one_of`` does not weigh
#: repeated branches, ``sampled_from`` does.
operations = st.lists(
    st.tuples(
        st.sampled_from(
            [*["open"] * 2, "reply", "error", *["move"] * 3, *["tick"] * 3, "disconnect"]
        ),
        st.integers(0, 40),
        st.floats(0.0, 20.0),
    ),
    min_size=8,
    max_size=50,
)


@settings(max_examples=300, deadline=None)
@given(first=st.lists(st.floats(0.1, 20.0), min_size=2, max_size=4), then=operations)
def test_every_request_resolves_exactly_once(
    first: list[float], then: list[tuple[str, int, float]]
) -> None:
    """Any interleaving of opens, answers (late and duplicate ones too: they pick an id
    among those ever opened), deadline moves, time and losses: every request resolves
    exactly once, and a timeout fires at the request's current deadline, never at one
    it was moved from.  At least two requests are open from the start, so every
    example has something to resolve; ``hypothesis.event()`` reports how many requests
    an example opened, how many outlived a deadline they were moved from and how they
    resolved (see ``pytest --hypothesis-show-statistics``)."""
    ops = [*(("open", 0, timeout) for timeout in first), *then]
    table = RequestTable(ids=CounterIds(), max_pending=1000)
    now = 0.0
    opened: list[int] = []
    deadlines: dict[int, float] = {}  # the model: each request's current deadline
    outcomes: Counter[int] = Counter()
    kinds: dict[int, type] = {}
    moved_from: dict[int, float] = {}  # the earliest deadline a request was moved from
    outlived = 0  # requests still pending when a deadline they were moved from passed

    def record(event: RequestSucceeded | RequestFailed | None, kind: type) -> None:
        if event is None:
            return
        assert isinstance(event.request_id, int)
        outcomes[event.request_id] += 1
        kinds[event.request_id] = kind

    def pick(index: int) -> int:
        return opened[index % len(opened)] if opened else index

    for op, index, seconds in ops:
        if op == "open":
            timeout = max(seconds, 0.1)
            entry = table.open(Ping(), now, timeout=timeout)
            assert isinstance(entry.request_id, int)
            opened.append(entry.request_id)
            deadlines[entry.request_id] = now + timeout
        elif op == "reply":
            record(table.succeed(pick(index), "r"), RequestSucceeded)
        elif op == "error":
            record(table.fail(pick(index), VenueError(10001, "error")), VenueError)
        elif op == "move":  # by -5 to +15 s; mostly a pending request, sometimes any
            delta = seconds - 5.0
            pending = [e.request_id for e in table.pending()]
            request_id = pending[index % len(pending)] if pending and index % 4 else pick(index)
            if request_id in table:
                new = deadlines[request_id] + delta
                table.set_deadline(request_id, new)
                if delta > 0:
                    moved_from.setdefault(request_id, deadlines[request_id])
                deadlines[request_id] = new
            else:
                with pytest.raises(LocalProtocolError, match="not pending"):
                    table.set_deadline(request_id, now + delta)
        elif op == "tick":
            now += seconds / 2
            for entry in table.pending():
                if moved_from.get(entry.request_id, math.inf) <= now < entry.deadline:
                    del moved_from[entry.request_id]
                    outlived += 1
            for event in table.expire(now):
                assert isinstance(event.error, RequestTimeout)
                assert isinstance(event.request_id, int)
                assert deadlines[event.request_id] <= now  # not before its deadline
                record(event, RequestTimeout)
        else:
            for event in table.abort_all():
                assert isinstance(event.error, ConnectionLost)
                record(event, ConnectionLost)
        deadline = table.next_deadline()
        assert (deadline is None) == (len(table) == 0)
        if deadline is not None:
            assert deadline == min(deadlines[e.request_id] for e in table.pending())
            if op == "tick":
                assert deadline > now  # nothing overdue stays pending after expire
    for event in table.abort_all():
        record(event, ConnectionLost)
    assert set(outcomes) == set(opened)
    assert all(count == 1 for count in outcomes.values())
    hypothesis.event(f"requests: {len(opened) if len(opened) < 8 else '8+'}")
    hypothesis.target(outlived, label="requests that outlived a deadline moved later")
    hypothesis.event(
        f"requests that outlived a deadline moved later: {outlived if outlived < 2 else '2+'}"
    )
    for kind in sorted({k.__name__ for k in kinds.values()}):
        hypothesis.event(f"some resolved by {kind}")
