"""``receive_messages`` (a read's messages in one call) does what ``receive_message``
does to each of them, for every venue's client machine.

Two machines built alike get the same messages: one message by message, the other in
batches cut at any points, each batch handed over again after a refused message as the
WebSocket stack does (``RemoteProtocolError.position``).  Their events, their refusals
(which message, why) and what they send must be the same.  The messages mix each
venue's hot stream messages (Deriv's codec takes those in one call per run, ``take``)
with messages that leave the hot path: another subscription's message with the same
start, answers, a cut-off message, a message that is not JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.append(str(Path(__file__).resolve().parents[3]))  # the repository's benchmarks/
from benchmarks import bench_currencycom, bench_deriv, bench_rails
from benchmarks._machine import NOW, answer_all, prime, subscribe_command
from benchmarks._messages import BOOK, TICKER, BookSim, tickers, trades
from tradewire.protocol import RemoteProtocolError
from tradewire.protocol.deribit import ClientProtocol as DeribitClient

Outcome = list[tuple[str, Any]]


def _deribit() -> Any:
    machine = DeribitClient(maintain_books=True, heartbeat_interval=None)
    prime(machine)
    return machine


def _deribit_messages() -> list[bytes]:
    sim = BookSim()
    return [sim.snapshot(), *sim.changes(6), *tickers(6), *trades(4)]


BOOK2 = BOOK.replace("BTC", "ETH")


def _deribit_unkept() -> Any:
    """Books not kept (the codec's ``take`` runs), two book channels and a ticker."""
    machine = DeribitClient(heartbeat_interval=None)
    machine.connection_made(NOW)
    machine.send(subscribe_command(machine, [BOOK, BOOK2, TICKER]), NOW)
    answer_all(machine.messages_to_send, lambda answer: machine.receive_message(answer, NOW))
    machine.events()
    return machine


def _gap(change: bytes) -> bytes:
    """``change`` with a ``prev_change_id`` that is not the one before it."""
    head, _, tail = change.partition(b'"prev_change_id":')
    return head + b'"prev_change_id":1' + tail[tail.index(b",") :]


def _deribit_unkept_messages() -> list[bytes]:
    """Runs of one channel's changes, the other channel's between them, a gap inside a
    run (the channel goes stale: later changes leave the shortcut), a ticker, a second
    snapshot."""
    btc, eth = BookSim(), BookSim(seed=9)
    b = [btc.snapshot(), *btc.changes(9)]
    e = [m.replace(b"BTC", b"ETH") for m in (eth.snapshot(), *eth.changes(4))]
    return [
        b[0],
        *b[1:4],
        e[0],
        e[1],
        b[4],
        e[2],
        *b[5:7],  # a run whose third change breaks the chain
        _gap(b[7]),
        b[8],
        *tickers(1),
        *e[3:5],
        btc.snapshot(),
        *btc.changes(2),
    ]


def _deriv_messages() -> list[bytes]:
    ticks = bench_deriv.tick_messages(8)
    other = ticks[0].replace(bench_deriv.TICK_SUB.encode(), b"0" * len(bench_deriv.TICK_SUB))
    proposals = bench_deriv.proposal_messages(3)
    return [*ticks[:4], other, *proposals, *ticks[4:6], _reordered(), *ticks[6:]]


def _reordered() -> bytes:
    """A tick of the known stream whose ``echo_req`` starts otherwise: no hot entry has
    its start, so one by one it goes the slow way; in a run of the stream it is taken."""
    tick = bench_deriv.tick_messages(1, seed=3)[0]
    reordered = tick.replace(b'"ticks":"R_50","subscribe":1', b'"subscribe":1,"ticks":"R_50"', 1)
    assert reordered != tick
    return reordered


def _depth_as_text() -> bytes:
    """A depth event in the form whose ``data`` is the book as JSON text (both forms are
    the venue's): ``decode`` converts it, a decoded read's depth handler does."""
    body = msgspec.json.decode(bench_currencycom.depth_messages(1)[0])
    body["payload"]["data"] = msgspec.json.encode(body["payload"]["data"]).decode()
    return msgspec.json.encode(body)


def _rails_resync() -> Any:
    """Connected, its snapshot request not answered yet: deltas are held until the
    snapshot, which comes in the same read, and the ones after it take the shortcut."""
    machine = bench_rails.client()
    machine.connection_made(NOW)
    machine.messages_to_send()
    machine.events()
    return machine


def _rails_resync_messages() -> list[bytes]:
    deltas = bench_rails.delta_messages(6)
    trades = bench_rails.trade_messages(3)
    return [*deltas[:3], trades[0], bench_rails.snapshot(), *deltas[3:], *trades[1:]]


VENUES: dict[str, tuple[Callable[[], Any], Callable[[], list[bytes]]]] = {
    "deribit": (_deribit, _deribit_messages),
    "deribit, books not kept": (_deribit_unkept, _deribit_unkept_messages),
    "deriv": (bench_deriv.machine, _deriv_messages),
    "rails": (
        bench_rails.machine,
        lambda: [*bench_rails.delta_messages(5), *bench_rails.trade_messages(5)],
    ),
    "rails, books kept": (
        lambda: bench_rails.machine(maintain_books=True),
        lambda: [*bench_rails.delta_messages(5), *bench_rails.trade_messages(5)],
    ),
    "rails, snapshot in the read": (_rails_resync, _rails_resync_messages),
    "currencycom": (
        bench_currencycom.machine,
        lambda: [
            *bench_currencycom.trade_messages(5),
            *bench_currencycom.depth_messages(3),
            _depth_as_text(),
        ],
    ),
}
BAD = [
    b'{"msg_type": "tick", "echo_req": {',
    b"not json",
    b"[]",
    # JSON every venue decodes, refused by a handler when a book is kept (a negative
    # size in a Rails delta and in a Currency.com depth event)
    b'{"resultType":"publicOrderBookDelta","market":"BTC-USD","data":{"orders":'
    b'[{"orderType":"buy","price":"59990.0","quantity":"-1"}],"statusCode":200}}',
    b'{"status":"OK","destination":"marketdepth.event","payload":{"symbol":"BTC/USD",'
    b'"data":{"ts":1,"bid":{"60000.0":-1.0},"ofr":{}}}}',
]


def _one_by_one(machine: Any, messages: list[bytes]) -> Outcome:
    out: Outcome = []
    for i, data in enumerate(messages):
        try:
            machine.receive_message(data, NOW)
        except RemoteProtocolError as exc:
            out.append(("refused", (i, str(exc))))
        out += [("event", e) for e in machine.events()]
    out += [("sent", m) for m in machine.messages_to_send()]
    return out


def _batched(machine: Any, messages: list[bytes], cuts: list[int]) -> Outcome:
    out: Outcome = []
    points = sorted({c % (len(messages) + 1) for c in cuts} | {len(messages)})
    begin = 0
    for end in points:
        start = begin
        while start < end:
            try:
                taken = machine.receive_messages(messages[start:end], NOW)
            except RemoteProtocolError as exc:
                at = start + (exc.position if exc.position is not None else len(messages))
                # what the one-by-one machine reports: the events before the refusal first
                out += [("event", e) for e in machine.events()]
                out.append(("refused", (at, str(exc))))
                start = at + 1
                continue
            assert 1 <= taken <= end - start
            start += taken
        out += [("event", e) for e in machine.events()]
        begin = end
    out += [("sent", m) for m in machine.messages_to_send()]
    return out


@pytest.mark.parametrize("venue", sorted(VENUES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_batch_does_what_the_messages_one_by_one_do(venue: str, data: st.DataObject) -> None:
    make, build = VENUES[venue]
    messages = build()
    for bad in data.draw(st.lists(st.sampled_from(BAD), max_size=3), label="bad"):
        messages.insert(data.draw(st.integers(0, len(messages)), label="at"), bad)
    cuts = data.draw(st.lists(st.integers(0, 64), max_size=6), label="cuts")
    expected = _one_by_one(make(), messages)
    assert _batched(make(), messages, cuts) == expected
    assert any(kind == "event" for kind, _ in expected)


def _spy_on_take(machine: Any) -> list[tuple[int, int, int]]:
    """Record each call of the machine's codec ``take``: ``(start, stop, where it stopped)``."""
    calls: list[tuple[int, int, int]] = []
    take = machine._take
    assert take is not None

    def spy(messages: Any, start: int, stop: int) -> int:
        taken = take(messages, start, stop)
        calls.append((start, stop, taken))
        return taken

    machine._take = spy
    return calls


def test_deriv_takes_a_run_of_hot_messages_in_one_codec_call() -> None:
    """The codec's ``take`` queues a run of one stream's ticks itself; a tick of another
    subscription with the same start stops the run and is still delivered, routed."""
    machine = bench_deriv.machine()
    calls = _spy_on_take(machine)
    messages = _deriv_messages()
    assert machine.receive_messages(messages, NOW) == len(messages)
    assert calls[0] == (0, len(messages), 4)  # four hot ticks, then the other stream's
    events = machine.events()
    assert len(events) == len(messages)
    assert [e.subscription.id for e in events].count("0" * len(bench_deriv.TICK_SUB)) == 1


def test_a_refused_message_names_its_position_and_the_ones_before_it_count() -> None:
    machine = bench_deriv.machine()
    ticks = bench_deriv.tick_messages(5)
    with pytest.raises(RemoteProtocolError) as caught:
        machine.receive_messages([*ticks[:3], b"not json", *ticks[3:]], NOW)
    assert caught.value.position == 3
    assert len(machine.events()) == 3


def test_every_message_of_a_deriv_stream_is_the_streams_class_whichever_way_it_came() -> None:
    """A tick of a known stream that went the slow way (its start is no hot entry's) is
    the same kind of object as the hot ones, one by one and in a batch."""
    reordered = _reordered()
    ticks = bench_deriv.tick_messages(3)
    for batch in (False, True):
        machine = bench_deriv.machine()
        messages = [ticks[0], reordered, *ticks[1:]]
        if batch:
            assert machine.receive_messages(messages, NOW) == len(messages)
        else:
            for data in messages:
                machine.receive_message(data, NOW)
        events = machine.events()
        assert len(events) == len(messages)
        assert {type(e) for e in events} == {type(events[0])}
        assert {e.topic for e in events} == {bench_deriv.TICKS}


def test_a_message_a_handler_refuses_in_a_decoded_read_names_its_own_position() -> None:
    """Rails decodes a read at once (``pure_decode``) and then handles it: a delta the
    kept book refuses is reported at its own index, the ones before it were taken."""
    machine = bench_rails.machine(maintain_books=True)
    deltas = bench_rails.delta_messages(4)
    read = [*deltas[:2], BAD[3], *deltas[2:]]
    with pytest.raises(RemoteProtocolError) as caught:
        machine.receive_messages(read, NOW)
    assert caught.value.position == 2
    assert len([e for e in machine.events() if type(e).__name__ == "BookDelta"]) == 2


def test_deribit_takes_a_run_of_chained_changes_in_one_codec_call() -> None:
    """Deribit's codec ``take`` queues a run of one channel's chained changes itself (no
    book kept); the snapshot before them, and a change that breaks the chain, are the
    book policy's: the gap is reported and the channel resynced, as one by one."""
    machine = _deribit_unkept()
    calls = _spy_on_take(machine)
    sim = BookSim()
    snapshot = sim.snapshot()
    changes = sim.changes(8)
    messages = [snapshot, *changes[:5], _gap(changes[5]), *changes[6:]]
    assert machine.receive_messages(messages, NOW) == len(messages)
    assert calls[:2] == [(0, 9, 0), (1, 9, 6)]  # not the snapshot; the 5 changes after it
    events = machine.events()
    names = [type(e).__name__ for e in events]
    assert names[:6] == ["BookUpdate"] * 6
    assert "BookGap" in names
    assert [e.data.change_id for e in events[1:6]] == [
        msgspec.json.decode(m)["params"]["data"]["change_id"] for m in changes[:5]
    ]


class _Counted(list):  # type: ignore[type-arg]
    """A read that counts the messages looked up in it."""

    looked = 0

    def __getitem__(self, index: Any) -> Any:
        self.looked += 1
        return super().__getitem__(index)


def test_deribit_take_decodes_nothing_for_a_kept_book_and_each_run_once() -> None:
    """With the book kept, ``take`` reads the channel from the first message's bytes and
    leaves the read alone (no other message looked at, no decode: the handler applies
    each change); without, it looks at the run of the first message's channel and the
    message after it, not the rest of the read, so a read that switches channels is not
    decoded again at each switch."""
    kept = _deribit()
    sim = BookSim()
    read = _Counted([sim.snapshot(), *sim.changes(6)])
    assert kept._take(read, 0, 7) == 0
    assert kept._take(read, 1, 7) == 1
    assert read.looked == 2
    assert kept.receive_messages(read, NOW) == 7
    assert kept.book(BOOK).depth("bid") > 0
    unkept = _deribit_unkept()
    btc, eth = BookSim(), BookSim(seed=9)
    snapshots = [btc.snapshot(), eth.snapshot().replace(b"BTC", b"ETH")]
    assert unkept.receive_messages(snapshots, NOW) == 2
    assert len(unkept.events()) == 2
    b, e = btc.changes(3), [m.replace(b"BTC", b"ETH") for m in eth.changes(3)]
    read = _Counted([b[0], b[1], e[0], e[1], b[2], e[2]])
    assert unkept._take(read, 0, 6) == 2  # the BTC run; ETH's first change stops it
    assert read.looked == 3
    assert unkept._take(read, 2, 6) == 4
    assert read.looked == 6
    assert [event.data.change_id for event in unkept.events()] == [
        msgspec.json.decode(m)["params"]["data"]["change_id"] for m in read[:4]
    ]


def test_rails_takes_a_run_of_trusted_deltas_in_one_codec_call() -> None:
    """Rails' codec ``take`` queues a run of deltas of a trusted, unkept book in one
    call; the first trade stops the run and goes through the decoded read."""
    machine = bench_rails.machine()
    calls = _spy_on_take(machine)
    messages = [*bench_rails.delta_messages(5), *bench_rails.trade_messages(3)]
    assert machine.receive_messages(messages, NOW) == len(messages)
    assert calls[0] == (0, len(messages), 5)
    events = machine.events()
    assert [type(e).__name__ for e in events] == ["BookDelta"] * 5 + ["PublicTrades"] * 3


def _two_proposals() -> tuple[Any, list[bytes]]:
    """A machine with two proposal streams whose messages start alike (their first
    bytes pick no single stream), and their messages alternating."""
    from tradewire.protocol.deriv import Subscribe

    machine = bench_deriv.machine()
    second = msgspec.structs.replace(bench_deriv.PROPOSAL, amount=20)
    machine.send(Subscribe(streams=[second]), NOW)
    request = next(m for m in machine.messages_to_send() if b'"proposal":1' in m)
    other = "1" * len(bench_deriv.PROPOSAL_SUB)
    mine = [
        m.replace(bench_deriv.PROPOSAL_SUB.encode(), other.encode())
        for m in bench_deriv.proposal_messages(8, request, seed=5)
    ]
    machine.receive_message(mine[0], NOW)  # the ack: the stream's id
    machine.receive_message(mine[1], NOW)  # the slow way once: learnt
    machine.events()
    first = bench_deriv.proposal_messages(6, seed=6)
    return machine, [m for pair in zip(first, mine[2:], strict=True) for m in pair]


def test_two_deriv_streams_that_start_alike_each_keep_their_topic_in_a_batch() -> None:
    machine, messages = _two_proposals()
    one = _one_by_one(machine, messages)
    machine, messages = _two_proposals()
    machine._codec.last = b""  # what the slow way decoded last
    assert _batched(machine, messages, []) == one
    assert machine._codec.last == b""  # each went the hot way: by its start or by its id
    events = [e for kind, e in one if kind == "event"]
    assert len(events) == len(messages)
    topics = [e.topic for e in events]
    assert len(set(topics)) == 2
    assert topics[0::2] == [topics[0]] * 6
    assert topics[1::2] == [topics[1]] * 6
    assert {e.subscription.id for e in events[1::2]} == {"1" * len(bench_deriv.PROPOSAL_SUB)}
