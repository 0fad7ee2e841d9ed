"""The loopback venue for the end-to-end benchmarks: a separate process that blasts frames.

:class:`BlastServer` starts :func:`serve` in a ``spawn`` process listening on
127.0.0.1 at a random port.  For each connection the parent announces (``expect(n)``):

1. accept one TCP connection and do the WebSocket upgrade by hand (read the request
   head, answer ``101`` with ``Sec-WebSocket-Accept``; no extensions, no subprotocol);
2. read the client's frames in a thread, answering each JSON-RPC request as the
   reference venue would (:func:`~benchmarks._messages.answer_request`), so a machine
   sees its ``public/subscribe`` acknowledged;
3. once the client subscribed (or after 10 s), send the 400-level book snapshot and then
   ``n - 1`` book changes of 19-40 levels (about 700-1300 bytes each), in batches of
   128 frames per ``sendall``, as fast as the socket takes them.  The changes come from
   512 templates whose ``change_id`` / ``prev_change_id`` are filled in as they are
   sent, so the chain never breaks however long the stream;
4. send a close frame (1000), shut the write side, wait (at most 5 s) for the client to
   go, and report to the parent how many frames it sent.

``BlastServer(venue)`` serves another venue's feed instead (``"deriv"``, ``"rails"``,
``"currencycom"``: :mod:`benchmarks._venue_streams`): the same steps, with that venue's
answers, its subscription requests to wait for (``wanted`` of them, recognised by
``marker``; none to wait for is allowed), and its pre-built frames, cycled.  The ``101``
chooses the client's first offered subprotocol, if it offered one (Rails' token).

The server never runs the code under test on its hot path: frames are built with
bytes formatting, not with tradewire.  Every wait is bounded: an accept waits 30 s, a
socket operation 30 s, an idle server with no instruction for 120 s exits, and the
parent terminates the process when it is done with it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import multiprocessing
import random
import socket
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._timing import Result

__all__ = [
    "BlastServer",
    "MixedStream",
    "Stream",
    "accept_key",
    "frame_header",
    "client_handshake",
    "masked_text_frame",
    "mixed_channels",
    "parse_frames",
    "serve",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ACCEPT_TIMEOUT = 30.0
IO_TIMEOUT = 30.0
IDLE_TIMEOUT = 120.0
SUBSCRIBE_WAIT = 10.0
BATCH = 128


def frame_header(length: int, opcode: int = 0x1) -> bytes:
    if length < 126:
        return struct.pack("!BB", 0x80 | opcode, length)
    if length < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


def masked_text_frame(payload: bytes, key: bytes = b"\x1f\x2e\x3d\x4c") -> bytes:
    """A client's (masked) text frame, for the raw-socket client."""
    length = len(payload)
    mask_bit = 0x80
    if length < 126:
        head = struct.pack("!BB", 0x81, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x81, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", 0x81, mask_bit | 127, length)
    repeated = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big"
    )
    return head + key + masked


def client_handshake(sock: socket.socket, host: str, port: int) -> bytes:
    """Send a minimal upgrade request and read the ``101``; returns bytes read past it."""
    key = base64.b64encode(random.randbytes(16))
    sock.sendall(
        b"GET /ws/api/v2 HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
        % (host.encode(), port, key)
    )
    head, rest = _read_head(sock)
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"upgrade refused: {head[:80]!r}")
    return rest


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk or len(data) > 65536:
            raise ConnectionError("no complete HTTP head")
        data += chunk
    end = data.index(b"\r\n\r\n") + 4
    return data[:end], data[end:]


def accept_key(head: bytes) -> bytes:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return base64.b64encode(hashlib.sha1(value.strip() + _GUID).digest())
    raise ConnectionError("no Sec-WebSocket-Key")


