"""The reference Deribit venue for the binding tests, served by any binding's ``serve()``.

The binding tests drive tradewire's real Deribit client against the conformance kit's
reference venue (:class:`~tradewire.conformance.deribit.DeribitVenue`, started through
the venue registry as ``tradewire serve`` starts it), on a small market.  What they
provoke comes from the venue's fault plans: ``disconnect`` drops a connection without a
close frame, ``zombie`` makes one stop writing and reading without closing.

What is kept here, because the reference venue has no use for it: :class:`RequestLog`,
a record of the requests each WebSocket received (``public/auth`` with its grant type,
the subscribe calls with their channels) and of the closes the server saw, for the
tests' assertions about order (re-authenticated first, then exactly the desired set
resubscribed).  Authentication is handled inside the server machine and emits no event,
so the log reads each connection's messages as the machine receives them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.bindings._venues import REGISTRY, connection_factory, start_reference
from tradewire.conformance.deribit import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DeribitVenue
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import Event, WebSocketClosed
from tradewire.protocol.deribit import ClientProtocol, Credentials

CLIENT_ID = DEMO_CLIENT_ID
SECRET = DEMO_CLIENT_SECRET
DERIBIT = REGISTRY["deribit"]

SMALL = MarketConfig(weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1)
"""A market with few options, so its ticks are cheap."""

#: A public book, a raw book (needs an authenticated connection) and a private channel.
CHANNELS = (
    "book.BTC-PERPETUAL.100ms",
    "book.ETH-PERPETUAL.raw",
    "user.orders.BTC-PERPETUAL.raw",
)


class RequestLog:
    """The venue's connection factory and ``on_events``, recording what arrives.

    ``requests(n)``: ``(method, detail)`` of every request the ``n``-th WebSocket (from 0)
    received, ``detail`` being an auth's grant type or a subscribe call's channels;
    ``closed``: the :class:`WebSocketClosed` events the server saw.
    """

    def __init__(self, venue: DeribitVenue) -> None:
        self.venue = venue
        self.closed: list[WebSocketClosed] = []
        self._log: list[list[tuple[str, Any]]] = []
        self._websocket = venue.websocket_connection
        venue.websocket_connection = self._record  # type: ignore[method-assign]
        self._inner = connection_factory(DERIBIT, venue)  # with the recording factory

    def factory(self, peer: str | None) -> Any:
        return self._inner(peer)

    def _record(self, peer: str | None = None) -> Any:
        socket = self._websocket(peer)
        log: list[tuple[str, Any]] = []
        self._log.append(log)
        machine = socket.machine
        receive = machine.receive_message

        def logged(data: bytes | str, now: float) -> None:
            log.append(_summary(data))
            receive(data, now)

        machine.receive_message = logged
        return socket

    def on_events(self, connection: Any, events: list[Event], now: float) -> None:
        self.closed += [e for e in events if isinstance(e, WebSocketClosed)]
        self.venue.on_events(connection, events, now)

    def requests(self, connection: int) -> list[tuple[str, Any]]:
        return list(self._log[connection])


def _summary(data: bytes | str) -> tuple[str, Any]:
    try:
        message = msgspec.json.decode(data)
        method = message["method"]
        params = message.get("params") or {}
    except (msgspec.DecodeError, KeyError, TypeError, AttributeError):
        return "?", None
    if method == "public/auth":
        return method, params.get("grant_type")
    if method.endswith("subscribe"):
        return method, tuple(params.get("channels", ()))
    return method, None


def reference_venue(
    now: float, epoch_offset: float, *, faults: str | None = None
) -> tuple[DeribitVenue, RequestLog]:
    """The reference venue for a server whose clock reads ``now``, and its log."""
    venue = start_reference(
        DERIBIT, now=now, epoch_offset=epoch_offset, faults=faults, market=SMALL
    )
    assert isinstance(venue, DeribitVenue)
    return venue, RequestLog(venue)


def serve_options(venue: DeribitVenue, log: RequestLog) -> dict[str, Any]:
    """The keyword arguments of a binding's ``serve()`` for ``venue``."""
    return {"on_events": log.on_events, "app": venue}


# -- the client side ---------------------------------------------------------------------


def credentials() -> Credentials:
    return Credentials(client_id=CLIENT_ID, client_secret=SECRET)


def client_machine(**options: Any) -> ClientProtocol:
    """The real Deribit client machine, logging in with ``client_signature``."""
    options.setdefault("credentials", credentials())
    return ClientProtocol(**options)


def subscribe_calls(requests: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(m, d) for m, d in requests if m in ("public/subscribe", "private/subscribe")]
