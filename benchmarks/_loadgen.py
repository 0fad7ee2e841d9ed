"""Load generation against a venue in another process: raw WebSockets, a probe, the server.

Shared by :mod:`benchmarks.load_idle` and :mod:`benchmarks.load_fragments`.  The
client side is deliberately not tradewire (hand-written upgrade requests and frames,
asyncio streams), so what is measured is the server.

* :func:`start_server` runs the reference Deribit venue in a child process with the
  asyncio (``tradewire serve deribit`` itself), trio or sync binding, and returns it
  with its port; :func:`serve_main` is that child for trio and sync.
* :func:`open_ws` dials from a given loopback source address: the venue admits 32
  connections per IP (spec 1.5), so thousands of connections come from 127.1.x.y.
* :class:`Probe` is a well-behaved client sending ``public/get_time`` one at a time;
  :class:`ProbeProcess` runs one in its own process and collects its answer times.  It
  sends at most ``1 / PROBE_INTERVAL`` requests a second: the venue's credits for
  unauthenticated traffic allow 20 a second per IP (spec 7.3), and a faster probe is closed
  (1013) as soon as its burst is spent, which a fast server reaches in seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._server import masked_text_frame, parse_frames

__all__ = [
    "BINDINGS",
    "Probe",
    "ProbeProcess",
    "Samples",
    "Server",
    "abort",
    "churn",
    "open_many",
    "open_ws",
    "rss_mb",
    "serve_main",
    "source_ip",
    "start_server",
]

BINDINGS = ("asyncio", "trio", "sync")
PER_IP = 30  # under the venue's 32 connections per IP
PROBE_INTERVAL = 0.06  # under the venue's 20 unauthenticated requests a second per IP


def source_ip(index: int) -> str:
    """The loopback source address of connection ``index`` (``PER_IP`` per address)."""
    n = index // PER_IP
    return f"127.1.{n // 250}.{n % 250 + 1}"


@dataclass
class Server:
    binding: str
    process: subprocess.Popen[bytes]
    port: int

    def stop(self, timeout: float = 300.0) -> float:
        """SIGTERM; seconds until the process exited (``inf`` if it had to be killed
        after ``timeout``)."""
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return float("inf")
        return time.perf_counter() - started


def start_server(binding: str) -> Server:
    """The reference Deribit venue with ``binding`` in a child process, listening."""
    if binding == "asyncio":
        exe = shutil.which("tradewire", path=os.path.dirname(sys.executable))
        command = [exe] if exe else [sys.executable, "-m", "tradewire.bindings.cli"]
        command += ["serve", "deribit"]
    else:
        command = [sys.executable, "-m", "benchmarks._loadgen", binding]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if not line:
        process.kill()
        raise RuntimeError(f"the {binding} server did not start")
    port = int(line.split()[0].rsplit(":", 1)[1].split("/")[0])
    return Server(binding, process, port)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


# -- raw WebSocket clients ------------------------------------------------------------------


def _upgrade(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16))
    return (
        b"GET /ws/api/v2 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
        % (port, key)
    )


async def open_ws(
    port: int, source: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket to the venue, upgraded; raises ``ConnectionError`` if refused."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(_upgrade(port))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 900)
    if not head.startswith(b"HTTP/1.1 101"):
        writer.close()
        raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
    return reader, writer


async def open_many(
    port: int, start: int, count: int, concurrency: int = 50
) -> list[asyncio.StreamWriter]:
    """``count`` idle WebSockets, numbered from ``start`` (for their source address)."""
    out: list[asyncio.StreamWriter] = []
    queue = list(range(start, start + count))

    async def worker() -> None:
        while queue:
            index = queue.pop()
            _, writer = await open_ws(port, source_ip(index))
            out.append(writer)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


async def churn(port: int, start: int, count: int, concurrency: int = 10) -> None:
    """``count`` WebSockets opened one after another on ``concurrency`` dialers, each
    reset as soon as its upgrade is answered: the number open stays where it was."""
    queue = list(range(start, start + count))

    async def worker() -> None:
        while queue:
            index = queue.pop()
            _, writer = await open_ws(port, source_ip(index))
            abort([writer])

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def abort(writers: list[asyncio.StreamWriter]) -> None:
    """Reset every connection at once (``SO_LINGER`` 0: an RST, no FIN)."""
    for writer in writers:
        sock = writer.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


class Samples:
    """Answer times of a probe: ``(sent at, seconds)``, ``time.perf_counter`` clock
    (system-wide on Linux, so samples from a child process compare)."""

    def __init__(self) -> None:
        self.latencies: list[tuple[float, float]] = []
        self.timed_out = False
        self.ended: str | None = None  # why the probe stopped answering, if it did

    async def settled(self, limit: float = 900.0) -> float:
        """Wait until the venue answers promptly again (five answers in a row under
        100 ms, all sent after this call); returns the seconds waited."""
        began = time.perf_counter()
        while time.perf_counter() - began < limit and not self.timed_out:
            if self.ended is not None:
                raise RuntimeError(f"the probe ended: {self.ended}")
            recent = [lat for at, lat in self.latencies[-5:] if at >= began]
            if len(recent) == 5 and max(recent) < 0.1:
                break
            await asyncio.sleep(0.1)
        return time.perf_counter() - began

    def worst_since(self, since: float) -> float:
        return max((lat for at, lat in self.latencies if at + lat >= since), default=0.0)


@dataclass
class Probe:
    """A well-behaved client: ``public/get_time``, one at a time, every ``interval`` s;
    each answer time goes to ``on_sample(sent_at, seconds)``; an answer later than
    ``timeout`` is reported as ``timeout`` and ends it."""

    port: int
    on_sample: Callable[[float, float], None]
    interval: float = PROBE_INTERVAL
    timeout: float = 600.0

    async def run(self) -> None:
        reader, writer = await open_ws(self.port)
        buf = bytearray()
        request_id = 0
        try:
            while True:
                request_id += 1
                message = {"jsonrpc": "2.0", "id": request_id, "method": "public/get_time"}
                sent = time.perf_counter()
                writer.write(masked_text_frame(json.dumps(message).encode()))
                answered = False
                while not answered:
                    left = self.timeout - (time.perf_counter() - sent)
                    try:
                        chunk = await asyncio.wait_for(reader.read(65536), max(left, 0.001))
                    except TimeoutError:
                        self.on_sample(sent, self.timeout)
                        return
                    if not chunk:
                        raise ConnectionError("the venue closed the probe")
                    buf += chunk
                    for opcode, payload in parse_frames(buf):
                        if opcode == 0x8:
                            code = struct.unpack("!H", payload[:2])[0] if payload else None
                            raise ConnectionError(f"the venue closed the probe ({code})")
                        if json.loads(payload).get("id") == request_id:
                            answered = True
                self.on_sample(sent, time.perf_counter() - sent)
                await asyncio.sleep(self.interval)
        finally:
            writer.close()


class ProbeProcess(Samples):
    """A :class:`Probe` in its own process, so the load's own work (resetting thousands
    of sockets) never delays it; its samples arrive here."""

    def __init__(self, port: int, interval: float = PROBE_INTERVAL, timeout: float = 600.0) -> None:
        super().__init__()
        self.port, self.interval, self.timeout = port, interval, timeout
        self._process: asyncio.subprocess.Process | None = None

    async def run(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks._loadgen",
            "probe",
            str(self.port),
            str(self.interval),
            str(self.timeout),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            at, latency = (float(x) for x in line.split())
            self.latencies.append((at, latency))
            if latency >= self.timeout:
                self.timed_out = True
        code = await self._process.wait()
        if not self.timed_out and self._process.returncode != -signal.SIGTERM:
            self.ended = f"exit code {code} (its traceback is on stderr)"

    def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()


def probe_main(port: int, interval: float, timeout: float) -> None:
    def report(at: float, latency: float) -> None:
        print(f"{at:.6f} {latency:.6f}", flush=True)

    asyncio.run(Probe(port, report, interval, timeout).run())


# -- the trio and sync servers (the asyncio one is ``tradewire serve deribit``) ------------


def serve_main(binding: str) -> None:
    """Serve the venue with ``binding`` until SIGTERM; the first stdout line is the URL."""
    from tradewire.bindings._venues import REGISTRY, connection_factory, start_reference

    entry = REGISTRY["deribit"]
    if binding == "trio":
        import trio

        from tradewire.bindings import trio as tw_trio

        async def main() -> None:
            venue = start_reference(
                entry, now=trio.current_time(), epoch_offset=tw_trio.epoch_offset()
            )
            with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async with tw_trio.serve(
                    connection_factory(entry, venue), on_events=venue.on_events, app=venue
                ) as server:
                    print(f"{server.url}/ws/api/v2", flush=True)
                    async for _ in signals:
                        break

        trio.run(main)
    elif binding == "sync":
        from tradewire.bindings import sync as tw_sync

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        venue = start_reference(entry, now=time.monotonic(), epoch_offset=tw_sync.epoch_offset())
        factory = connection_factory(entry, venue)
        with tw_sync.serve(factory, on_events=venue.on_events, app=venue) as server:
            print(f"{server.url}/ws/api/v2", flush=True)
            while not stop.wait(0.5):
                pass
    else:
        raise SystemExit(f"unknown binding {binding!r}; accepted: trio, sync")


if __name__ == "__main__":
    if sys.argv[1] == "probe":
        probe_main(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
    else:
        serve_main(sys.argv[1])
