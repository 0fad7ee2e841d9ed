"""The client stack's fast path yields exactly what wsproto alone yields.

Two client stacks, one with ``fast_path=True`` and one with ``fast_path=False``, get
the same stream of server frames split at the same points; the messages their machines
receive, the events they report, the frames they send back, the errors they raise and
their states must be identical after every piece (so an error surfaces at the same
piece, not just eventually).

The strategies aim at what the fast path decides on its own, on purpose rather than by
luck of the draw: text frames of multi-byte characters split inside a sequence, invalid
UTF-8 arriving in a later piece of a frame still incomplete, and frame sizes on both
sides of ``max_message_size``.  The cases a mutation run found the suite blind to are
``@example``s and exhaustive loops, which run the same whatever hypothesis draws: its
derandomized draws change with the modules loaded (it mines constants from local
source files, which an editable install makes of tradewire's own modules), so an
editable and a regular install explore different examples.

The habit to copy for every venue: a differential or property test says, with
hypothesis ``event()``, what its examples did (split inside a sequence, invalid UTF-8 in
a later piece, closed with 1007 ...), so ``pytest --hypothesis-show-statistics`` shows
which share of them exercised the claim.
"""

from __future__ import annotations

import itertools
import random
import struct

import hypothesis
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tradewire.conformance import EchoServer
from tradewire.protocol import (
    CloseRequest,
    Command,
    Event,
    Handshake,
    RemoteProtocolError,
    WebSocketClientStack,
    WebSocketServerStack,
)
from tradewire.protocol.transport._frames import FrameReader, mask

LIMIT = 300


class Recorder:
    """A client machine that records every message and never complains."""

    def __init__(self) -> None:
        self.handshake = Handshake(path="/ws")
        self.messages: list[str] = []
        self.close_request: CloseRequest | None = None

    def connection_made(self, now: float) -> None:
        pass

    def receive_message(self, data: bytes | str, now: float) -> None:
        text = data if isinstance(data, str) else data.decode("utf-8")
        if text == "refuse-me":
            raise RemoteProtocolError("refused as asked")
        self.messages.append(text)
        if text == "close-me":
            self.close_request = CloseRequest(code=4001, reason="asked")

    def send(self, command: Command, now: float) -> None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def connection_lost(self, now: float) -> None:
        pass

    def messages_to_send(self) -> list[bytes]:
        return []

    def events(self) -> list[Event]:
        return []


