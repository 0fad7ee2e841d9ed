"""The requests of the Deribit client: where each one is, until it resolves exactly once.

Every request, the user's and the machine's own (login, heartbeat, test answers,
subscribes), has one record (:class:`Req`) and one entry in the core
:class:`~tradewire.protocol.RequestTable`, which holds its deadline and resolves it
exactly once.  A record moves through phases::

    HELD --(connected; authenticated if it needs to be)--> PACED --(credits)--> SENT
     ^                                                       |                    |
     +------------- connection lost (it was not sent) -------+                    |
     +------------- 10028 and the refill comes before the deadline ---------------+

A request on the wire when the connection drops fails with ``ConnectionLost`` (the venue
may have executed it); one not yet sent goes back to ``HELD`` and waits for the next
connection, within its deadline.  The machine's own requests belong to one connection
and are dropped with it; the machine makes new ones on the next.  A user's
``Subscribe`` / ``Unsubscribe`` is ``VIRTUAL``: never sent itself, resolved by the ledger.

``PACED`` requests wait in the core :class:`~tradewire.protocol.Pacer`, one bucket per
credit pool (``_client_limits``).  The machine's control requests (login, refresh,
heartbeat, test answers) go ahead of queued user requests: an unanswered
``test_request`` closes the connection in 10 s.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from .._bounded import BoundedQueue
from .._errors import ConnectionLost, LocalProtocolError, RequestFailure
from .._events import Command, Event, RequestFailed
from .._requests import RequestTable
from .._sources import IdSource, RequestId
from ..session._ratelimit import Pacer
from ._client_limits import Costs
from ._commands import DeribitCommand, GenericRequest
from ._limits import RateClass
from ._methods import MethodInfo, method_info
from ._wire import encode_request

__all__ = ["PRIORITY", "USER_KINDS", "Kind", "Phase", "Req", "Requests"]


class Kind(enum.Enum):
    """Whose request it is and what its answer means."""

    USER = "user"
    LOGOUT = "logout"  # a user's private/logout: never answered
    SUBSCRIPTION = "subscription"  # a user's Subscribe / Unsubscribe (VIRTUAL)
    AUTH = "auth"
    REFRESH = "refresh"
    HEARTBEAT = "heartbeat"
    TEST = "test"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


USER_KINDS = frozenset((Kind.USER, Kind.LOGOUT, Kind.SUBSCRIPTION))
PRIORITY = frozenset((Kind.AUTH, Kind.REFRESH, Kind.HEARTBEAT, Kind.TEST))


class Phase(enum.Enum):
    HELD = "held"  # waiting for a connection or for authentication
    PACED = "paced"  # in the pacer, waiting for credits
    SENT = "sent"  # on the wire
    VIRTUAL = "virtual"  # never sent itself


class Req:
    """One request's record: its kind, method facts, encoded message and phase."""

    __slots__ = ("costs", "info", "kind", "payload", "phase", "token")

    def __init__(
        self, kind: Kind, info: MethodInfo | None, payload: bytes, costs: Costs, token: bool
    ) -> None:
        self.kind = kind
        self.info = info
        self.payload = payload  # encoded once: a retry or a reconnect sends the same bytes
        self.costs = costs
        self.token = token  # carries its own access_token: needs no connection auth
        self.phase = Phase.HELD

    @property
    def needs_auth(self) -> bool:
        return self.info is not None and self.info.requires_auth and not self.token

    def __repr__(self) -> str:
        method = self.info.method if self.info is not None else "-"
        return f"Req({self.kind.value}, {method}, {self.phase.value})"


def has_token(command: DeribitCommand | GenericRequest) -> bool:
    """The command authenticates itself with the documented ``access_token`` param."""
    if isinstance(command, GenericRequest):
        return "access_token" in command.params
    return command.access_token is not None


class Requests:
    """The table, the records, the held set, the pacer and the outbound queue."""

    def __init__(
        self,
        *,
        ids: IdSource,
        max_pending: int,
        internal_room: int,
        default_timeout: float,
        costs: dict[RateClass, Costs] | None,
        out: BoundedQueue[bytes],
        events: BoundedQueue[Event],
    ) -> None:
        self.ids = ids
        self.max_pending = max_pending
        self.table = RequestTable(
            ids=ids, max_pending=max_pending + internal_room, default_timeout=default_timeout
        )
        self.reqs: dict[RequestId, Req] = {}
        self.held: dict[RequestId, None] = {}  # an insertion-ordered set
        self.user_count = 0
        self.pacer: Pacer[RequestId] = Pacer(max_queued=max_pending + internal_room)
        self.costs = costs
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
        command: DeribitCommand | GenericRequest,
        now: float,
        *,
        timeout: float | None = None,
    ) -> tuple[RequestId, Req]:
        """Encode and record a request (``HELD``); raises before recording anything."""
        request_id = self.ids()
        info = method_info(command)
        costs = () if self.costs is None else self.costs[info.rate_class]
        req = Req(kind, info, encode_request(request_id, command), costs, has_token(command))
        self._record(request_id, req, command, now, timeout)
        return request_id, req

    def open_virtual(
        self, command: Command, now: float, *, timeout: float | None = None
    ) -> tuple[RequestId, Req]:
        """A user's Subscribe / Unsubscribe: a deadline and a result, never a message."""
        request_id = self.ids()
        req = Req(Kind.SUBSCRIPTION, None, b"", (), False)
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
        queued = pacer.clear()  # rare (a login, a test answer): rebuild the order
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
        """The paced requests the buckets allow now (their credits are taken)."""
        reqs = self.reqs
        return [(r, reqs[r]) for r in self.pacer.release(now)]

    def send(self, req: Req) -> None:
        req.phase = Phase.SENT
        self.out.append(req.payload)

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
        """10028: empty the request's buckets; whether they refill before its deadline."""
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
        """Sent user requests fail (a logout succeeds: the venue closing *is* its
        answer); unsent ones are held again, in order; the machine's own are dropped."""
        paced = self.pacer.clear()
        self.out.drain()  # never sent: they die with the connection
        for request_id, req in list(self.reqs.items()):
            if req.kind not in USER_KINDS:
                del self.reqs[request_id]
                self.table.pop(request_id)
            elif req.phase is Phase.SENT:
                if req.kind is Kind.LOGOUT:
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
