"""Server cost with thousands of idle WebSockets open (not part of ``python -m benchmarks``).

::

    python -m benchmarks.load_idle [--binding asyncio trio sync] [--idle 4000] [--base 250]

Per binding, the reference Deribit venue runs in its own process (asyncio: ``tradewire
serve deribit`` itself; trio and sync: :func:`benchmarks._loadgen.serve_main`) and
this process, the load, opens raw WebSockets to it from 127.1.x.y (30 per address; the
venue admits 32 per IP):

A well-behaved client (the probe) sends ``public/get_time`` every 60 ms, one at a time,
throughout; between phases the load waits until it is answered promptly again.

1. **accept rate**: with ``--base`` idle WebSockets open, ``--new`` more are opened
   (``--concurrency`` dials in flight), each reset as soon as its upgrade is answered,
   so the number open stays at ``--base``; upgrades completed per second.  Then the
   same with ``--idle`` open.  Target: the rate with ``--idle`` open is at least 80% of
   the rate with ``--base`` open.  Beside each rate, the venue's own CPU time per
   upgrade in the same windows (``/proc``): it says whether the venue's work grew with the
   idle connections when the rate moved with other work on the machine.  Each rate is
   the median of ``--rounds`` (5) windows of ``--new`` upgrades (3,000, one to two
   seconds each), long on purpose: a full pass of Python's cyclic garbage collector
   walks every live connection's objects (0.2-0.3 s with 4,000 open, 20-40 ms with
   250), and CPython spaces those passes so that their cost per new object stays
   constant: rare and long with 4,000 open, frequent and short with 250, the same
   per upgrade over a long enough window.  Over 200 upgrades (0.15 s) the rate said
   whether one pass happened to land inside, not what accepting costs, and windows of
   1,000 (0.3 s once the machine was quiet) still moved by a third from one to the
   next.  Five, not three: on this 2-core machine a burst of other work takes a
   window's share of a core;
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


async def accept_rate(
    server: Server, probe: ProbeProcess, start: int, args: argparse.Namespace
) -> tuple[float, float]:
    """The median of ``--rounds`` rates, each over ``--new`` upgrades, and the median of
    the venue's CPU time per upgrade in the same windows (in ms; other work on the
    machine moves the rate much more than it moves this)."""
    count, rounds = args.new, args.rounds
    pid = server.process.pid
    rates, costs = [], []
    for i in range(rounds):
        await probe.settled()
        began, cpu = time.perf_counter(), cpu_seconds(pid)
        await churn(server.port, start + i * count, count, args.concurrency)
        rates.append(count / (time.perf_counter() - began))
        costs.append((cpu_seconds(pid) - cpu) / count * 1000)
    await probe.settled()
    return statistics.median(rates), statistics.median(costs)


async def run_binding(binding: str, args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, float] = {}
    server = start_server(binding)
    probe = ProbeProcess(server.port)
    task = asyncio.create_task(probe.run())
    try:
        port = server.port
        idle = await open_many(port, 0, args.base)
        # The load's own idle connections (asyncio transports and streams) are frozen out
        # of this process's garbage collector once open: otherwise its full passes over
        # them slow the dialing, and the rate "with 4,000 open" measures the load.
        gc.freeze()
        results["rate_base"], results["cpu_base"] = await accept_rate(server, probe, 100_000, args)
        began = time.perf_counter()
        idle += await open_many(port, args.base, args.idle - args.base)
        results["open_all_s"] = time.perf_counter() - began
        gc.freeze()
        results["rate_idle"], results["cpu_idle"] = await accept_rate(server, probe, 200_000, args)
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
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
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