class BatchRecorder(Recorder):
    """A Recorder with the batch receive of the driving contract, and its reads."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def receive_messages(self, messages: list[bytes], now: float) -> int:
        self.batches.append(len(messages))
        for i, data in enumerate(messages):
            try:
                self.receive_message(data, now)
            except RemoteProtocolError as exc:
                exc.position = i
                raise
            if self.close_request is not None:
                return i + 1
        return len(messages)


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = False,
    wide: int = 0,
) -> bytes:
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    bit = 0x80 if masked else 0
    n = len(payload)
    if wide == 2 or (not wide and 126 <= n < 1 << 16):
        header = struct.pack("!BBH", first, bit | 126, n)
    elif wide == 8 or (not wide and n >= 1 << 16):
        header = struct.pack("!BBQ", first, bit | 127, n)
    else:
        header = struct.pack("!BB", first, bit | n)
    if masked:
        key = b"\x01\x02\x03\x04"
        return header + key + mask(payload, key)
    return header + payload


text = st.text(max_size=60).map(lambda s: s.encode("utf-8"))

#: A character of every UTF-8 length (1 to 4 bytes), with the edges of the ranges.
CHARS = ["a", "~", "\u00e9", "\u07ff", "\u20ac", "\ufffd", "\uffff", "\U0001f600", "\U0010ffff"]
MULTI = [c for c in CHARS if len(c.encode()) > 1]
#: Byte sequences a UTF-8 decoder rejects, each for another reason; none of them can
#: continue a four-byte sequence begun with F0 (which wants 90-BF next).
INVALID = [
    b"\xff",  # never a lead byte
    b"\x80",  # a continuation byte without a lead
    b"\xc0\xaf",  # an overlong "/"
    b"\xe2\x28\xa1",  # a three-byte lead followed by ASCII
    b"\xed\xa0\x80",  # a UTF-16 surrogate
    b"\xf4\x90\x80\x80",  # above U+10FFFF
]


@st.composite
def split_text_frames(draw: st.DrawFn) -> tuple[bytes, list[int], str]:
    """A text frame of multi-byte characters, cut points inside it, and how it is bad.

    Mostly the payload is invalid: a bad sequence inserted at any byte offset (inside a
    character or between two), or the frame ending inside a character.  The cuts are
    placed, not hoped for: one strictly inside a multi-byte sequence, and around an
    inserted bad sequence one before it and one after its first byte but before the
    frame ends, so the bad bytes reach a frame that is buffered and still incomplete.
    """
    chars = draw(st.lists(st.sampled_from(CHARS), min_size=1, max_size=24))
    payload = "".join(chars).encode()
    how = draw(st.sampled_from(["valid", "inserted", "inserted", "inserted", "truncated"]))
    bad_at: int | None = None
    if how == "inserted":
        bad = draw(st.sampled_from(INVALID))
        bad_at = draw(st.integers(0, len(payload)))
        payload = payload[:bad_at] + bad + payload[bad_at:]
    elif how == "truncated":
        char = draw(st.sampled_from(MULTI)).encode()
        payload += char[: draw(st.integers(1, len(char) - 1))]
    data = frame(0x1, payload)
    header = len(data) - len(payload)
    cuts = set(draw(st.lists(st.integers(1, len(data) - 1), max_size=3)))
    inside = [header + i for i, byte in enumerate(payload) if 0x80 <= byte < 0xC0]
    if inside:
        cuts.add(draw(st.sampled_from(inside)))
    if bad_at is not None:
        cuts.add(draw(st.integers(1, header + bad_at)))
        if header + bad_at + 1 < len(data):
            cuts.add(draw(st.integers(header + bad_at + 1, len(data) - 1)))
    return data, sorted(cuts), how


@st.composite
def sized_text_frames(draw: st.DrawFn) -> bytes:
    """A valid text frame whose payload is a few bytes under to 70 bytes over ``LIMIT``,
    half the time right at an edge (the limit, one byte over, 64 bytes over)."""
    size = LIMIT + draw(st.sampled_from([-1, 0, 1, 2, 64, 65]) | st.integers(-2, 70))
    fill = draw(st.sampled_from(["ascii", "ascii", "multi-byte"]))
    char = b"x" if fill == "ascii" else draw(st.sampled_from(MULTI)).encode()
    payload = char * (size // len(char))
    return frame(0x1, payload + b"x" * (size - len(payload)))


benign = st.one_of(
    text.map(lambda p: frame(0x1, p)),
    st.binary(max_size=10).map(lambda p: frame(0x9, p)),
    st.binary(max_size=10).map(lambda p: frame(0xA, p)),
)
frames = st.one_of(
    text.map(lambda p: frame(0x1, p)),
    text.map(lambda p: frame(0x1, p)),
    st.just(frame(0x1, b"close-me")),
    st.binary(max_size=20).map(lambda p: frame(0x1, p)),  # often invalid UTF-8
    split_text_frames().map(lambda case: case[0]),
    st.binary(max_size=20).map(lambda p: frame(0x2, p)),
    text.map(lambda p: frame(0x1, p, fin=False)),
    text.map(lambda p: frame(0x0, p, fin=False)),
    text.map(lambda p: frame(0x0, p)),
    st.binary(max_size=10).map(lambda p: frame(0x9, p)),
    st.binary(max_size=10).map(lambda p: frame(0xA, p)),
    st.sampled_from([1000, 1001, 4000, 1002, 999, 5000]).map(
        lambda c: frame(0x8, struct.pack("!H", c) + b"bye")
    ),
    text.map(lambda p: frame(0x1, p, masked=True)),
    text.map(lambda p: frame(0x1, p, rsv=4)),
    text.map(lambda p: frame(0x1, p, wide=2)),
    sized_text_frames(),  # around LIMIT
    st.integers(3, 15).map(lambda op: frame(op, b"odd")),
    st.binary(min_size=1, max_size=6),  # garbage
)

#: A bad byte inside a four-byte sequence, in the third of four pieces: wsproto closes
#: with 1007 at the third; a fast path that checks only the first piece of a buffered
#: frame would close at the fourth (a mutation run found the suite blind to that).
LATE_1007 = frame(0x1, "\u00e9\u20ac".encode() + b"\xf0\xff\x9f\x98\x80")
LATE_1007_CUTS = [5, 8, 10]
#: One byte over the limit: wsproto closes with 1009, so the fast path must not take it.
OVER_BY_ONE = frame(0x1, b"x" * (LIMIT + 1))


def open_stack(
    fast: bool, machine: Recorder | None = None
) -> tuple[WebSocketClientStack, Recorder]:
    machine = machine if machine is not None else Recorder()
    stack = WebSocketClientStack(
        machine,
        host="h",
        rng=random.Random(1),
        fast_path=fast,
        max_message_size=LIMIT,
        ping_interval=None,
    )
    stack.connection_made(0.0)
    server = WebSocketServerStack(EchoServer())
    server.connection_made(0.0)
    server.receive_data(stack.data_to_send(), 0.0)
    stack.receive_data(server.data_to_send(), 0.0)
    stack.events()
    return stack, machine


def unmask_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Decode the (masked) frames a client wrote: opcode and clear payload."""
    out = []
    pos = 0
    while pos < len(data):
        first, second = data[pos], data[pos + 1]
        n = second & 0x7F
        pos += 2
        if n == 126:
            (n,) = struct.unpack("!H", data[pos : pos + 2])
            pos += 2
        elif n == 127:
            (n,) = struct.unpack("!Q", data[pos : pos + 8])
            pos += 8
        key = data[pos : pos + 4]
        pos += 4
        out.append((first & 0x0F, mask(data[pos : pos + n], key)))
        pos += n
    return out


