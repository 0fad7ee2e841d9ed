"""What the strategies generate: the sample types and the book-chain faults.

Plain frozen structs, so a test can compare, print and pickle them; every strategy
module builds on these and the package re-exports them.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from tradewire.protocol import RequestId
from tradewire.protocol.deribit import (
    BookGap,
    BookResynced,
    BookUpdate,
    ChannelEvent,
    DeribitCommand,
    DeribitError,
    ErrorResponse,
    Heartbeat,
    Response,
    TestRequest,
)

__all__ = [
    "FAULT_KINDS",
    "BookChain",
    "ChainFault",
    "FaultKind",
    "InvalidMessage",
    "InvalidRequest",
    "PushSample",
    "RequestSample",
    "ResponseSample",
]


class RequestSample(msgspec.Struct, frozen=True, kw_only=True):
    """A client request: ``data`` is ``encode_request(request_id, command)``."""

    command: DeribitCommand
    request_id: RequestId
    data: bytes


class ResponseSample(msgspec.Struct, frozen=True, kw_only=True):
    """A venue answer to ``command`` sent as ``request_id``.

    ``expected`` is what ``decode_inbound(data)`` gives.  For a success, ``result`` is
    what ``decode_result(command, expected.result)`` gives (the typed result); for an
    error, ``error`` is the exception ``expected.exception()`` gives.
    """

    command: DeribitCommand
    request_id: RequestId | None
    data: bytes
    expected: Response | ErrorResponse
    result: Any = None
    error: DeribitError | None = None


class PushSample(msgspec.Struct, frozen=True, kw_only=True):
    """A notification or heartbeat frame and the event ``decode_inbound`` gives for it."""

    data: bytes
    expected: ChannelEvent | Heartbeat | TestRequest


class InvalidMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A venue message a client must refuse (``decode_inbound`` raises
    ``RemoteProtocolError``); ``kind`` is one of :data:`INVALID_MESSAGE_KINDS`."""

    kind: str
    data: bytes
    reason: str


class InvalidRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A client message a venue must refuse with exactly one error answer.

    ``code`` and ``request_id`` are what tradewire's ``ServerProtocol`` answers with
    (the table in ``_wire_server``: Deribit's own codes where known, documented choices
    elsewhere); ``kind`` is one of :data:`INVALID_REQUEST_KINDS`.
    """

    kind: str
    data: bytes
    reason: str
    code: int
    request_id: RequestId | None


FaultKind = Literal["gap", "duplicate", "reorder"]
FAULT_KINDS: tuple[FaultKind, ...] = ("gap", "duplicate", "reorder")
"""What :func:`book_chains` can inject: a change lost, a change delivered twice, two
changes swapped."""


class ChainFault(msgspec.Struct, frozen=True, kw_only=True):
    """An injected fault; ``position`` is the index in ``BookChain.messages`` of the
    message that reveals it (the first one that does not continue the chain)."""

    kind: FaultKind
    position: int


class BookChain(msgspec.Struct, frozen=True, kw_only=True):
    """``book.{instrument}.{interval}`` notifications on one channel, as delivered.

    ``updates`` are the events the ``messages`` decode to.  ``gaps`` and ``resyncs``
    are exactly what a client following spec 4 reports (``BookGap`` per injected fault,
    ``BookResynced`` per snapshot that ends a stale period), computed by a small
    reference model of the rule, independent of ``ClientProtocol``.  ``bids`` and
    ``asks`` are the venue's book after the last message, which a client holds too
    when ``in_sync`` (the last fault, if any, was followed by a snapshot).
    """

    channel: str
    messages: tuple[bytes, ...]
    updates: tuple[BookUpdate, ...]
    faults: tuple[ChainFault, ...]
    gaps: tuple[BookGap, ...]
    resyncs: tuple[BookResynced, ...]
    bids: dict[float, float]
    asks: dict[float, float]
    in_sync: bool
