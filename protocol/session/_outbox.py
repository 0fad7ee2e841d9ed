"""The requests of a client session: where each one is, until it resolves exactly once.

Every request, the user's and the machine's own (login, heartbeat set-up, probe answers,
pings, subscribes, a policy's snapshot requests), has one record (:class:`Req`) and one
entry in the core :class:`~tradewire.protocol.RequestTable`, which holds its deadline and
resolves it exactly once.  A record moves through phases::

    HELD --(connected; authenticated if it needs to be)--> PACED --(tokens)--> SENT
     ^                                                       |                   |
     +------------- connection lost (it was not sent) -------+                   |
     +------------- rate-limited, and the refill comes before the deadline ------+

A request on the wire when the connection drops fails with ``ConnectionLost`` (the venue
may have executed it); one not yet sent goes back to ``HELD`` and waits for the next
connection, within its deadline.  The machine's own requests belong to one connection
and are dropped with it; the machine makes new ones on the next.  A user's subscription
request is ``VIRTUAL``: never sent itself, resolved by the ledger.

A request is *prepared* by the codec when it is opened (validated, perhaps pre-encoded:
a bad command raises in ``send``) and *encoded* when it is released to the wire, with the
time of release, so a venue that signs or timestamps requests signs them fresh, a retry
included.  ``PACED`` requests wait in the core :class:`~tradewire.protocol.Pacer`; the
machine's control requests (login, refresh, heartbeat set-up, probe answers, pings) go
ahead of queued user requests.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from .._bounded import BoundedQueue
from .._errors import ConnectionLost, LocalProtocolError, RequestFailure
from .._events import Command, Event, RequestFailed
from .._requests import RequestTable
from .._sources import IdSource, RequestId
from ._policies import ClientCodec, CommandInfo, Costs, Pacing
from ._ratelimit import Pacer

__all__ = ["PRIORITY", "USER_KINDS", "Kind", "Outbox", "Phase", "Req"]


class Kind(enum.Enum):
    """Whose request it is and what its answer means."""

    USER = "user"
    UNANSWERED = "unanswered"  # a user's request the venue never answers (a logout)
    SUBSCRIPTION = "subscription"  # a user's subscription command (VIRTUAL)
    AUTH = "auth"
    REFRESH = "refresh"
    SETUP = "setup"  # the heartbeat set-up
    PROBE = "probe"  # an answer to a venue probe
    PING = "ping"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    POLICY = "policy"  # a policy's own request (a book snapshot): see SessionHost.request


USER_KINDS = frozenset((Kind.USER, Kind.UNANSWERED, Kind.SUBSCRIPTION))
PRIORITY = frozenset((Kind.AUTH, Kind.REFRESH, Kind.SETUP, Kind.PROBE, Kind.PING))


class Phase(enum.Enum):
    HELD = "held"  # waiting for a connection or for authentication
    PACED = "paced"  # in the pacer, waiting for tokens
    SENT = "sent"  # on the wire
    VIRTUAL = "virtual"  # never sent itself


_VIRTUAL_INFO = CommandInfo(name="subscription")


NOT_REFUSED, WAITING, RETRIED = 0, 1, 2
"""``Req.reauth``: never refused for its token, waiting for a new one, retried with it."""


class Req:
    """One request's record: its kind, command facts, prepared form and phase."""

    __slots__ = ("costs", "info", "kind", "phase", "prepared", "reauth")

    def __init__(self, kind: Kind, info: CommandInfo, prepared: Any, costs: Costs) -> None:
        self.kind = kind
        self.info = info
        self.prepared = prepared
        self.costs = costs
        self.phase = Phase.HELD
        #: A credentials refusal of this request: ``WAITING`` for the new token it is
        #: retried with, then ``RETRIED`` (a second refusal is final).
        self.reauth = NOT_REFUSED

    @property
    def needs_auth(self) -> bool:
        return self.info.needs_auth

    def __repr__(self) -> str:
        return f"Req({self.kind.value}, {self.info.name}, {self.phase.value})"