Trace = list[tuple[int | None, int, list[str], list[tuple[int, bytes]], object, bool]]


def run(
    stack: WebSocketClientStack, machine: Recorder, pieces: list[bytes]
) -> tuple[Trace, list[str]]:
    """Feed ``pieces`` one by one; per piece: the error code, the messages delivered so
    far, the events, the frames sent back and the state."""
    trace: Trace = []
    for piece in pieces:
        code = None
        try:
            stack.receive_data(piece, 1.0)
        except RemoteProtocolError as exc:
            code = exc.close_code
        sent = unmask_frames(stack.data_to_send())
        events = [repr(e) for e in stack.events()]
        trace.append(
            (code, len(machine.messages), events, sent, stack.state, stack.should_close_transport)
        )
        if stack.should_close_transport:
            break
    return trace, machine.messages


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    return [p for p in pieces if p]


def differential(pieces: list[bytes]) -> tuple[Trace, list[str]]:
    """Run both stacks on ``pieces``; they must agree piece by piece, and so must the
    fast path delivering each read's messages in one batch (``receive_messages``)."""
    fast = run(*open_stack(True), pieces)
    slow = run(*open_stack(False), pieces)
    assert fast == slow
    batched = run(*open_stack(True, BatchRecorder()), pieces)
    assert batched == slow
    return slow


def first_error(trace: Trace) -> tuple[int, int] | None:
    """(piece index, close code) of the first error, if any."""
    for index, (code, *_) in enumerate(trace):
        if code is not None:
            return index, code
    return None


@settings(max_examples=600, deadline=None)
@given(stream=st.lists(frames, max_size=12), cuts=st.lists(st.integers(0, 2000), max_size=8))
@example(stream=[frame(0x1, b"ok"), LATE_1007], cuts=[4 + c for c in LATE_1007_CUTS])
@example(stream=[OVER_BY_ONE, frame(0x1, b"after")], cuts=[])
def test_fast_path_matches_wsproto(stream: list[bytes], cuts: list[int]) -> None:
    data = b"".join(stream)
    pieces = split(data, [c % (len(data) + 1) for c in cuts])
    """Any frames (valid, fragmented, control, masked, oversize, invalid UTF-8, reserved
    bits, non-minimal lengths, garbage) split at any points."""
    trace, _ = differential(pieces)
    error = first_error(trace)
    hypothesis.event(f"pieces: {len(pieces) if len(pieces) < 4 else '4+'}")
    hypothesis.event("outcome: " + (f"closed with {error[1]}" if error else "no error"))


