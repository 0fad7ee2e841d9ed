"""Loop-agnostic pieces every binding uses: URLs, TLS defaults, added events, shapes.

* URL parsing (:func:`parse_ws_url`, :func:`parse_http_url`) and how a URL's path and
  query combine with a machine's :class:`~tradewire.protocol.Handshake`
  (:func:`merge_handshake`);
* TLS defaults (:func:`client_ssl_context`): verification on for ``wss://`` and
  ``https://``, SNI = the URL's host, a caller's :class:`ssl.SSLContext` taken as given;
* the events and the error the bindings add: :class:`Lagging`, :class:`DialFailed`,
  :class:`ProtocolViolation`, :class:`ConnectFailed`;
* the shapes ``serve()`` drives: :class:`ServerConnection` and :class:`AppTimer`.

Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

import msgspec

from tradewire.protocol import (
    ClientMachine,
    CloseRequest,
    Command,
    Event,
    Handshake,
    LocalProtocolError,
    RequestId,
)

__all__ = [
    "CLOSE_GRACE",
    "TLS_HANDSHAKE_TIMEOUT",
    "DEFAULT_MAX_HELD_INPUT",
    "DEFAULT_MAX_QUEUED_EVENTS",
    "DEFAULT_MAX_WRITE_BUFFER",
    "WRITE_HIGH_WATER",
    "AppTimer",
    "ConnectFailed",
    "DialFailed",
    "Endpoint",
    "EventsCallback",
    "Lagging",
    "ProtocolViolation",
    "ServerConnection",
    "client_ssl_context",
    "describe",
    "format_peer",
    "merge_handshake",
    "never",
    "parse_http_url",
    "parse_ws_url",
    "tracks_work",
    "with_url_target",
]

#: Default bound of a client's event queue (``max_queued_events``): the same as the
#: stack's own ``max_events``, a few seconds of a busy Deribit feed.
DEFAULT_MAX_QUEUED_EVENTS = 10_000

#: Outbound bytes a client may buffer before ``send()`` waits for the socket to drain.
WRITE_HIGH_WATER = 1 << 20

#: Outbound bytes a server connection may buffer before it is dropped as too slow.
DEFAULT_MAX_WRITE_BUFFER = 16 << 20

#: Bytes of unfinished input (incomplete messages, request heads and bodies) a server
#: holds across all its connections (``serve(max_held_input=...)``); past it, the
#: connection that has held input the longest is dropped.  Each connection's own share
#: is bounded by its stack (a Deribit request: 32 kB), so this is what a crowd of
#: hostile connections that never finish a message can make the server hold.
DEFAULT_MAX_HELD_INPUT = 64 << 20

#: Seconds a transport gets to flush and close before it is aborted.
CLOSE_GRACE = 5.0

#: Seconds a server gives an accepted client to complete the TLS handshake.
TLS_HANDSHAKE_TIMEOUT = 10.0


# -- events and errors the bindings add ------------------------------------------------------


class Lagging(Event, frozen=True, kw_only=True):
    """The consumer fell behind: reading the socket was paused for ``paused_for`` s.

    Delivered where the stream resumes, after the events queued before the pause.
    Nothing was lost in between (TCP held the bytes), but everything after this event
    is at least ``paused_for`` seconds late, and the venue may have dropped the
    connection meanwhile (see :class:`ClientCore`).  ``limit`` is ``max_queued_events``.
    """

    paused_for: float
    limit: int


class DialFailed(Event, frozen=True, kw_only=True):
    """A reconnect could not open a transport (TCP or TLS); the stack backs off again."""

    attempt: int
    error: str


class ProtocolViolation(Event, frozen=True, kw_only=True):
    """The peer broke the WebSocket or HTTP protocol; the stack closed the connection.

    ``close_code`` is the WebSocket close code sent because of it, if any.
    """

    reason: str
    close_code: int | None


class ConnectFailed(ConnectionError):
    """The first connection of ``connect()`` was opened but the upgrade failed.

    (A failed TCP or TLS dial raises the :class:`OSError` itself, for example
    :class:`ssl.SSLCertVerificationError`.)  ``event`` is the stack's event that said
    why (:class:`~tradewire.protocol.UpgradeRejected`, ``ConnectionDead``), if any.
    """

    def __init__(self, message: str, event: Event | None = None) -> None:
        super().__init__(message)
        self.event = event


# -- URLs and TLS ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect, from a ``ws://``, ``wss://``, ``http://`` or ``https://`` URL."""

    secure: bool
    host: str  # without IPv6 brackets: what TCP and SNI use
    port: int
    path: str  # "" when the URL has none
    query: str
    default_port: int

    @property
    def host_header(self) -> str:
        """The ``Host`` header: ``host`` or ``host:port``, IPv6 literals bracketed."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == self.default_port else f"{host}:{self.port}"


_WS_SCHEMES = {"ws": (False, 80), "wss": (True, 443)}
_HTTP_SCHEMES = {"http": (False, 80), "https": (True, 443)}


def _parse(url: str, schemes: dict[str, tuple[bool, int]], argument: str) -> Endpoint:
    if not isinstance(url, str):
        raise LocalProtocolError(f"invalid {argument}: expected a str, got {url!r}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "ws://[::1": an unclosed IPv6 literal, ...
        raise LocalProtocolError(f"invalid {argument}: {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        accepted = ", ".join(f"{s}://" for s in schemes)
        raise LocalProtocolError(f"invalid {argument}: {url!r}; accepted schemes: {accepted}")
    try:
        port = parts.port
    except ValueError:
        raise LocalProtocolError(f"invalid {argument}: {url!r} has a bad port") from None
    if not parts.hostname:
        raise LocalProtocolError(f"invalid {argument}: {url!r} has no host")
    if parts.username or parts.password or parts.fragment:
        raise LocalProtocolError(
            f"invalid {argument}: {url!r}; no credentials or fragment in the URL"
        )
    secure, default_port = schemes[scheme]
    return Endpoint(
        secure=secure,
        host=parts.hostname,
        port=port if port is not None else default_port,
        path=parts.path,
        query=parts.query,
        default_port=default_port,
    )


def parse_ws_url(url: str) -> Endpoint:
    """Parse a ``ws://`` or ``wss://`` URL; its path and query may name the endpoint."""
    return _parse(url, _WS_SCHEMES, "url")


