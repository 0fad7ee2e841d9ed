"""Authentication for the Deribit client: credentials, the auth command, refresh timing.

:class:`Credentials` holds an API key (``client_id``) and its secret as a
:class:`~tradewire.protocol.Secret`, and the grant to log in with (spec 2.1):

* ``client_signature`` (the default): the secret never leaves the process; the machine
  signs ``timestamp`` + ``nonce`` + ``data`` (spec 2.2);
* ``client_credentials``: the secret is sent as is (over TLS).

:class:`Authenticator` is the per-machine state the client drives: it builds the login
command at every ``connection_made`` (the timestamp from ``now + epoch_offset``, the nonce
from the injected source), keeps the tokens out of sight, and says when to refresh:
at ``refresh_fraction`` (default 0.8, as NautilusTrader does) of ``expires_in`` after the
grant.  A refresh uses ``grant_type=refresh_token``; if it fails, the client logs in
with the credentials again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import msgspec

from .._errors import LocalProtocolError
from .._secrets import Secret
from ..session import AuthState
from ._client_events import Authenticated
from ._commands import Auth, AuthClientCredentials, AuthClientSignature, AuthRefreshToken
from ._models_session import AuthResult

__all__ = ["AuthState", "Authenticator", "Credentials", "check_scope"]

GRANTS = ("client_signature", "client_credentials")
_SESSION = re.compile(r"session:[A-Za-z0-9_\-]{1,64}")
MIN_REFRESH_DELAY = 1.0
"""Seconds: a refresh is never scheduled sooner, whatever ``expires_in`` says."""


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """An API key: ``client_id``, ``client_secret`` (a plain ``str`` is wrapped).

    ``data`` is the optional signed ``data`` string of ``client_signature`` (spec 2.2).
    ``repr`` shows the id and grant only.
    """

    client_id: str
    client_secret: Secret
    grant_type: Literal["client_signature", "client_credentials"] = "client_signature"
    data: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.client_id, str) or not self.client_id:
            raise LocalProtocolError(
                f"invalid client_id: expected a non-empty str, got {self.client_id!r}"
            )
        secret = self.client_secret
        if isinstance(secret, str):
            msgspec.structs.force_setattr(self, "client_secret", Secret(secret))
        elif not isinstance(secret, Secret):
            raise LocalProtocolError("invalid client_secret: expected a Secret or str")
        if not self.client_secret:
            raise LocalProtocolError("invalid client_secret: expected a non-empty secret")
        if self.grant_type not in GRANTS:
            raise LocalProtocolError(
                f"invalid grant_type: {self.grant_type!r}; accepted values: "
                + ", ".join(map(repr, GRANTS))
            )
        if not isinstance(self.data, str):
            raise LocalProtocolError(f"invalid data: expected a str, got {self.data!r}")


def check_scope(scope: object) -> str | None:
    """``None`` or a space-separated scope (spec 2.4) with at most one of ``connection``
    and ``session:NAME``; raises :class:`LocalProtocolError` otherwise."""
    if scope is None:
        return None
    if not isinstance(scope, str) or not scope.strip():
        raise LocalProtocolError(
            f"invalid scope: expected None or a space-separated str such as "
            f"'session:name' or 'connection', got {scope!r}"
        )
    tokens = scope.split()
    sessions = [t for t in tokens if t.startswith("session:")]
    for token in sessions:
        if not _SESSION.fullmatch(token):
            raise LocalProtocolError(
                f"invalid scope: {token!r}; expected 'session:NAME' with NAME of 1 to 64 "
                "letters, digits, '_' or '-'"
            )
    if len(sessions) > 1 or (sessions and "connection" in tokens):
        raise LocalProtocolError(
            f"invalid scope: {scope!r}; accepted: at most one of 'connection' and 'session:NAME'"
        )
    return " ".join(tokens)


class Authenticator:
    """Login commands, the tokens and the refresh schedule of one client machine: the
    client's :class:`~tradewire.protocol.session.AuthPolicy`."""

    __slots__ = (
        "_refresh_token",
        "credentials",
        "enabled",
        "epoch_offset",
        "expires_in",
        "granted_scope",
        "nonces",
        "refresh_at",
        "refresh_fraction",
        "renew_at",
        "scope",
        "state",
    )

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        scope: str | None,
        nonces: Callable[[], str] | None,
        epoch_offset: float,
        refresh_fraction: float,
    ) -> None:
        self.credentials = credentials
        self.enabled = credentials is not None
        self.renew_at: float | None = None  # tokens are refreshed in place, never by reconnecting
        self.scope = scope
        self.nonces = nonces
        self.epoch_offset = epoch_offset
        self.refresh_fraction = refresh_fraction
        self.state = AuthState.NONE
        self.granted_scope: str | None = None
        self.expires_in: int | None = None
        self.refresh_at: float | None = None
        self._refresh_token: Secret | None = None

    def __repr__(self) -> str:
        return f"Authenticator(state={self.state.value}, scope={self.granted_scope!r})"

    @property
    def authenticated(self) -> bool:
        return self.state is AuthState.AUTHENTICATED

    def connection_made(self) -> None:
        self.state = AuthState.NONE if self.credentials is None else AuthState.PENDING

    def connection_lost(self) -> None:
        """Tokens of a ``connection`` scope die with it; a new login follows anyway."""
        self.state = AuthState.NONE
        self.refresh_at = None
        self._refresh_token = None

    def login(self, now: float) -> Auth:
        """The ``public/auth`` command for the configured credentials, signed at ``now``."""
        creds = self.credentials
        if creds is None:  # pragma: no cover - the machine checks first
            raise LocalProtocolError("no credentials configured")
        if creds.grant_type == "client_credentials":
            return AuthClientCredentials(
                client_id=creds.client_id, client_secret=creds.client_secret, scope=self.scope
            )
        timestamp = round((now + self.epoch_offset) * 1000)
        nonce = self.nonces() if self.nonces is not None else str(timestamp)
        return AuthClientSignature.signed(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            timestamp=timestamp,
            nonce=nonce,
            data=creds.data,
            scope=self.scope,
        )

    def refresh(self, now: float) -> AuthRefreshToken | None:
        """The ``refresh_token`` grant, or ``None`` when there is no refresh token."""
        if self._refresh_token is None:
            return None
        return AuthRefreshToken(refresh_token=self._refresh_token)

    def granted(self, result: AuthResult, now: float, *, refreshed: bool) -> Authenticated:
        """A login or refresh succeeded: keep the tokens, schedule the next refresh."""
        self.state = AuthState.AUTHENTICATED
        self.granted_scope = result.scope
        self.expires_in = result.expires_in
        self._refresh_token = result.refresh_token
        delay = max(MIN_REFRESH_DELAY, self.refresh_fraction * result.expires_in)
        self.refresh_at = now + delay
        return Authenticated(scope=result.scope, expires_in=result.expires_in, refreshed=refreshed)

    def failed(self) -> None:
        self.state = AuthState.FAILED
        self.refresh_at = None
        self._refresh_token = None
