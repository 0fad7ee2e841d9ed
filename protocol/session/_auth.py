"""Authentication policies for the generic client machine (see ``AuthPolicy``).

Venues authenticate a connection in one of three ways, and each is a small object here
(or in the venue package when the venue's login has more to it, as Deribit's does):

* :class:`NoAuth`: no credentials; requests and topics that need auth are refused;
* :class:`LoginAuth`: a login request on every connection, whose answer the venue's
  ``granted`` turns into an event; optionally a refresh at ``refresh_fraction`` of the
  lifetime the venue granted (Deriv's ``authorize``; Deribit has its own, with signing);
* :class:`SignedRequests`: nothing to send: the codec signs each private request when
  it is released (Currency.com), so a connection is authenticated as soon as it is up.

A token carried in the upgrade request and renewed by reconnecting (Rails) is a policy
whose ``renew_at`` the machine watches: when it passes, the machine closes the
connection and the next handshake carries the new token.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from .._events import Command, Event

__all__ = ["AuthState", "LoginAuth", "NoAuth", "SignedRequests"]

MIN_REFRESH_DELAY = 1.0
"""Seconds: a refresh is never scheduled sooner, whatever the granted lifetime says."""


class AuthState(enum.Enum):
    """Authentication of the current connection."""

    NONE = "none"  # no credentials configured, or not connected
    PENDING = "pending"  # connected, the login is queued or in flight
    AUTHENTICATED = "authenticated"
    FAILED = "failed"  # the venue refused the login on this connection


class _StateMixin:
    state: AuthState
    refresh_at: float | None
    renew_at: float | None

    @property
    def authenticated(self) -> bool:
        return self.state is AuthState.AUTHENTICATED


class NoAuth(_StateMixin):
    """No credentials: nothing is ever authenticated."""

    enabled = False

    def __init__(self) -> None:
        self.state = AuthState.NONE
        self.refresh_at: float | None = None
        self.renew_at: float | None = None

    def connection_made(self) -> None:
        pass

    def connection_lost(self) -> None:
        pass

    def login(self, now: float) -> Command | None:
        return None

    def refresh(self, now: float) -> Command | None:
        return None

    def granted(self, result: Any, now: float, *, refreshed: bool) -> Event:  # pragma: no cover
        raise AssertionError("NoAuth sends no login")

    def failed(self) -> None:
        pass

    def __repr__(self) -> str:
        return "NoAuth()"


class SignedRequests(NoAuth):
    """Credentials that sign each request in the codec: authenticated once connected."""

    enabled = True

    def connection_made(self) -> None:
        self.state = AuthState.AUTHENTICATED

    def connection_lost(self) -> None:
        self.state = AuthState.NONE

    def __repr__(self) -> str:
        return f"SignedRequests(state={self.state.value})"


class LoginAuth(_StateMixin):
    """A login request on every connection (see the module docstring).

    * ``login(now)``: the login command (built fresh: it may be signed with ``now``);
    * ``granted(result, now, refreshed)``: the event to report for a successful answer;
    * ``lifetime(result)``: seconds the grant lasts, or ``None``: no refresh;
    * ``refresh(result)``: the renewal command for a grant, or ``None``: log in again.
    """

    enabled = True

    def __init__(
        self,
        login: Callable[[float], Command],
        granted: Callable[[Any, float, bool], Event],
        *,
        lifetime: Callable[[Any], float | None] | None = None,
        refresh: Callable[[Any], Command | None] | None = None,
        refresh_fraction: float = 0.8,
    ) -> None:
        self._login = login
        self._granted = granted
        self._lifetime = lifetime
        self._refresh = refresh
        self.refresh_fraction = refresh_fraction
        self.state = AuthState.NONE
        self.refresh_at: float | None = None
        self.renew_at: float | None = None
        self._grant: Any = None

    def __repr__(self) -> str:
        return f"LoginAuth(state={self.state.value})"

    def connection_made(self) -> None:
        self.state = AuthState.PENDING

    def connection_lost(self) -> None:
        self.state = AuthState.NONE
        self.refresh_at = None
        self._grant = None

    def login(self, now: float) -> Command | None:
        return self._login(now)

    def refresh(self, now: float) -> Command | None:
        if self._refresh is None or self._grant is None:
            return None
        return self._refresh(self._grant)

    def granted(self, result: Any, now: float, *, refreshed: bool) -> Event:
        self.state = AuthState.AUTHENTICATED
        self._grant = result
        lifetime = self._lifetime(result) if self._lifetime is not None else None
        if lifetime is not None:
            self.refresh_at = now + max(MIN_REFRESH_DELAY, self.refresh_fraction * lifetime)
        return self._granted(result, now, refreshed)

    def failed(self) -> None:
        self.state = AuthState.FAILED
        self.refresh_at = None
        self._grant = None
