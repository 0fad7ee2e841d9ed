"""Injected sources of ids, nonces and randomness.

The core never reads the clock or global randomness (docs/architecture.md, "Layers").  Everything
that must vary (request ids, nonces, UUIDs, jitter) comes from an object passed in, so
a run is replayable byte for byte: pass ``random.Random(seed)`` for a reproducible
session, ``random.SystemRandom()`` in production.
"""

from __future__ import annotations

import uuid
from typing import Protocol, runtime_checkable

__all__ = ["CounterIds", "HexNonces", "IdSource", "RandomSource", "RequestId", "UuidIds"]

RequestId = int | str


@runtime_checkable
class RandomSource(Protocol):
    """The subset of :class:`random.Random` the core uses."""

    def random(self) -> float: ...

    def getrandbits(self, k: int, /) -> int: ...


@runtime_checkable
class IdSource(Protocol):
    """Produces request ids; each call returns an id not returned before."""

    def __call__(self) -> RequestId: ...


class CounterIds:
    """Increasing integers from ``start`` (Deribit, Deriv, Currency.com style)."""

    __slots__ = ("_next",)

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def __call__(self) -> int:
        value = self._next
        self._next = value + 1
        return value

    def __repr__(self) -> str:
        return f"CounterIds(next={self._next})"


class UuidIds:
    """Version-4 UUID strings drawn from an injected RNG (Rails ``clientRequestId``)."""

    __slots__ = ("_rng",)

    def __init__(self, rng: RandomSource) -> None:
        self._rng = rng

    def __call__(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


class HexNonces:
    """Lower-case hex nonces of ``length`` characters from an injected RNG."""

    __slots__ = ("_length", "_rng")

    def __init__(self, rng: RandomSource, length: int = 16) -> None:
        self._rng = rng
        self._length = length

    def __call__(self) -> str:
        return format(self._rng.getrandbits(4 * self._length), f"0{self._length}x")
