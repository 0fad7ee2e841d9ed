"""``rails.server.ServerProtocol``: the venue side of one Rails WebSocket, holding no market.

The machine speaks the dialect and leaves market knowledge to the venue: it decides the
upgrade, answers ``ping``, ``subscribe`` and ``unsubscribe`` itself, refuses what it
can refuse without a market, and hands every other request to the venue as a
:class:`RequestReceived` event, which the venue answers with :class:`Acknowledge` (the
202, any number of times), :class:`~tradewire.protocol.session.Reply` (the final
answer, once) or :class:`~tradewire.protocol.session.ReplyError`; it pushes stream
messages with :meth:`ServerProtocol.push`.  State shared by connections lives in the
:class:`ServerState` passed in.

The upgrade (spec 1): the path is ``/``; the query names ``market`` (required: a market
the venue lists, or ``ALL``; else 400) and may name ``subscriptions`` (comma-separated
streams; absent: ``orders``, the venue's default; present but empty: none, our choice;
an unknown one: 400); the token comes as the subprotocol ``authorization#<JWT>``, which
is echoed exactly as offered.  A missing, malformed, unknown or expired token is
refused with 401; a read-only key asking for ``orders`` or ``trades`` with 403 (where
the 403 comes is not documented: at the upgrade is our choice).  Once open, the query's
streams are active and :class:`SessionOpened` tells the venue.

Requests (spec 2-8): every answer echoes ``clientRequestId``; a request the machine
cannot read is answered 400 (``resultType`` the request's ``message``, or ``error``
when even that is unknown: spec 8, our design); a market-scoped request on a
``market=ALL`` connection without ``market``, or naming another market than a
one-market connection's, is 400 too; a read-only key's order request is 403;
``createOrder``, ``cancelOrder`` and ``modifyOrder`` share the account's 6000 a minute
and are answered 429 past it (the connection stays open, as the docs say nothing of a
close).  Subscribing a stream already active is a no-op, unsubscribing one that is not
active too (spec 3.2, 3.3).

Ours, where the docs are silent: a connection whose token expires is closed with 1008
``"token expired"`` (``ServerConfig.token_expired_close``); no idle timeout unless
``idle_timeout`` is set.
"""

from __future__ import annotations

from typing import Any

from .._contract import AcceptUpgrade, RejectUpgrade, UpgradeRequest
from .._errors import LocalProtocolError
from .._events import Command, Event, require
from .._sources import RequestId
from ..session import (
    Disconnect,
    Notify,
    PendingTable,
    Reply,
    ReplyError,
    ServerSession,
    ServerSpec,
    SessionFront,
)
from ._commands import MARKET_ALL, PRIVATE_STREAMS, STREAMS, RailsCommand, Subscribe
from ._server_state import ServerState
from ._wire_server import (
    Envelope,
    ErrorDataOut,
    PongDataOut,
    RejectedRequest,
    SubscriptionDataOut,
    decode_request,
    encode,
)

__all__ = [
    "AUTH_PREFIX",
    "Acknowledge",
    "Push",
    "RequestReceived",
    "ServerProtocol",
    "SessionClosed",
    "SessionOpened",
    "SubscriptionsChanged",
    "WS_PATHS",
]

WS_PATHS = ("/", "")
AUTH_PREFIX = "authorization#"
DEFAULT_SUBSCRIPTIONS = ("orders",)
"""The streams of a connection whose query names none (spec 1)."""


class SessionOpened(Event, frozen=True, kw_only=True):
    """A connection is open: its ``market`` (or ``ALL``), the ``subscriptions`` active
    from its query, the key's ``account``."""

    connection_id: int
    market: str
    subscriptions: tuple[str, ...]
    account: str
    read_only: bool


class SubscriptionsChanged(Event, frozen=True, kw_only=True):
    """A ``subscribe`` / ``unsubscribe`` changed the active streams."""

    connection_id: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    active: tuple[str, ...]


