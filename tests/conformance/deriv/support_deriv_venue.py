"""Helpers for the reference Deriv venue's tests.

* :func:`make_harness`: a :class:`VenueHarness` on a seeded venue;
* :class:`Client`: tradewire's own ``deriv.ClientProtocol`` in a
  ``WebSocketClientStack`` linked to the venue, with its events collected;
* :func:`assert_recovered`: the ledger's active set is its desired set, and the client's
  requests all resolved.

Test files add this folder to ``sys.path`` and import the module as
``support_deriv_venue``.
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

from tradewire.conformance import MemoryLink
from tradewire.conformance.deriv import DEMO_TOKEN, DerivVenue, VenueConfig, VenueHarness
from tradewire.protocol import (
    Command,
    Event,
    RequestFailed,
    RequestSucceeded,
    WebSocketClientStack,
)
from tradewire.protocol import deriv as d

T = TypeVar("T")
START = 1_000.0


def make_harness(*, faults: str | None = None, seed: int = 3, **config: Any) -> VenueHarness:
    venue = DerivVenue(VenueConfig(seed=seed, **config), now=START, faults=faults)
    return VenueHarness(venue)


class Client:
    """tradewire's Deriv client in a client stack, linked to the harness's venue."""

    def __init__(
        self,
        harness: VenueHarness,
        *,
        token: str | None = DEMO_TOKEN,
        seed: int = 7,
        keepalive: float | None = 20.0,
        **options: Any,
    ) -> None:
        self.harness = harness
        options.setdefault("token", token)
        self.machine = d.ClientProtocol(**options)
        self.stack = WebSocketClientStack(
            self.machine, host="ws.derivws.test", rng=random.Random(seed), ping_interval=keepalive
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
        """Send ``command`` and return its result (a failure's error is raised)."""
        request_id = self.send(command)
        if wait:
            self.harness.advance(wait)
        outcome = self.outcome(request_id)
        if isinstance(outcome, RequestFailed):
            raise outcome.error
        return outcome.result


def assert_recovered(client: Client) -> None:
    """No stream lost: every desired stream is live again."""
    ledger = client.machine.ledger
    assert set(ledger.active()) == set(ledger.desired())
