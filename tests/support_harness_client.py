"""A client machine in a ``WebSocketClientStack`` linked to a reference venue's harness,
its events collected: what the venues' test support builds its ``Client`` on.

Test modules import it as ``support_harness_client`` (``tests`` is on ``pythonpath``).
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

from tradewire.conformance import MemoryLink
from tradewire.conformance._harness import Harness
from tradewire.protocol import (
    Command,
    Event,
    RequestFailed,
    RequestSucceeded,
    WebSocketClientStack,
)

T = TypeVar("T")


class HarnessClient:
    """``machine`` behind a client stack (``host``, a seeded mask source, optional
    keepalive) linked to ``harness``'s venue."""

    def __init__(
        self,
        harness: Harness[Any],
        machine: Any,
        *,
        host: str,
        seed: int,
        ping_interval: float | None,
    ) -> None:
        self.harness = harness
        self.machine = machine
        self.stack = WebSocketClientStack(
            machine, host=host, rng=random.Random(seed), ping_interval=ping_interval
        )
        self.link: MemoryLink = harness.connect(self.stack)
        self.events: list[Event] = []

    def send(self, command: Command) -> Any:
        request_id = self.stack.send(command, self.harness.now)
        self.harness.pump()
        return request_id

    def collect(self) -> list[Event]:
        self.events.extend(self.link.take_client_events())
        return self.events

    def take(self) -> list[Event]:
        self.collect()
        events, self.events = self.events, []
        return events

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.collect() if isinstance(e, kind)]

    def outcome(self, request_id: Any) -> RequestSucceeded | RequestFailed:
        found = [
            e
            for e in self.collect()
            if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id == request_id
        ]
        assert len(found) == 1, (request_id, found)
        return found[0]

    def call(self, command: Command, *, wait: float = 0.0) -> Any:
        """Send ``command`` and return its result (``RequestFailed``'s error is raised)."""
        request_id = self.send(command)
        if wait:
            self.harness.advance(wait)
        outcome = self.outcome(request_id)
        if isinstance(outcome, RequestFailed):
            raise outcome.error
        return outcome.result