class RequestReceived(Event, frozen=True, kw_only=True):
    """A request for the venue: answer ``request_id`` (the machine's handle) with
    :class:`Acknowledge` (202s), then ``Reply`` or ``ReplyError`` once.

    ``message`` is the name as sent (an older revision's name included), ``command`` the
    request as the client's command type, ``market`` the market it is for (the
    request's, or the connection's)."""

    request_id: int
    client_request_id: str | None
    message: str
    command: RailsCommand
    connection_id: int
    account: str
    market: str
    read_only: bool = False


class SessionClosed(Event, frozen=True, kw_only=True):
    """The connection is gone; ``reason`` says who ended it."""

    connection_id: int
    reason: str


class Acknowledge(Command, frozen=True, kw_only=True):
    """An interim answer (a 202) to held request ``request_id``; ``result`` is the
    message (an :class:`Envelope` or encoded bytes).  The request stays held."""

    request_id: int
    result: Any

    def __post_init__(self) -> None:
        require(
            isinstance(self.request_id, int) and not isinstance(self.request_id, bool),
            "request_id",
            "the int request_id of a RequestReceived",
        )


class Push(Command, frozen=True, kw_only=True):
    """Stream messages already encoded (one encoding for every connection that wants
    them), sent in order if the connection is open."""

    frames: tuple[bytes, ...]

    def __post_init__(self) -> None:
        require(
            isinstance(self.frames, tuple) and all(isinstance(f, bytes) for f in self.frames),
            "frames",
            "a tuple of encoded messages (bytes)",
        )


class _Codec:
    """The session layer's server codec: the venue builds whole messages."""

    @staticmethod
    def encode_result(
        wire_id: RequestId | None, result: Any, *, received_at: float, now: float
    ) -> bytes:
        if isinstance(result, bytes):
            return result
        if isinstance(result, Envelope):
            return encode(result.result_type, result.data, result.market)
        raise LocalProtocolError(
            f"invalid result: expected an Envelope or encoded bytes, got {type(result).__name__}"
        )

    @staticmethod
    def encode_error(
        wire_id: RequestId | None,
        code: int | str,
        message: str,
        data: Any,
        *,
        received_at: float,
        now: float,
    ) -> bytes:
        result_type, market = data if isinstance(data, tuple) else (data or "error", None)
        status = code if isinstance(code, int) else 400
        client_id = wire_id if isinstance(wire_id, str) else None
        body = ErrorDataOut(status_code=status, body=message, client_request_id=client_id)
        return encode(str(result_type), body, market)

    @staticmethod
    def encode_notification(topic: str, data: Any, meta: Any) -> bytes:
        return data if isinstance(data, bytes) else encode(topic, data)


