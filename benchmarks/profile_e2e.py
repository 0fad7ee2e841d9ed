"""Where the time of the end-to-end asyncio path goes: ``python -m benchmarks.profile_e2e``.

Runs the ``tradewire asyncio binding`` row of :mod:`benchmarks.bench_e2e` (the blast
server's book stream, the default Deribit machine, keepalive on) once unprofiled for its
rate, then once under ``cProfile``, and prints the functions with the most time of their
own, and a per-message split of that own time into five parts, by the file each function
lives in:

* **read**: the socket reads and the event loop's polling (``recv_into``, ``epoll``, the
  selector, ``bindings/_asyncio_link.py``);
* **framing**: ``protocol/transport/_frames.py`` (the fast path's frame reader);
* **decode**: msgspec's ``Decoder.decode`` and the Deribit decoders
  (``protocol/deribit/_client_books.py``, ``_inbound.py``, ``_wire.py``), and
  ``list.extend``: a codec's ``take`` decodes a run by ``extend(map(decoder, run))``,
  and cProfile sees no call made from C, so the decode's time is ``extend``'s own (the
  other ``extend`` calls on the path queue a read's events, a small share);
* **dispatch**: the rest of the machine (``protocol/``): the WebSocket stack, the
  session, the client protocol's bookkeeping;
* **hand-off**: the binding and asyncio handing events to the ``async for`` consumer
  (``bindings/``, ``asyncio`` tasks and callbacks, the consumer loop itself and its
  ``is_book_event`` check).

cProfile's own cost per function call inflates the cheap, often-called functions, so the
profiled total is larger than the unprofiled time per message; the split is printed both
as profiled microseconds and scaled to the unprofiled time, and is a guide, not a
measurement.  Everything not in these parts is shown as "other".
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections import defaultdict

from ._server import BlastServer
from .bench_e2e import tradewire_asyncio

PARTS = ("read", "framing", "decode", "dispatch", "hand-off", "other")


def part(filename: str, name: str) -> str:
    """Which of :data:`PARTS` a profiled function belongs to."""
    if (
        "recv_into" in name
        or "epoll" in name
        or filename.endswith(("selectors.py", "selector_events.py", "_asyncio_link.py"))
    ):
        return "read"
    if filename.endswith("transport/_frames.py"):
        return "framing"
    if (
        "msgspec.json.Decoder" in name
        or "'extend' of 'list'" in name
        or filename.endswith(
            ("deribit/_client_books.py", "deribit/_inbound.py", "deribit/_wire.py")
        )
    ):
        return "decode"
    if "/protocol/" in filename:
        return "dispatch"
    if (
        "/bindings/" in filename
        or "/asyncio/" in filename
        or filename.endswith(("bench_e2e.py", "_machine.py"))
    ):
        return "hand-off"
    return "other"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_e2e")
    parser.add_argument("--count", type=int, default=100_000, help="messages per run")
    parser.add_argument("--top", type=int, default=15, help="functions to list")
    args = parser.parse_args(argv)
    count = args.count
    with BlastServer() as server:
        server.expect(count)
        tradewire_asyncio(server.url, count)  # warm-up
        server.report(10.0)
        server.expect(count)
        plain = tradewire_asyncio(server.url, count) / count
        server.report(10.0)
        server.expect(count)
        profile = cProfile.Profile()
        profile.enable()
        tradewire_asyncio(server.url, count)
        profile.disable()
        server.report(10.0)
    stats = pstats.Stats(profile)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    own: dict[str, float] = defaultdict(float)
    rows = []
    for (filename, line, name), (_cc, calls, tottime, _cum, _callers) in raw.items():
        own[part(filename, name)] += tottime
        rows.append((tottime, calls, f"{filename.split('/work/')[-1]}:{line}({name})"))
    total = sum(own.values())
    print(f"unprofiled: {plain * 1e6:.2f} us per message ({1 / plain / 1e3:.1f}k msg/s)")
    print(f"profiled:   {total / count * 1e6:.2f} us per message of own time\n")
    print(f"{'part':10} {'profiled us/msg':>16} {'share':>7} {'scaled us/msg':>14}")
    for name in PARTS:
        share = own[name] / total
        print(f"{name:10} {own[name] / count * 1e6:16.2f} {share:7.0%} {share * plain * 1e6:14.2f}")
    print(f"\ntop {args.top} functions by own time (us per message, calls per message)")
    for tottime, calls, where in sorted(rows, reverse=True)[: args.top]:
        print(f"  {tottime / count * 1e6:6.2f}  {calls / count:7.3f}  {where[-90:]}")


if __name__ == "__main__":
    main()
