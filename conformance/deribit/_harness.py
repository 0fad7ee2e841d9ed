"""The Deribit venue in memory: :class:`VenueHarness` is the conformance kit's
:class:`~tradewire.conformance.Harness` with a :class:`DeribitVenue` by default."""

from __future__ import annotations

from .._harness import Harness, HTTPLink
from .._link import FakeClock
from ._venue import DeribitVenue

__all__ = ["HTTPLink", "VenueHarness"]


class VenueHarness(Harness[DeribitVenue]):
    """A :class:`DeribitVenue` (default: a new one on ``FakeClock(1000.0)``) and its
    clients in memory; HTTP clients default to host ``www.deribit.test``."""

    http_host = "www.deribit.test"

    def __init__(self, venue: DeribitVenue | None = None, *, clock: FakeClock | None = None):
        if clock is None:
            clock = FakeClock(venue.birth if venue is not None else 1_000.0)
        super().__init__(venue if venue is not None else DeribitVenue(now=clock.now), clock=clock)
