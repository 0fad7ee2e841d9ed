"""How the reference Deribit venue is set up: :class:`VenueConfig` and the demo key.

One frozen struct holds everything that varies between runs: the simulated market's
config (its seed makes a run replayable byte for byte), the protocol settings of
``deribit.ServerConfig``, the API keys, the aggregation periods, the too-slow limit and
the fault plan.
"""

from __future__ import annotations

import math

import msgspec

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit.server import (
    ServerConfig,
)

from .._faults import FaultPlan
from ..market import MarketConfig
from ._methods_history import HISTORY_METHODS

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "EXTRA_METHODS",
    "TOO_SLOW_CLOSE_CODE",
    "TOO_SLOW_REASON",
    "ApiClient",
    "VenueConfig",
]

DEMO_CLIENT_ID = "tradewire-demo"
"""The API key registered by default (account 1)."""

DEMO_CLIENT_SECRET = "tradewire-demo-secret"
"""Its secret: public on purpose, the venue is a local test double."""

TOO_SLOW_CLOSE_CODE = 1008
"""Close code when a client reads too slowly (1008 "policy violation"; Deribit's own code
for ``connection_too_slow`` is not documented, spec 7.1)."""

TOO_SLOW_REASON = "connection_too_slow"

EXTRA_METHODS = (
    frozenset(
        {
            "public/get_index_price_names",
            "private/get_user_trades_by_instrument",
            "private/get_user_trades_by_currency",
            "private/get_order_history_by_instrument",
            "private/get_order_history_by_currency",
            "private/get_account_summaries",
        }
    )
    | HISTORY_METHODS
)
"""Methods without a typed command that the venue answers (they arrive as
``GenericRequest``; ccxt's ``fetch_balance``, ``fetch_my_trades``, ``fetch_closed_orders``,
``fetch_tickers``, ``fetch_ohlcv``, ``fetch_funding_rate``, ``fetch_volatility_history``,
``fetch_deposit_address`` and the other clients of spec 8.2 use them)."""


class ApiClient(msgspec.Struct, frozen=True, kw_only=True):
    """An API key to register: ``account_id`` ``None`` takes the next free number."""

    client_id: str
    client_secret: str
    account_id: int | None = None

    def __repr__(self) -> str:
        return f"ApiClient(client_id={self.client_id!r}, account_id={self.account_id!r})"


def _demo() -> tuple[ApiClient, ...]:
    return (ApiClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, account_id=1),)


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The setup of a :class:`DeribitVenue`.

    ``market``: the simulated market; ``market.start_ms`` is the epoch time of the
    venue's birth, so ``server.epoch_offset`` is replaced to match it (for real clients,
    which sign with wall-clock time, start the market at the current epoch time).
    ``server``: the protocol settings (credits, heartbeat close, token lifetime ...).
    ``clients``: the API keys (default: the demo key).
    ``agg2_interval``: the ``agg2`` aggregation period in seconds (the spec leaves it
    open; the probe saw about one ``agg2`` book frame per second, so 1.0).
    ``max_pending_bytes``: a connection whose unsent output passes this is closed with
    ``too_slow_close_code`` and reason ``connection_too_slow``.
    ``faults``: the fault plan applied to WebSocket connections.
    """

    market: MarketConfig = msgspec.field(default_factory=MarketConfig)
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    clients: tuple[ApiClient, ...] = msgspec.field(default_factory=_demo)
    agg2_interval: float = 1.0
    max_pending_bytes: int = 4 << 20
    too_slow_close_code: int = TOO_SLOW_CLOSE_CODE
    faults: FaultPlan = msgspec.field(default_factory=FaultPlan)

    def __post_init__(self) -> None:
        interval = self.agg2_interval
        if (
            isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or not math.isfinite(interval)
            or not interval >= 0.1
        ):
            raise LocalProtocolError(
                f"invalid agg2_interval: expected seconds >= 0.1, got {interval!r}"
            )
        pending = self.max_pending_bytes
        if isinstance(pending, bool) or not isinstance(pending, int) or pending < 1:
            raise LocalProtocolError(
                f"invalid max_pending_bytes: expected an int >= 1, got {pending!r}"
            )
        code = self.too_slow_close_code
        if not (isinstance(code, int) and 1000 <= code <= 4999) or code in (1004, 1005, 1006):
            raise LocalProtocolError(
                f"invalid too_slow_close_code: expected a close code 1000-4999, got {code!r}"
            )
        ids = [c.client_id for c in self.clients]
        if len(set(ids)) != len(ids):
            raise LocalProtocolError(f"invalid clients: duplicate client_id in {ids!r}")
