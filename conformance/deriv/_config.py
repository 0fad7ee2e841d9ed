"""How the reference Deriv venue is set up: :class:`VenueConfig` and the demo token.

One frozen struct holds what varies between runs: the seed (the index walks, the past,
subscription ids), the market's start time, the protocol settings of
``deriv.server.ServerConfig`` (idle timeout, budgets ...), the API tokens, the too-slow
limit and the fault plan.
"""

from __future__ import annotations

import msgspec

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deriv.server import Account, ServerConfig

from .._faults import FaultPlan

__all__ = [
    "DEMO_ACCOUNT",
    "DEMO_TOKEN",
    "EXTRA_CALLS",
    "READ_ONLY_TOKEN",
    "TOO_SLOW_CLOSE_CODE",
    "TOO_SLOW_REASON",
    "VenueConfig",
]

DEMO_TOKEN = "tradewire-demo-token"
"""The API token registered by default (a virtual USD account with every scope);
public on purpose: the venue is a local test double."""

DEMO_ACCOUNT = Account(loginid="VRTC1000001")

READ_ONLY_TOKEN = "tradewire-read-only"
"""A second token, with the ``read`` scope only (``buy`` answers ``PermissionDenied``)."""

READ_ONLY_ACCOUNT = Account(loginid="VRTC1000002", scopes=("read",), user_id=2)

TOO_SLOW_CLOSE_CODE = 1008
TOO_SLOW_REASON = "connection_too_slow"

EXTRA_CALLS = frozenset({"payout_currencies", "trading_times"})
"""Calls without a typed command that the venue answers (as ``GenericCommand``)."""


def _tokens() -> tuple[tuple[str, Account], ...]:
    return ((DEMO_TOKEN, DEMO_ACCOUNT), (READ_ONLY_TOKEN, READ_ONLY_ACCOUNT))


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The setup of a :class:`DerivVenue`.

    ``seed``: the market, the past ticks and the ids.  ``start_ms``: the epoch time of
    the venue's birth (start it at the current time for real clients).  ``walk_scale``:
    multiplies every index's volatility (raise it to see prices move in short tests).
    ``server``: protocol settings (``tokens`` and ``epoch_offset`` are set by the venue).
    ``tokens``: API token -> account.  ``max_pending_bytes`` / ``too_slow_close_code``:
    a connection whose unsent output passes the limit is closed.  ``faults``: the plan.
    """

    seed: int = 1
    start_ms: int = 1_733_097_600_000
    walk_scale: float = 1.0
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    tokens: tuple[tuple[str, Account], ...] = msgspec.field(default_factory=_tokens)
    max_pending_bytes: int = 4 << 20
    too_slow_close_code: int = TOO_SLOW_CLOSE_CODE
    faults: FaultPlan = msgspec.field(default_factory=FaultPlan)

    def __post_init__(self) -> None:
        if not self.walk_scale > 0:
            raise LocalProtocolError(f"invalid walk_scale: expected > 0, got {self.walk_scale!r}")
        if isinstance(self.max_pending_bytes, bool) or self.max_pending_bytes < 1:
            raise LocalProtocolError("invalid max_pending_bytes: expected an int >= 1")
