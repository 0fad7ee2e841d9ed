"""What a Rails venue's connections share: keys, tokens, rate pools (spec 1.1, 4).

:class:`ServerState` composes the session layer's venue-state pieces:

* API keys (:class:`ApiKey`: key, secret, account, read-only or not);
* access tokens: JWTs signed HS256 with a key drawn from the injected ``rng``, with the
  sample token's claims (``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``accountType``)
  plus a ``jti``; a token is usable while its signature holds, it is known (at most
  ``max_tokens`` are kept, the oldest forgotten first) and it has not expired on the
  venue's clock (a fault may expire it early, :meth:`ServerState.expire_tokens`).  Times
  in claims are epoch seconds (``now + epoch_offset``);
* :class:`~tradewire.protocol.session.RatePools`: the token endpoint's 20 requests a
  minute per key (spec 1.1) and the order requests' 6000 a minute per account (spec 4),
  both refilled continuously (ours: the docs do not say whether the windows are fixed);
* :class:`~tradewire.protocol.session.ConnectionCounter` for connection ids.

Everything is pure: ``now`` comes in, randomness from ``rng``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable

import msgspec

from .._errors import LocalProtocolError
from .._sources import RandomSource
from ..session import ConnectionCounter, PoolRule, RatePools
from ._rest import Market

__all__ = [
    "TOKEN_LIFETIME",
    "ApiKey",
    "ServerConfig",
    "ServerState",
    "TokenRecord",
]

TOKEN_LIFETIME = 1800.0
"""Seconds a token lives (``expires_in``, spec 1.1: 30 minutes)."""


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """An API key the venue knows; ``read_only`` keys get 403 for private streams."""

    key: str
    secret: str
    account: str
    read_only: bool = False

    def __repr__(self) -> str:
        return f"ApiKey(key={self.key!r}, account={self.account!r}, read_only={self.read_only})"


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The protocol settings of a Rails venue (what the docs leave open is ours).

    * ``markets``: what ``market=`` may name (and ``GET /api/v1/markets`` lists);
    * ``token_lifetime`` (1800 s, spec 1.1), ``token_rate`` per minute per key (20),
      ``order_rate`` per minute per account (6000, spec 4);
    * ``epoch_offset``: epoch seconds minus the venue's clock (JWT times);
    * ``issuer`` / ``audience``: the JWT's ``iss`` / ``aud`` (ours: this is not Rails);
    * ``idle_timeout``: close a connection that sends nothing for this long (``None``,
      the default: the docs give no idle timeout, spec 3.1);
    * ``token_expired_close``: the close code and reason when a connection's token
      expires (ours: the docs do not say what happens);
    * ``delta_ts``: book deltas carry ``ts`` (the newest revision); ``snapshot_ts``:
      snapshots do too (no revision shows it, so off);
    * ``always_market``: market-scoped messages carry ``market`` even on a one-market
      connection (the newer pages mark it required, spec 2);
    * ``modify_flow``: ``"current"`` (3 messages) or ``"legacy"`` (4, spec 4.4);
    * ``snapshot_ids``: snapshot answers echo ``clientRequestId`` (the envelope section
      says answers do; the snapshot examples show none);
    * bounds: ``max_message_size`` of a request, ``max_tokens``, ``max_events``,
      ``max_outbound``, ``max_pending``.
    """

    markets: tuple[Market, ...] = ()
    token_lifetime: float = TOKEN_LIFETIME
    token_rate: int = 20
    order_rate: int = 6000
    epoch_offset: float = 0.0
    issuer: str = "tradewire.reference"
    audience: str = "tradewire-reference-app"
    idle_timeout: float | None = None
    token_expired_close: tuple[int, str] = (1008, "token expired")
    delta_ts: bool = True
    snapshot_ts: bool = False
    always_market: bool = True
    modify_flow: str = "current"
    snapshot_ids: bool = True
    public_trades_snapshot: int = 50
    max_message_size: int = 64 * 1024
    max_tokens: int = 100_000
    max_events: int = 10_000
    max_outbound: int = 100_000
    max_pending: int = 1024

    def __post_init__(self) -> None:
        if self.modify_flow not in ("current", "legacy"):
            raise LocalProtocolError(
                f"invalid modify_flow: {self.modify_flow!r}; accepted values: 'current', 'legacy'"
            )
        if not self.token_lifetime > 0 or self.token_rate < 1 or self.order_rate < 1:
            raise LocalProtocolError(
                "invalid limits: token_lifetime > 0, token_rate >= 1 and order_rate >= 1"
            )


