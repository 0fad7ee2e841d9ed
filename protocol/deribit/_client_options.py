"""The options of ``deribit.ClientProtocol``, checked once, kept as one frozen struct.

``ClientProtocol(**options)`` builds a :class:`ClientOptions` (``client.options``); a bad
value raises :class:`~tradewire.protocol.LocalProtocolError` naming the option and the
accepted values.  :class:`ClientOptions` *is* the session layer's
:class:`~tradewire.protocol.session.SessionOptions` (ids, request timeout, books, bounds)
with Deribit's options added, so the machine takes it as it is.  Defaults, and why:

* ``credentials=None``, ``scope=None``: no login; public traffic only (private requests
  and ``user.*`` channels are refused with :class:`LocalProtocolError`).  ``scope`` is
  sent with every login, e.g. ``"session:NAME"`` (spec 2.4).
* ``ids=None``: request ids from a fresh :class:`~tradewire.protocol.CounterIds`.
* ``nonces=None``: the ``client_signature`` nonce is the timestamp in ms as a string, as
  ccxt does; pass e.g. ``HexNonces(random.SystemRandom())`` for random ones.
* ``epoch_offset=0.0``: signatures carry ``round((now + epoch_offset) * 1000)``; pass
  ``time.time() - clock()`` when ``now`` comes from another clock (a monotonic one).
* ``rate_limits=DEFAULT_RATE_LIMITS``: the published pools less 10% (``_client_limits``);
  ``None`` turns pacing off.
* ``maintain_books=False``: continuity is checked either way; ``True`` also keeps an
  ``OrderBook`` per book channel.
* ``request_timeout=10.0``: the deadline of a request that gets no ``timeout=`` of its
  own; a request waiting for a connection or for authentication waits at most this long.
* ``heartbeat_interval=10``: ``public/set_heartbeat`` on every connection (the venue's
  minimum, spec 1.5; the fastest detection of a dead peer, for a ``public/test`` answer
  of 500 credits every ~10 s).  ``None`` turns heartbeats and the silence check off.
* ``heartbeat_grace=None``: silence longer than interval + grace declares the connection
  dead.  The default is half the interval, at least 5 s: at interval 10 the probe saw
  the first ``test_request`` ~12 s after ``set_heartbeat`` and one every ~10.6 s after,
  so 15 s is 3 s past the longest gap a live connection showed.
* ``refresh_fraction=0.8``: refresh the token at 80% of ``expires_in`` (NautilusTrader's
  choice), leaving 20% of the lifetime for a failed refresh and a fresh login.
* ``max_channels_per_request=500``: the docs suggest up to ~500 channels per subscribe
  (spec 3.1); the 32 kB frame limit applies as well.
* bounds: ``max_pending`` (user requests open), ``max_outbound`` (messages not yet drained
  with ``messages_to_send``), ``max_events`` (events not yet drained with ``events``),
  ``max_subscriptions`` (channels in the ledger, and book channels tracked),
  ``max_book_levels`` (per side of a maintained book).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import msgspec

from .._errors import LocalProtocolError
from ..session import SessionOptions, bad_option, seconds
from ._client_auth import Credentials, check_scope
from ._client_limits import RateLimits
from ._limits import MIN_HEARTBEAT_INTERVAL

__all__ = ["DEFAULT_RATE_LIMITS", "ClientOptions"]

DEFAULT_RATE_LIMITS = RateLimits()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class ClientOptions(SessionOptions, frozen=True, kw_only=True):
    """Every option of the client machine (see the module docstring)."""

    credentials: Credentials | None = None
    scope: str | None = None
    nonces: Callable[[], str] | None = None
    epoch_offset: float = 0.0
    heartbeat_interval: int | None = 10
    heartbeat_grace: float | None = None
    refresh_fraction: float = 0.8
    rate_limits: RateLimits | None = DEFAULT_RATE_LIMITS
    max_channels_per_request: int = 500

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.credentials is not None and not isinstance(self.credentials, Credentials):
            raise bad_option("credentials", "None or Credentials", type(self.credentials).__name__)
        self._set("scope", check_scope(self.scope))
        if self.scope is not None and self.credentials is None:
            raise LocalProtocolError("invalid scope: a scope needs credentials")
        if self.nonces is not None and not callable(self.nonces):
            raise bad_option("nonces", "a callable returning str, or None", self.nonces)
        offset = self.epoch_offset
        if not (_is_number(offset) and math.isfinite(offset)):
            raise bad_option("epoch_offset", "seconds (a finite number)", offset)
        self._set("epoch_offset", float(offset))
        interval = self.heartbeat_interval
        if interval is not None and (
            isinstance(interval, bool)
            or not isinstance(interval, int)
            or interval < MIN_HEARTBEAT_INTERVAL
        ):
            raise bad_option(
                "heartbeat_interval",
                f"None or an int >= {MIN_HEARTBEAT_INTERVAL} (seconds)",
                interval,
            )
        grace = self.heartbeat_grace
        if grace is not None:
            grace = seconds("heartbeat_grace", grace)
        elif interval is not None:
            grace = max(5.0, interval / 2)
        self._set("heartbeat_grace", None if interval is None else grace)
        fraction = self.refresh_fraction
        if not (_is_number(fraction) and 0 < fraction < 1):
            raise bad_option("refresh_fraction", "0 < fraction < 1", fraction)
        if self.rate_limits is not None and not isinstance(self.rate_limits, RateLimits):
            raise bad_option("rate_limits", "None or RateLimits", self.rate_limits)
        value = self.max_channels_per_request
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad_option("max_channels_per_request", "a positive int", value)

    def _set(self, name: str, value: Any) -> None:
        msgspec.structs.force_setattr(self, name, value)
