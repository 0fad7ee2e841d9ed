"""The micro rows every venue benchmark shares: one message kind, four ways, interleaved.

For each message kind (a list of ``bytes``, the same list for every row):

* **through the machine**: a fresh client machine per sample (made by the venue's
  ``make``, connected and subscribed), given the messages as the client stack gives
  them, a read at a time: ``receive_messages(read, now)`` then ``events()`` per read of
  :data:`READ` messages (4-14 KiB of these messages; a busy stream fills every 64 KiB
  read, so this is the modest end); the first round is a warm-up (the hot path learnt,
  the route tables filled), so the rows measure the steady state;
* **one message per read**: the same machine given one message per call
  (``receive_message`` then ``events()``), what a quiet stream costs per message;
* **bare msgspec typed decode**: the venue's typed decoder (per kind, or one for all
  kinds: a tagged union), into the same event classes;
* **the driving contract's floor** (:class:`ContractFloor`): an object with the
  machine's methods that does nothing but the bare decode and a queue, called the
  same way (a read at a time).  No machine can cost less through this contract in
  CPython; its ratio to the bare decode says how much of the machine's is the calling
  convention rather than the machine's own work;
* **orjson.loads / json.loads + dict handling**: the venue's ``handle`` reads, from
  plain dicts, the fields an application would use.

``extra`` rows (``maintain_books=True``, say) are measured in the same rounds.
:func:`venue_targets` turns the named rows into the two targets of a venue's kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from ._timing import Result, Target, interleave, timed

__all__ = [
    "ROW_KEYS",
    "Case",
    "ContractFloor",
    "compare",
    "each_row",
    "loads_row",
    "machine_row",
    "venue_targets",
]

ROW_KEYS = ("machine", "single", "msgspec", "orjson", "json", "floor")
READ = 16
"""Messages per read in the machine rows (the client stack hands a read over whole)."""

Case = tuple[str, list[bytes]]
"""A message kind's name and its messages."""


class ContractFloor:
    """The least a client machine can do per message through the driving contract:
    the bound check, the "heard" time, the decode, the queue; ``events()`` hands the
    queue over as the machines do (the list itself, a new empty one in its place)."""

    def __init__(self, decode: Callable[[bytes], Any], limit: int = 10_000) -> None:
        self.decode = decode
        self.limit = limit
        self.items: list[Any] = []
        self.heard = 0.0

    def receive_message(self, data: bytes, now: float) -> None:
        items = self.items
        if len(items) >= self.limit:
            raise RuntimeError("the queue is full")
        self.heard = now
        items.append(self.decode(data))

    def receive_messages(self, messages: list[bytes], now: float) -> int:
        items, decode = self.items, self.decode
        if len(items) + len(messages) > self.limit:
            raise RuntimeError("the queue is full")
        self.heard = now
        for data in messages:
            items.append(decode(data))
        return len(messages)

    def events(self) -> list[Any]:
        drained = self.items
        if not drained:
            return []
        self.items = []
        return drained


def machine_row(
    make: Callable[[], Any], messages: list[bytes], now: float, *, read: int = READ
) -> Callable[[], float]:
    """A sample: a new machine from ``make()``, every message through it, ``read``
    messages per call (``receive_messages``), or one per call (``receive_message``)
    when ``read`` is 1; ``events()`` after each call."""
    reads = [messages[i : i + read] for i in range(0, len(messages), read)]

    def sample() -> float:
        client = make()
        drain = client.events
        if read == 1:
            receive = client.receive_message

            def loop() -> None:
                for message in messages:
                    receive(message, now)
                    drain()

        else:
            receive_many = client.receive_messages

            def loop() -> None:
                for chunk in reads:
                    receive_many(chunk, now)
                    drain()

        return timed(loop, len(messages))

    return sample


def each_row(decode: Callable[[bytes], Any], messages: list[bytes]) -> Callable[[], float]:
    def loop() -> None:
        for message in messages:
            decode(message)

    return lambda: timed(loop, len(messages))


def loads_row(
    loads: Callable[[bytes], Any], handle: Callable[[Any], Any], messages: list[bytes]
) -> Callable[[], float]:
    def loop() -> None:
        for message in messages:
            handle(loads(message))

    return lambda: timed(loop, len(messages))


def compare(
    group: str,
    cases: Sequence[Case],
    *,
    machine_label: str,
    make: Callable[[], Any],
    bare: Callable[[bytes], Any] | Mapping[str, Callable[[bytes], Any]],
    handle: Callable[[Any], Any],
    now: float,
    repeats: int,
    extra: Callable[[str, list[bytes]], list[tuple[str, Callable[[], float]]]] | None = None,
) -> tuple[list[Result], dict[str, Result]]:
    """Every case's rows, interleaved per case; ``named["<kind>/<row key>"]``."""
    import orjson  # a bench extra: the message builders stay importable without it

    results: list[Result] = []
    named: dict[str, Result] = {}
    for name, messages in cases:
        decode = bare[name] if isinstance(bare, Mapping) else bare
        size = sum(map(len, messages)) // len(messages)
        title = f"{group}: {name} ({size} bytes)"
        rows = [
            (
                Result(title, f"{machine_label}, {READ} messages per read", "us"),
                machine_row(make, messages, now),
            ),
            (
                Result(title, f"{machine_label}, one message per read", "us"),
                machine_row(make, messages, now, read=1),
            ),
            (
                Result(title, "bare msgspec typed decode (type known)", "us"),
                each_row(decode, messages),
            ),
            (
                Result(title, "orjson.loads + dict handling", "us"),
                loads_row(orjson.loads, handle, messages),
            ),
            (
                Result(title, "json.loads + dict handling", "us"),
                loads_row(json.loads, handle, messages),
            ),
            (
                Result(title, f"the contract's floor: bare decode + queue, {READ} per read", "us"),
                machine_row(partial(ContractFloor, decode), messages, now),
            ),
        ]
        for key, (result, _) in zip(ROW_KEYS, rows, strict=True):
            named[f"{name}/{key}"] = result
        more = extra(name, messages) if extra is not None else []
        for key, run in more:
            result = Result(title, key, "us")
            named[f"{name}/{key}"] = result
            rows.insert(1, (result, run))
        interleave(rows, repeats)
        results += [result for result, _ in rows]
    return results, named


def venue_targets(
    venue: str,
    kinds: Sequence[str],
    named: dict[str, Result],
    refs: dict[str, Result],
    ratio: Callable[..., Target],
) -> list[Target]:
    """Per kind: the machine at most 1.3x the bare decode, json.loads + dicts at least
    2.5x the machine; the bare decode is the reference row of the kind's group."""
    targets = []
    for kind in kinds:
        machine = named[f"{kind}/machine"]
        bare, loads = named[f"{kind}/msgspec"], named[f"{kind}/json"]
        refs[machine.group] = bare
        name = f"{venue} {kind}: machine / bare msgspec"
        notes = []
        for key, label in (("single", "one message per read"), ("floor", "the contract's floor")):
            row = named.get(f"{kind}/{key}")
            if row is not None and row.samples and bare.samples:
                notes.append(f"{label}: {row.median / bare.median:.2f}x")
        note = "; ".join(notes)
        targets.append(ratio(name, machine, bare, limit=1.3, at_most=True, note=note))
        name = f"{venue} {kind}: json.loads + dict / machine"
        targets.append(ratio(name, loads, machine, limit=2.5, at_most=False, note=""))
    return targets
