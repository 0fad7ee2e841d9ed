"""Wire models for session-level results: auth tokens, versions, status, RPC errors.

Shared conventions of every Deribit wire model (this module, ``_models_market`` and
``_models_account``):

* frozen, keyword-only msgspec Structs built by the decoder with no validation beyond
  types, and unknown fields ignored (docs/architecture.md: unknown fields are ignored);
* fields Deribit always sends are required; optional ones default to ``None`` and are
  left out when encoded (``omit_defaults``), as Deribit leaves out absent fields, so the
  server side can encode the same structs faithfully (``prev_change_id`` absent on a
  book snapshot, spec 3.3);
* numbers are ``float`` where Deribit may print ``30``, ``1054.0`` or ``2.11e-5``
  (spec 3.4), ``int`` for ids, sequence numbers and millisecond timestamps;
* ``gc=False``: the structs hold only scalars, lists and other such structs, never
  cycles, so the garbage collector need not track them (about 18% faster decoding of a
  50-trade array kept alive with the collector on, measured with msgspec 0.22).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._secrets import Secret

__all__ = [
    "AuthResult",
    "CancelOnDisconnectState",
    "PlatformStatus",
    "RpcError",
    "VersionResult",
    "WireModel",
    "dec_hook",
]


def dec_hook(type_: type, obj: Any) -> Any:
    """A msgspec ``dec_hook`` that decodes :class:`Secret` fields from JSON strings."""
    if type_ is Secret:
        return Secret(obj)  # a non-str raises TypeError, which msgspec reports as invalid
    raise NotImplementedError(f"cannot decode {type_!r}")


class WireModel(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    repr_omit_defaults=True,
    gc=False,
):
    """Base of the Deribit wire models (see the module docstring)."""


class RpcError(WireModel, frozen=True, kw_only=True):
    """The ``error`` member of a JSON-RPC error response (spec 1.2)."""

    code: int
    message: str = ""
    data: Any = None


class AuthResult(WireModel, frozen=True, kw_only=True):
    """Result of ``public/auth``, ``public/exchange_token`` and ``public/fork_token`` (2.1).

    The tokens are :class:`~tradewire.protocol.Secret`, so printing or logging a result
    shows no credential; ``access_token.reveal()`` gives the value.  ``scope`` is the
    *granted* scope, possibly narrower than the one requested (spec 2.4).
    """

    access_token: Secret
    refresh_token: Secret
    expires_in: int
    scope: str
    token_type: str = "bearer"
    enabled_features: list[str] | None = None
    sid: str | None = None
    state: str | None = None
    google_login: bool | None = None
    mandatory_tfa_status: str | None = None


class VersionResult(WireModel, frozen=True, kw_only=True):
    """Result of ``public/test`` and ``public/hello`` (spec 1.5)."""

    version: str


class PlatformStatus(WireModel, frozen=True, kw_only=True):
    """Result of ``public/status`` (spec 1.5).

    The documented shape is inconsistent (``locked`` as ``"true"|"partial"|"false"`` with
    ``locked_indices``, but the example has a boolean and ``locked_currencies``), so both
    forms decode.
    """

    locked: bool | str
    locked_indices: list[str] | None = None
    locked_currencies: list[str] | None = None


class CancelOnDisconnectState(WireModel, frozen=True, kw_only=True):
    """Result of ``private/get_cancel_on_disconnect`` (spec 5.5)."""

    scope: str
    enabled: bool
