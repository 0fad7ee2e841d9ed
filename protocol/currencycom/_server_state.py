"""The venue side's shared state (spec 5, 6): API keys, rate pools, connection ids, the
signature check.  Every connection of a reference venue, WebSocket or HTTP, shares one
:class:`ServerState`.

Our choices where the notes are silent (spec 5, 6; "INFERRED" there):

* ``recvWindow``: a signed request's ``timestamp`` must be within ``recvWindow`` ms of
  the venue's clock (default 5000, at most 60000: -1131 above it), else -1021; over
  WebSocket too (spec 5, "recvWindow / timestamp");
* rate pools per API key (signed requests) or per connection (public ones): 20 requests
  a second with a burst of 20 (the 1200 weight a minute ``exchangeInfo`` publishes),
  orders 10 a second, ``openOrders`` 5 a second (spec 6); a request over a limit gets
  -1003 and the connection stays open;
* the signature is recomputed from the parsed payload with JavaScript's formatting and
  compared in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from .._secrets import Secret
from ..session import ConnectionCounter, PoolRule, RatePools
from ._signing import js_string, signature, signing_text

__all__ = ["DEFAULT_RATE_RULES", "ApiKey", "ServerConfig", "ServerState", "SignedCheck"]

DEFAULT_RATE_RULES: dict[str, PoolRule] = {
    "request": PoolRule(1.0, 20.0, 20.0),
    "order": PoolRule(1.0, 10.0, 10.0),
    "openOrders": PoolRule(1.0, 5.0, 5.0),
}
"""Rate key -> pool rule (spec 6); an order draws on ``request`` and ``order``."""

MAX_RECV_WINDOW = 60_000


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A registered key: its secret and the account its requests act for."""

    api_key: str
    secret: Secret
    account: str


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's settings (see the module docstring).

    * ``epoch_offset``: epoch seconds minus the venue's ``now`` (timestamps, windows);
    * ``recv_window``: the default window in ms; ``idle_timeout``: seconds without a
      ping before a WebSocket is closed (spec 3: 30);
    * ``depth_data_as_string``: send ``marketdepth.event`` ``data`` JSON-encoded as a
      string (ccxt's 2020 sample) instead of an object (the default, spec 4.2);
    * ``max_message_size``, ``max_pending``, ``max_topics``: bounds per connection.
    """

    epoch_offset: float = 0.0
    recv_window: int = 5000
    idle_timeout: float = 30.0
    depth_data_as_string: bool = False
    rate_rules: dict[str, PoolRule] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_RATE_RULES)
    )
    max_message_size: int = 64 * 1024
    max_pending: int = 1024
    max_topics: int = 2000
    max_symbols: int = 500


class SignedCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of checking a signed request: the key's account, or an error."""

    account: str | None = None
    code: int | None = None
    message: str = ""


class ServerState:
    """Keys, rate pools and connection ids shared by a venue's connections."""

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config if config is not None else ServerConfig()
        self.keys: dict[str, ApiKey] = {}
        self.pools = RatePools(self.config.rate_rules)
        self.connections = ConnectionCounter(None)

    def __repr__(self) -> str:
        return f"ServerState(keys={len(self.keys)})"

    def add_key(self, api_key: str, secret: str | Secret, *, account: str) -> None:
        kept = secret if isinstance(secret, Secret) else Secret(secret)
        self.keys[api_key] = ApiKey(api_key=api_key, secret=kept, account=account)

    def new_connection_id(self) -> int:
        return self.connections.new_id()

    def epoch_ms(self, now: float) -> int:
        return round((now + self.config.epoch_offset) * 1000)

    def charge(self, pool: str, rate_keys: Iterable[str], now: float) -> bool:
        """Charge one request to ``pool``; ``False`` when a bucket is empty (-1003)."""
        keys = list(rate_keys)
        for key in keys:
            level = self.pools.level(pool, key, now)
            if level is not None and level < self.config.rate_rules[key].cost:
                return False
        for key in keys:
            self.pools.charge(pool, key, now)
        return True

    def drain(self, pool: str, rate_keys: Iterable[str], now: float) -> None:
        for key in rate_keys:
            self.pools.drain(pool, key, now)

    def check_window(self, timestamp: Any, window: Any, now: float) -> SignedCheck | None:
        """-1102 / -1131 / -1021 for a bad ``timestamp`` or ``recvWindow``; ``None`` if fine."""
        if isinstance(timestamp, str) and timestamp.isdigit():
            timestamp = int(timestamp)
        if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
            return SignedCheck(
                code=-1102,
                message="Mandatory parameter 'timestamp' was not sent, or malformed.",
            )
        if window is None:
            window = self.config.recv_window
        elif isinstance(window, str) and window.isdigit():
            window = int(window)
        if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
            return SignedCheck(code=-1102, message="Parameter 'recvWindow' was malformed.")
        if window > MAX_RECV_WINDOW:
            return SignedCheck(code=-1131, message="recvWindow must be less than 60000")
        if abs(self.epoch_ms(now) - timestamp) > window:
            return SignedCheck(
                code=-1021, message="Timestamp for this request is outside of the recvWindow."
            )
        return None

    def check_payload(self, payload: Mapping[str, Any], now: float) -> SignedCheck:
        """Check a signed WebSocket payload (spec 5): key, window, signature."""
        found = self._key(payload.get("apiKey"))
        if isinstance(found, SignedCheck):
            return found
        problem = self.check_window(payload.get("timestamp"), payload.get("recvWindow"), now)
        if problem is not None:
            return problem
        given = payload.get("signature")
        try:
            expected = signature(found.secret.reveal(), signing_text(payload))
        except Exception:  # a value JavaScript would write as [object Object]
            return SignedCheck(code=-1100, message="Illegal characters found in a parameter.")
        if not isinstance(given, str) or not hmac.compare_digest(expected, given):
            return SignedCheck(code=-1022, message="Signature for this request is not valid.")
        return SignedCheck(account=found.account)

    def check_query(
        self,
        api_key: str | None,
        signed_text: str,
        given: str | None,
        params: Mapping[str, str],
        now: float,
    ) -> SignedCheck:
        """Check a signed REST request (spec 4.4, 5): ``signed_text`` is the query (and
        form body) as sent, ``signature`` left out."""
        found = self._key(api_key)
        if isinstance(found, SignedCheck):
            return found
        problem = self.check_window(params.get("timestamp"), params.get("recvWindow"), now)
        if problem is not None:
            return problem
        expected = signature(found.secret.reveal(), signed_text)
        if given is None or not hmac.compare_digest(expected, given):
            return SignedCheck(code=-1022, message="Signature for this request is not valid.")
        return SignedCheck(account=found.account)

    def _key(self, api_key: Any) -> ApiKey | SignedCheck:
        if not isinstance(api_key, str) or not api_key:
            return SignedCheck(code=-2014, message="API-key format invalid.")
        found = self.keys.get(api_key)
        if found is None:
            return SignedCheck(
                code=-2015, message="Invalid API-key, IP, or permissions for action."
            )
        return found


def echo_id(value: Any) -> str | None:
    """A ``correlationId`` as the venue echoes it: a string (spec 2.2)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return js_string(value)
    if isinstance(value, str):
        return value
    return None