@settings(max_examples=300, deadline=None)
@given(
    case=split_text_frames(),
    before=st.lists(benign, max_size=2),
    after=st.lists(benign, max_size=2),
)
@example(case=(LATE_1007, LATE_1007_CUTS, "inserted"), before=[], after=[])
def test_fast_path_matches_wsproto_on_utf8_split_anywhere(
    case: tuple[bytes, list[int], str], before: list[bytes], after: list[bytes]
) -> None:
    """Multi-byte text split inside its sequences, valid or not: the same piece closes."""
    data, cuts, how = case
    offset = len(b"".join(before))
    pieces = split(b"".join([*before, data, *after]), [offset + c for c in cuts])
    trace, _ = differential(pieces)
    frame_end = offset + len(data)
    completing = next(
        i for i, end in enumerate(itertools.accumulate(map(len, pieces))) if end >= frame_end
    )
    # a cut before a continuation byte falls inside a multi-byte sequence
    inside = any(0 < c < len(data) and 0x80 <= data[c] < 0xC0 for c in cuts)
    hypothesis.event(f"payload: {how}")
    hypothesis.event(f"split inside a multi-byte sequence: {inside}")
    error = first_error(trace)
    if error is None:
        hypothesis.event("outcome: delivered")
    elif error[0] < completing:
        hypothesis.event(f"outcome: {error[1]} before the frame was complete")
    else:
        hypothesis.event(f"outcome: {error[1]} on the piece completing the frame")


@settings(max_examples=200, deadline=None)
@given(
    sized=sized_text_frames(),
    after=st.lists(benign, max_size=2),
    cuts=st.lists(st.integers(0, 500), max_size=4),
)
@example(sized=OVER_BY_ONE, after=[frame(0x1, b"after")], cuts=[])
@example(sized=frame(0x1, b"x" * LIMIT), after=[frame(0x1, b"after")], cuts=[])
@example(sized=frame(0x1, b"x" * (LIMIT + 64)), after=[], cuts=[100])
def test_fast_path_matches_wsproto_around_max_message_size(
    sized: bytes, after: list[bytes], cuts: list[int]
) -> None:
    """Frames a few bytes under to 70 bytes over the limit, whole or in pieces."""
    over = len(sized) - 4 - LIMIT  # every frame here has the two-byte extended length
    trace, _ = differential(split(b"".join([sized, *after]), cuts))
    hypothesis.event(
        f"size: {'at most LIMIT' if over <= 0 else 'LIMIT + 1..64' if over <= 64 else 'beyond'}"
    )
    error = first_error(trace)
    hypothesis.event("outcome: " + (f"closed with {error[1]}" if error else "delivered"))


@pytest.mark.parametrize("bad", INVALID)
def test_invalid_utf8_closes_with_1007_at_the_piece_holding_it_however_split(bad: bytes) -> None:
    """Every split into up to four pieces of a frame with ``bad`` inside a four-byte
    sequence: both stacks close with 1007 at the piece holding the first bad byte, not
    at a later one (the frame is still incomplete there), and deliver nothing."""
    before = "\u00e9\u20ac".encode() + b"\xf0"  # F0 wants 90-BF next: bad[0] is the error
    data = frame(0x1, before + bad + b"\x9f\x98\x80")
    detected = 2 + len(before)
    for count in range(4):
        for cuts in itertools.combinations(range(1, len(data)), count):
            trace, messages = differential(split(data, list(cuts)))
            holding = sum(1 for c in cuts if c <= detected)
            assert first_error(trace) == (holding, 1007), cuts
            assert messages == []


