"""Reconnect backoff: exponential, capped, with jitter from an injected RNG.

"Full jitter" (a uniform draw between zero and the exponential ceiling) spreads a fleet
of clients that lost the venue at the same moment, so they do not come back as a storm.
A floor (``minimum``) keeps even an unlucky draw from hammering a venue that refuses
connections.  The RNG is passed in: ``random.Random(seed)`` makes a run replayable.
"""

from __future__ import annotations

import math

from .._errors import LocalProtocolError
from .._sources import RandomSource

__all__ = ["Backoff"]


class Backoff:
    """Delays for successive reconnect attempts.

    Attempt ``n`` (from 0) waits ``max(minimum, U(0, 1) * min(maximum, initial * factor**n))``.
    :meth:`reset` after a connection has proved healthy (it authenticated, or stayed up).
    """

    __slots__ = ("_attempt", "_rng", "factor", "initial", "maximum", "minimum")

    def __init__(
        self,
        rng: RandomSource,
        *,
        initial: float = 1.0,
        maximum: float = 30.0,
        factor: float = 2.0,
        minimum: float = 0.1,
    ) -> None:
        for name, value in (("initial", initial), ("maximum", maximum)):
            if not (value > 0 and math.isfinite(value)):
                raise LocalProtocolError(
                    f"invalid {name}: expected a finite number of seconds > 0, got {value!r}"
                )
        if not (factor >= 1 and math.isfinite(factor)):
            raise LocalProtocolError(f"invalid factor: expected a number >= 1, got {factor!r}")
        if not 0 <= minimum <= maximum:
            raise LocalProtocolError(
                f"invalid minimum: expected 0 <= minimum <= maximum, got {minimum!r}"
            )
        self._rng = rng
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.minimum = minimum
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """How many delays have been handed out since the last reset."""
        return self._attempt

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the delay for attempt number ``attempt``."""
        exponent = min(attempt, 64)  # beyond this the cap has long been reached
        return min(self.maximum, self.initial * self.factor**exponent)

    def next_delay(self) -> float:
        """The delay before the next attempt; advances the attempt counter."""
        ceiling = self.ceiling(self._attempt)
        self._attempt += 1
        return max(self.minimum, self._rng.random() * ceiling)

    def reset(self) -> None:
        self._attempt = 0
