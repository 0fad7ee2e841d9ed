"""What a venue's connections share, venue-neutral pieces: connection counts per
address, rate pools, nonces, tokens.

A venue's server state (``deribit.ServerState``, and each venue's own) composes these
small objects; each is pure (``now`` comes in, randomness from an injected source) and
bounded by a named limit.

* :class:`ConnectionCounter`: open connections per peer address, refused past
  ``max_per_address`` (a venue's per-IP connection limit);
* :class:`RatePools`: token buckets keyed by ``(pool, rate_key)`` (an account, an IP, a
  connection; a class of request), made on first use from the venue's rules, at most
  ``max_pools`` of them (full ones are forgotten first: they hold nothing);
* :class:`NonceWindow`: nonces of signed requests, refused when seen within the window;
* :class:`TokenStore`: opaque bearer tokens issued for a record, with an expiry,
  revocable, at most ``max_tokens`` (the oldest forgotten first).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

from .._errors import LocalProtocolError
from .._sources import RandomSource
from ._ratelimit import TokenBucket

__all__ = ["ConnectionCounter", "NonceWindow", "PoolRule", "RatePools", "TokenStore"]

T = TypeVar("T")

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class ConnectionCounter:
    """Open connections per peer address (see the module docstring).

    A connection with no known address is never refused and never counted.
    """

    __slots__ = ("_counts", "_next_id", "max_per_address")

    def __init__(self, max_per_address: int | None) -> None:
        self.max_per_address = max_per_address
        self._counts: dict[str, int] = {}
        self._next_id = 1

    def new_id(self) -> int:
        """A number for a new connection, unique within this counter."""
        value = self._next_id
        self._next_id += 1
        return value

    def acquire(self, address: str | None) -> bool:
        """Count a new connection from ``address``; ``False`` (not counted) over the limit."""
        if address is None:
            return True
        count = self._counts.get(address, 0)
        limit = self.max_per_address
        if limit is not None and count >= limit:
            return False
        self._counts[address] = count + 1
        return True

    def release(self, address: str | None) -> None:
        """A connection counted by :meth:`acquire` ended."""
        if address is None:
            return
        count = self._counts.get(address, 0) - 1
        if count > 0:
            self._counts[address] = count
        else:
            self._counts.pop(address, None)

    def count(self, address: str) -> int:
        return self._counts.get(address, 0)

    def total(self) -> int:
        return sum(self._counts.values())


class Rule(Protocol):
    """What :class:`RatePools` reads of a rule (``PoolRule``, or a venue's own)."""

    @property
    def cost(self) -> float: ...

    @property
    def capacity(self) -> float: ...

    @property
    def refill(self) -> float: ...


class PoolRule:
    """One kind of pool: each request costs ``cost``; at most ``capacity``; ``refill``
    per second."""

    __slots__ = ("capacity", "cost", "refill")

    def __init__(self, cost: float, capacity: float, refill: float) -> None:
        if not (0 <= cost <= capacity and capacity > 0 and refill > 0):
            raise LocalProtocolError(
                f"invalid pool rule: expected 0 <= cost <= capacity, capacity > 0 and "
                f"refill > 0, got cost={cost!r}, capacity={capacity!r}, refill={refill!r}"
            )
        self.cost = cost
        self.capacity = capacity
        self.refill = refill


class RatePools:
    """Token buckets by ``(pool, rate_key)`` (see the module docstring).

    ``rules`` maps a rate key to its :class:`PoolRule`; a key without a rule is not
    limited.  ``max_pools`` bounds the buckets kept.
    """

    __slots__ = ("_pools", "max_pools", "rules")

    def __init__(self, rules: Mapping[Any, Rule], *, max_pools: int = 10_000) -> None:
        if max_pools < 1:
            raise LocalProtocolError(f"invalid max_pools: expected >= 1, got {max_pools!r}")
        self.rules = rules
        self.max_pools = max_pools
        self._pools: dict[tuple[str, Hashable], TokenBucket] = {}

    def bucket(self, pool: str, key: Hashable, now: float) -> TokenBucket | None:
        rule = self.rules.get(key)
        if rule is None:
            return None
        pools = self._pools
        bucket = pools.get((pool, key))
        if bucket is None:
            if len(pools) >= self.max_pools:
                self._pools = pools = {k: b for k, b in pools.items() if b.level(now) < b.capacity}
                while len(pools) >= self.max_pools:
                    del pools[next(iter(pools))]
            bucket = TokenBucket(rule.capacity, rule.refill, name=f"{pool} {_name(key)}")
            pools[(pool, key)] = bucket
        return bucket

    def charge(self, pool: str, key: Hashable, now: float) -> bool:
        """Take one request's cost from ``pool``; ``False`` when it is empty."""
        bucket = self.bucket(pool, key, now)
        if bucket is None:
            return True
        return bucket.try_take(self.rules[key].cost, now)

    def level(self, pool: str, key: Hashable, now: float) -> float | None:
        """What is left in ``pool`` (``None``: not limited)."""
        bucket = self.bucket(pool, key, now)
        return None if bucket is None else bucket.level(now)

    def drain(self, pool: str, key: Hashable, now: float) -> None:
        """Empty ``pool`` at ``now`` (a fault hook: the next request is refused)."""
        bucket = self.bucket(pool, key, now)
        if bucket is not None:
            bucket.empty(now)

    def __len__(self) -> int:
        return len(self._pools)


class NonceWindow:
    """Nonces seen within ``window`` seconds (see the module docstring)."""

    __slots__ = ("_seen", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[Hashable, float] = {}

    def use(self, key: Hashable, now: float) -> bool:
        """Record ``key``; ``False`` if it was seen within the window.  Entries are
        forgotten once the window has passed (two windows after first use)."""
        seen = self._seen
        while seen:
            first = next(iter(seen))
            if seen[first] > now:
                break
            del seen[first]
        if key in seen:
            return False
        seen[key] = now + 2 * self.window
        return True

    def __len__(self) -> int:
        return len(self._seen)


class _Issued(Generic[T]):
    __slots__ = ("expires_at", "record", "revoked")

    def __init__(self, record: T, expires_at: float) -> None:
        self.record = record
        self.expires_at = expires_at
        self.revoked = False


class TokenStore(Generic[T]):
    """Bearer tokens for records (see the module docstring).

    ``mint`` makes the token text (default: 43 URL-safe characters from ``rng``);
    ``max_tokens`` bounds what is stored.  Tokens never appear in a ``repr``.
    """

    def __init__(
        self,
        rng: RandomSource,
        *,
        max_tokens: int = 100_000,
        mint: Callable[[RandomSource], str] | None = None,
    ) -> None:
        if max_tokens < 1:
            raise LocalProtocolError(f"invalid max_tokens: expected >= 1, got {max_tokens!r}")
        self.rng = rng
        self.max_tokens = max_tokens
        self._mint = mint if mint is not None else _mint
        self._tokens: dict[str, _Issued[T]] = {}

    def __repr__(self) -> str:
        return f"TokenStore(tokens={len(self._tokens)})"

    def issue(self, record: T, lifetime: float, now: float) -> str:
        """A new token for ``record``, usable until ``now + lifetime``."""
        tokens = self._tokens
        while len(tokens) >= self.max_tokens:
            del tokens[next(iter(tokens))]
        while True:
            token = self._mint(self.rng)
            if token not in tokens:
                break
        tokens[token] = _Issued(record, now + lifetime)
        return token

    def find(self, token: str, now: float) -> T | None:
        """The record of a usable token (known, not expired, not revoked), or ``None``."""
        issued = self._tokens.get(token)
        if issued is None or issued.revoked or now >= issued.expires_at:
            return None
        return issued.record

    def expires_at(self, token: str) -> float | None:
        issued = self._tokens.get(token)
        return None if issued is None else issued.expires_at

    def revoke(self, token: str) -> bool:
        """Make ``token`` unusable; ``False`` if it was not known."""
        issued = self._tokens.pop(token, None)
        return issued is not None

    def expire_all(self, now: float, *, where: Callable[[T], bool] | None = None) -> int:
        """Fault hook: every token (whose record matches ``where``) expires at ``now``."""
        count = 0
        for issued in self._tokens.values():
            if (where is None or where(issued.record)) and issued.expires_at > now:
                issued.expires_at = now
                count += 1
        return count

    def records(self) -> Iterator[T]:
        return (issued.record for issued in self._tokens.values())

    def __len__(self) -> int:
        return len(self._tokens)


def _name(key: Hashable) -> str:
    value = getattr(key, "value", key)  # an enum: its value
    return str(value)


def _mint(rng: RandomSource) -> str:
    bits = rng.getrandbits(6 * 43)
    return "".join(_ALPHABET[(bits >> (6 * i)) & 63] for i in range(43))