def test_valid_multi_byte_text_split_anywhere_is_delivered_once_when_complete() -> None:
    message = "a\u00e9\u07ff\u20ac\U0001f600\U0010ffff"
    data = frame(0x1, message.encode())
    for count in range(3):
        for cuts in itertools.combinations(range(1, len(data)), count):
            trace, messages = differential(split(data, list(cuts)))
            assert messages == [message]
            assert [delivered for _, delivered, *_ in trace] == [0] * count + [1]
            assert first_error(trace) is None


def test_valid_text_split_anywhere_stays_on_the_fast_path() -> None:
    """Not an outcome wsproto could tell apart, but the reason the fast path exists: a
    valid frame split inside its sequences, followed in the same read by a binary frame
    of non-UTF-8 bytes, is still one fast item; only the binary frame goes to wsproto."""
    message = "a\u00e9\u07ff\u20ac\U0001f600\U0010ffff".encode()
    binary = frame(0x2, b"\xff\xfe")
    data = frame(0x1, message) + binary
    for count in range(3):
        for cuts in itertools.combinations(range(1, len(data)), count):
            reader = FrameReader(limit=LIMIT)
            items = [item for piece in split(data, list(cuts)) for item in reader.feed(piece)]
            assert [chunk for fast, chunk in items if fast] == [message], cuts
            assert b"".join(chunk for fast, chunk in items if not fast) == binary, cuts


def test_the_fast_path_takes_frames_up_to_the_limit_and_not_one_byte_more() -> None:
    reader = FrameReader(limit=LIMIT)
    assert reader.feed(frame(0x1, b"x" * LIMIT)) == [(True, b"x" * LIMIT)]
    items = reader.feed(OVER_BY_ONE)
    assert not any(fast for fast, _ in items)
    assert b"".join(chunk for _, chunk in items) == OVER_BY_ONE
    # and the stack closes with 1009, as wsproto does
    trace, messages = differential([OVER_BY_ONE])
    assert first_error(trace) == (0, 1009)
    assert messages == []


def test_fast_path_takes_simple_frames_and_only_those() -> None:
    reader = FrameReader(limit=100)
    simple = frame(0x1, b'{"a":1}')
    items = reader.feed(simple + frame(0x9, b"p") + simple)
    kinds = [fast for fast, _ in items]
    assert kinds[0] is True
    assert kinds[-1] is True
    assert not any(kinds[1:-1])  # the ping, in one or more pieces, for wsproto
    assert b"".join(chunk for fast, chunk in items if not fast) == frame(0x9, b"p")
    assert items[0][1] == b'{"a":1}'
    # A frame split anywhere is reassembled before it is delivered.
    parts = [reader.feed(simple[:1]), reader.feed(simple[1:5]), reader.feed(simple[5:])]
    assert parts == [[], [], [(True, b'{"a":1}')]]
    # Non-ASCII but valid UTF-8 is fast; invalid UTF-8 is wsproto's to reject.
    assert reader.feed(frame(0x1, "é".encode())) == [(True, "é".encode())]
    items = reader.feed(frame(0x1, b"\xff"))
    assert not any(fast for fast, _ in items)
    assert b"".join(chunk for _, chunk in items) == frame(0x1, b"\xff")


def test_runs_group_consecutive_simple_messages_and_keep_raw_bytes_between() -> None:
    """``runs`` is what the stack uses: one list per run of simple messages (handed to
    the machine as one read), raw bytes for wsproto between runs, in wire order; a
    message with a 10-byte header, a partial frame and a 126-byte-header frame each
    end up where they belong."""
    reader = FrameReader(limit=1 << 20)
    small, medium, large = b'{"a":1}', b"m" * 300, b"L" * 70_000
    ping = frame(0x9, b"p")
    data = frame(0x1, small) + frame(0x1, medium) + ping + frame(0x1, large) + frame(0x1, small)
    items = reader.runs(data + frame(0x1, medium)[:5])
    assert items[0] == [small, medium]
    assert b"".join(item for item in items if isinstance(item, bytes)) == ping
    assert [p for item in items if isinstance(item, list) for p in item] == [
        small,
        medium,
        large,
        small,
    ]
    assert reader.runs(frame(0x1, medium)[5:]) == [[medium]]  # the rest of the partial one


