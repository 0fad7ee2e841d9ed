"""The Rails venue in memory: :class:`VenueHarness` is the conformance kit's
:class:`~tradewire.conformance.Harness` with a :class:`RailsVenue` by default."""

from __future__ import annotations

from .._harness import Harness, HTTPLink
from .._link import FakeClock
from ._venue import RailsVenue

__all__ = ["HTTPLink", "VenueHarness"]


class VenueHarness(Harness[RailsVenue]):
    """A :class:`RailsVenue` (default: a new one on ``FakeClock(1000.0)``) and its
    clients in memory; HTTP clients default to host ``api-auth.rails.test``."""

    http_host = "api-auth.rails.test"

    def __init__(self, venue: RailsVenue | None = None, *, clock: FakeClock | None = None):
        if clock is None:
            clock = FakeClock(venue.birth if venue is not None else 1_000.0)
        super().__init__(venue if venue is not None else RailsVenue(now=clock.now), clock=clock)
