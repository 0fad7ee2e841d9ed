"""Decode: one Deribit message in, one usable value out, in microseconds per message.

Five messages (:mod:`benchmarks._messages`): a 20-level book change, a 400-level book
snapshot, a ticker, a 3-trade ``trades`` array and a heartbeat.  For each, the same list
of bytes goes through every row:

* **through the machine**: ``ClientProtocol.receive_message(data, now)`` then
  ``events()``, on a machine primed with a subscription (and, for book changes, the
  snapshot the changes chain from); while the ClientProtocol does not exist the row is
  the wire layer, :func:`decode_inbound`, and says so (see :mod:`benchmarks._machine`);
* **wire layer** (when the machine exists): :func:`decode_inbound` alone, to show what
  the machine adds;
* for books, the machine again with ``maintain_books=True``: decode, chain check and
  :class:`~tradewire.protocol.OrderBook` update, the whole cost of a maintained book;
* **bare msgspec**: ``msgspec.json.Decoder({method, params: EventType}).decode``, the
  floor: the same output objects, but the decoder is told the type in advance;
* **orjson.loads + dict handling** and **json.loads + dict handling**: the generous dict
  routing and field access described in :mod:`benchmarks._messages`.

Every row keeps the collector on and drops each result at once, as a consumer that
handles and forgets messages would.  Book changes are distinct messages with a correct
``prev_change_id`` chain, so a machine that checks continuity sees no gap.

Fairness: every row gets the same list of ``bytes`` objects, in the same order, and
ends with an object per message that carries the same fields: the machine and the
wire layer with exactly the events the bare msgspec row builds (the same ``BookUpdate``
types), the JSON rows with dicts whose fields they have read.  The machine row does
strictly more than the bare decode for each message: it finds the type itself, checks
the decoded channel, checks the bounds, records the time, checks the book's
``change_id`` chain, queues the event and hands it back through ``events()``.  The
first round of every comparison is a warm-up and is not kept, so every row, the bare
decoder included, runs with warm caches (tradewire's per-channel routes among them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from tradewire.protocol.deribit import (
    BookUpdate,
    Heartbeat,
    TickerUpdate,
    TradesUpdate,
    decode_inbound,
)

from ._machine import NOW, make_machine, prime
from ._messages import BookSim, bare_decoder, handle_dict, heartbeats, tickers, trades
from ._timing import Result, interleave, timed

__all__ = ["references", "run"]

GROUP = "decode"


def _cases(scale: float) -> list[tuple[str, list[bytes], list[bytes], type]]:
    """``(name, messages, setup messages for the machine, event type)`` per message."""
    sim = BookSim()
    change_setup = [sim.snapshot()]
    changes = sim.changes(int(4000 * scale))
    snapshots = [sim.snapshot() for _ in range(int(150 * scale))]
    return [
        ("book change, 20 levels", changes, change_setup, BookUpdate),
        ("book snapshot, 400 levels", snapshots, [], BookUpdate),
        ("ticker", tickers(int(4000 * scale)), [], TickerUpdate),
        ("trades, 3 per message", trades(int(4000 * scale)), [], TradesUpdate),
        ("heartbeat", heartbeats(int(20000 * scale)), [], Heartbeat),
    ]


def _machine_row(messages: list[bytes], setup: list[bytes], **options: Any) -> Callable[[], float]:
    def sample() -> float:
        machine = make_machine(**options)[0]
        prime(machine)
        for message in setup:
            machine.receive_message(message, NOW)
        machine.events()
        receive, drain = machine.receive_message, machine.events

        def loop() -> None:
            for message in messages:
                receive(message, NOW)
                drain()

        return timed(loop, len(messages))

    return sample


def _each(decode: Callable[[bytes], Any], messages: list[bytes]) -> Callable[[], float]:
    def loop() -> None:
        for message in messages:
            decode(message)

    return lambda: timed(loop, len(messages))


def _loads_and_handle(loads: Callable[[bytes], Any], messages: list[bytes]) -> Callable[[], float]:
    def loop() -> None:
        for message in messages:
            handle_dict(loads(message))

    return lambda: timed(loop, len(messages))


def run(repeats: int, scale: float) -> tuple[list[Result], dict[str, Result]]:
    """All decode rows; returns the results and, per message, the rows targets use."""
    _, machine_label, is_protocol = make_machine()
    results: list[Result] = []
    named: dict[str, Result] = {}
    for name, messages, setup, event_type in _cases(scale):
        size = sum(map(len, messages)) // len(messages)
        group = f"{GROUP}: {name} ({size} bytes)"
        bare = bare_decoder(event_type).decode
        if is_protocol:
            rows = [
                (Result(group, machine_label, "us"), _machine_row(messages, setup)),
                (
                    Result(group, "wire layer: decode_inbound", "us"),
                    _each(decode_inbound, messages),
                ),
            ]
            if event_type is BookUpdate:
                books = make_machine(maintain_books=True)[1]
                rows.append(
                    (Result(group, books, "us"), _machine_row(messages, setup, maintain_books=True))
                )
        else:  # the wire layer stands in for the machine, and says so
            rows = [(Result(group, machine_label, "us"), _each(decode_inbound, messages))]
        rows += [
            (Result(group, "bare msgspec typed decode (type known)", "us"), _each(bare, messages)),
            (
                Result(group, "orjson.loads + dict handling", "us"),
                _loads_and_handle(orjson.loads, messages),
            ),
            (
                Result(group, "json.loads + dict handling", "us"),
                _loads_and_handle(json.loads, messages),
            ),
        ]
        interleave(rows, repeats)
        for result, _ in rows:
            results.append(result)
        named[f"{name}/machine"] = rows[0][0]
        named[f"{name}/msgspec"] = rows[-3][0]
        named[f"{name}/orjson"] = rows[-2][0]
        named[f"{name}/json"] = rows[-1][0]
    return results, named


def references(results: list[Result], named: dict[str, Result]) -> dict[str, Result]:
    """Each decode group's reference row: the bare msgspec decode of that message."""
    refs = {}
    for result in results:
        name = result.group.removeprefix(f"{GROUP}: ").rsplit(" (", 1)[0]
        refs[result.group] = named[f"{name}/msgspec"]
    return refs