def test_handshake_trailing_frames_go_through_the_fast_path() -> None:
    machine = Recorder()
    stack = WebSocketClientStack(machine, host="h", rng=random.Random(2))
    stack.connection_made(0.0)
    server = WebSocketServerStack(EchoServer())
    server.connection_made(0.0)
    server.receive_data(stack.data_to_send(), 0.0)
    response = server.data_to_send()
    stack.receive_data(response + frame(0x1, b"first") + frame(0x1, b"second")[:4], 0.0)
    assert machine.messages == ["first"]
    stack.receive_data(frame(0x1, b"second")[4:], 0.0)
    assert machine.messages == ["first", "second"]


def test_a_read_of_whole_messages_is_one_batch_and_the_batch_keeps_every_rule() -> None:
    """One read holding five whole messages reaches a batch machine in one call; a
    refused message is an event and the ones after it are still delivered; a close the
    machine asks for goes out before the messages after it, which are dropped."""
    stack, machine = open_stack(True, BatchRecorder())
    assert isinstance(machine, BatchRecorder)
    names = ["a", "b", "refuse-me", "c", "close-me", "dropped"]
    stack.receive_data(b"".join(frame(0x1, n.encode()) for n in names[:2]), 1.0)
    assert machine.batches == [2]
    stack.receive_data(b"".join(frame(0x1, n.encode()) for n in names[2:]), 1.0)
    assert machine.batches == [2, 4, 3]  # the whole read, then what followed the refusal
    assert machine.messages == ["a", "b", "c", "close-me"]
    events = stack.events()
    assert [type(e).__name__ for e in events] == ["MessageRejected"]
    assert b"refuse-me" in events[0].data  # type: ignore[attr-defined]
    assert unmask_frames(stack.data_to_send()) == [(0x8, struct.pack("!H", 4001) + b"asked")]


class Wrapper:
    """A user's proxy: it intercepts ``receive_message`` and hands every other name to
    the machine inside it, a batch machine."""

    def __init__(self, inner: BatchRecorder) -> None:
        self.inner = inner
        self.seen: list[bytes | str] = []

    def receive_message(self, data: bytes | str, now: float) -> None:
        self.seen.append(data)
        self.inner.receive_message(data, now)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_a_proxy_that_intercepts_receive_message_sees_every_message() -> None:
    """The stack does not go around a wrapper's ``receive_message`` to the batch receive
    of the machine inside it (a transcript recorder is such a wrapper)."""
    inner = BatchRecorder()
    wrapper = Wrapper(inner)
    stack, _ = open_stack(True, wrapper)  # type: ignore[arg-type]
    stack.receive_data(b"".join(frame(0x1, n.encode()) for n in ["a", "b", "c"]), 1.0)
    assert wrapper.seen == [b"a", b"b", b"c"]
    assert inner.messages == ["a", "b", "c"]
    assert inner.batches == []


def test_a_receive_message_replaced_after_the_stack_was_built_sees_every_message() -> None:
    stack, machine = open_stack(True, BatchRecorder())
    seen: list[bytes | str] = []
    inner = machine.receive_message

    def spy(data: bytes | str, now: float) -> None:
        seen.append(data)
        inner(data, now)

    machine.receive_message = spy  # type: ignore[method-assign]
    stack.receive_data(b"".join(frame(0x1, n.encode()) for n in ["a", "b"]), 1.0)
    assert seen == [b"a", b"b"]


def test_a_batch_receive_that_takes_nothing_loses_no_message() -> None:
    """A machine whose ``receive_messages`` takes none of a read (against the contract)
    gets the read one by one instead: nothing is dropped."""

    class TakesNothing(BatchRecorder):
        def receive_messages(self, messages: list[bytes], now: float) -> int:
            self.batches.append(len(messages))
            return 0

    stack, machine = open_stack(True, TakesNothing())
    stack.receive_data(b"".join(frame(0x1, n.encode()) for n in ["a", "b", "c"]), 1.0)
    assert machine.batches == [3]
    assert machine.messages == ["a", "b", "c"]
