"""The driving contract of a venue's server machine, forwarded to its session.

A venue's ``ServerProtocol`` composes a :class:`~tradewire.protocol.session.ServerSession`
(``self.session``, built from the venue's ``ServerSpec``) and takes this front for the
methods every server machine has and that the session answers by itself: the stack and
the bindings drive the machine, the machine hands everything to the session.  A venue
writes a method here again only to add its own behaviour around the session's (Deriv
writes an ``InvalidAppID`` error when the connection opens, Rails moves its feeds on a
timer).
"""

from __future__ import annotations

from .._contract import AcceptUpgrade, CloseRequest, RejectUpgrade, UpgradeRequest
from .._events import Event
from ._server import ServerSession

__all__ = ["SessionFront"]


class SessionFront:
    """The session-backed part of a server machine (see the module docstring)."""

    session: ServerSession

    # -- inspection -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Requests are being taken and answers sent."""
        return self.session.is_open

    @property
    def phase(self) -> str:
        """``"new"``, ``"open"``, ``"closing"`` (the machine asked for the close) or
        ``"closed"`` (``connection_lost`` was called)."""
        return self.session.phase.value

    @property
    def close_request(self) -> CloseRequest | None:
        return self.session.close_request

    @property
    def pending_requests(self) -> int:
        """Requests held for the venue and not answered yet."""
        return self.session.pending_requests

    # -- the driving contract -------------------------------------------------------------

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        return self.session.decide_upgrade(request, now)

    def connection_made(self, now: float) -> None:
        self.session.connection_made(now)

    def receive_message(self, data: bytes | str, now: float) -> None:
        self.session.receive_message(data, now)

    def handle_timer(self, now: float) -> None:
        self.session.handle_timer(now)

    def next_deadline(self) -> float | None:
        return self.session.next_deadline()

    def connection_lost(self, now: float) -> None:
        self.session.connection_lost(now)

    def ping_received(self, now: float) -> None:
        """A control-frame ping the stack answered: liveness for the session's idle close
        when the venue's spec says pings count (``pings_are_activity``)."""
        self.session.ping_received(now)

    def messages_to_send(self) -> list[bytes]:
        return self.session.messages_to_send()

    def events(self) -> list[Event]:
        return self.session.events()
