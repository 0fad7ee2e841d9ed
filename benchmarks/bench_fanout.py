"""The reference Deribit venue fanning its market out to 100 subscribed connections.

Sans-IO, in one process, no sockets: a :class:`~tradewire.conformance.deribit.DeribitVenue`
with the default catalog (66 instruments, seed 0) and a 10 ms market tick is driven by
the binding-neutral :class:`~tradewire.bindings._server.ServerHub`, as ``serve()`` drives
it, over 100 in-memory links.  Each link does the WebSocket upgrade and one
``public/subscribe`` (the same :data:`CHANNELS` for every client), then the venue's
application timer runs tick after tick on a simulated clock, and every byte the hub
pushes is kept (per link; nothing reads them back, the counts come from the bytes).

Two rows, both per round of :data:`TICKS` ticks after :data:`WARMUP` ticks:

* **notifications per second**: notifications delivered to the 100 links (counted in
  the bytes pushed) divided by the CPU time of the ticks (market, fan-out, encoding,
  framing, the hub's settling) - the rate the venue could sustain on one core;
* **market cost per tick**: the time spent in ``Market.advance`` during the same ticks,
  per tick.

Run this module against any checkout (``python -m benchmarks.bench_fanout``) to compare
two states of the code the same way: it uses only public entry points.
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

from tradewire.bindings._server import ServerHub
from tradewire.conformance.deribit import ApiClient, DeribitVenue, VenueConfig
from tradewire.conformance.market import MarketConfig

from ._server import masked_text_frame
from ._timing import Result

__all__ = ["CHANNELS", "run"]

GROUP = "reference venue fan-out: 100 subscribed clients, 10 ms market tick (sans-IO)"
COST = "reference venue fan-out: where the CPU goes (same runs)"
CLIENTS = 100
TICK = 0.01
WARMUP = 20
TICKS = 200
CHANNELS = (
    "book.BTC-PERPETUAL.raw",
    "book.ETH-PERPETUAL.raw",
    "book.BTC-27DEC24.100ms",
    "ticker.BTC-PERPETUAL.raw",
    "ticker.ETH-PERPETUAL.100ms",
    "quote.BTC-PERPETUAL",
    "trades.future.BTC.raw",
    "deribit_price_index.btc_usd",
)
_UPGRADE = (
    b"GET /ws/api/v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
_MARK = b'"method":"subscription"'


class _Link:
    """An in-memory transport: keeps what the hub pushes."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.done = False
        self.out: list[bytes] = []

    def push(self, data: bytes) -> int:
        self.out.append(data)
        return 0

    def shut(self, abort: bool) -> None:
        self.done = True

    def arm(self, deadline: float | None) -> None:
        pass


def _requests(client: int) -> bytes:
    """Authenticate with the client's own key (raw channels need a key; each key has its
    own rate pool), then subscribe."""
    auth = (
        '{"jsonrpc":"2.0","id":1,"method":"public/auth","params":{"grant_type":'
        f'"client_credentials","client_id":"bench-{client}","client_secret":"secret-{client}"}}}}'
    )
    names = ",".join(f'"{c}"' for c in CHANNELS)
    subscribe = (
        f'{{"jsonrpc":"2.0","id":2,"method":"public/subscribe","params":{{"channels":[{names}]}}}}'
    )
    return masked_text_frame(auth.encode()) + masked_text_frame(subscribe.encode())


def _setup() -> tuple[DeribitVenue, ServerHub, list[_Link], float]:
    keys = tuple(
        ApiClient(client_id=f"bench-{i}", client_secret=f"secret-{i}") for i in range(CLIENTS)
    )
    venue = DeribitVenue(VenueConfig(market=MarketConfig(tick_interval=TICK), clients=keys))
    hub = ServerHub(
        venue.websocket_connection,
        on_events=venue.on_events,
        app=venue,
        max_write_buffer=1 << 40,
    )
    links = [_Link() for _ in range(CLIENTS)]
    now = 0.0
    for i, link in enumerate(links):
        hub.open(link, f"10.0.{i // 200}.{i % 200 + 1}:40000", now)  # type: ignore[arg-type]
        hub.receive(link, _UPGRADE, now)  # type: ignore[arg-type]
        hub.receive(link, _requests(i), now)  # type: ignore[arg-type]
        answers = b"".join(link.out)
        assert b'"error"' not in answers, answers[-300:]
        assert b'"id":2,"result"' in answers, answers[-300:]
    return venue, hub, links, now


def sample(ticks: int = TICKS) -> tuple[float, float, float, int, int]:
    """One round: (notifications per CPU second, market CPU seconds per tick, CPU seconds
    per notification outside the market, notifications, bytes)."""
    venue, hub, links, now = _setup()
    market = venue.market
    advance = market.advance
    spent = [0.0]

    def timed_advance(at: float) -> Any:
        start = time.process_time()
        try:
            return advance(at)
        finally:
            spent[0] += time.process_time() - start

    market.advance = timed_advance  # type: ignore[method-assign]
    for _ in range(WARMUP):
        now += TICK
        hub.app_timer(now)
    for link in links:
        link.out.clear()
    spent[0] = 0.0
    gc.collect()
    cpu = time.process_time()
    for _ in range(ticks):
        now += TICK
        hub.app_timer(now)
    elapsed = time.process_time() - cpu
    data = [b"".join(link.out) for link in links]
    count = sum(d.count(_MARK) for d in data)
    size = sum(len(d) for d in data)
    assert all(not link.done for link in links), "a link was dropped"
    return count / elapsed, spent[0] / ticks, (elapsed - spent[0]) / count, count, size


def run(repeats: int) -> list[Result]:
    """The rows: notifications per second; market us per tick and fan-out us per
    notification (no reference row: compare runs of two checkouts, see RESULTS.md)."""
    rate = Result(GROUP, f"notifications/s delivered ({CLIENTS} clients, {TICKS} ticks)", "msg/s")
    tick = Result(COST, "market cost per tick (Market.advance)", "us")
    note = Result(COST, "fan-out cost per notification (all CPU but the market)", "us")
    sample(WARMUP)  # imports, caches
    for _ in range(repeats):
        per_second, per_tick, per_note, _, _ = sample()
        rate.samples.append(per_second)
        tick.samples.append(per_tick)
        note.samples.append(per_note)
    return [rate, tick, note]


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for _ in range(repeats):
        per_second, per_tick, per_note, count, size = sample()
        print(
            f"{per_second:10.0f} notifications/s  market {per_tick * 1e3:6.2f} ms/tick  "
            f"fan-out {per_note * 1e6:5.2f} us/notification  "
            f"({count} notifications, {size} bytes in {TICKS} ticks to {CLIENTS} clients)",
            flush=True,
        )


if __name__ == "__main__":
    main()
