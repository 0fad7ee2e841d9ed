"""``python -m benchmarks [--quick] [--only NAME ...]``: run the benchmarks, print the table.

The table has, per benchmark, every row's median and min-max over the repeats and its
ratio to the group's reference row, then the project's performance targets as ratios
from this same run, each marked PASS or FAIL:

* a book change through the machine costs at most 1.3x the bare msgspec typed decode,
  and ``json.loads`` + dict handling costs at least 2.5x what the machine does;
* the asyncio binding end to end delivers at least 1.2x the messages per second of the
  ``websockets`` client + ``json.loads``, and at least 0.5x ``picows`` + msgspec;
* per venue (``bench_currencycom``, ``bench_deriv``, ``bench_rails``), each hot message
  kind through the venue's client machine against a bare msgspec decode and json.loads +
  dicts, the same two ratios; end to end (``bench_e2e_venues``, half the messages), the
  venue's asyncio binding at least 1.2x ``websockets`` + ``json.loads``;
* resident memory grows by less than 5 MB from 100k to 1M messages, with a consumer
  that keeps up and with one that lags (the event queue fills and reading pauses).

``--quick`` (fewer messages and repeats) finishes in about a minute and a half; its targets are
indicative only (the memory target is then checked from 10k to 100k messages).

The exit status is 0 when every target of the run passed and 1 when one failed or
could not be measured (a library missing, say), in either mode, so a script or CI can
act on it.  Each benchmark module is imported when it runs: each needs only its own
libraries (orjson, websockets, picows ...).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from dataclasses import dataclass
from types import ModuleType

from ._machine import make_machine
from ._timing import Result, Target, exit_status, header, render
from ._venue_micro import venue_targets

BENCHMARKS = (
    "decode",
    "currencycom",
    "deriv",
    "rails",
    "book",
    "encode",
    "stack",
    "e2e",
    "e2e_venues",
    "memory",
    "fanout",
)
VENUES = ("currencycom", "deriv", "rails")  # bench_<venue>.py: KINDS and run()


@dataclass(frozen=True)
class Mode:
    """How much of everything: repeats, messages, the memory marks."""

    name: str
    micro_repeats: int  # decode, book, encode, stack rows
    scale: float  # items per micro sample: 1.0 is 4000 book changes (a few ms at 0.25)
    e2e_repeats: int
    e2e_count: int  # messages per end-to-end run
    marks: tuple[int, int]  # memory: RSS after this many messages, and this many
    memory_repeats: int

    def describe(self) -> str:
        low, high = self.marks
        return (
            f"{self.name} ({self.micro_repeats} rounds per micro row, {self.e2e_repeats} runs of "
            f"{self.e2e_count:,} messages end to end, memory at {low:,} and {high:,} messages "
            f"x {self.memory_repeats})"
        )


FULL = Mode("full", 41, 0.25, 9, 100_000, (100_000, 1_000_000), 3)
QUICK = Mode("quick", 11, 0.25, 3, 30_000, (10_000, 100_000), 1)


def _ratio(name: str, a: Result, b: Result, *, limit: float, at_most: bool, note: str) -> Target:
    """The target ``a / b`` against ``limit``; not measured when either row has no samples."""
    if not a.samples or not b.samples:
        nan = float("nan")
        return Target(name, nan, nan, nan, limit, at_most, note="not measured")
    value, low, high = a.ratio_to(b)
    return Target(name, value, low, high, limit, at_most, note=note)


def _load(name: str) -> ModuleType:
    """The module ``bench_<name>``, imported when that benchmark runs."""
    return importlib.import_module(f".bench_{name}", __package__)


def _book_depth(mode: Mode, results: list[Result], refs: dict[str, Result]) -> list[Target]:
    """The book's depth and snapshot rows (``bench_book.run_depth``) and their targets."""
    rows, group_refs, named = _load("book").run_depth(mode.micro_repeats, mode.scale)
    results += rows
    refs.update(group_refs)
    book_1k, book_100k, snapshot = named["1k/book"], named["100k/book"], named["snapshot/dict"]
    return [
        _ratio(
            "book, 20-level change at 1k levels / dict",
            book_1k,
            named["1k/dict"],
            limit=1.5,
            at_most=True,
            note="",
        ),
        _ratio(
            "book, 20-level change at 100k levels / at 1k",
            book_100k,
            book_1k,
            limit=2.0,
            at_most=True,
            note=_context("the plain dict's own 100k / 1k", named["100k/dict"], named["1k/dict"]),
        ),
        _ratio(
            "book, 400-level snapshot / building the dicts",
            named["snapshot/book"],
            snapshot,
            limit=1.5,
            at_most=True,
            note=_floors(
                _context("its whole-side check alone", named["snapshot/whole"], snapshot),
                _context("its filtering comprehension alone", named["snapshot/checks"], snapshot),
            ),
        ),
    ]


