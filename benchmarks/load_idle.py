"""Server cost with thousands of idle WebSockets open (not part of ``python -m benchmarks``).

::

    python -m benchmarks.load_idle [--binding asyncio trio sync] [--idle 4000] [--base 250]

Per binding, the reference Deribit venue runs in its own process (asyncio: ``tradewire
serve deribit`` itself; trio and sync: :func:`benchmarks._loadgen.serve_main`), twice
for the accept rate, and this process, the load, opens raw WebSockets to it from
127.1.x.y (30 per address; the venue admits 32 per IP):

A well-behaved client (the probe) sends ``public/get_time`` every 60 ms, one at a time,
throughout, to the venue that holds ``--idle``; between windows and phases the load
waits until it is answered promptly again.

1. **accept rate**: two venues of the binding run side by side, one with ``--base``
   idle WebSockets open, the other with ``--idle``; ``--new`` more are opened on one and
   then the other, in turn (``--concurrency`` dials in flight), each reset as soon as
   its upgrade is answered, so the number open stays where it was; upgrades completed
   per second.  Target: the rate with ``--idle`` open is at least 80% of the rate with
   ``--base`` open.  Beside each rate, the venue's own CPU time per upgrade in the same
   windows (``/proc``).  Each rate is the median of ``--rounds`` (5) windows of
   ``--new`` upgrades (3,000, one to two seconds each).  Windows of the two venues
   alternate (base, idle, idle, base, ...), because this VM has slow phases of seconds
   that slow both the venue and this process (their CPU time per upgrade moved
   together between 0.3 and 0.6 ms and 0.16 and 0.31 ms, from window to window, with
   250 open as with 4,000): measured one venue after the other, a phase that fell on
   one side's windows decided the ratio.  Long windows, because a full pass of Python's
   cyclic garbage collector walks every live connection's objects (0.2-0.35 s with
   4,000 open, 20-40 ms with 250), and CPython spaces those passes so that their cost
   per new object stays constant: rare and long with 4,000 open, frequent and short
   with 250, the same per upgrade over a long enough window;
2. **abort**: all ``--idle`` WebSockets are reset at once (RST); the probe's worst
   answer time from then until answers are prompt again.  Target: under 1 s;
3. **stop**: ``--idle`` WebSockets open again, SIGTERM; seconds until the process has
   exited.  Target: under 5 s.

The machine is shared: other work on it shows in the rates; the ratio in (1) and the
bounds in (2) and (3) are what the targets are about.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time

from ._loadgen import BINDINGS, ProbeProcess, Server, abort, churn, open_many, start_server

__all__ = ["main"]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def accept_rates(
    base: Server, idle: Server, probe: ProbeProcess, args: argparse.Namespace
) -> dict[str, float]:
    """Windows of ``--new`` upgrades on the two venues in turn (base, idle, idle, base,
    ...: each round's pair sees the machine as it was then); the median rate of each, and
    the median of each venue's CPU time per upgrade in its windows (ms)."""
    count = args.new
    rates: dict[str, list[float]] = {"base": [], "idle": []}
    costs: dict[str, list[float]] = {"base": [], "idle": []}
    servers = {"base": base, "idle": idle}
    for i in range(args.rounds):
        for name in ("base", "idle") if i % 2 == 0 else ("idle", "base"):
            server = servers[name]
            await probe.settled()
            began, cpu = time.perf_counter(), cpu_seconds(server.process.pid)
            first = (100_000 if name == "base" else 200_000) + i * count
            await churn(server.port, first, count, args.concurrency)
            rates[name].append(count / (time.perf_counter() - began))
            costs[name].append((cpu_seconds(server.process.pid) - cpu) / count * 1000)
    await probe.settled()
    return {
        "rate_base": statistics.median(rates["base"]),
        "rate_idle": statistics.median(rates["idle"]),
        "cpu_base": statistics.median(costs["base"]),
        "cpu_idle": statistics.median(costs["idle"]),
    }


async def run_binding(binding: str, args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, float] = {}
    base = start_server(binding)
    server = start_server(binding)
    probe = ProbeProcess(server.port)
    task = asyncio.create_task(probe.run())
    try:
        port = server.port
        held = await open_many(base.port, 0, args.base)
        began = time.perf_counter()
        idle = await open_many(port, 0, args.idle)
        results["open_all_s"] = time.perf_counter() - began
        # The load's own idle connections (asyncio transports and streams) are frozen out
        # of this process's garbage collector once open: otherwise its full passes over
        # them slow the dialing, and the rate "with 4,000 open" measures the load.
        gc.freeze()
        results.update(await accept_rates(base, server, probe, args))
        abort(held)
        base.stop()
        before = time.perf_counter()
        await asyncio.sleep(2.0)
        results["probe_before"] = probe.worst_since(before)
        aborted_at = time.perf_counter()
        abort(idle)
        await probe.settled()
        results["abort_worst"] = probe.worst_since(aborted_at)
        results["abort_timed_out"] = float(probe.timed_out)
        idle = await open_many(port, 0, args.idle)
        await probe.settled()
        probe.stop()
        await task
        results["stop_s"] = server.stop()
        abort(idle)
    finally:
        gc.unfreeze()
        probe.stop()
        for process in (base.process, server.process):
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_idle", description=__doc__)
    parser.add_argument("--binding", nargs="+", choices=BINDINGS, default=list(BINDINGS))
    parser.add_argument("--idle", type=int, default=4000)
    parser.add_argument("--base", type=int, default=250)
    parser.add_argument("--new", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    failed = False
    for binding in args.binding:
        r = asyncio.run(run_binding(binding, args))
        ratio = r["rate_idle"] / r["rate_base"]
        checks = [ratio >= 0.8, r["abort_worst"] < 1.0, r["stop_s"] < 5.0]
        failed |= not all(checks)
        mark = ["PASS" if ok else "FAIL" for ok in checks]
        stop = "killed after 300 s" if r["stop_s"] == float("inf") else f"{r['stop_s']:.2f} s"
        print(
            f"{binding:8s} accept: {r['rate_base']:7.0f}/s with {args.base} open, "
            f"{r['rate_idle']:7.0f}/s with {args.idle} open ({ratio:.2f}x, {mark[0]}); "
            f"opening {args.idle}: {r['open_all_s']:.1f} s\n"
            f"{'':8s} venue CPU per upgrade: {r['cpu_base']:.2f} ms with {args.base} open, "
            f"{r['cpu_idle']:.2f} ms with {args.idle} open "
            f"({r['cpu_idle'] / r['cpu_base']:.2f}x)\n"
            f"{'':8s} get_time worst {r['probe_before'] * 1000:.0f} ms before, "
            f"{'>= ' if r['abort_timed_out'] else ''}{r['abort_worst'] * 1000:.0f} ms "
            f"while {args.idle} are reset ({mark[1]}); "
            f"SIGTERM with {args.idle} open: {stop} ({mark[2]})",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
