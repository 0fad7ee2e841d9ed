"""Server-side authentication: grants, scopes, token methods and HTTP ``Authorization``.

Pure functions over a :class:`ServerState`; each returns what to answer (a token record
and its :class:`AuthGranted` result, or a :class:`Principal`) or the :class:`DeribitError`
to send.

Grants (spec 2.1, 2.2): ``client_credentials`` checks the secret (13004 when the key or
secret is wrong); ``client_signature`` verifies the HMAC, then that the timestamp is within
``auth_window`` (60 s) of server time, then that the nonce is unused; ``refresh_token``
issues a new pair for a usable refresh token and retires it (single use, our design; the
old access token lives until it expires).

Scope (spec 2.4): ``session:NAME`` makes a token usable on any connection; otherwise it is
``connection``-scoped and, over WebSocket, bound to the connection that asked (13009
anywhere else; it dies with the connection).  Over HTTP nothing is bound, since each
request is its own connection and a bound token could never be used (our design).
Permissions (``trade:read`` ...) are capped by the key's scope, areas not asked for get
the key's level, ``expires:N`` sets the lifetime, ``ip:ADDR`` binds to a peer address,
unknown tokens are ignored.  The granted string lists its tokens sorted, as in the live
example ccxt recorded (``account:read_write ... connection ... mainaccount ...``).

Our error choices where the spec is silent (all 13009 ``unauthorized`` unless noted):
``data.reason`` is ``invalid_token`` (unknown, expired, revoked, wrong connection),
``invalid_signature``, ``invalid_timestamp``, ``nonce_reused`` or
``invalid_authorization_header``; a wrong key or secret is 13004; ``exchange_token`` to an
account the key does not own and ``fork_token`` from a connection-scoped token are 13021
``forbidden``.  The 16-sessions-per-key limit is not enforced.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from .._errors import RemoteProtocolError
from .._secrets import Secret
from ..transport._http import HTTPRequestReceived
from ._commands import (
    Auth,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    ExchangeToken,
    ForkToken,
)
from ._errors import ERROR_MESSAGES, DeribitError, ErrorCode, error_for
from ._server_config import ApiKey, IssuedToken, Lineage
from ._server_state import ServerState
from ._signing import (
    HMAC_SCHEME,
    parse_http_authorization,
    verify_http_authorization,
    verify_signature,
)

__all__ = [
    "PERMISSION_AREAS",
    "AuthGranted",
    "Principal",
    "authenticate",
    "exchange_token",
    "fork_token",
    "http_principal",
    "key_principal",
    "token_principal",
    "unauthorized",
]

PERMISSION_AREAS = ("account", "trade", "wallet", "block_trade", "block_rfq", "custody")
_LEVELS = {"none": 0, "read": 1, "read_write": 2}
_LEVEL_NAMES = ("none", "read", "read_write")


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request acts for; ``token`` is ``None`` for HTTP Basic and signed requests."""

    client_id: str
    account_id: int
    scope: str
    token: IssuedToken | None = None


def error(code: int, data: Any = None) -> DeribitError:
    """The Deribit error for ``code`` with its listed message."""
    return error_for(code, ERROR_MESSAGES.get(code, "error"), data)


def unauthorized(reason: str = "invalid_token") -> DeribitError:
    """13009 ``unauthorized`` with ``{"reason": reason}`` (spec 2.1)."""
    return error(ErrorCode.UNAUTHORIZED, {"reason": reason})


def _invalid_credentials() -> DeribitError:
    return error(ErrorCode.INVALID_CREDENTIALS)


def token_principal(record: IssuedToken) -> Principal:
    return Principal(
        client_id=record.client_id, account_id=record.account_id, scope=record.scope, token=record
    )


# -- scopes -------------------------------------------------------------------------------


class _Requested(msgspec.Struct, frozen=True, kw_only=True):
    session: str | None = None
    permissions: dict[str, int] = msgspec.field(default_factory=dict)
    expires: int | None = None
    ip: str | None = None


def _parse_scope(text: str | None) -> _Requested:
    session: str | None = None
    permissions: dict[str, int] = {}
    expires: int | None = None
    ip: str | None = None
    for token in (text or "").split():
        name, sep, value = token.partition(":")
        if name == "session" and sep and value:
            session = value
        elif name in PERMISSION_AREAS and value in _LEVELS:
            permissions[name] = _LEVELS[value]
        elif name == "expires" and value.isascii() and value.isdigit() and 0 < len(value) < 10:
            expires = int(value) or None
        elif name == "ip" and value:
            ip = value
    return _Requested(session=session, permissions=permissions, expires=expires, ip=ip)


def _key_levels(key: ApiKey) -> dict[str, int]:
    return _parse_scope(key.scope).permissions


