"""The error hierarchy of tradewire.

Two kinds of protocol error, as in h11 and wsproto:

* :class:`LocalProtocolError`: *you* (the caller) misused the machine: a bad argument,
  a command in the wrong state, a full queue you did not drain.  The message names the
  argument or bound and the accepted values.  Nothing was consumed or queued.
* :class:`RemoteProtocolError`: the *peer* broke the protocol: garbage bytes, an
  undecodable message, an oversize frame.  Receive paths raise nothing else.

Outcomes of requests are not protocol errors.  A venue answering "no" is a normal,
typed result: :class:`RequestFailure` and its subclasses are carried by
``RequestFailed`` events, and bindings raise them when a caller awaits the request.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConnectionLost",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestFailure",
    "RequestTimeout",
    "VenueError",
]


class ProtocolError(Exception):
    """Base class of :class:`LocalProtocolError` and :class:`RemoteProtocolError`."""


class LocalProtocolError(ProtocolError):
    """The caller misused the machine; nothing was consumed or queued."""


class RemoteProtocolError(ProtocolError):
    """The peer violated the protocol.

    ``close_code`` is the WebSocket close code the stack sent (or would send) because of
    it, when the violation ends the connection, else ``None``.  ``position`` is set by a
    batch receive (``receive_messages``): the index of the refused message in the batch.
    """

    def __init__(self, message: str, *, close_code: int | None = None) -> None:
        super().__init__(message)
        self.close_code = close_code
        self.position: int | None = None


class RequestFailure(Exception):
    """Why a request did not produce a result.  Carried by ``RequestFailed`` events."""


class VenueError(RequestFailure):
    """The venue answered the request with an error.

    ``code`` is the venue's own code (an int for Deribit, a string such as
    ``"InvalidToken"`` for Deriv), ``message`` its short text and ``data`` any extra
    detail it sent.  Venue packages subclass this per documented code family so callers
    can ``except deribit.TooManyRequests``.
    """

    def __init__(self, code: int | str, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}" if message else str(code))
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class RequestTimeout(RequestFailure):
    """No answer arrived before the request's deadline."""


class ConnectionLost(RequestFailure):
    """The connection ended before the request was answered."""
