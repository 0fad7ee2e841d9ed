"""Typed Deribit commands: the base class, session, auth and subscription methods.

A command is a frozen msgspec Struct whose fields *are* the JSON-RPC ``params``
(``omit_defaults``: an unset optional stays off the wire).  Each class declares, as
ClassVars, what the machines need to send it:

* ``method``: the JSON-RPC method (``public/auth``);
* ``requires_auth``: the connection must be authenticated (``private/*``);
* ``ws_only``: HTTP gets 10030 ``must_be_websocket_request`` (spec 1.3);
* ``rate_class``: the credit pool it draws on (spec 7.3, :class:`RateClass`);
* ``result_type``: what ``result`` decodes into;
* ``has_response``: ``private/logout`` is never answered (spec 2.5).

Commands validate in ``__post_init__``, raising :class:`InvalidArgument` (a
:class:`~tradewire.protocol.LocalProtocolError`) that names the argument and the accepted
values.  The server side decodes incoming ``params`` into the same classes, so the
checks are only those the venue makes itself (a ``-32602`` there), never a client-side
policy, and decoding needs no ClassVar.

Credentials are :class:`~tradewire.protocol.Secret` fields; a plain ``str`` passed at
construction is wrapped, so a command never shows a credential in ``repr``.  Every
command also takes the documented ``access_token`` param (spec 2.1), the alternative to
authenticating the connection.

:class:`GenericRequest` sends any other method with a ``dict`` of params.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any, ClassVar

import msgspec

from .._errors import LocalProtocolError
from .._events import Command
from .._secrets import Secret
from ._limits import MAX_SUBSCRIBE_LABEL_LENGTH, MIN_HEARTBEAT_INTERVAL, RateClass
from ._models_session import AuthResult, PlatformStatus, VersionResult
from ._signing import signature as _sign

__all__ = [
    "Auth",
    "AuthClientCredentials",
    "AuthClientSignature",
    "AuthRefreshToken",
    "DeribitCommand",
    "DisableHeartbeat",
    "ExchangeToken",
    "ForkToken",
    "GenericRequest",
    "GetTime",
    "Hello",
    "InvalidArgument",
    "Logout",
    "PrivateSubscribe",
    "PrivateUnsubscribe",
    "PrivateUnsubscribeAll",
    "PublicSubscribe",
    "PublicUnsubscribe",
    "PublicUnsubscribeAll",
    "SetHeartbeat",
    "Status",
    "Test",
]


class InvalidArgument(LocalProtocolError):
    """A command argument is invalid; ``argument`` names it (the wire param name)."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


# -- validation helpers (shared by the command modules) -------------------------------


def require(condition: bool, argument: str, accepted: str) -> None:
    if not condition:
        raise InvalidArgument(argument, f"invalid {argument}: expected {accepted}")


