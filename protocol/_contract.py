"""The driving contract every venue machine follows (docs/architecture.md, "The driving contract").

A machine is pure: it is told the time (``now``, seconds as a float, from whatever clock
the caller uses) and fed complete WebSocket text messages; it queues outbound messages
and events for the caller to drain.  Outbound traffic is buffered rather than returned
from ``send`` because much of it nobody asked for (heartbeat answers, token refreshes,
resubscribes, resyncs).

The WebSocket stack wraps a machine into the same shape one level down, bytes in and
bytes out, so a custom transport only moves bytes and calls ``handle_timer`` at
``next_deadline``.

Two additions to the shape in docs/architecture.md, both polled rather than pushed so a caller
cannot miss them:

* ``close_request``: set when the machine wants the connection closed (Deribit's server
  closing with 4000 after an unanswered ``test_request``; a client declaring a silent
  peer dead).  Messages queued before it are sent first.
* server machines answer ``decide_upgrade`` so a venue can refuse the WebSocket upgrade
  (401, 403, 429) or pick the subprotocol to echo (Rails' ``authorization#<JWT>``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from urllib.parse import urlencode

import msgspec

from ._events import Command, Event
from ._sources import RequestId

__all__ = [
    "AcceptUpgrade",
    "ClientMachine",
    "CloseRequest",
    "Handshake",
    "Machine",
    "RejectUpgrade",
    "ServerMachine",
    "UpgradeRequest",
]

Headers = tuple[tuple[str, str], ...]


class Handshake(msgspec.Struct, frozen=True, kw_only=True):
    """What a client machine needs from the WebSocket upgrade request.

    Read at every ``connection_made`` of the stack, so a machine can change it between
    connections (a refreshed JWT in Rails' subprotocol, a new one-time password).
    Header values may hold credentials; ``repr`` hides them.
    """

    path: str = "/"
    query: tuple[tuple[str, str], ...] = ()
    subprotocols: tuple[str, ...] = ()
    headers: Headers = ()

    @property
    def target(self) -> str:
        """The request target: the path and the url-encoded query string."""
        if not self.query:
            return self.path
        return f"{self.path}?{urlencode(self.query)}"

    def __repr__(self) -> str:
        headers = tuple((name, "<redacted>") for name, _ in self.headers)
        subprotocols = tuple(_redact_subprotocol(s) for s in self.subprotocols)
        return (
            f"Handshake(path={self.path!r}, query={self.query!r}, "
            f"subprotocols={subprotocols!r}, headers={headers!r})"
        )


def redact_subprotocol(value: str | None) -> str | None:
    """``value`` with the credential of an ``authorization#<JWT>`` style subprotocol
    masked (``authorization#<redacted>``); other values as they are."""
    return None if value is None else _redact_subprotocol(value)


def _redact_subprotocol(value: str) -> str:
    # "authorization#<JWT>" style values carry a credential after the marker.
    name, sep, _ = value.partition("#")
    return f"{name}#<redacted>" if sep else value


class UpgradeRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A client's WebSocket upgrade request, as a server machine sees it."""

    path: str
    query: tuple[tuple[str, str], ...]
    subprotocols: tuple[str, ...]
    headers: Headers
    peer: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def query_value(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or ``None``."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def __repr__(self) -> str:
        subprotocols = tuple(_redact_subprotocol(s) for s in self.subprotocols)
        return (
            f"UpgradeRequest(path={self.path!r}, query={self.query!r}, "
            f"subprotocols={subprotocols!r}, peer={self.peer!r})"
        )


class AcceptUpgrade(msgspec.Struct, frozen=True, kw_only=True):
    """Accept the upgrade, echoing ``subprotocol`` (one the client offered) if set."""

    subprotocol: str | None = None
    headers: Headers = ()


class RejectUpgrade(msgspec.Struct, frozen=True, kw_only=True):
    """Refuse the upgrade with an HTTP status (401, 403, 429 ...) and a short body."""

    status: int
    body: bytes = b""
    headers: Headers = ()


class CloseRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The machine wants the connection closed.

    ``abort=False``: a WebSocket close handshake with ``code`` and ``reason``.
    ``abort=True``: drop the transport at once (the peer is presumed dead).
    ``planned=True``: the machine closes to reconnect on purpose (a renewed credential
    in its next handshake), not because anything failed: a reconnecting client stack
    resets its backoff and dials again at its first, shortest delay.
    """

    code: int = 1000
    reason: str = ""
    abort: bool = False
    planned: bool = False


@runtime_checkable
class Machine(Protocol):
    """The shape shared by every client and server venue machine."""

    def connection_made(self, now: float) -> None:
        """The transport is up (after the WebSocket upgrade)."""

    def receive_message(self, data: bytes | str, now: float) -> None:
        """One complete WebSocket text message from the peer."""

    def send(self, command: Command, now: float) -> RequestId | None:
        """Queue a typed command; returns its request id when it has one."""

    def handle_timer(self, now: float) -> None:
        """Fire whatever is due at ``now``."""

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must be called next, or ``None``."""

    def connection_lost(self, now: float) -> None:
        """The transport is gone: pending requests fail; subscriptions stay desired."""

    def messages_to_send(self) -> list[bytes]:
        """Drain queued outbound messages, oldest first."""

    def events(self) -> list[Event]:
        """Drain queued events, oldest first."""

    @property
    def close_request(self) -> CloseRequest | None:
        """Set when the machine wants this connection closed."""


@runtime_checkable
class ClientMachine(Machine, Protocol):
    """A client machine also says how to open the WebSocket."""

    @property
    def handshake(self) -> Handshake:
        """Path, query, subprotocols and headers for the next upgrade request."""


@runtime_checkable
class ServerMachine(Machine, Protocol):
    """A server machine also decides whether to accept an upgrade."""

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        """Accept (optionally echoing a subprotocol) or refuse the upgrade request."""