class ServerProtocol(SessionFront):
    """One Rails WebSocket connection, venue side (see the module docstring)."""

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        self.state = state
        self.config = config = state.config
        self.connection_id = state.connections.new_id()
        self.session = ServerSession(
            ServerSpec(
                codec=_Codec(),
                receive=self._receive,
                upgrade=self._upgrade,
                idle_timeout=config.idle_timeout,
                idle_with_topics=True,
                idle_close=(1000, "idle", False),
                on_lost=self._on_lost,
                max_events=config.max_events,
                max_outbound=config.max_outbound,
                max_pending=config.max_pending,
                max_topics=len(STREAMS),
            ),
            connection_id=self.connection_id,
            peer=peer,
        )
        self.held: PendingTable = self.session.held
        self.market = ""
        self.account = ""
        self.read_only = False
        self.subprotocol: str | None = None
        self._jti: str | None = None
        self._opening: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"rails.ServerProtocol(connection_id={self.connection_id}, "
            f"phase={self.session.phase.value}, market={self.market!r}, "
            f"streams={sorted(self.session.topics)})"
        )

    # -- inspection -----------------------------------------------------------------------------

    @property
    def streams(self) -> frozenset[str]:
        """The streams active on this connection."""
        return self.session.topics

    def wants(self, stream: str, market: str | None = None) -> bool:
        """A message of ``stream`` (for ``market``, if it is market-scoped) goes here."""
        if not self.session.is_subscribed(stream):
            return False
        return market is None or self.market in (MARKET_ALL, market)

    def push(self, frame: bytes) -> bool:
        """Send an encoded stream message (one encoding for every connection)."""
        return self.session.push(frame)

    def message_market(self, market: str) -> str | None:
        """What to write as a market-scoped message's top-level ``market``."""
        if self.config.always_market or self.market == MARKET_ALL:
            return market
        return None

    # -- the driving contract -------------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        self.session.connection_made(now)
        self.session.activate(self._opening)
        self.session.emit(
            SessionOpened(
                connection_id=self.connection_id,
                market=self.market,
                subscriptions=self._opening,
                account=self.account,
                read_only=self.read_only,
            )
        )

    def handle_timer(self, now: float) -> None:
        expires = self._token_expiry()
        if expires is not None and now >= expires and self.session.is_open:
            code, reason = self.config.token_expired_close
            self.session.close(code, reason, why="token expired")
            return
        self.session.handle_timer(now)

    def next_deadline(self) -> float | None:
        best = self.session.next_deadline()
        expires = self._token_expiry() if self.session.is_open else None
        if expires is not None and (best is None or expires < best):
            best = expires
        return best

    def _token_expiry(self) -> float | None:
        if self._jti is None:
            return None
        expires = self.state.expires_at(self._jti)
        return float("-inf") if expires is None else expires

    # -- the venue's side -----------------------------------------------------------------------

    def send(self, command: Command, now: float) -> RequestId | None:
        """:class:`Acknowledge`, :class:`Push`, ``Reply``, ``ReplyError``, ``Disconnect``."""
        if isinstance(command, Acknowledge):
            self.acknowledge(command.request_id, command.result, now)
            return None
        if isinstance(command, Push):
            for frame in command.frames:
                self.push(frame)
            return None
        if isinstance(command, Notify):
            raise LocalProtocolError("invalid command: Notify; push encoded frames with push()")
        if not isinstance(command, Reply | ReplyError | Disconnect):
            raise LocalProtocolError(
                f"invalid command: {type(command).__name__}; a Rails server takes Acknowledge, "
                "Push, Reply, ReplyError or Disconnect"
            )
        return self.session.send(command, now)

    def acknowledge(self, request_id: int, result: Any, now: float) -> None:
        """A 202 for held request ``request_id`` (it stays held for its final answer)."""
        self.held.get(request_id, "acknowledge")
        self.session.write(_Codec.encode_result(None, result, received_at=now, now=now))

    def reply(self, request_id: int, result: Any, now: float) -> None:
        self.session.reply(request_id, result, now)

    def reply_error(
        self, request_id: int, status: int, now: float, message: str, result_type: Any = None
    ) -> None:
        self.session.reply_error(request_id, status, now, message, result_type)

    # -- the session's hooks --------------------------------------------------------------------

    def _upgrade(
        self, session: ServerSession, request: UpgradeRequest, now: float
    ) -> AcceptUpgrade | RejectUpgrade:
        if request.path not in WS_PATHS:
            return RejectUpgrade(status=404, body=b"not found\n")
        market = request.query_value("market")
        if market is None:
            return RejectUpgrade(status=400, body=b"market is required\n")
        if market != MARKET_ALL and market not in self.state.market_names:
            return RejectUpgrade(status=400, body=b"unknown market\n")
        raw = request.query_value("subscriptions")
        if raw is None:
            streams: tuple[str, ...] = DEFAULT_SUBSCRIPTIONS
        else:
            names = [name.strip() for name in raw.split(",") if name.strip()]
            if any(name not in STREAMS for name in names):
                return RejectUpgrade(status=400, body=b"unknown subscription\n")
            streams = tuple(dict.fromkeys(names))
        offered = [p for p in request.subprotocols if p.startswith(AUTH_PREFIX)]
        if not offered:
            return RejectUpgrade(status=401, body=b"missing token\n")
        record = self.state.verify(offered[0][len(AUTH_PREFIX) :], now)
        if record is None:
            return RejectUpgrade(status=401, body=b"invalid or expired token\n")
        if record.key.read_only and PRIVATE_STREAMS & set(streams):
            return RejectUpgrade(status=403, body=b"read-only key: no private streams\n")
        self.market = market
        self.account = record.key.account
        self.read_only = record.key.read_only
        self._jti = record.jti
        self._opening = streams
        self.subprotocol = offered[0]
        return AcceptUpgrade(subprotocol=offered[0])

    def _receive(self, session: ServerSession, data: bytes | str, now: float) -> None:
        try:
            request = decode_request(data, max_size=self.config.max_message_size)
        except RejectedRequest as rejected:
            session.fail(
                rejected.client_request_id,
                rejected.status,
                rejected.text,
                rejected.result_type,
                now,
            )
            return
        command, crid, message = request.command, request.client_request_id, request.message
        if message == "ping":
            session.write(encode("pong", PongDataOut(client_request_id=crid, status_code=200)))
            return
        if isinstance(command, Subscribe):
            self._subscription(command, message, crid, now)
            return
        market = request.market
        if command.market_scoped:
            if market is None:
                if self.market == MARKET_ALL:
                    text = f"{message} needs market on a market=ALL connection"
                    session.fail(crid, 400, text, "error", now)
                    return
                market = self.market
            elif self.market not in (MARKET_ALL, market):
                text = f"market {market[:20]!r} on a connection for {self.market!r}"
                session.fail(crid, 400, text, (message, market[:20]), now)
                return
            elif market not in self.state.market_names:
                session.fail(crid, 400, "unknown market", (message, market[:20]), now)
                return
        assert market is not None
        scoped = self.message_market(market) if command.market_scoped else None
        if message in ("createOrder", "cancelOrder", "modifyOrder"):
            if self.read_only:
                session.fail(crid, 403, "read-only key", (message, scoped), now)
                return
            if not self.state.charge_order_request(self.account, now):
                session.fail(crid, 429, "too many requests", (message, scoped), now)
                return
        if not session.can_hold():
            session.fail(crid, 429, "too many requests in flight", (message, scoped), now)
            return
        handle = session.hold(crid, now)
        session.emit(
            RequestReceived(
                request_id=handle,
                client_request_id=crid,
                message=message,
                command=command,
                connection_id=self.connection_id,
                account=self.account,
                market=market,
                read_only=self.read_only,
            )
        )

    def _subscription(self, command: Subscribe, message: str, crid: str | None, now: float) -> None:
        session = self.session
        names = command.subscriptions
        removing = message == "unsubscribe"
        if not removing and self.read_only and PRIVATE_STREAMS & set(names):
            session.fail(crid, 403, "read-only key: no private streams", message, now)
            return
        if removing:
            changed = session.deactivate(names)
            added: tuple[str, ...] = ()
            removed = tuple(changed)
        else:
            added = tuple(session.activate(names))
            removed = ()
        active = [s for s in STREAMS if session.is_subscribed(s)]
        reply = SubscriptionDataOut(
            active_subscriptions=active,
            client_request_id=crid,
            requested_subscriptions=list(names),
        )
        session.write(encode("unsubscribed" if removing else "subscribed", reply))
        if added or removed:
            session.emit(
                SubscriptionsChanged(
                    connection_id=self.connection_id,
                    added=added,
                    removed=removed,
                    active=tuple(active),
                )
            )

    def _on_lost(self, session: ServerSession) -> None:
        session.emit(
            SessionClosed(
                connection_id=self.connection_id, reason=session.close_reason or "connection lost"
            )
        )