def parse_frames(buf: bytearray) -> list[tuple[int, bytes]]:
    """Take the complete frames off the front of ``buf``: ``(opcode, unmasked payload)``."""
    out = []
    while len(buf) >= 2:
        opcode, length, pos = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                break
            length, pos = struct.unpack_from("!H", buf, 2)[0], 4
        elif length == 127:
            if len(buf) < 10:
                break
            length, pos = struct.unpack_from("!Q", buf, 2)[0], 10
        masked = buf[1] & 0x80
        end = pos + (4 if masked else 0) + length
        if len(buf) < end:
            break
        payload = bytes(buf[end - length : end])
        if masked:
            key = bytes(buf[pos : pos + 4])
            repeated = (key * (length // 4 + 1))[:length]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
                length, "big"
            )
        out.append((opcode, payload))
        del buf[:end]
    return out


class _Reader(threading.Thread):
    """Reads the client's frames; answers requests; notes the subscription and the close."""

    def __init__(
        self, sock: socket.socket, lock: threading.Lock, pending: bytes, stream: Any = None
    ) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.lock = lock
        self.buf = bytearray(pending)
        self.subscribed = threading.Event()
        self.write_closed = False
        # a venue feed (_venue_streams.Feed) says how to answer and what a subscribe is;
        # without one, Deribit's JSON-RPC and one public/subscribe
        self.answer: Any = getattr(stream, "answer", None)
        self.marker: bytes = getattr(stream, "marker", b'/subscribe"')
        self.wanted: int = getattr(stream, "wanted", 1)

    def run(self) -> None:
        if self.answer is None:
            from ._messages import answer_request  # imports tradewire: only off the hot path

            self.answer = answer_request
        answer_request = self.answer
        seen = 0
        if self.wanted <= 0:
            self.subscribed.set()
        try:
            while True:
                for opcode, payload in parse_frames(self.buf):
                    if opcode == 0x8:
                        return
                    if opcode != 0x1:
                        continue
                    answer = answer_request(payload)
                    if answer is not None:
                        with self.lock:
                            if not self.write_closed:
                                self.sock.sendall(frame_header(len(answer)) + answer)
                    if self.marker in payload:
                        seen += 1
                        if seen >= self.wanted:
                            self.subscribed.set()
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                self.buf += chunk
        except OSError:
            return
        finally:
            self.subscribed.set()


class Stream:
    """The frames every connection gets: a snapshot, then chained changes from templates."""

    def __init__(self, seed: int = 6) -> None:
        from ._messages import BookSim  # imports tradewire: only while setting up

        sim = BookSim(seed)
        self.snapshot = sim.snapshot()
        self.snapshot_id = sim.change_id
        rng = random.Random(seed)
        self.templates = [sim.change_template(rng.randint(19, 40)) for _ in range(512)]

    def batches(self, count: int) -> Iterator[bytes]:
        """``count`` frames (the snapshot first), ``BATCH`` frames per ``bytes``."""
        batch = [frame_header(len(self.snapshot)) + self.snapshot]
        change_id = self.snapshot_id
        templates = self.templates
        cycle = len(templates)
        for i in range(1, count):
            payload = templates[i % cycle] % (change_id + 1, change_id)
            change_id += 1
            batch.append(frame_header(len(payload)) + payload)
            if len(batch) >= BATCH:
                yield b"".join(batch)
                batch.clear()
        if batch:
            yield b"".join(batch)


def _subprotocol(head: bytes) -> bytes:
    """The ``Sec-WebSocket-Protocol`` line choosing the client's first offer, if any."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-protocol":
            return b"Sec-WebSocket-Protocol: " + value.split(b",")[0].strip() + b"\r\n"
    return b""


def _blast(
    sock: socket.socket,
    count: int,
    stream: Any,
    ready: threading.Barrier | None = None,
) -> int:
    lock = threading.Lock()
    head, rest = _read_head(sock)
    sock.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(head) + b"\r\n" + _subprotocol(head) + b"\r\n"
    )
    reader = _Reader(sock, lock, rest, stream if not isinstance(stream, Stream) else None)
    reader.start()
    reader.subscribed.wait(SUBSCRIBE_WAIT)
    if ready is not None:  # many connections: every one subscribed before any is sent to
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(SUBSCRIBE_WAIT)
    for batch in stream.batches(count):
        with lock:
            sock.sendall(batch)
    with lock:
        sock.sendall(frame_header(2, 0x8) + struct.pack("!H", 1000))
        reader.write_closed = True
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
    reader.join(5.0)
    return count


def _serve_many(listener: socket.socket, clients: int, count: int, stream: Stream) -> object:
    """Accept ``clients`` connections, then send each the book stream of ``count`` frames
    from its own thread, starting together once every one has subscribed."""
    socks: list[socket.socket] = []
    try:
        for _ in range(clients):
            try:
                client, _ = listener.accept()
            except TimeoutError:
                return f"{len(socks)} of {clients} clients connected"
            client.settimeout(IO_TIMEOUT)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(client)
        ready = threading.Barrier(clients)
        sent: list[object] = []

        def blast(sock: socket.socket) -> None:
            try:
                sent.append(_blast(sock, count, stream, ready))
            except OSError as exc:
                sent.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=blast, args=(s,), daemon=True) for s in socks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(IO_TIMEOUT * 4)
        errors = [x for x in sent if not isinstance(x, int)]
        if errors or len(sent) != clients:
            return f"{len(sent)} of {clients} streams finished; {errors[:1]}"
        return sum(x for x in sent if isinstance(x, int))
    finally:
        for sock in socks:
            sock.close()


def serve(conn: Connection, seed: int = 6, venue: str | None = None) -> None:
    """The server process: announce the port, then serve what the parent asks for
    (Deribit's book stream, or ``venue``'s feed from :mod:`benchmarks._venue_streams`)."""
    stream: Any  # the frames are built once, before any client
    if venue is None:
        stream = Stream(seed)
    else:
        from ._venue_streams import feed

        stream = feed(venue)
    mixed: MixedStream | None = None  # built on first use
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(ACCEPT_TIMEOUT)
    conn.send(listener.getsockname()[1])
    with listener:
        while conn.poll(IDLE_TIMEOUT):
            count = conn.recv()
            if count is None:
                return
            source: Any = stream
            if isinstance(count, tuple) and count[0] == "many":
                conn.send(_serve_many(listener, count[1], count[2], stream))
                continue
            if isinstance(count, tuple):  # (count, "mixed"): see MixedStream
                count, _kind = count
                if mixed is None:
                    mixed = MixedStream(seed)
                source = mixed
            try:
                client, _ = listener.accept()
            except TimeoutError:
                conn.send("no client connected")
                continue
            with client:
                client.settimeout(IO_TIMEOUT)
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    conn.send(_blast(client, count, source))
                except OSError as exc:
                    conn.send(f"{type(exc).__name__}: {exc}")


# -- the mixed stream: books, tickers and trades on 100 channels -----------------------------

MIXED_BOOKS, MIXED_TICKERS, MIXED_TRADES = 40, 30, 30  # channels of each kind: 100 in all


def mixed_instruments() -> list[str]:
    """The instruments of the mixed stream: ``X000-PERPETUAL`` ... ``X039-PERPETUAL``."""
    return [f"X{i:03d}-PERPETUAL" for i in range(MIXED_BOOKS)]


def mixed_channels() -> list[str]:
    """The 100 channels of :class:`MixedStream`: 40 books, 30 tickers, 30 trades."""
    names = mixed_instruments()
    return (
        [f"book.{n}.100ms" for n in names]
        + [f"ticker.{n}.100ms" for n in names[:MIXED_TICKERS]]
        + [f"trades.{n}.100ms" for n in names[:MIXED_TRADES]]
    )


class MixedStream:
    """Frames on 100 channels: each book's snapshot first, then a seeded mix of book
    changes (60%), tickers (25%) and trades of 3 (15%), channels picked at random.

    Every book channel chains its own ``change_id``; the messages are the single-channel
    stream's (:class:`Stream`, ``tickers``, ``trades``) with the instrument renamed.
    """

    def __init__(self, seed: int = 6) -> None:
        from ._messages import INSTRUMENT, BookSim, tickers, trades  # only while setting up

        rng = random.Random(seed)
        names = [n.encode() for n in mixed_instruments()]
        sim = BookSim(seed)
        snapshot = sim.snapshot()
        self.snapshot_id = sim.change_id  # before the templates move the simulation on
        changes = [sim.change_template(rng.randint(19, 40)) for _ in range(64)]
        ticks, trade_batches = tickers(64), trades(64)
        old = INSTRUMENT.encode()
        self.snapshots = [snapshot.replace(old, n) for n in names]
        # the schedule: (template, book channel index or -1), repeated cyclically
        self.schedule: list[tuple[bytes, int]] = []
        for i in range(4096):
            roll = rng.random()
            if roll < 0.6:
                b = rng.randrange(MIXED_BOOKS)
                self.schedule.append((changes[i % 64].replace(old, names[b]), b))
            elif roll < 0.85:
                name = names[rng.randrange(MIXED_TICKERS)]
                self.schedule.append((ticks[i % 64].replace(old, name), -1))
            else:
                name = names[rng.randrange(MIXED_TRADES)]
                self.schedule.append((trade_batches[i % 64].replace(old, name), -1))

    def batches(self, count: int) -> Iterator[bytes]:
        """``count`` frames (the 40 snapshots first), ``BATCH`` frames per ``bytes``."""
        batch = [frame_header(len(s)) + s for s in self.snapshots[:count]]
        ids = [self.snapshot_id] * MIXED_BOOKS
        schedule, cycle = self.schedule, len(self.schedule)
        for i in range(count - len(batch)):
            template, b = schedule[i % cycle]
            if b >= 0:
                payload = template % (ids[b] + 1, ids[b])
                ids[b] += 1
            else:
                payload = template
            batch.append(frame_header(len(payload)) + payload)
            if len(batch) >= BATCH:
                yield b"".join(batch)
                batch.clear()
        if batch:
            yield b"".join(batch)


class BlastServer:
    """The parent's handle: ``with BlastServer() as server: server.expect(n); ...``."""

    def __init__(self, venue: str | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process: Any = context.Process(target=serve, args=(child, 6, venue), daemon=True)
        self.port = 0

    def __enter__(self) -> BlastServer:
        self.process.start()
        if not self._conn.poll(60.0):
            raise RuntimeError("the benchmark server did not start")
        self.port = self._conn.recv()
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/api/v2"

    def expect(self, count: int, *, mixed: bool = False) -> None:
        """The next connection gets the snapshot and ``count - 1`` changes, or with
        ``mixed`` ``count`` frames of :class:`MixedStream`."""
        self._conn.send((count, "mixed") if mixed else count)

    def expect_many(self, clients: int, count: int) -> None:
        """The next ``clients`` connections each get the book stream of ``count`` frames,
        sent from one thread per connection once all of them have subscribed."""
        self._conn.send(("many", clients, count))

    def report(self, timeout: float) -> object:
        """What the server says about the last connection (frames sent, or an error)."""
        if self._conn.poll(timeout):
            return self._conn.recv()
        return "no report from the server"

    def rounds(
        self,
        repeats: int,
        rows: Sequence[tuple[Result, Callable[[], None], Callable[[], float]]],
        *,
        report_timeout: float = 10.0,
    ) -> None:
        """Each row's ``(result, expect, sample)`` in turn, ``1 + repeats`` rounds: tell
        the server what to send, take one sample, read the server's report.  Round 0
        warms up and is not kept.  A client's exception or a server error is recorded in
        the row's note (how many, and the first), never fatal."""
        failures: list[list[str]] = [[] for _ in rows]
        for round_ in range(1 + repeats):
            for (result, expect, sample), failed in zip(rows, failures, strict=True):
                expect()
                try:
                    value: float | None = sample()
                except Exception as exc:  # recorded in the table, never fatal
                    failed.append(f"{type(exc).__name__}: {exc}"[:80])
                    value = None
                report = self.report(report_timeout)
                if not isinstance(report, int):
                    failed.append(f"server: {report}"[:80])
                elif value is not None and round_ > 0:
                    result.samples.append(value)
        for (result, _, _), failed in zip(rows, failures, strict=True):
            if failed:
                result.note += f" ({len(failed)} failed: {failed[0]})"

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self.process.join(5.0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5.0)
