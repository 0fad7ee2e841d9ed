"""How the reference Rails venue is set up: :class:`VenueConfig` and the demo keys.

One frozen struct holds everything that varies between runs: the simulated market (its
seed makes a run replayable byte for byte), the protocol settings of
``rails.server.ServerConfig``, the API keys, the account leverage, the too-slow limit
and the fault plan.
"""

from __future__ import annotations

import msgspec

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.rails.server import ApiKey, ServerConfig

from .._faults import FaultPlan
from ..market import MarketConfig

__all__ = [
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "READ_ONLY_API_KEY",
    "READ_ONLY_API_SECRET",
    "TOO_SLOW_CLOSE_CODE",
    "TOO_SLOW_REASON",
    "VenueConfig",
    "rails_market",
]

DEMO_API_KEY = "tradewire-demo"
"""The API key registered by default (account ``1``, trading)."""

DEMO_API_SECRET = "tradewire-demo-secret"
"""Its secret: public on purpose, the venue is a local test double."""

READ_ONLY_API_KEY = "tradewire-readonly"
"""A read-only key of account ``1``: public streams only (private ones get 403)."""

READ_ONLY_API_SECRET = "tradewire-readonly-secret"

TOO_SLOW_CLOSE_CODE = 1008
TOO_SLOW_REASON = "connection too slow"


def _keys() -> tuple[ApiKey, ...]:
    return (
        ApiKey(key=DEMO_API_KEY, secret=DEMO_API_SECRET, account="1"),
        ApiKey(key=READ_ONLY_API_KEY, secret=READ_ONLY_API_SECRET, account="1", read_only=True),
    )


def _balances() -> dict[str, float]:
    return {"USD": 1_000_000.0, "USDT": 1_000_000.0}


def rails_market(**changes: object) -> MarketConfig:
    """The market config the Rails venue starts from: no tickers (Rails has none),
    balances in the quote currencies, ``changes`` on top."""
    base = MarketConfig(ticker_events=False, starting_balances=_balances())
    return msgspec.structs.replace(base, **changes)


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The setup of a :class:`RailsVenue`.

    ``market``: the simulated market (``start_ms`` is the epoch time of the venue's
    birth, so the JWT times match it); ``server``: the protocol settings (its
    ``markets`` and ``epoch_offset`` are filled in by the venue); ``keys``: the API keys
    (default: the demo key and the read-only demo key); ``leverage``: every account's
    leverage (an order naming another is refused, spec 4); ``max_pending_bytes`` /
    ``too_slow_close_code``: a connection whose unsent output passes the limit is
    closed; ``faults``: the fault plan applied to WebSocket connections.
    """

    market: MarketConfig = msgspec.field(default_factory=rails_market)
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    keys: tuple[ApiKey, ...] = msgspec.field(default_factory=_keys)
    leverage: str = "1"
    max_pending_bytes: int = 4 << 20
    too_slow_close_code: int = TOO_SLOW_CLOSE_CODE
    faults: FaultPlan = msgspec.field(default_factory=FaultPlan)

    def __post_init__(self) -> None:
        names = [k.key for k in self.keys]
        if len(set(names)) != len(names):
            raise LocalProtocolError(f"invalid keys: duplicate key in {names!r}")
        pending = self.max_pending_bytes
        if isinstance(pending, bool) or not isinstance(pending, int) or pending < 1:
            raise LocalProtocolError(
                f"invalid max_pending_bytes: expected an int >= 1, got {pending!r}"
            )