class TokenRecord(msgspec.Struct, kw_only=True):
    """One issued token: whose, and until when (the venue's clock)."""

    jti: str
    key: ApiKey
    expires_at: float

    def __repr__(self) -> str:
        return f"TokenRecord(account={self.key.account!r}, expires_at={self.expires_at!r})"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER = _b64(b'{"alg":"HS256","typ":"JWT"}')
TOKEN_KEY = "token"
ORDER_KEY = "orders"


class ServerState:
    """Keys, tokens and rate pools shared by a venue's connections (module docstring)."""

    def __init__(
        self, config: ServerConfig, *, rng: RandomSource, keys: Iterable[ApiKey] = ()
    ) -> None:
        self.config = config
        self.rng = rng
        self._signing = rng.getrandbits(256).to_bytes(32, "big")
        self.keys: dict[str, ApiKey] = {}
        for key in keys:
            self.add_key(key)
        self.tokens: dict[str, TokenRecord] = {}
        self.connections = ConnectionCounter(None)
        self.pools = RatePools(
            {
                TOKEN_KEY: PoolRule(1.0, config.token_rate, config.token_rate / 60),
                ORDER_KEY: PoolRule(1.0, config.order_rate, config.order_rate / 60),
            }
        )
        self.market_names = frozenset(m.market for m in config.markets)

    def __repr__(self) -> str:
        return f"rails.ServerState(keys={len(self.keys)}, tokens={len(self.tokens)})"

    def add_key(self, key: ApiKey) -> None:
        if key.key in self.keys:
            raise LocalProtocolError(f"invalid key: {key.key!r} is registered already")
        self.keys[key.key] = key

    def check_key(self, key: str | None, secret: str | None) -> ApiKey | None:
        """The key whose secret this is (compared in constant time), or ``None``."""
        if key is None or secret is None:
            return None
        found = self.keys.get(key)
        if found is None or not hmac.compare_digest(found.secret.encode(), secret.encode()):
            return None
        return found

    # -- tokens ------------------------------------------------------------------------------

    def issue(self, key: ApiKey, now: float) -> tuple[str, float]:
        """A new JWT for ``key`` and its lifetime in seconds."""
        config = self.config
        jti = format(self.rng.getrandbits(96), "024x")
        issued = round(now + config.epoch_offset)
        lifetime = config.token_lifetime
        claims = {
            "iss": config.issuer,
            "sub": key.account,
            "aud": [config.audience],
            "exp": issued + round(lifetime),
            "iat": issued,
            "accountType": "retail",
            "jti": jti,
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signed = f"{_HEADER}.{payload}"
        token = f"{signed}.{self._sign(signed)}"
        tokens = self.tokens
        while len(tokens) >= config.max_tokens:
            del tokens[next(iter(tokens))]
        tokens[jti] = TokenRecord(jti=jti, key=key, expires_at=now + lifetime)
        return token, lifetime

    def _sign(self, signed: str) -> str:
        return _b64(hmac.new(self._signing, signed.encode(), hashlib.sha256).digest())

    def verify(self, token: str, now: float) -> TokenRecord | None:
        """The record of a usable token (signature, known, not expired), or ``None``."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        signed = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(signed), parts[2]):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        jti = claims.get("jti") if isinstance(claims, dict) else None
        record = self.tokens.get(jti) if isinstance(jti, str) else None
        if record is None or now >= record.expires_at:
            return None
        return record

    def expires_at(self, jti: str) -> float | None:
        record = self.tokens.get(jti)
        return None if record is None else record.expires_at

    def expire_tokens(self, now: float, *, account: str | None = None) -> int:
        """Fault hook: the tokens (of ``account``) expire at ``now``; returns how many."""
        count = 0
        for record in self.tokens.values():
            if (account is None or record.key.account == account) and record.expires_at > now:
                record.expires_at = now
                count += 1
        return count

    # -- limits -------------------------------------------------------------------------------

    def charge_token_request(self, key: str, now: float) -> bool:
        """One token request of ``key``; ``False`` past 20 a minute."""
        return self.pools.charge(f"key:{key}", TOKEN_KEY, now)

    def charge_order_request(self, account: str, now: float) -> bool:
        """One order request of ``account``; ``False`` past 6000 a minute."""
        return self.pools.charge(f"account:{account}", ORDER_KEY, now)
