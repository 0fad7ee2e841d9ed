"""The request table: ids from the source, deadlines, exactly-once resolution."""

from __future__ import annotations

from collections import Counter

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


def test_heap_stays_proportional_to_open_requests() -> None:
    table = RequestTable(ids=CounterIds(), default_timeout=60.0)
    for i in range(10_000):
        entry = table.open(Ping(), float(i) / 1000)
        table.succeed(entry.request_id, None)
    assert len(table._deadlines) <= 64


operations = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.floats(0.1, 20.0)),
        st.tuples(st.just("reply"), st.integers(1, 40)),
        st.tuples(st.just("error"), st.integers(1, 40)),
        st.tuples(st.just("tick"), st.floats(0.0, 10.0)),
        st.tuples(st.just("disconnect"), st.just(0)),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_every_request_resolves_exactly_once(ops: list[tuple[str, float]]) -> None:
    table = RequestTable(ids=CounterIds(), max_pending=1000)
    now = 0.0
    opened: list[int] = []
    outcomes: Counter[int] = Counter()
    kinds: dict[int, type] = {}

    def record(event: RequestSucceeded | RequestFailed | None, kind: type) -> None:
        if event is None:
            return
        assert isinstance(event.request_id, int)
        outcomes[event.request_id] += 1
        kinds[event.request_id] = kind

    for op, arg in ops:
        if op == "open":
            entry = table.open(Ping(), now, timeout=arg)
            assert isinstance(entry.request_id, int)
            opened.append(entry.request_id)
        elif op == "reply":
            record(table.succeed(int(arg), "r"), RequestSucceeded)
        elif op == "error":
            record(table.fail(int(arg), VenueError(10001, "error")), VenueError)
        elif op == "tick":
            now += arg
            for event in table.expire(now):
                # A request never outlives its deadline by a tick.
                assert isinstance(event.error, RequestTimeout)
                record(event, RequestTimeout)
        else:
            for event in table.abort_all():
                assert isinstance(event.error, ConnectionLost)
                record(event, ConnectionLost)
        deadline = table.next_deadline()
        assert (deadline is None) == (len(table) == 0)
        if deadline is not None:
            assert deadline > now  # nothing overdue stays pending after expire
    for event in table.abort_all():
        record(event, ConnectionLost)
    assert set(outcomes) == set(opened)
    assert all(count == 1 for count in outcomes.values())