class Outbox:
    """The table, the records, the held set, the pacer and the outbound queue."""

    def __init__(
        self,
        *,
        codec: ClientCodec,
        ids: IdSource,
        max_pending: int,
        internal_room: int,
        default_timeout: float,
        pacing: Pacing | None,
        out: BoundedQueue[bytes],
        events: BoundedQueue[Event],
    ) -> None:
        self.codec = codec
        self.ids = ids
        self.max_pending = max_pending
        self.table = RequestTable(
            ids=ids, max_pending=max_pending + internal_room, default_timeout=default_timeout
        )
        self.reqs: dict[RequestId, Req] = {}
        self.held: dict[RequestId, None] = {}  # an insertion-ordered set
        self.user_count = 0
        self.pacer: Pacer[RequestId] = Pacer(max_queued=max_pending + internal_room)
        self.pacing = pacing
        self.out = out
        self.events = events

    # -- opening --------------------------------------------------------------------------

    def check_pending(self) -> None:
        """``max_pending`` bounds the user's requests; the machine's own do not count."""
        if self.user_count >= self.max_pending:
            raise LocalProtocolError(
                f"too many pending requests (limit max_pending={self.max_pending}); "
                "wait for answers or raise the limit"
            )

    def open(
        self,
        kind: Kind,
        command: Command,
        now: float,
        *,
        timeout: float | None = None,
        info: CommandInfo | None = None,
    ) -> tuple[RequestId, Req]:
        """Prepare and record a request (``HELD``); raises before recording anything."""
        request_id = self.ids()
        if info is None:
            info = self.codec.describe(command)
        prepared = self.codec.prepare(request_id, command)
        costs = () if self.pacing is None else self.pacing.costs(info)
        req = Req(kind, info, prepared, costs)
        self._record(request_id, req, command, now, timeout)
        return request_id, req

    def open_virtual(
        self, command: Command, now: float, *, timeout: float | None = None
    ) -> tuple[RequestId, Req]:
        """A user's subscription command: a deadline and a result, never a message."""
        request_id = self.ids()
        req = Req(Kind.SUBSCRIPTION, _VIRTUAL_INFO, None, ())
        req.phase = Phase.VIRTUAL
        self._record(request_id, req, command, now, timeout)
        return request_id, req

    def _record(
        self, request_id: RequestId, req: Req, command: Command, now: float, timeout: float | None
    ) -> None:
        self.table.open(command, now, timeout=timeout, context=req, request_id=request_id)
        self.reqs[request_id] = req
        if req.kind in USER_KINDS:
            self.user_count += 1

    # -- moving through the phases --------------------------------------------------------

    def hold(self, request_id: RequestId, req: Req) -> None:
        req.phase = Phase.HELD
        self.held[request_id] = None

    def submit(self, request_id: RequestId, req: Req, *, front: bool = False) -> None:
        """Into the pacer; ``front`` puts a control request ahead of queued user ones."""
        req.phase = Phase.PACED
        pacer = self.pacer
        if not front or not len(pacer):
            pacer.submit(request_id, req.costs)
            return
        queued = pacer.clear()  # rare (a login, a probe answer): rebuild the order
        reqs = self.reqs
        for r in queued:
            if reqs[r].kind in PRIORITY:
                pacer.submit(r, reqs[r].costs)
        pacer.submit(request_id, req.costs)
        for r in queued:
            if reqs[r].kind not in PRIORITY:
                pacer.submit(r, reqs[r].costs)

    def flush_held(self, can_send: Callable[[Req], bool]) -> None:
        """Held requests that may go now move to the pacer, in order."""
        for request_id in list(self.held):
            req = self.reqs[request_id]
            if can_send(req):
                del self.held[request_id]
                self.submit(request_id, req)

    def release(self, now: float) -> list[tuple[RequestId, Req]]:
        """The paced requests the buckets allow now (their tokens are taken)."""
        reqs = self.reqs
        return [(r, reqs[r]) for r in self.pacer.release(now)]

    def send(self, req: Req, now: float) -> None:
        """Encode ``req`` as of ``now`` and queue it for the wire."""
        req.phase = Phase.SENT
        self.out.append(self.codec.encode(req.prepared, now))

    def sent(self, request_id: RequestId | None) -> Req | None:
        """The request an answer is for: one of ours, on the wire; else ``None``."""
        if request_id is None:
            return None
        req = self.reqs.get(request_id)
        return req if req is not None and req.phase is Phase.SENT else None

    def command(self, request_id: RequestId) -> Command:
        entry = self.table.get(request_id)
        assert entry is not None
        return entry.command

    def refilled_in_time(self, request_id: RequestId, req: Req, now: float) -> bool:
        """Rate-limited: empty the request's buckets; whether they refill before its
        deadline."""
        if not req.costs:
            return False
        ready = now
        for bucket, cost in req.costs:
            bucket.empty(now)
            ready = max(ready, bucket.ready_at(cost))
        entry = self.table.get(request_id)
        return entry is not None and ready < entry.deadline

    # -- resolving ------------------------------------------------------------------------

    def forget(self, request_id: RequestId) -> Req | None:
        """Drop the record of a request that is resolved (or about to be)."""
        req = self.reqs.pop(request_id, None)
        if req is None:
            return None
        if req.phase is Phase.HELD:
            self.held.pop(request_id, None)
        elif req.phase is Phase.PACED:
            self.pacer.remove(lambda r: r == request_id)
        if req.kind in USER_KINDS:
            self.user_count -= 1
        return req

    def succeed(self, request_id: RequestId, result: object) -> None:
        self.forget(request_id)
        event = self.table.succeed(request_id, result)
        if event is not None:
            self.events.append(event)

    def fail(self, request_id: RequestId, error: RequestFailure) -> Req | None:
        req = self.forget(request_id)
        event = self.table.fail(request_id, error)
        if event is not None:
            self.events.append(event)
        return req

    def drop(self, request_id: RequestId) -> None:
        """Resolve one of the machine's own requests (it reports nothing)."""
        self.forget(request_id)
        self.table.pop(request_id)

    def expire(self, now: float) -> list[tuple[RequestFailed, Req]]:
        """Requests past their deadline, already forgotten, with their records."""
        expired: list[tuple[RequestFailed, Req]] = []
        for failed in self.table.expire(now):
            req = self.forget(failed.request_id)
            if req is not None:
                expired.append((failed, req))
        return expired

    def connection_lost(self) -> None:
        """Sent user requests fail (an unanswered one succeeds: the venue closing *is*
        its answer); unsent ones are held again, in order; the machine's own are
        dropped."""
        paced = self.pacer.clear()
        self.out.drain()  # never sent: they die with the connection
        for request_id, req in list(self.reqs.items()):
            if req.kind not in USER_KINDS:
                del self.reqs[request_id]
                self.table.pop(request_id)
            elif req.phase is Phase.SENT:
                if req.kind is Kind.UNANSWERED:
                    self.succeed(request_id, None)
                else:
                    self.fail(request_id, ConnectionLost("connection lost"))
        held: dict[RequestId, None] = {}
        for request_id in paced:
            req_ = self.reqs.get(request_id)
            if req_ is not None:
                req_.phase = Phase.HELD
                held[request_id] = None
        held.update(self.held)
        self.held = held

    def next_deadline(self, *, paced: bool) -> float | None:
        """The earliest request deadline, and the pacer's next release when ``paced``."""
        best = self.table.next_deadline()
        if paced and len(self.pacer):
            ready = self.pacer.next_deadline()
            if ready is not None and (best is None or ready < best):
                best = ready
        return best