def require_choice(value: Any, argument: str, choices: Collection[Any]) -> None:
    """``value`` is ``None`` (unset) or one of ``choices``."""
    if value is not None and value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise InvalidArgument(
            argument, f"invalid {argument}: {value!r}; accepted values: {accepted}"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def require_number(value: Any, argument: str, *, positive: bool = False) -> None:
    """``value`` is ``None`` or a finite number (``> 0`` when ``positive``)."""
    if value is None:
        return
    ok = _is_number(value) and (value > 0 if positive else True)
    require(ok, argument, "a finite number > 0" if positive else "a finite number")


def require_int(value: Any, argument: str, *, minimum: int | None = None) -> None:
    if value is None:
        return
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and minimum is not None:
        ok = value >= minimum
    require(ok, argument, "an int" + (f" >= {minimum}" if minimum is not None else ""))


def require_bool(value: Any, argument: str) -> None:
    require(value is None or isinstance(value, bool), argument, "a bool")


def require_text(value: Any, argument: str, *, max_length: int | None = None) -> None:
    """``value`` is ``None`` or a non-empty str of at most ``max_length`` characters."""
    if value is None:
        return
    if max_length is None:
        require(isinstance(value, str) and value != "", argument, "a non-empty str")
    else:
        require(
            isinstance(value, str) and 0 < len(value) <= max_length,
            argument,
            f"a non-empty str of at most {max_length} characters",
        )


def require_currency(value: Any, argument: str = "currency", *, allow_any: bool = False) -> None:
    """An upper-case currency code; the venue's list grows, so any code is accepted."""
    if value is None:
        return
    ok = isinstance(value, str) and (
        (allow_any and value == "any")
        or (2 <= len(value) <= 16 and value.isascii() and value.isalnum() and value.isupper())
    )
    extra = " or 'any'" if allow_any else ""
    require(ok, argument, f"an upper-case currency code such as 'BTC', 'ETH', 'USDC'{extra}")


def _secret(command: msgspec.Struct, name: str) -> None:
    value = getattr(command, name)
    if isinstance(value, str):
        msgspec.structs.force_setattr(command, name, Secret(value))
    elif value is not None and not isinstance(value, Secret):
        raise InvalidArgument(name, f"invalid {name}: expected a Secret or str")


# -- base ---------------------------------------------------------------------------------


class DeribitCommand(
    Command, frozen=True, kw_only=True, omit_defaults=True, repr_omit_defaults=True
):
    """Base of every typed Deribit command (see the module docstring)."""

    method: ClassVar[str]
    requires_auth: ClassVar[bool] = False
    ws_only: ClassVar[bool] = False
    rate_class: ClassVar[RateClass] = RateClass.NON_MATCHING
    result_type: ClassVar[Any] = Any
    has_response: ClassVar[bool] = True

    access_token: Secret | None = None

    def __post_init__(self) -> None:
        _secret(self, "access_token")
        self.validate()

    def validate(self) -> None:
        """Check the arguments; subclasses extend it."""


class GenericRequest(Command, frozen=True, kw_only=True, repr_omit_defaults=True):
    """Any method, with a ``dict`` of params; the result stays plain JSON.

    For a method that has a typed class, :func:`~tradewire.protocol.deribit.method_info`
    takes auth, WebSocket-only and rate class from that class; otherwise ``private/*``
    means auth and the rate class is the default.
    """

    method: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        require(
            isinstance(self.method, str) and self.method.startswith(("public/", "private/")),
            "method",
            "a str starting with 'public/' or 'private/'",
        )
        require(isinstance(self.params, dict), "params", "a dict")


# -- session (spec 1.5) -------------------------------------------------------------------


class SetHeartbeat(DeribitCommand, frozen=True, kw_only=True):
    """``public/set_heartbeat``: ``heartbeat``/``test_request`` every ``interval`` s (>= 10)."""

    method = "public/set_heartbeat"
    ws_only = True
    result_type = str

    interval: int

    def validate(self) -> None:
        require_int(self.interval, "interval", minimum=MIN_HEARTBEAT_INTERVAL)


class DisableHeartbeat(DeribitCommand, frozen=True, kw_only=True):
    method = "public/disable_heartbeat"
    ws_only = True
    result_type = str


class Test(DeribitCommand, frozen=True, kw_only=True):
    """``public/test``: the answer to a ``test_request``; ``"exception"`` forces an error."""

    __test__: ClassVar[bool] = False  # not a pytest test class
    method = "public/test"
    result_type = VersionResult

    expected_result: str | None = None

    def validate(self) -> None:
        require(
            self.expected_result is None or isinstance(self.expected_result, str),
            "expected_result",
            "a str ('exception' makes the server answer with an error)",
        )


class Hello(DeribitCommand, frozen=True, kw_only=True):
    method = "public/hello"
    ws_only = True
    result_type = VersionResult

    client_name: str
    client_version: str

    def validate(self) -> None:
        require_text(self.client_name, "client_name")
        require_text(self.client_version, "client_version")


class GetTime(DeribitCommand, frozen=True, kw_only=True):
    """``public/get_time``: server time in milliseconds."""

    method = "public/get_time"
    result_type = int


class Status(DeribitCommand, frozen=True, kw_only=True):
    method = "public/status"
    result_type = PlatformStatus


# -- auth (spec 2) ------------------------------------------------------------------------

GRANT_TYPES = ("client_credentials", "client_signature", "refresh_token")


class Auth(DeribitCommand, frozen=True, kw_only=True):
    """``public/auth``; one subclass per ``grant_type`` (the wire tag).

    ``scope`` asks for a scope (spec 2.4, e.g. ``"session:name"``); the granted one is in
    the result.  ``state`` is echoed back.  Decoding ``params`` as :class:`Auth` picks the
    subclass from ``grant_type``.
    """

    method = "public/auth"
    result_type = AuthResult

    scope: str | None = None
    state: str | None = None

    def validate(self) -> None:
        require(type(self) is not Auth, "grant_type", ", ".join(map(repr, GRANT_TYPES)))
        require(self.scope is None or isinstance(self.scope, str), "scope", "a str")
        require(self.state is None or isinstance(self.state, str), "state", "a str")


class AuthClientCredentials(
    Auth, tag_field="grant_type", tag="client_credentials", frozen=True, kw_only=True
):
    client_id: str
    client_secret: Secret

    def validate(self) -> None:
        super().validate()
        require_text(self.client_id, "client_id")
        _secret(self, "client_secret")


class AuthClientSignature(
    Auth, tag_field="grant_type", tag="client_signature", frozen=True, kw_only=True
):
    """Signed auth (spec 2.2); build it with :meth:`signed` from the secret."""

    client_id: str
    timestamp: int
    signature: str
    nonce: str = ""
    data: str = ""

    def validate(self) -> None:
        super().validate()
        require_text(self.client_id, "client_id")
        require_int(self.timestamp, "timestamp", minimum=0)
        sig = self.signature
        require(
            isinstance(sig, str) and len(sig) == 64 and all(c in "0123456789abcdef" for c in sig),
            "signature",
            "64 lower-case hex digits (HMAC-SHA256)",
        )
        require(isinstance(self.nonce, str), "nonce", "a str")
        require(isinstance(self.data, str), "data", "a str")

    @classmethod
    def signed(
        cls,
        *,
        client_id: str,
        client_secret: Secret | str,
        timestamp: int,
        nonce: str,
        data: str = "",
        scope: str | None = None,
        state: str | None = None,
    ) -> AuthClientSignature:
        """Sign ``timestamp``, ``nonce`` and ``data`` with ``client_secret``."""
        return cls(
            client_id=client_id,
            timestamp=timestamp,
            signature=_sign(client_secret, timestamp, nonce, data),
            nonce=nonce,
            data=data,
            scope=scope,
            state=state,
        )


class AuthRefreshToken(
    Auth, tag_field="grant_type", tag="refresh_token", frozen=True, kw_only=True
):
    refresh_token: Secret

    def validate(self) -> None:
        super().validate()
        _secret(self, "refresh_token")


class ExchangeToken(DeribitCommand, frozen=True, kw_only=True):
    """``public/exchange_token``: a token for sub-account ``subject_id`` (spec 2.5)."""

    method = "public/exchange_token"
    result_type = AuthResult

    refresh_token: Secret
    subject_id: int
    scope: str | None = None

    def validate(self) -> None:
        _secret(self, "refresh_token")
        require_int(self.subject_id, "subject_id", minimum=0)


class ForkToken(DeribitCommand, frozen=True, kw_only=True):
    """``public/fork_token``: a new named session from a session-scoped token (spec 2.5)."""

    method = "public/fork_token"
    result_type = AuthResult

    refresh_token: Secret
    session_name: str

    def validate(self) -> None:
        _secret(self, "refresh_token")
        require_text(self.session_name, "session_name")


class Logout(DeribitCommand, frozen=True, kw_only=True):
    """``private/logout``: never answered; the server closes the socket (spec 2.5)."""

    method = "private/logout"
    requires_auth = True
    ws_only = True
    has_response = False
    result_type = None

    invalidate_token: bool | None = None

    def validate(self) -> None:
        require_bool(self.invalidate_token, "invalidate_token")


# -- subscriptions (spec 3.1) -------------------------------------------------------------


def _channels(command: msgspec.Struct, channels: Sequence[str]) -> None:
    ok = (
        isinstance(channels, Sequence)
        and not isinstance(channels, str)
        and len(channels) > 0
        and all(isinstance(c, str) and c for c in channels)
    )
    require(ok, "channels", "a non-empty list of non-empty channel names")
    if not isinstance(channels, tuple):
        msgspec.structs.force_setattr(command, "channels", tuple(channels))


class PublicSubscribe(DeribitCommand, frozen=True, kw_only=True):
    """``public/subscribe``; the result lists the channels kept (bad ones silently dropped)."""

    method = "public/subscribe"
    ws_only = True
    rate_class = RateClass.SUBSCRIBE
    result_type = list[str]

    channels: Sequence[str]

    def validate(self) -> None:
        _channels(self, self.channels)


class PrivateSubscribe(DeribitCommand, frozen=True, kw_only=True):
    """``private/subscribe``: needs auth, takes ``user.*`` and public channels (spec 3.1)."""

    method = "private/subscribe"
    requires_auth = True
    ws_only = True
    rate_class = RateClass.SUBSCRIBE
    result_type = list[str]

    channels: Sequence[str]
    label: str | None = None

    def validate(self) -> None:
        _channels(self, self.channels)
        require_text(self.label, "label", max_length=MAX_SUBSCRIBE_LABEL_LENGTH)


class PublicUnsubscribe(DeribitCommand, frozen=True, kw_only=True):
    """``public/unsubscribe``; the result lists the channels this call removed."""

    method = "public/unsubscribe"
    ws_only = True
    result_type = list[str]

    channels: Sequence[str]

    def validate(self) -> None:
        _channels(self, self.channels)


class PrivateUnsubscribe(DeribitCommand, frozen=True, kw_only=True):
    method = "private/unsubscribe"
    requires_auth = True
    ws_only = True
    result_type = list[str]

    channels: Sequence[str]

    def validate(self) -> None:
        _channels(self, self.channels)


class PublicUnsubscribeAll(DeribitCommand, frozen=True, kw_only=True):
    method = "public/unsubscribe_all"
    ws_only = True
    result_type = str


class PrivateUnsubscribeAll(DeribitCommand, frozen=True, kw_only=True):
    method = "private/unsubscribe_all"
    requires_auth = True
    ws_only = True
    result_type = str