def _floors(*parts: str) -> str:
    """``floors: a, b`` of the parts measured (``_context`` is empty for a row not run)."""
    measured = [part for part in parts if part]
    return f"floors: {', '.join(measured)}" if measured else ""


def _context(label: str, a: Result, b: Result) -> str:
    """``label: a / b`` from this run, printed under a target (what bounds it), or ``""``."""
    if not a.samples or not b.samples:
        return ""
    return f"{label}: {a.median / b.median:.2f}x"


def _e2e_comparisons(by_name: dict[str, Result], note: str) -> list[Target]:
    """Targets of the comparison, books and binding rows of ``bench_e2e`` (same run)."""
    tw = by_name["tradewire asyncio binding"]
    pairs = [
        (
            "end to end: asyncio / websockets + msgspec",
            tw,
            "websockets (asyncio) + msgspec typed decode",
            1.5,
        ),
        (
            "end to end, books kept: asyncio / picows + msgspec + SortedDict",
            by_name["books kept: tradewire asyncio, maintain_books=True"],
            "books kept: picows + msgspec + SortedDict per side",
            1.0,
        ),
        (
            "end to end: trio binding / asyncio binding",
            by_name["tradewire trio binding"],
            "tradewire asyncio binding",
            0.85,
        ),
        (
            "end to end: sync binding / asyncio binding",
            by_name["tradewire sync binding"],
            "tradewire asyncio binding",
            0.8,
        ),
    ]
    return [
        _ratio(name, a, by_name[ref], limit=limit, at_most=False, note=note)
        for name, a, ref, limit in pairs
    ]


def _e2e_mixed(mode: Mode, refs: dict[str, Result]) -> list[Result]:
    """The mixed-stream rows of ``bench_e2e`` (100 channels), compared with picows + msgspec."""
    rows, by_name = _load("e2e").run_mixed(mode.e2e_repeats, mode.e2e_count)
    ref = by_name["mixed: picows + msgspec typed decode"]
    refs[ref.group] = ref
    return list(rows)


