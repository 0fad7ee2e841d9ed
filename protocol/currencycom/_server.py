"""``currencycom.server.ServerProtocol``: the venue side of one Currency.com WebSocket.

The machine speaks the envelopes (spec 2) and leaves market knowledge to the venue: it
answers ``ping`` itself, checks signatures and ``recvWindow`` (spec 5), charges the rate
pools (spec 6), and hands everything else to the venue as :class:`RequestReceived` /
:class:`SubscribeReceived` events, answered with ``send(Reply | ReplyError | ...)`` or
:meth:`ServerProtocol.accept_subscription`.

* answers: ``{"status": "OK", "correlationId": "7", "payload": ...}``, the id echoed as
  a string (spec 2.2); errors ``{"status": "BAD_REQUEST", "correlationId": "7",
  "destination": D, "payload": {"code": -1121, "msg": "Invalid symbol."}}`` (spec 2.4,
  the notes' proposal; ``TOO_MANY_REQUESTS`` for -1003);
* ``ping`` is answered ``{"status": "OK", "destination": "ping", "correlationId": ...,
  "payload": {}}`` (spec 3: ccxt routes the pong by its destination);
* liveness (spec 3): a connection that sent neither an app-level ``ping`` nor a
  control-frame ping for ``idle_timeout`` (30 s) is closed (code 1000, reason
  ``"no ping for 30 s"``; our choice); other requests do not count;
* pushes: ``{"status": "OK", "destination": "marketdepth.event", "payload": ...}``;
  depth ``data`` is an object (``ServerConfig.depth_data_as_string`` switches to the
  string form); candle pushes carry the interval token the client subscribed with
  (the venue builds them from the topic, which keeps the token);
* subscribe answers: ``{"subscriptions": {"BTC/USD": "PROCESSED"}}`` (our choice, the
  shape spec 4.1 mentions), ``REJECTED`` for a symbol the venue does not list;
* no unsubscribe destination (spec 4.1, our choice: unknown destinations get -1020).

Our error choices: a message that is not a JSON object with a ``destination`` string
gets -1102 (``correlationId`` echoed when readable); an unknown destination -1020
"This operation is not supported."; the connection stays open after any error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from .._contract import AcceptUpgrade, RejectUpgrade, UpgradeRequest
from .._errors import LocalProtocolError
from .._events import Command
from .._sources import RequestId
from ..session import (
    AcceptSubscription,
    Disconnect,
    Notify,
    Reply,
    ReplyError,
    ServerSession,
    ServerSpec,
    SessionFront,
)
from ._server_events import RequestReceived, SessionClosed, SubscribeReceived
from ._server_state import ServerState, echo_id
from ._topics import INTERVALS, KINDS

__all__ = [
    "DESTINATIONS",
    "PRIVATE",
    "ServerCodec",
    "ServerProtocol",
    "error_status",
    "rate_keys",
]

PUBLIC = frozenset(
    {"time", "exchangeInfo", "depth", "ticker/24hr", "klines", "aggTrades", "trades", "currencies"}
)
PRIVATE = frozenset(
    {
        "account",
        "leverageSettings",
        "order/create",
        "order/cancel",
        "openOrders",
        "fetchOrder",
        "myTrades",
        "tradingPositions",
        "tradingPositionsHistory",
        "updateTradingPosition",
        "closeTradingPosition",
        "updateTradingOrder",
    }
)
DESTINATIONS = PUBLIC | PRIVATE
"""Paths under ``/api/v1/`` and ``/api/v2/`` (spec 4.3)."""

_SUBSCRIBE_KIND = {
    "depthMarketData.subscribe": "depth",
    "marketData.subscribe": "quote",
    "trades.subscribe": "trades",
    "OHLCMarketData.subscribe": "ohlc",
}
_PUSH_DESTINATION = {
    "depth": "marketdepth.event",
    "quote": "internal.quote",
    "trades": "internal.trade",
    "ohlc": "ohlc.event",
    "heikin-ashi": "ohlc.event",
}
_SIGNING_FIELDS = ("apiKey", "timestamp", "signature", "recvWindow")
_ENCODE = msgspec.json.Encoder().encode


class _Request(msgspec.Struct):
    destination: Any = None
    correlationId: Any = None
    payload: Any = None


_DECODE = msgspec.json.Decoder(_Request)


def error_status(code: int | str) -> str:
    """The envelope ``status`` of an error answer (our choice; the library never relies
    on the exact text, spec 2.4)."""
    return "TOO_MANY_REQUESTS" if code == -1003 else "BAD_REQUEST"


def rate_keys(name: str) -> tuple[str, ...]:
    """The rate pools a request draws on (spec 6)."""
    if name in ("order/create", "order/cancel", "closeTradingPosition", "updateTradingOrder"):
        return ("request", "order")
    if name == "openOrders":
        return ("request", "openOrders")
    return ("request",)


class ServerCodec:
    """The venue's envelopes (see the module docstring)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def encode_result(
        self, wire_id: RequestId | None, result: Any, *, received_at: float, now: float
    ) -> bytes:
        return _ENCODE({"status": "OK", "correlationId": wire_id, "payload": result})

    def encode_error(
        self,
        wire_id: RequestId | None,
        code: int | str,
        message: str,
        data: Any,
        *,
        received_at: float,
        now: float,
    ) -> bytes:
        body: dict[str, Any] = {"status": error_status(code), "correlationId": wire_id}
        if isinstance(data, str):
            body["destination"] = data
        body["payload"] = {"code": code, "msg": message}
        return _ENCODE(body)

    def encode_notification(self, topic: str, data: Any, meta: Any) -> bytes:
        kind = topic.partition(":")[0]
        if kind == "depth" and self.state.config.depth_data_as_string and isinstance(data, dict):
            inner = data.get("data")
            if not isinstance(inner, str):
                data = {**data, "data": _ENCODE(inner).decode()}
        destination = _PUSH_DESTINATION.get(kind, kind)
        return _ENCODE({"status": "OK", "destination": destination, "payload": data})


