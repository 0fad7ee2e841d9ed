"""The access token of a Rails client: carried in the upgrade, renewed by reconnecting.

Rails authenticates a WebSocket by its upgrade request: ``Sec-WebSocket-Protocol:
authorization#<JWT>`` (spec 1), with the JWT from ``POST /api/v1/token`` (spec 1.1,
``expires_in`` 1800 s).  Nothing is sent on the connection to log in, so a connection is
authenticated as soon as it is up, and a new token takes a new connection.

The machine does no I/O, so it never fetches a token itself.  Instead:

* it reports :class:`TokenWanted` when a new token is due: at ``renew_fraction`` of the
  token's ``expires_in`` (default 0.8: 24 minutes into a 30-minute token), again when it
  expires, and when the venue refuses it (a 401 at the upgrade, or a 401 answer);
  ``ClientProtocol.token_wanted`` / ``token_due`` say the same for code that polls;
* the caller fetches one (``TokenClient`` builds the HTTP request for an
  ``HTTPClientStack``; the bindings' ``tradewire.bindings.rails`` helpers do the whole
  round trip and keep the token fresh by themselves) and sends :class:`UseToken`;
* with a new token, an open connection is closed ("renewing credentials") and the next
  one carries the token; the subscriptions are restored from the ledger, in the new
  upgrade's query string.  The close waits while requests of the caller are on the
  wire, at most ``RENEW_GRACE`` seconds, so an order's answer is not cut off.

A 401 at the upgrade (:class:`UpgradeRefused` with :class:`TokenRejected`) is retried,
with the stack's backoff, for ``token_wait`` seconds while a new token is awaited; a
403 (:class:`ReadOnlyKey`: a read-only key asked for ``orders`` or ``trades``) is not,
since the same request would be refused again.  The token is a
:class:`~tradewire.protocol.Secret` everywhere but in the upgrade request itself; no
event, repr or log line holds it.
"""

from __future__ import annotations

from typing import Any

from .._bounded import BoundedQueue
from .._events import Command, Event
from .._secrets import Secret
from ..session import AuthState
from ._errors import RailsError, upgrade_error

__all__ = ["RENEW_GRACE", "RailsTokenAuth", "TokenWanted", "UpgradeRefused"]

RENEW_GRACE = 5.0
"""Seconds a renewal waits at most for the caller's requests on the wire to be answered."""


class TokenWanted(Event, frozen=True, kw_only=True):
    """A new access token is wanted: send :class:`UseToken` with one.

    ``reason``: ``"renew"`` (``renew_fraction`` of its lifetime passed), ``"expired"``,
    ``"refused"`` (the venue refused it) or ``"missing"`` (no token was given);
    ``expires_at`` is when the current token expires, on the machine's clock, if known.
    """

    reason: str
    expires_at: float | None = None


class UpgradeRefused(Event, frozen=True, kw_only=True):
    """The venue refused the WebSocket upgrade: ``error`` is :class:`TokenRejected`
    (401), :class:`ReadOnlyKey` (403) or the error of another status; ``retrying``: the
    stack will try again (a 401 while a new token is awaited)."""

    status: int
    error: RailsError
    retrying: bool


class RailsTokenAuth:
    """The session layer's auth policy for a handshake token (see the module docstring)."""

    def __init__(
        self,
        token: Secret | None,
        *,
        expires_in: float | None,
        renew_fraction: float,
        token_wait: float,
    ) -> None:
        self.token = token
        self.enabled = token is not None  # a token is (or was) given: private streams allowed
        self.renew_fraction = renew_fraction
        self.token_wait = token_wait
        self.state = AuthState.NONE
        self.refresh_at: float | None = None
        self.renew_at: float | None = None  # the session layer closes the connection then
        self.renew_deadline: float | None = None
        self.expires_at: float | None = None
        self.wanted = token is None  # a TokenWanted was reported and no token came since
        self.refused_since: float | None = None
        self._schedule: list[tuple[float, str]] = []
        self._pending_lifetime = expires_in  # counted from the first driving call
        self._anchored = token is None or expires_in is None
        self.events: BoundedQueue[Event] | None = None

    def __repr__(self) -> str:
        return f"RailsTokenAuth(state={self.state.value}, token={'set' if self.token else None})"

    @property
    def authenticated(self) -> bool:
        return self.state is AuthState.AUTHENTICATED

    # -- what the session layer calls ---------------------------------------------------

    def connection_made(self) -> None:
        self.state = AuthState.AUTHENTICATED if self.token is not None else AuthState.NONE
        self.renew_at = None
        self.renew_deadline = None
        self.refused_since = None

    def connection_lost(self) -> None:
        self.state = AuthState.NONE
        self.renew_at = None
        self.renew_deadline = None

    def login(self, now: float) -> Command | None:
        return None  # the token is in the upgrade request

    def refresh(self, now: float) -> Command | None:
        """A 401 answer on an open connection: the venue dropped the token."""
        self.want("refused", now)
        return None

    def granted(self, result: Any, now: float, *, refreshed: bool) -> Event:  # pragma: no cover
        raise AssertionError("Rails sends no login request")

    def failed(self) -> None:
        self.state = AuthState.FAILED

    # -- the token's life -----------------------------------------------------------------

    def anchor(self, now: float) -> None:
        """The first driving call: a token given at construction starts its life now."""
        if not self._anchored:
            self._anchored = True
            self._lifetime(self._pending_lifetime, now)
        elif self.token is None and self.wanted and not self._schedule:
            self._schedule = [(now, "missing")]

    def use(self, token: Secret, expires_in: float | None, now: float, *, connected: bool) -> None:
        """A new token: the next handshake carries it; an open connection is renewed."""
        self.anchor(now)
        self.token = token
        self.enabled = True
        self.wanted = False
        self.refused_since = None
        self._anchored = True
        self._lifetime(expires_in, now)
        if connected:
            self.renew_at = now
            self.renew_deadline = now + RENEW_GRACE

    def _lifetime(self, expires_in: float | None, now: float) -> None:
        if expires_in is None:
            self.expires_at = None
            self._schedule = []
            return
        self.expires_at = now + expires_in
        self._schedule = [
            (now + self.renew_fraction * expires_in, "renew"),
            (now + expires_in, "expired"),
        ]

    def next_deadline(self) -> float | None:
        return self._schedule[0][0] if self._schedule else None

    def due(self, now: float) -> None:
        """Report the :class:`TokenWanted` events due by ``now``."""
        while self._schedule and self._schedule[0][0] <= now:
            _, reason = self._schedule.pop(0)
            self.want(reason, now)

    def want(self, reason: str, now: float) -> None:
        self.wanted = True
        if self.events is not None:
            self.events.append(TokenWanted(reason=reason, expires_at=self.expires_at))

    def upgrade_refused(self, status: int, body: bytes, now: float) -> bool:
        """The upgrade was refused with ``status``: report it; whether to retry."""
        retrying = False
        if status == 401:
            if self.refused_since is None:
                self.refused_since = now
                self.want("refused", now)
            retrying = now - self.refused_since < self.token_wait
        if self.events is not None:
            error = upgrade_error(status, body)
            self.events.append(UpgradeRefused(status=status, error=error, retrying=retrying))
        return retrying
