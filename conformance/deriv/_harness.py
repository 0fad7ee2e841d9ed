"""The Deriv venue in memory: :class:`VenueHarness` is the conformance kit's
:class:`~tradewire.conformance.Harness` with a :class:`DerivVenue` by default."""

from __future__ import annotations

from .._harness import Harness
from .._link import FakeClock
from ._venue import DerivVenue

__all__ = ["VenueHarness"]


class VenueHarness(Harness[DerivVenue]):
    """A :class:`DerivVenue` (default: a new one on ``FakeClock(1000.0)``) and its
    clients in memory."""

    def __init__(self, venue: DerivVenue | None = None, *, clock: FakeClock | None = None):
        if clock is None:
            clock = FakeClock(venue.birth if venue is not None else 1_000.0)
        super().__init__(venue if venue is not None else DerivVenue(now=clock.now), clock=clock)
