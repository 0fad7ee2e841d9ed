"""Repeats, medians, ratios and the printed table; the machine and version header.

Rows that are compared are measured *interleaved*: every round runs each row once, in
a fresh random (seeded) order, and a sample lasts milliseconds, so a burst of load from
another process (the machine has 2 cores, shared) lands on the rows of a comparison
alike and moves few of their many samples.  A row's number is the median over the
rounds, shown with the min-max; a ratio is the ratio of two medians, shown with the
min-max of the per-round ratios (each round pairs samples taken milliseconds apart).

Every timed sample also records the CPU time this process got; the table's footer says
what share of the wall time that was, so a run disturbed by other processes shows it.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata

__all__ = [
    "Result",
    "Target",
    "cpu_share",
    "exit_status",
    "header",
    "interleave",
    "render",
    "rss_bytes",
    "timed",
]


@dataclass
class Result:
    """One row: its samples (one per repeat) and how to show them."""

    group: str
    label: str
    unit: str
    samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def ratio_to(self, other: Result) -> tuple[float, float, float]:
        """``self / other``: of the medians, and the min and max of per-round ratios."""
        pairs = [a / b for a, b in zip(self.samples, other.samples, strict=False) if b]
        return self.median / other.median, min(pairs), max(pairs)


@dataclass
class Target:
    """A ratio target: ``value`` (with its per-repeat range) checked against ``limit``."""

    name: str
    value: float
    low: float
    high: float
    limit: float
    at_most: bool  # True: value <= limit passes; False: value >= limit passes
    unit: str = "x"
    note: str = ""

    @property
    def passed(self) -> bool:
        """Within the limit; a target that was not measured (NaN) has not passed."""
        return self.value <= self.limit if self.at_most else self.value >= self.limit


def exit_status(targets: Sequence[Target]) -> int:
    """The process exit status for a run: 0 if every target passed, else 1."""
    return 0 if all(t.passed for t in targets) else 1


_CLOCKS = [0, 0]  # wall and CPU nanoseconds of every timed sample


def timed(loop: Callable[[], object], count: int) -> float:
    """Seconds per item of ``loop()``, which handles ``count`` items (after a collection)."""
    gc.collect()
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    loop()
    wall = time.perf_counter_ns() - start
    _CLOCKS[0] += wall
    _CLOCKS[1] += time.process_time_ns() - cpu
    return wall / 1e9 / count


def cpu_share() -> float | None:
    """The CPU time the timed samples got, as a share of their wall time."""
    return _CLOCKS[1] / _CLOCKS[0] if _CLOCKS[0] else None


def interleave(
    rows: Sequence[tuple[Result, Callable[[], float]]], repeats: int, warmup: int = 1
) -> None:
    """Run every row once per round, in a random order, appending each sample to its row.

    The first ``warmup`` rounds are thrown away (caches, the decoders' route tables).
    """
    order = list(rows)
    shuffle = random.Random(len(rows)).shuffle
    for i in range(warmup + repeats):
        shuffle(order)
        for result, run in order:
            sample = run()
            if i >= warmup:
                result.samples.append(sample)


def rss_bytes() -> int:
    """This process's resident set size now (psutil, else /proc, else the peak)."""
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.Process().memory_info().rss)
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    """The 1-minute load average (other sessions share these cores), if the OS has one."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "unknown"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


LIBRARIES = (
    "tradewire",
    "msgspec",
    "wsproto",
    "trio",
    "orjson",
    "websockets",
    "picows",
    "aiofastnet",
    "psutil",
    "sortedcontainers",
)


def header(mode: str) -> list[str]:
    """Date, machine, Python and library versions, and the mode."""
    physical = ""
    try:
        import psutil

        physical = f", {psutil.cpu_count(logical=False)} physical"
    except ImportError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} logical cores{physical}"
    if affinity is not None and affinity != os.cpu_count():
        cores += f", {affinity} usable"
    versions = ", ".join(f"{name} {_version(name)}" for name in LIBRARIES)
    return [
        f"tradewire benchmarks, {time.strftime('%Y-%m-%d %H:%M')}, mode: {mode}",
        f"machine: {_cpu_model()} ({cores}); {platform.system()} {platform.release()}",
        f"python: {platform.python_implementation()} {platform.python_version()}; "
        f"load average at start: {_load()}",
        f"libraries: {versions}",
    ]


def _number(value: float, unit: str) -> str:
    if unit == "us":
        return f"{value * 1e6:.2f}" if value < 1e-4 else f"{value * 1e6:.1f}"
    if unit == "msg/s":
        return f"{value / 1e3:.1f}k"
    if unit == "MB":
        return f"{value / 1e6:.1f}"
    if unit == "n":
        return f"{value:,.0f}"
    return f"{value:.3g}"


def render(results: Sequence[Result], refs: dict[str, Result], targets: Sequence[Target]) -> str:
    """The table: per group, rows with median [min-max] and the ratio to the group's ref."""
    lines: list[str] = []
    group = None
    for r in results:
        if r.group != group:
            group = r.group
            ref = refs.get(group)
            unit = {"us": "us per item", "msg/s": "messages per second", "MB": "MB"}[r.unit]
            lines.append("")
            lines.append(f"{group}  ({unit}; median [min-max] of {len(r.samples)} runs)")
            if ref is not None:
                lines.append(f"{'':64} {'median':>9} {'[min .. max]':>19}   vs {ref.label[:40]}")
        ref = refs.get(group)
        label = r.label if not r.note else f"{r.label} {r.note}"
        if not r.samples:
            lines.append(f"  {label[:100]}")
            continue
        spread = f"[{_number(min(r.samples), r.unit)} .. {_number(max(r.samples), r.unit)}]"
        ratio = ""
        if ref is r:
            ratio = " 1.00x (ref)"
        elif ref is not None and ref.samples:
            value, low, high = r.ratio_to(ref)
            ratio = f"{value:5.2f}x [{low:.2f} .. {high:.2f}]"
        row = f"  {label[:62]:62} {_number(r.median, r.unit):>9} {spread:>19}   {ratio}"
        lines.append(row.rstrip())
    share = cpu_share()
    if share is not None:
        lines.append("")
        lines.append(
            f"the timed micro samples got {share:.0%} of a core"
            + ("" if share > 0.97 else " (other processes took the rest: a disturbed run)")
            + f"; load average at the end: {_load()}"
        )
    lines.append("")
    lines.append("targets (ratios of medians from this run; [min-max] of the per-round ratios)")
    for t in targets:
        verdict = "PASS" if t.passed else "FAIL"
        sign = "<=" if t.at_most else ">="
        shown = f"{t.value:.2f}{t.unit} [{t.low:.2f} .. {t.high:.2f}]"
        lines.append(f"  {verdict}  {t.name:58} {shown:>26}  target {sign} {t.limit:g}{t.unit}")
        if t.note:
            lines.append(f"        {t.note}")
    return "\n".join(lines)