def _e2e_many(mode: Mode, results: list[Result], refs: dict[str, Result]) -> list[Target]:
    """CPU per message with 100 connections in one process against 1 (``bench_e2e``)."""
    rows, named = _load("e2e").run_many(mode.e2e_repeats, mode.e2e_count)
    results += rows
    refs[named["1"].group] = named["1"]
    name = "end to end: CPU per message, 100 connections / 1"
    return [_ratio(name, named["many"], named["1"], limit=1.3, at_most=True, note="")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer messages and repeats (< 2 min)")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    only = set(args.only or BENCHMARKS)
    mode = QUICK if args.quick else FULL
    started = time.perf_counter()
    _, machine_label, is_protocol = make_machine()
    lines = [*header(mode.describe()), f"through the machine: {machine_label}"]
    print("\n".join(lines), flush=True)
    note = "" if is_protocol else "measured on the wire layer: no Deribit ClientProtocol yet"

    results: list[Result] = []
    refs: dict[str, Result] = {}
    targets: list[Target] = []
    if "decode" in only:
        bench_decode = _load("decode")
        rows, named = bench_decode.run(mode.micro_repeats, mode.scale)
        results += rows
        refs.update(bench_decode.references(rows, named))
        change = "book change, 20 levels"
        machine = named[f"{change}/machine"]
        bare, loads = named[f"{change}/msgspec"], named[f"{change}/json"]
        name = "book change: machine / bare msgspec"
        targets.append(_ratio(name, machine, bare, limit=1.3, at_most=True, note=note))
        name = "book change: json.loads + dict / machine"
        targets.append(_ratio(name, loads, machine, limit=2.5, at_most=False, note=note))
    for venue in VENUES:  # per venue: its hot messages through its client machine
        if venue in only:
            module = _load(venue)
            rows, named = module.run(mode.micro_repeats, mode.scale)
            results += rows
            targets += venue_targets(venue, module.KINDS, named, refs, _ratio)
    for wanted in ("book", "encode"):
        if wanted in only:
            rows, ref = _load(wanted).run(mode.micro_repeats, mode.scale)
            results += rows
            refs[ref.group] = ref
    if "book" in only:
        targets += _book_depth(mode, results, refs)
    if "stack" in only:
        rows, ref = _load("stack").run(mode.micro_repeats, 5_000)
        results += rows
        refs[ref.group] = ref
    if "e2e" in only:
        rows, by_name = _load("e2e").run(mode.e2e_repeats, mode.e2e_count)
        results += rows
        tw = by_name["tradewire asyncio binding"]
        ws = by_name["websockets (asyncio) + json.loads + dict handling"]
        pw = by_name["picows + msgspec typed decode"]
        refs[tw.group] = ws
        name = "end to end: asyncio binding / websockets + json"
        targets.append(_ratio(name, tw, ws, limit=1.2, at_most=False, note=note))
        name = "end to end: asyncio binding / picows + msgspec"
        targets.append(_ratio(name, tw, pw, limit=0.8, at_most=False, note=note))
        targets += _e2e_comparisons(by_name, note)
        results += _e2e_mixed(mode, refs)
        targets += _e2e_many(mode, results, refs)
    if "e2e_venues" in only:  # Deriv, Rails, Currency.com end to end, half the messages
        rows, named = _load("e2e_venues").run(mode.e2e_repeats, mode.e2e_count // 2)
        results += rows
        for venue in ("deriv", "rails", "currencycom"):
            tw = named[f"{venue}/tradewire asyncio binding"]
            ws = named[f"{venue}/websockets (asyncio) + json.loads + dict handling"]
            refs[tw.group] = ws
            name = f"{venue} end to end: asyncio binding / websockets + json"
            targets.append(_ratio(name, tw, ws, limit=1.2, at_most=False, note=""))
    if "memory" in only:
        rows, keeps, lags = _load("memory").run(mode.marks, mode.memory_repeats)
        results += rows
        low, high = mode.marks
        for growth, who in (
            (keeps, "memory: RSS growth"),
            (lags, "memory, lagging consumer: RSS growth"),
        ):
            mb = [s / 1e6 for s in growth.samples] or [float("nan")]
            name = f"{who} {low:,} -> {high:,}" + (" messages" if growth is keeps else "")
            value = statistics.median(mb)
            targets.append(
                Target(name, value, min(mb), max(mb), 5.0, True, unit=" MB", note=growth.note)
            )

    if "fanout" in only:  # the reference venue to 100 clients (bench_fanout.py; no target)
        results += _load("fanout").run(mode.e2e_repeats)
    print(render(results, refs, targets))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    failed = [t.name for t in targets if not t.passed]
    if failed:
        print(
            f"{len(failed)} of {len(targets)} targets failed: {'; '.join(failed)}", file=sys.stderr
        )
    return exit_status(targets)


if __name__ == "__main__":
    sys.exit(main())