class ServerProtocol(SessionFront):
    """One WebSocket connection, venue side (see the module docstring)."""

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        self.state = state
        self.config = state.config
        self.codec = ServerCodec(state)
        self.session = ServerSession(
            ServerSpec(
                codec=self.codec,
                receive=self._receive,
                upgrade=self._upgrade,
                idle_timeout=self.config.idle_timeout,
                idle_on_messages=False,
                idle_close=(1000, f"no ping for {self.config.idle_timeout:g} s", False),
                on_close=self._on_close,
                max_pending=self.config.max_pending,
                max_topics=self.config.max_topics,
            ),
            connection_id=state.new_connection_id(),
            peer=peer,
        )
        self._subscribe_meta: dict[int, tuple[str, tuple[str, ...], dict[str, str]]] = {}

    # -- inspection -------------------------------------------------------------------------

    @property
    def connection_id(self) -> int:
        return self.session.connection_id

    @property
    def topics(self) -> frozenset[str]:
        return self.session.topics

    def is_subscribed(self, topic: str) -> bool:
        return self.session.is_subscribed(topic)

    # -- the driving contract ---------------------------------------------------------------

    def send(self, command: Command, now: float) -> RequestId | None:
        """``Reply``, ``ReplyError``, ``AcceptSubscription`` (the topics accepted),
        ``Notify`` or ``Disconnect``."""
        if isinstance(command, AcceptSubscription):
            self.accept_subscription(command.request_id, command.channels, now)
            return None
        if isinstance(command, Reply | ReplyError | Notify | Disconnect):
            return self.session.send(command, now)
        raise LocalProtocolError(
            f"invalid command: {type(command).__name__}; a Currency.com server takes Reply, "
            "ReplyError, AcceptSubscription, Notify or Disconnect"
        )

    # -- what the venue calls ---------------------------------------------------------------

    def reply(self, request_id: int, result: Any, now: float) -> None:
        self.session.reply(request_id, result, now)

    def reply_error(
        self, request_id: int, code: int | str, now: float, message: str | None = None
    ) -> None:
        self.session.reply_error(request_id, code, now, message)

    def accept_subscription(self, request_id: int, topics: Iterable[str], now: float) -> list[str]:
        """Answer a subscribe: ``topics`` (of the request's) become active; the answer
        lists each requested symbol as ``PROCESSED`` or ``REJECTED``.  Returns the topics
        not active before."""
        meta = self._subscribe_meta.pop(request_id, None)
        if meta is None:
            raise LocalProtocolError(
                f"accept_subscription: unknown request_id {request_id!r}: not a subscribe "
                "request held on this connection"
            )
        _, symbols, by_topic = meta
        accepted = [t for t in dict.fromkeys(topics)]
        unknown = [t for t in accepted if t not in by_topic]
        if unknown:
            self._subscribe_meta[request_id] = meta
            raise LocalProtocolError(
                f"invalid topics: {unknown!r} were not asked for; accepted values: "
                f"{sorted(by_topic)!r}"
            )
        processed = {by_topic[t] for t in accepted}
        statuses = {s: "PROCESSED" if s in processed else "REJECTED" for s in symbols}
        new = [t for t in accepted if not self.session.is_subscribed(t)]
        if self.session.is_open:
            self.session.activate(accepted)
        self.session.reply(request_id, {"subscriptions": statuses}, now)
        return new

    def notify(self, topic: str, data: Any, now: float) -> bool:
        return self.session.notify(topic, data, now)

    def push(self, frame: bytes) -> bool:
        return self.session.push(frame)

    # -- the dispatcher ---------------------------------------------------------------------

    def _upgrade(
        self, session: ServerSession, request: UpgradeRequest, now: float
    ) -> AcceptUpgrade | RejectUpgrade:
        if request.path.rstrip("/") not in ("/connect", "/proxy/connect"):
            return RejectUpgrade(status=404, body=b"not found: the WebSocket is at /connect\n")
        return AcceptUpgrade()

    def _fail(
        self, wire_id: Any, code: int, message: str, now: float, destination: Any = None
    ) -> None:
        self.session.fail(
            echo_id(wire_id),
            code,
            message,
            destination if isinstance(destination, str) else None,
            now,
        )

    def _receive(self, session: ServerSession, data: bytes | str, now: float) -> None:
        if len(data) > self.config.max_message_size:
            return self._fail(None, -1102, "request too large", now)
        try:
            request = _DECODE.decode(data)
        except msgspec.DecodeError:
            return self._fail(None, -1102, "Malformed request: expected a JSON object", now)
        wire_id, destination, payload = request.correlationId, request.destination, request.payload
        if not isinstance(destination, str) or not destination:
            return self._fail(
                wire_id, -1102, "Mandatory parameter 'destination' was not sent.", now
            )
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            return self._fail(
                wire_id, -1102, "Parameter 'payload' must be an object.", now, destination
            )
        if destination == "ping":
            session.alive(now)
            session.write(
                _ENCODE(
                    {
                        "status": "OK",
                        "destination": "ping",
                        "correlationId": echo_id(wire_id),
                        "payload": {},
                    }
                )
            )
            return None
        kind = _SUBSCRIBE_KIND.get(destination)
        if kind is not None:
            return self._subscribe(kind, wire_id, destination, payload, now)
        version, _, name = destination.removeprefix("/").removeprefix("api/").partition("/")
        if version not in ("v1", "v2") or name not in DESTINATIONS:
            return self._fail(wire_id, -1020, "This operation is not supported.", now, destination)
        account: str | None = None
        pool = f"connection:{self.connection_id}"
        if name in PRIVATE:
            check = self.state.check_payload(payload, now)
            if check.code is not None:
                return self._fail(wire_id, check.code, check.message, now, destination)
            account = check.account
            pool = f"key:{payload.get('apiKey')}"
        if not self.state.charge(pool, rate_keys(name), now):
            return self._fail(wire_id, -1003, "Too many requests.", now, destination)
        if not session.can_hold():
            return self._fail(wire_id, -1003, "Too many requests in flight.", now, destination)
        handle = session.hold(echo_id(wire_id), now, meta=destination)
        params = {k: v for k, v in payload.items() if k not in _SIGNING_FIELDS}
        session.emit(
            RequestReceived(
                connection_id=self.connection_id,
                request_id=handle,
                name=name,
                version=version,
                params=params,
                account=account,
            )
        )
        return None

    def _subscribe(
        self, kind: str, wire_id: Any, destination: str, payload: dict[str, Any], now: float
    ) -> None:
        symbols = payload.get("symbols")
        if (
            not isinstance(symbols, list)
            or not symbols
            or len(symbols) > self.config.max_symbols
            or not all(isinstance(s, str) and s for s in symbols)
        ):
            return self._fail(
                wire_id,
                -1102,
                "Mandatory parameter 'symbols' was not sent or malformed.",
                now,
                destination,
            )
        by_topic: dict[str, str] = {}
        if kind == "ohlc":
            intervals = payload.get("intervals", ["1m"])
            candle = payload.get("type", "classic")
            if (
                not isinstance(intervals, list)
                or not intervals
                or not all(isinstance(i, str) and i in INTERVALS for i in intervals)
            ):
                return self._fail(
                    wire_id, -1102, "Parameter 'intervals' was malformed.", now, destination
                )
            if candle not in ("classic", "heikin-ashi"):
                return self._fail(
                    wire_id, -1102, "Parameter 'type' was malformed.", now, destination
                )
            prefix = "ohlc" if candle == "classic" else "heikin-ashi"
            for symbol in symbols:
                for interval in intervals:
                    by_topic[f"{prefix}:{interval}:{symbol}"] = symbol
        else:
            for symbol in symbols:
                by_topic[f"{kind}:{symbol}"] = symbol
        if len(by_topic) > self.session.room_for_topics() or not self.session.can_hold():
            return self._fail(wire_id, -1003, "Too many subscriptions.", now, destination)
        if not self.state.charge(f"connection:{self.connection_id}", ("request",), now):
            return self._fail(wire_id, -1003, "Too many requests.", now, destination)
        handle = self.session.hold(echo_id(wire_id), now, meta=destination)
        ordered = tuple(dict.fromkeys(symbols))
        self._subscribe_meta[handle] = (destination, ordered, by_topic)
        self.session.emit(
            SubscribeReceived(
                connection_id=self.connection_id,
                request_id=handle,
                kind=kind,
                symbols=ordered,
                topics=tuple(by_topic),
            )
        )
        return None

    def _on_close(self, session: ServerSession, why: str) -> None:
        self._subscribe_meta.clear()
        session.emit(SessionClosed(connection_id=self.connection_id, reason=why))

    def __repr__(self) -> str:
        return f"currencycom.ServerProtocol({self.session!r})"


assert set(KINDS) >= set(_PUSH_DESTINATION)