def _scope_text(
    key: ApiKey, account_id: int, permissions: dict[str, int], requested: _Requested
) -> str:
    tokens = [f"{area}:{_LEVEL_NAMES[level]}" for area, level in permissions.items() if level]
    tokens.append(f"session:{requested.session}" if requested.session else "connection")
    if key.main_account and account_id == key.account_id:
        tokens.append("mainaccount")
    if key.name:
        tokens.append(f"name:{key.name}")
    if requested.expires is not None:
        tokens.append(f"expires:{requested.expires}")
    if requested.ip is not None:
        tokens.append(f"ip:{requested.ip}")
    return " ".join(sorted(tokens))


def _grant_permissions(key: ApiKey, requested: _Requested) -> dict[str, int]:
    granted = dict(_key_levels(key))
    for area, level in requested.permissions.items():
        granted[area] = min(level, granted.get(area, 0))
    return granted


def key_principal(key: ApiKey) -> Principal:
    """The principal of a request signed or Basic-authenticated with ``key`` itself."""
    requested = _Requested()
    scope = _scope_text(key, key.account_id, _grant_permissions(key, requested), requested)
    return Principal(client_id=key.client_id, account_id=key.account_id, scope=scope)


# -- grants -------------------------------------------------------------------------------


class AuthGranted(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The result of a token method as the venue sends it (spec 2.1).

    Unlike the client's :class:`AuthResult`, ``token_type`` and ``enabled_features``
    are always written, as in the documented examples; ``state`` only when given.
    ``repr`` hides the tokens (they are :class:`Secret`).
    """

    access_token: Secret
    refresh_token: Secret
    expires_in: int
    scope: str
    token_type: str
    enabled_features: list[str]
    state: str | None = None


Granted = tuple[IssuedToken, AuthGranted]


def _result(record: IssuedToken, state: str | None) -> AuthGranted:
    return AuthGranted(
        access_token=Secret(record.access_token),
        refresh_token=Secret(record.refresh_token),
        expires_in=record.lifetime,
        scope=record.scope,
        token_type="bearer",
        enabled_features=[],
        state=state,
    )


def _issue(
    server: ServerState,
    key: ApiKey,
    *,
    account_id: int,
    requested: _Requested,
    permissions: dict[str, int] | None,
    connection_id: int | None,
    ip: str | None,
    bind: bool,
    now: float,
    lineage: Lineage | None = None,
) -> IssuedToken:
    granted = permissions if permissions is not None else _grant_permissions(key, requested)
    session = requested.session
    bound = connection_id if bind and session is None else None
    if lineage is None:
        if session is not None:
            lineage = ("session", key.client_id, session)
        elif bound is not None:
            lineage = ("connection", bound, "")
        else:
            lineage = server.new_lineage()
    return server.issue(
        key=key,
        account_id=account_id,
        scope=_scope_text(key, account_id, granted, requested),
        session=session,
        connection_id=bound,
        ip=requested.ip if requested.ip not in (None, "*") else None,
        expires_in=requested.expires or server.config.expires_in,
        lineage=lineage,
        now=now,
    )


def _check_signed(
    server: ServerState, key: ApiKey, timestamp: int, nonce: str, now: float
) -> DeribitError | None:
    """The freshness checks after a good signature: the 60 s window, then the nonce."""
    if abs(timestamp - server.epoch_ms(now)) > server.config.auth_window * 1000:
        return unauthorized("invalid_timestamp")
    if not server.use_nonce(key.client_id, nonce, timestamp, now):
        return unauthorized("nonce_reused")
    return None


def authenticate(
    server: ServerState,
    command: Auth,
    *,
    now: float,
    connection_id: int | None,
    ip: str | None,
    bind: bool,
) -> Granted | DeribitError:
    """``public/auth``: a new token pair, or the error to answer (see module docstring)."""
    if isinstance(command, AuthRefreshToken):
        return _refresh(server, command, now=now, connection_id=connection_id, ip=ip, bind=bind)
    if not isinstance(command, AuthClientCredentials | AuthClientSignature):
        return unauthorized()
    key = server.client(command.client_id)
    if key is None:
        return _invalid_credentials()
    if isinstance(command, AuthClientCredentials):
        if command.client_secret != key.client_secret:
            return _invalid_credentials()
    else:
        ok = verify_signature(
            key.client_secret, command.timestamp, command.nonce, command.data, command.signature
        )
        if not ok:
            return unauthorized("invalid_signature")
        problem = _check_signed(server, key, command.timestamp, command.nonce, now)
        if problem is not None:
            return problem
    record = _issue(
        server,
        key,
        account_id=key.account_id,
        requested=_parse_scope(command.scope),
        permissions=None,
        connection_id=connection_id,
        ip=ip,
        bind=bind,
        now=now,
    )
    return record, _result(record, command.state)


def _usable_refresh(
    server: ServerState, token: Secret, now: float, connection_id: int | None, ip: str | None
) -> tuple[IssuedToken, ApiKey] | DeribitError:
    record = server.find_refresh(token.reveal(), now, connection_id, ip)
    key = server.client(record.client_id) if record is not None else None
    if record is None or key is None:
        return unauthorized()
    return record, key


def _refresh(
    server: ServerState,
    command: AuthRefreshToken,
    *,
    now: float,
    connection_id: int | None,
    ip: str | None,
    bind: bool,
) -> Granted | DeribitError:
    found = _usable_refresh(server, command.refresh_token, now, connection_id, ip)
    if isinstance(found, DeribitError):
        return found
    old, key = found
    server.retire_refresh(old)
    requested = _parse_scope(old.scope)
    record = _issue(
        server,
        key,
        account_id=old.account_id,
        requested=_Requested(
            session=old.session, expires=requested.expires, ip=requested.ip, permissions={}
        ),
        permissions=requested.permissions,
        connection_id=connection_id,
        ip=ip,
        bind=bind,
        now=now,
        lineage=old.lineage,
    )
    return record, _result(record, command.state)


def exchange_token(
    server: ServerState,
    command: ExchangeToken,
    *,
    now: float,
    connection_id: int | None,
    ip: str | None,
    bind: bool,
) -> Granted | DeribitError:
    """``public/exchange_token``: a token acting for sub-account ``subject_id`` (spec 2.5)."""
    found = _usable_refresh(server, command.refresh_token, now, connection_id, ip)
    if isinstance(found, DeribitError):
        return found
    old, key = found
    subject = command.subject_id
    if subject != key.account_id and subject not in key.subaccount_ids:
        return error(ErrorCode.FORBIDDEN, {"reason": "not_a_subaccount", "param": "subject_id"})
    previous = _parse_scope(old.scope)
    asked = _parse_scope(command.scope) if command.scope else previous
    requested = _Requested(
        session=old.session, permissions=asked.permissions, expires=previous.expires, ip=previous.ip
    )
    record = _issue(
        server,
        key,
        account_id=subject,
        requested=requested,
        permissions=None,
        connection_id=connection_id,
        ip=ip,
        bind=bind,
        now=now,
        lineage=old.lineage,
    )
    return record, _result(record, None)


def fork_token(
    server: ServerState,
    command: ForkToken,
    *,
    now: float,
    connection_id: int | None,
    ip: str | None,
    bind: bool,
) -> Granted | DeribitError:
    """``public/fork_token``: a new named session from a session-scoped token (spec 2.5)."""
    found = _usable_refresh(server, command.refresh_token, now, connection_id, ip)
    if isinstance(found, DeribitError):
        return found
    old, key = found
    if old.session is None:
        return error(ErrorCode.FORBIDDEN, {"reason": "session_scope_required"})
    previous = _parse_scope(old.scope)
    requested = _Requested(
        session=command.session_name, expires=previous.expires, ip=previous.ip, permissions={}
    )
    record = _issue(
        server,
        key,
        account_id=old.account_id,
        requested=requested,
        permissions=previous.permissions,
        connection_id=connection_id,
        ip=ip,
        bind=bind,
        now=now,
    )
    return record, _result(record, None)


# -- HTTP Authorization -------------------------------------------------------------------


def http_principal(
    server: ServerState,
    request: HTTPRequestReceived,
    *,
    now: float,
    connection_id: int | None,
    ip: str | None,
) -> Principal | DeribitError | None:
    """Who an HTTP request's ``Authorization`` header says is asking (spec 2.1, 2.3).

    ``None`` when there is no header.  ``Bearer`` (any case) takes an access token,
    ``Basic`` the key's id and secret, ``deri-hmac-sha256`` a signature over the method,
    the raw request target (path and query as sent) and the raw body.
    """
    header = request.header("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer":
        record = server.find_access(credentials, now, connection_id, ip)
        return unauthorized() if record is None else token_principal(record)
    if scheme == "basic":
        return _basic(server, credentials)
    if scheme == HMAC_SCHEME:
        return _signed(server, request, header, now)
    return unauthorized("invalid_authorization_header")


def _basic(server: ServerState, credentials: str) -> Principal | DeribitError:
    try:
        decoded = base64.b64decode(credentials.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return unauthorized("invalid_authorization_header")
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return unauthorized("invalid_authorization_header")
    key = server.client(client_id)
    if key is None or Secret(secret) != key.client_secret:
        return _invalid_credentials()
    return key_principal(key)


def _signed(
    server: ServerState, request: HTTPRequestReceived, header: str, now: float
) -> Principal | DeribitError:
    try:
        fields = parse_http_authorization(header)
    except RemoteProtocolError:
        return unauthorized("invalid_authorization_header")
    key = server.client(fields.client_id)
    if key is None:
        return _invalid_credentials()
    ok = verify_http_authorization(
        fields, key.client_secret, request.method, request.target, request.body
    )
    if not ok:
        return unauthorized("invalid_signature")
    problem = _check_signed(server, key, fields.timestamp, fields.nonce, now)
    return problem if problem is not None else key_principal(key)
