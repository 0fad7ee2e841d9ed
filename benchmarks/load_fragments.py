"""Server memory with hostile connections holding unfinished messages (not in the suite).

::

    python -m benchmarks.load_fragments [--connections 640] [--size 4193280] [--chunk 65536]

``tradewire serve deribit`` runs in its own process.  This process opens
``--connections`` WebSockets (from 127.1.x.y, 30 per address: the venue admits 32 per
IP) and on each starts a text message it never finishes: a first frame without FIN,
then continuation frames without FIN, ``--chunk`` bytes each, ``--size`` bytes in all
(the default is just under the stack's 4 MiB ``max_message_size``, the most one
connection could make the server hold before).  Then it waits for the server to read
everything (its CPU time stops growing) and reports the server's resident memory:
before any connection, with the connections open and idle, and its peak (``VmHWM``)
while they hold their messages.  Target: the peak adds less than 100 MB to the
resident memory before the connections.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import time

from ._loadgen import ProbeProcess, open_many, rss_mb, start_server

__all__ = ["main"]

KEY = b"\x1f\x2e\x3d\x4c"


def frame(payload: bytes, opcode: int, fin: bool) -> bytes:
    """A masked client frame (``payload`` is ASCII ``a``, so masking is one XOR pass)."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    repeated = (KEY * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big"
    )
    return head + KEY + masked


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1000
    return float("nan")


async def run(args: argparse.Namespace) -> dict[str, float]:
    server = start_server("asyncio")
    pid = server.process.pid
    try:
        probe = ProbeProcess(server.port, interval=0.2)
        task = asyncio.create_task(probe.run())
        await probe.settled()
        results = {"rss_start": rss_mb(pid)}
        writers = await open_many(server.port, 0, args.connections)
        await asyncio.sleep(1.0)
        results["rss_idle"] = rss_mb(pid)
        first = frame(b"a" * args.chunk, 0x1, fin=False)
        more = frame(b"a" * args.chunk, 0x0, fin=False)
        began = time.perf_counter()
        sent = 0
        every = list(writers)
        while sent < args.size and writers:
            for writer in writers:
                writer.write(first if sent == 0 else more)
            done = await asyncio.gather(*(w.drain() for w in writers), return_exceptions=True)
            # A connection the server dropped (it holds too much, or too long) is a defence
            # working, not a failure of the load: it is counted by ``still_open``.
            writers = [w for w, r in zip(writers, done, strict=True) if r is None]
            sent += args.chunk
        await probe.settled()  # the server has read it all
        probe.stop()
        await task
        results["send_s"] = time.perf_counter() - began
        results["rss_held"] = rss_mb(pid)
        results["rss_peak"] = peak_mb(pid)
        results["still_open"] = sum(not w.transport.is_closing() for w in writers)
        for writer in every:
            writer.transport.abort()
    finally:
        server.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load_fragments", description=__doc__
    )
    parser.add_argument("--connections", type=int, default=640)
    parser.add_argument("--size", type=int, default=4 * 2**20 - 4096)
    parser.add_argument("--chunk", type=int, default=65536)
    args = parser.parse_args(argv)
    r = asyncio.run(run(args))
    added = r["rss_peak"] - r["rss_start"]
    verdict = "PASS" if added < 100 else "FAIL"
    print(
        f"{args.connections} connections x {args.size / 2**20:.2f} MiB unfinished "
        f"({args.chunk} B frames), sent in {r['send_s']:.1f} s; server RSS: "
        f"{r['rss_start']:.0f} MB before, {r['rss_idle']:.0f} MB with the connections idle, "
        f"{r['rss_held']:.0f} MB holding, peak {r['rss_peak']:.0f} MB: "
        f"+{added:.0f} MB ({verdict}, target < 100 MB); "
        f"{r['still_open']:.0f} connections still open"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
