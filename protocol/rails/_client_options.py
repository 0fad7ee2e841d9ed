"""The options of ``rails.ClientProtocol``, checked once, kept as one frozen struct.

``ClientProtocol(**options)`` builds a :class:`ClientOptions` (``client.options``); a bad
value raises :class:`~tradewire.protocol.LocalProtocolError` naming the option and the
accepted values.  :class:`ClientOptions` *is* the session layer's
:class:`~tradewire.protocol.session.SessionOptions` (ids, request timeout, books, bounds)
with Rails' options added.  Defaults, and why (what the docs leave open is ours):

* ``market`` (required, spec 1): a market name such as ``"BTC-USDT"``, or ``"ALL"`` for
  one connection to every market; then every market-scoped request names its market.
  The docs recommend one connection per market.
* ``ids`` (required): ``clientRequestId`` values must be UUIDs (spec 2), and the machine
  reads no global randomness, so pass ``UuidIds(random.SystemRandom())`` (or a seeded
  ``random.Random`` for a replayable session).
* ``token=None``, ``token_expires_in=None``: the access token (spec 1.1) and its
  ``expires_in``, counted from the machine's first driving call; without one, send
  :class:`UseToken` before connecting.  ``renew_fraction=0.8``: a new token is wanted
  at 80% of its lifetime (ours, as for Deribit's refresh); ``token_wait=60``: how long
  a 401 at the upgrade is retried while a new token is awaited (ours).
* ``subscriptions=()``: streams wanted from the start, in the first upgrade's query
  string (same as sending :class:`Subscribe` before connecting).  With none, the
  query carries no ``subscriptions``, the venue applies its default (``orders``), and
  the machine unsubscribes it at once (so a read-only key needs a public stream here:
  the venue refuses it ``orders``).
* ``ping_interval=30``, ``pong_timeout=10`` (ours; the docs give neither): a ``ping``
  every 30 s, a ``pong`` within 10 s or the connection is a zombie.  ``None``: no pings.
* ``order_rate=90``: createOrder, cancelOrder and modifyOrder per second (spec 4: 6000
  a minute, less 10%); ``None`` turns pacing off.
* ``cancel_confirmed=True``: a ``cancelOrder`` resolves with its 200 confirmation, as
  the notes read the docs (spec 4.3); ``False`` resolves it with its 202.
* ``legacy_requests=False``: ``True`` writes the older revision's snapshot request
  names (``emitOrderBook``, ``emitCompletedOrders``; spec 6, 7).  Both revisions'
  message names are always read.
* ``path="/"``: the upgrade's path (the venue serves its WebSocket at the root).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from .._errors import LocalProtocolError
from .._secrets import Secret
from ..session import SessionOptions, bad_option, seconds
from ._commands import check_market, check_streams

__all__ = ["ClientOptions"]


def _positive_number(name: str, value: object, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        accepted = "a number > 0 or None" if allow_none else "a number > 0"
        raise bad_option(name, accepted, value)
    return float(value)


class ClientOptions(SessionOptions, frozen=True, kw_only=True):
    """Every option of the client machine (see the module docstring)."""

    market: str
    token: Any = None
    token_expires_in: float | None = None
    renew_fraction: float = 0.8
    token_wait: float = 60.0
    subscriptions: tuple[str, ...] = ()
    ping_interval: float | None = 30.0
    pong_timeout: float = 10.0
    order_rate: float | None = 90.0
    cancel_confirmed: bool = True
    legacy_requests: bool = False
    path: str = "/"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ids is None:
            raise LocalProtocolError(
                "invalid ids: Rails clientRequestIds are UUIDs and the machine reads no "
                "global randomness; pass ids=UuidIds(random.SystemRandom()) (or a seeded "
                "random.Random for a replayable session)"
            )
        self._set("market", check_market(self.market))
        token = self.token
        if isinstance(token, str):
            token = Secret(token)
        if token is not None and not (isinstance(token, Secret) and token):
            raise bad_option("token", "a non-empty str or Secret, or None", type(token).__name__)
        self._set("token", token)
        expires = _positive_number("token_expires_in", self.token_expires_in, allow_none=True)
        if expires is not None and token is None:
            raise LocalProtocolError("invalid token_expires_in: it needs token=")
        self._set("token_expires_in", expires)
        fraction = self.renew_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise bad_option("renew_fraction", "0 < fraction < 1", fraction)
        if not 0 < fraction < 1:
            raise bad_option("renew_fraction", "0 < fraction < 1", fraction)
        self._set("token_wait", seconds("token_wait", self.token_wait))
        self._set("subscriptions", check_streams(self.subscriptions))
        self._set(
            "ping_interval", _positive_number("ping_interval", self.ping_interval, allow_none=True)
        )
        self._set("pong_timeout", seconds("pong_timeout", self.pong_timeout))
        self._set("order_rate", _positive_number("order_rate", self.order_rate, allow_none=True))
        for name in ("cancel_confirmed", "legacy_requests"):
            if not isinstance(getattr(self, name), bool):
                raise bad_option(name, "a bool", getattr(self, name))
        if not (isinstance(self.path, str) and self.path.startswith("/") and "?" not in self.path):
            raise bad_option("path", "a path starting with '/' and no query", self.path)

    def _set(self, name: str, value: Any) -> None:
        msgspec.structs.force_setattr(self, name, value)

    def __repr__(self) -> str:
        token = None if self.token is None else "<redacted>"
        return f"ClientOptions(market={self.market!r}, token={token}, ...)"
