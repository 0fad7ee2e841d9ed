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

from typing import Any

from support_harness_client import HarnessClient

from tradewire.conformance.deriv import DEMO_TOKEN, DerivVenue, VenueConfig, VenueHarness
from tradewire.protocol import deriv as d

START = 1_000.0


def make_harness(*, faults: str | None = None, seed: int = 3, **config: Any) -> VenueHarness:
    venue = DerivVenue(VenueConfig(seed=seed, **config), now=START, faults=faults)
    return VenueHarness(venue)


class Client(HarnessClient):
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
        options.setdefault("token", token)
        self.machine: d.ClientProtocol
        super().__init__(
            harness,
            d.ClientProtocol(**options),
            host="ws.derivws.test",
            seed=seed,
            ping_interval=keepalive,
        )


def assert_recovered(client: Client) -> None:
    """No stream lost: every desired stream is live again."""
    ledger = client.machine.ledger
    assert set(ledger.active()) == set(ledger.desired())