def parse_http_url(url: str) -> Endpoint:
    """Parse an ``http://`` or ``https://`` base URL (no path: requests carry full paths).

    A path prefix is refused rather than joined: Deribit signs the exact request-target,
    so the binding must not rewrite the paths the machine built.
    """
    endpoint = _parse(url, _HTTP_SCHEMES, "base_url")
    if endpoint.path not in ("", "/") or endpoint.query:
        raise LocalProtocolError(
            f"invalid base_url: {url!r}; give scheme, host and port only "
            "(HTTPRequest.path carries the full path)"
        )
    return endpoint


def client_ssl_context(endpoint: Endpoint, context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    """The context to dial with: the caller's, else a verifying default for TLS URLs."""
    if context is not None and not isinstance(context, ssl.SSLContext):
        raise LocalProtocolError(f"invalid ssl: expected an ssl.SSLContext, got {context!r}")
    if not endpoint.secure:
        if context is not None:
            raise LocalProtocolError(
                "invalid ssl: an SSLContext was given for a plain ws:// or http:// URL; "
                "use wss:// or https://"
            )
        return None
    return context if context is not None else ssl.create_default_context()


def merge_handshake(
    handshake: Handshake, endpoint: Endpoint, *, prefer_url: bool = False
) -> Handshake:
    """The machine's handshake with the URL filling what the machine leaves open.

    The machine wins: its path is used unless it is ``"/"`` (the default), in which case
    the URL's path is used; its query is used unless it is empty, in which case the URL's
    query is used.  So ``wss://www.deribit.com/ws/api/v2`` works with a machine that
    says nothing about paths, and a machine that knows its path cannot be pointed
    elsewhere by a URL.  With ``prefer_url`` the URL wins where it says something (a
    path other than ``/``, a query): what a user typed (``tradewire stream --url``).
    """
    path = handshake.path
    if (path == "/" or prefer_url) and endpoint.path not in ("", "/"):
        path = endpoint.path
    query = handshake.query
    if (not query or prefer_url) and endpoint.query:
        query = tuple(parse_qsl(endpoint.query, keep_blank_values=True))
    if path is handshake.path and query is handshake.query:
        return handshake
    return msgspec.structs.replace(handshake, path=path, query=query)


class _URLTargetMachine:
    """A client machine whose ``handshake`` is merged with the URL; all else is its own.

    The driving methods are the inner machine's bound methods, stored on the instance,
    so the hot path pays no extra call.
    """

    def __init__(self, machine: ClientMachine, endpoint: Endpoint, prefer_url: bool) -> None:
        self.inner = machine
        self._endpoint = endpoint
        self._prefer_url = prefer_url
        self.connection_made: Callable[[float], None] = machine.connection_made
        self.receive_message: Callable[[bytes | str, float], None] = machine.receive_message
        self.send: Callable[[Command, float], RequestId | None] = machine.send
        self.handle_timer: Callable[[float], None] = machine.handle_timer
        self.next_deadline: Callable[[], float | None] = machine.next_deadline
        self.connection_lost: Callable[[float], None] = machine.connection_lost
        self.messages_to_send: Callable[[], list[bytes]] = machine.messages_to_send
        self.events: Callable[[], list[Event]] = machine.events

    @property
    def close_request(self) -> CloseRequest | None:
        return self.inner.close_request

    @property
    def handshake(self) -> Handshake:
        return merge_handshake(self.inner.handshake, self._endpoint, prefer_url=self._prefer_url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def with_url_target(
    machine: ClientMachine, endpoint: Endpoint, *, prefer_url: bool = False
) -> ClientMachine:
    """``machine`` itself when the URL adds nothing to its handshake, else a thin proxy
    (see :func:`merge_handshake` for ``prefer_url``)."""
    if endpoint.path in ("", "/") and not endpoint.query:
        return machine
    return _URLTargetMachine(machine, endpoint, prefer_url)


def never() -> bool:
    """A hook's default where the answer is "no" until a client sets its own (is a
    consumer waiting, is a read kept for it)."""
    return False


def describe(error: BaseException) -> str:
    """``Type: message`` of an exception, for events and logs."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def format_peer(address: Any) -> str | None:
    """``host:port`` of a socket address, for logs and ``UpgradeRequest.peer``."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return None if address is None else str(address)


# -- what serve() drives -----------------------------------------------------------------------


@runtime_checkable
class ServerConnection(Protocol):
    """The bytes-level object ``serve()`` drives for one accepted connection.

    :class:`~tradewire.protocol.WebSocketServerStack`,
    :class:`~tradewire.protocol.HTTPServerStack` and
    :class:`~tradewire.bindings.UpgradeOrHTTP` have this shape.

    Optional attributes ``serve()`` uses when present:

    * ``wakeup``, declared on the class (an instance attribute, or one a wrapper
      forwards with ``__getattr__``, does not count: see :func:`tracks_work`):
      ``serve()`` stores a callable there; the object calls it whenever
      application code queued output, events or a close on it (its ``send``,
      ``respond``, ``close`` ...), so after an event only the connections written to are
      settled.  Without it, the connection is settled after every application callback
      (correct, but the cost of each event then grows with such connections);
    * ``tracked``: ``False`` when the object has ``wakeup`` but can no longer honour it
      (a router whose inner stack has none); it is then settled every time;
    * ``buffered``: bytes held for unfinished input, bounded across connections by
      ``max_held_input`` (:data:`DEFAULT_MAX_HELD_INPUT`).
    """

    @property
    def should_close_transport(self) -> bool: ...

    def connection_made(self, now: float) -> None: ...

    def receive_data(self, data: bytes, now: float) -> None: ...

    def data_to_send(self) -> bytes: ...

    def events(self) -> list[Event]: ...

    def handle_timer(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def connection_lost(self, now: float) -> None: ...


@runtime_checkable
class AppTimer(Protocol):
    """An application-wide timer ``serve()`` drives (a simulated market, say)."""

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> None: ...


def tracks_work(connection: object) -> bool:
    """``connection``'s class declares ``wakeup``: it says when it has work.

    Only the class counts, so a wrapper that forwards attributes to a stack does not
    claim to report its own state changes.
    """
    return hasattr(type(connection), "wakeup")


#: ``on_events(connection, events, now)``: a connection's events, with the loop's time
#: (so the application can call ``respond(..., now=now)`` or ``send(command, now)``).
EventsCallback = Callable[[Any, list[Event], float], None]
