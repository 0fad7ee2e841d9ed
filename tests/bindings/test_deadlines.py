"""DeadlineHeap: every connection's timer in one heap (the trio and sync servers)."""

from __future__ import annotations

from dataclasses import dataclass

from tradewire.bindings._deadlines import SLACK, DeadlineHeap


@dataclass(eq=False)
class Conn:
    at: float | None = None
    done: bool = False


def armed(heap: DeadlineHeap[Conn], conn: Conn, at: float, connections: int = 10) -> None:
    conn.at = at
    heap.push(conn, at, connections)


def test_due_connections_come_once_in_deadline_order_and_the_rest_stay() -> None:
    heap: DeadlineHeap[Conn] = DeadlineHeap(lambda c: c.at)
    a, b, c = Conn(), Conn(), Conn()
    armed(heap, b, 2.0)
    armed(heap, a, 1.0)
    armed(heap, c, 5.0)
    assert heap.next_deadline() == 1.0
    assert heap.pop_due(0.5) == []
    assert heap.pop_due(2.0) == [a, b]
    assert heap.pop_due(2.0) == []
    assert heap.next_deadline() == 5.0
    assert heap.pop_due(10.0) == [c]
    assert heap.next_deadline() is None


def test_a_connection_armed_twice_for_the_same_time_is_due_once() -> None:
    heap: DeadlineHeap[Conn] = DeadlineHeap(lambda c: c.at)
    a = Conn()
    armed(heap, a, 1.0)
    armed(heap, a, 1.0)
    assert heap.pop_due(1.0) == [a]


def test_stale_entries_are_skipped_a_moved_or_closed_connection_is_not_due() -> None:
    heap: DeadlineHeap[Conn] = DeadlineHeap(lambda c: c.at)
    moved, closed, cleared = Conn(), Conn(), Conn()
    armed(heap, moved, 1.0)
    armed(heap, moved, 3.0)  # later now: its 1.0 entry is stale
    armed(heap, closed, 1.0)
    closed.done = True
    armed(heap, cleared, 1.0)
    cleared.at = None  # its timer was cancelled
    assert heap.pop_due(2.0) == []
    assert heap.pop_due(3.0) == [moved]


def test_the_heap_stays_bounded_by_the_connections_however_often_they_re_arm() -> None:
    heap: DeadlineHeap[Conn] = DeadlineHeap(lambda c: c.at)
    conns = [Conn() for _ in range(10)]
    for step in range(10_000):
        armed(heap, conns[step % 10], 100.0 + step, connections=10)
    assert len(heap) <= 2 * 10 + SLACK + 1
    assert heap.pop_due(100.0 + 10_000) == conns[:]  # the last deadline of each, in order


def test_a_forgotten_connection_is_let_go_though_its_entries_stay() -> None:
    """A closed connection's stale entries wait for their time or a rebuild (up to one
    per open connection); they must not keep its stack alive that long."""
    import gc
    import weakref

    heap: DeadlineHeap[Conn] = DeadlineHeap(lambda c: c.at)
    kept = Conn()
    armed(heap, kept, 5.0, connections=1000)
    gone = Conn()
    armed(heap, gone, 1.0, connections=1000)
    armed(heap, gone, 2.0, connections=1000)
    ref = weakref.ref(gone)
    gone.done = True
    heap.forget(gone)
    heap.forget(gone)  # twice is harmless
    del gone
    gc.collect()
    assert ref() is None
    assert len(heap) == 3  # the entries stay until they come due
    assert heap.pop_due(10.0) == [kept]
    assert len(heap) == 0


def test_a_rebuild_drops_a_forgotten_connections_entries() -> None:
    heap: DeadlineHeap[Conn] = DeadlineHeap(lambda c: c.at)
    gone = Conn()
    armed(heap, gone, 1.0, connections=1)
    heap.forget(gone)
    live = Conn()
    for step in range(2 + SLACK):
        armed(heap, live, 2.0 + step, connections=1)
    assert len(heap) <= 2 + SLACK
    assert heap.pop_due(1.5) == []


def test_a_done_connection_armed_after_it_was_forgotten_is_not_kept() -> None:
    import gc
    import weakref

    heap: DeadlineHeap[Conn] = DeadlineHeap(lambda c: c.at)
    gone = Conn()
    armed(heap, gone, 1.0)
    gone.done = True
    heap.forget(gone)
    armed(heap, gone, 2.0)  # a late arm, as the server tears the connection down
    ref = weakref.ref(gone)
    del gone
    gc.collect()
    assert ref() is None
    assert heap.pop_due(10.0) == []
