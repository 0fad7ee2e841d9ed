"""What a Deribit venue shares across connections: settings, keys, tokens, nonces, credits.

One :class:`ServerState` serves every :class:`ServerProtocol` (WebSocket) and
:class:`HTTPServerProtocol` of a venue.  It is pure: no clock (every method takes
``now``, in the caller's clock), no global randomness (token strings come from the
injected ``rng``).  It holds

* the API keys (:meth:`ServerState.add_client`) and their maximum scope;
* issued tokens (:class:`IssuedToken`) with scope, expiry and connection binding;
* the nonces used by signed requests within the signature window (spec 2.2, 2.3);
* credit pools per (sub-)account, or per peer IP for unauthenticated traffic (spec 7.3);
* open connections per peer IP (spec 7.2);
* the cancel-on-disconnect default per account (spec 5.5, ``scope: "account"``).

Times: ``now`` may come from a monotonic clock; Deribit speaks epoch time (``usIn``,
``public/get_time``, signature timestamps), so the venue passes
``ServerConfig.epoch_offset`` and epoch seconds are ``now + epoch_offset``.  With a
clock that already reads epoch seconds, leave it at ``0.0``.

Fault hooks for a reference venue: :meth:`ServerState.expire_tokens` (early token expiry,
so clients must refresh) and :meth:`ServerState.drain_credits` (an exhausted pool).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .._errors import LocalProtocolError
from .._secrets import Secret
from .._sources import RandomSource
from ..session import ConnectionCounter, NonceWindow, RatePools, TokenBucket
from ._limits import RateClass
from ._server_config import DEFAULT_KEY_SCOPE, ApiKey, IssuedToken, Lineage, ServerConfig

__all__ = ["ServerState"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SWEEP_AT = 1024


class ServerState:
    """State shared by a venue's connections (see the module docstring)."""

    def __init__(self, config: ServerConfig | None = None, *, rng: RandomSource) -> None:
        self.config = config if config is not None else ServerConfig()
        self.rng = rng
        self._keys: dict[str, ApiKey] = {}
        self._next_account = 1
        self._next_grant = 1
        self._connections = ConnectionCounter(self.config.max_connections_per_ip)
        self._serial = 0
        self._records: dict[int, IssuedToken] = {}
        self._access: dict[str, IssuedToken] = {}
        self._refresh: dict[str, IssuedToken] = {}
        self._lineages: dict[Lineage, dict[int, IssuedToken]] = {}
        self._bound: dict[int, dict[int, IssuedToken]] = {}
        self._sweep_at = _SWEEP_AT
        self._nonces = NonceWindow(self.config.auth_window)
        self._pools = RatePools(self.config.credits, max_pools=self.config.max_pools)
        self._cod: set[int] = set()

    # -- time ---------------------------------------------------------------------------

    def epoch_us(self, now: float) -> int:
        """Epoch microseconds at ``now`` (``usIn`` / ``usOut``)."""
        return round((now + self.config.epoch_offset) * 1_000_000)

    def epoch_ms(self, now: float) -> int:
        """Epoch milliseconds at ``now`` (``public/get_time``, signature timestamps)."""
        return round((now + self.config.epoch_offset) * 1000)

    # -- keys -----------------------------------------------------------------------------

    def add_client(
        self,
        client_id: str,
        client_secret: str | Secret,
        *,
        account_id: int | None = None,
        subaccount_ids: Collection[int] = (),
        main_account: bool = True,
        scope: str = DEFAULT_KEY_SCOPE,
        name: str | None = None,
    ) -> ApiKey:
        """Register an API key; ``account_id`` defaults to the next free number."""
        if not (isinstance(client_id, str) and client_id):
            raise LocalProtocolError("invalid client_id: expected a non-empty str")
        if client_id in self._keys:
            raise LocalProtocolError(f"invalid client_id: {client_id!r} is already registered")
        if account_id is None:
            account_id = self._next_account
        self._next_account = max(
            self._next_account, account_id + 1, *(s + 1 for s in subaccount_ids)
        )
        key = ApiKey(
            client_id=client_id,
            client_secret=(
                client_secret if isinstance(client_secret, Secret) else Secret(client_secret)
            ),
            account_id=account_id,
            subaccount_ids=frozenset(subaccount_ids),
            main_account=main_account,
            scope=scope,
            name=name,
        )
        self._keys[client_id] = key
        return key

    def client(self, client_id: str) -> ApiKey | None:
        """The key registered as ``client_id``, or ``None``."""
        return self._keys.get(client_id)

    # -- connections ----------------------------------------------------------------------

    def new_connection_id(self) -> int:
        """A number for a new connection, unique within this state."""
        return self._connections.new_id()

    def acquire_connection(self, ip: str | None) -> bool:
        """Count a new connection from ``ip``; ``False`` (not counted) over the limit.

        A connection with no known address is never refused and never counted.
        """
        return self._connections.acquire(ip)

    def release_connection(self, ip: str | None) -> None:
        """A connection counted by :meth:`acquire_connection` ended."""
        self._connections.release(ip)

    def connection_count(self, ip: str) -> int:
        return self._connections.count(ip)

    # -- tokens ---------------------------------------------------------------------------

    def _token(self, now: float, table: Mapping[str, IssuedToken]) -> str:
        stamp = self.epoch_ms(now)
        while True:
            bits = self.rng.getrandbits(6 * 51)
            chars = "".join(_ALPHABET[(bits >> (6 * i)) & 63] for i in range(51))
            token = f"{stamp}.{chars[:8]}.{chars[8:]}"
            if token not in table:
                return token

    def new_lineage(self) -> Lineage:
        """A fresh logout group for tokens that belong to no connection or session."""
        value = self._next_grant
        self._next_grant += 1
        return ("grant", value, "")

    def issue(
        self,
        *,
        key: ApiKey,
        account_id: int,
        scope: str,
        session: str | None,
        connection_id: int | None,
        ip: str | None,
        expires_in: int,
        lineage: Lineage,
        now: float,
    ) -> IssuedToken:
        """Store and return a new token pair.

        Past ``max_tokens`` stored pairs, dead ones are swept and then the oldest
        forgotten (a client holding one gets 13009 and authenticates again).
        """
        records = self._records
        if len(records) >= self._sweep_at:
            self._sweep(now)
        while len(records) >= self.config.max_tokens:
            self._forget(next(iter(records.values())))
        self._serial += 1
        record = IssuedToken(
            serial=self._serial,
            access_token=self._token(now, self._access),
            refresh_token=self._token(now, self._refresh),
            client_id=key.client_id,
            account_id=account_id,
            scope=scope,
            session=session,
            connection_id=connection_id,
            ip=ip,
            lifetime=expires_in,
            issued_at=now,
            expires_at=now + expires_in,
            refresh_expires_at=now + max(expires_in, self.config.refresh_expires_in),
            lineage=lineage,
        )
        records[record.serial] = record
        self._access[record.access_token] = record
        self._refresh[record.refresh_token] = record
        self._lineages.setdefault(lineage, {})[record.serial] = record
        if connection_id is not None:
            self._bound.setdefault(connection_id, {})[record.serial] = record
        return record

    def _forget(self, record: IssuedToken) -> None:
        self._records.pop(record.serial, None)
        if self._access.get(record.access_token) is record:
            del self._access[record.access_token]
        if self._refresh.get(record.refresh_token) is record:
            del self._refresh[record.refresh_token]
        group = self._lineages.get(record.lineage)
        if group is not None:
            group.pop(record.serial, None)
            if not group:
                del self._lineages[record.lineage]
        if record.connection_id is not None:
            bound = self._bound.get(record.connection_id)
            if bound is not None:
                bound.pop(record.serial, None)
                if not bound:
                    del self._bound[record.connection_id]

    def _sweep(self, now: float) -> None:
        """Forget pairs whose access and refresh tokens are both unusable."""
        for record in list(self._records.values()):
            refresh_live = (
                self._refresh.get(record.refresh_token) is record
                and now < record.refresh_expires_at
            )
            if record.revoked or (now >= record.expires_at and not refresh_live):
                self._forget(record)
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._records))

    def find_access(
        self, token: str, now: float, connection_id: int | None, ip: str | None
    ) -> IssuedToken | None:
        """The record of a usable access token, or ``None`` (unknown, expired, revoked,
        bound to another connection or address)."""
        record = self._access.get(token)
        if record is None or not record.usable(now, connection_id, ip):
            return None
        return record

    def find_refresh(
        self, token: str, now: float, connection_id: int | None, ip: str | None
    ) -> IssuedToken | None:
        """The record of a usable refresh token, or ``None``."""
        record = self._refresh.get(token)
        if (
            record is None
            or record.revoked
            or now >= record.refresh_expires_at
            or (record.connection_id is not None and record.connection_id != connection_id)
            or (record.ip is not None and record.ip != ip)
        ):
            return None
        return record

    def retire_refresh(self, record: IssuedToken) -> None:
        """A refresh token was used: it is single-use (the access token lives on)."""
        if self._refresh.get(record.refresh_token) is record:
            del self._refresh[record.refresh_token]

    def revoke(self, lineage: Lineage) -> int:
        """Invalidate every token of ``lineage`` (``private/logout``); returns how many."""
        group = list(self._lineages.get(lineage, {}).values())
        for record in group:
            record.revoked = True
            self._forget(record)
        return len(group)

    def drop_connection(self, connection_id: int) -> None:
        """Connection-scoped tokens die with their connection (spec 2.4)."""
        for record in list(self._bound.get(connection_id, {}).values()):
            record.revoked = True
            self._forget(record)

    def expire_tokens(self, now: float, *, client_id: str | None = None) -> int:
        """Fault hook: access tokens (of ``client_id``, or all) expire at ``now``.

        Refresh tokens stay valid, so a client that refreshes recovers.
        """
        count = 0
        for record in self._access.values():
            if (client_id is None or record.client_id == client_id) and record.expires_at > now:
                record.expires_at = now
                count += 1
        return count

    def tokens(self, client_id: str | None = None) -> list[IssuedToken]:
        """The stored token records (of ``client_id``), oldest first, for inspection."""
        return [r for r in self._records.values() if client_id is None or r.client_id == client_id]

    # -- nonces ---------------------------------------------------------------------------

    def use_nonce(self, client_id: str, nonce: str, timestamp_ms: int, now: float) -> bool:
        """Record a signed request's nonce; ``False`` if it was used within the window.

        An empty nonce is keyed by the timestamp instead, so an exact replay of a signed
        message without a nonce is caught too.  Entries are forgotten once the timestamp
        check alone rejects a replay (two windows after ``now``).
        """
        key = (client_id, nonce if nonce else f"ts:{timestamp_ms}")
        return self._nonces.use(key, now)

    # -- credits --------------------------------------------------------------------------

    def charge(self, pool: str, rate_class: RateClass, now: float) -> bool:
        """Take one request's credits from ``pool``; ``False`` when it is empty."""
        return self._pools.charge(pool, rate_class, now)

    def credits(self, pool: str, rate_class: RateClass, now: float) -> float | None:
        """Credits left in ``pool`` for ``rate_class`` (``None``: not rate limited)."""
        return self._pools.level(pool, rate_class, now)

    def drain_credits(self, pool: str, rate_class: RateClass, now: float) -> None:
        """Fault hook: empty ``pool`` for ``rate_class`` at ``now``."""
        self._pools.drain(pool, rate_class, now)

    def bucket(self, pool: str, rate_class: RateClass, now: float) -> TokenBucket | None:
        """The bucket of ``pool`` for ``rate_class`` (made on first use), for inspection."""
        return self._pools.bucket(pool, rate_class, now)

    # -- cancel on disconnect -------------------------------------------------------------

    def cod_default(self, account_id: int) -> bool:
        """Whether cancel-on-disconnect is on by default for ``account_id``'s connections."""
        return account_id in self._cod

    def set_cod_default(self, account_id: int, enabled: bool) -> None:
        if enabled:
            self._cod.add(account_id)
        else:
            self._cod.discard(account_id)

    def __repr__(self) -> str:
        return (
            f"ServerState(keys={len(self._keys)}, tokens={len(self._access)}, "
            f"connections={self._connections.total()})"
        )
