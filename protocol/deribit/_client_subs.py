"""Subscriptions of the Deribit client: the core ledger, Deribit's routing, user requests.

The :class:`~tradewire.protocol.SubscriptionLedger` holds desired / pending / active
channels.  :class:`Subscriptions` adds what is Deribit's:

* routing (spec 3.1, 3.2): a channel that needs auth (``user.*`` or a ``raw`` interval,
  from :func:`parse_channel`) goes through ``private/subscribe`` once the connection is
  authenticated; the others through ``public/subscribe`` at once.  Without credentials a
  ``raw`` public channel is still tried publicly, in requests of its own so that the
  venue's 13778 (which may refuse a whole request) takes no other channel with it;
* chunking to ``max_per_request`` channels and to the 32 kB frame (ledger ``max_chars``),
  never mixing the public and private methods;
* the diff of every acknowledgement against its request: a channel the venue left out
  silently (spec 3.1, 9.5) is a ``SubscriptionRejected`` naming it, never silence;
* the user's requests.  A :class:`Subscribe` resolves once every channel in it is active
  or rejected, a :class:`Unsubscribe` once every channel in it has ended.  They wait
  across reconnects (the ledger keeps the desired set), bounded by their deadlines; a
  timeout ends the request, not the intent.

Unsubscribing goes through ``*/unsubscribe`` of the channels, which the venue answers
with the channels removed; a venue error to it counts as removed (retrying would repeat
the error), while a timeout or lost connection leaves the channel active and retried.
So does a refused token (13009 ``unauthorized``, 10000): the venue removed nothing, and
the client re-authenticates, then sends the unsubscribe again.  A subscribe refused for
its token is likewise retried after re-authenticating, not rejected.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._bounded import BoundedQueue
from .._events import Event, SubscriptionActive, SubscriptionEnded, SubscriptionRejected
from .._sources import RequestId
from ..session._ledger import SubscriptionLedger, TopicState
from ._channels import parse_channel
from ._client_events import SubscribeResult, UnsubscribeResult
from ._limits import MAX_MESSAGE_SIZE

__all__ = ["DROPPED", "Plan", "Subscriptions"]

DROPPED = (
    "dropped by the venue without an error: missing from the subscribe acknowledgement "
    "(an unknown instrument or a bad parameter; spec 3.1)"
)
UNWANTED = "unsubscribed before the venue acknowledged the subscription"
ENVELOPE_ROOM = 1024
"""Characters kept free in a subscribe frame for the JSON-RPC envelope and the id."""

PUBLIC, PUBLIC_RAW, PRIVATE = "public", "public-raw", "private"
Plan = tuple[bool, bool, list[str]]
"""(subscribe, private, channels): one request to send."""


class _Waiter:
    """A user's Subscribe or Unsubscribe: channel -> outcome, in the order given."""

    __slots__ = ("outcome", "pending", "unsubscribe")

    def __init__(self, unsubscribe: bool) -> None:
        self.unsubscribe = unsubscribe
        self.outcome: dict[str, SubscriptionRejected | bool | None] = {}
        self.pending = 0

    def settle(self, topic: str, value: SubscriptionRejected | bool) -> None:
        if topic in self.outcome and self.outcome[topic] is None:
            self.outcome[topic] = value
            self.pending -= 1

    def result(self) -> SubscribeResult | UnsubscribeResult:
        if self.unsubscribe:
            return UnsubscribeResult(ended=tuple(t for t, v in self.outcome.items() if v is True))
        return SubscribeResult(
            active=tuple(t for t, v in self.outcome.items() if v is True),
            rejected=tuple(v for v in self.outcome.values() if isinstance(v, SubscriptionRejected)),
        )


class Subscriptions:
    """The ledger plus Deribit routing and the user's subscription requests."""

    def __init__(
        self,
        *,
        events: BoundedQueue[Event],
        max_subscriptions: int,
        max_per_request: int,
        has_credentials: bool,
    ) -> None:
        self.ledger = SubscriptionLedger(max_topics=max_subscriptions)
        self.max_per_request = max_per_request
        self.max_chars = MAX_MESSAGE_SIZE - ENVELOPE_ROOM
        self.has_credentials = has_credentials
        self._events = events
        self._route: dict[str, str] = {}  # every channel the ledger knows -> its group
        self._waiters: dict[RequestId, _Waiter] = {}
        self._by_topic: dict[str, set[RequestId]] = {}
        self.done: list[tuple[RequestId, SubscribeResult | UnsubscribeResult]] = []

    def _group(self, channel: str) -> str:
        return self._route.get(channel, PUBLIC)

    def needs_credentials(self, channels: Iterable[str]) -> list[str]:
        """The ``user.*`` channels, which cannot go anywhere without credentials."""
        if self.has_credentials:
            return []
        return [c for c in channels if parse_channel(c).private_only]

    # -- the user's requests ------------------------------------------------------------

    def subscribe(self, request_id: RequestId, channels: tuple[str, ...]) -> None:
        ledger = self.ledger
        ledger.want(channels)  # raises on the max_subscriptions bound, changing nothing
        waiter = _Waiter(unsubscribe=False)
        for channel in channels:
            if channel not in self._route:
                if not parse_channel(channel).needs_auth:
                    self._route[channel] = PUBLIC
                else:
                    self._route[channel] = PRIVATE if self.has_credentials else PUBLIC_RAW
            if ledger.state(channel) is TopicState.ACTIVE:
                waiter.outcome[channel] = True
            else:
                waiter.outcome[channel] = None
                waiter.pending += 1
        self._register(request_id, waiter)

    def unsubscribe(self, request_id: RequestId, channels: Iterable[str] | None) -> None:
        """``channels=None``: every channel desired or live (``UnsubscribeAll``)."""
        ledger = self.ledger
        if channels is None:
            channels = [
                c
                for c in self._route
                if ledger.is_desired(c) or ledger.state(c) is not TopicState.INACTIVE
            ]
        waiter = _Waiter(unsubscribe=True)
        for channel in channels:
            live = ledger.state(channel) is not TopicState.INACTIVE
            waiter.outcome[channel] = None if live else False
            waiter.pending += live
        for channel in ledger.unwant(waiter.outcome):
            if ledger.state(channel) is not TopicState.ACTIVE:
                rejected = SubscriptionRejected(topic=channel, reason=UNWANTED)
                self._settle_some(channel, unsubscribe=False, value=rejected)
        self._prune(waiter.outcome)
        self._register(request_id, waiter)

    def _register(self, request_id: RequestId, waiter: _Waiter) -> None:
        if waiter.pending == 0:
            self.done.append((request_id, waiter.result()))
            return
        self._waiters[request_id] = waiter
        for topic, value in waiter.outcome.items():
            if value is None:
                self._by_topic.setdefault(topic, set()).add(request_id)

    def drop_waiter(self, request_id: RequestId) -> None:
        """The request resolved otherwise (timeout, end of session): forget it."""
        waiter = self._waiters.pop(request_id, None)
        if waiter is None:
            return
        for topic, value in waiter.outcome.items():
            if value is None:
                self._unindex(topic, request_id)

    def _unindex(self, topic: str, request_id: RequestId) -> None:
        ids = self._by_topic.get(topic)
        if ids is not None:
            ids.discard(request_id)
            if not ids:
                del self._by_topic[topic]

    def _settle(self, topic: str, ended: bool, value: SubscriptionRejected | bool) -> None:
        """Tell the waiters on ``topic``: unsubscribe ones get ``ended``, others ``value``."""
        ids = self._by_topic.pop(topic, None)
        if not ids:
            return
        for request_id in ids:
            waiter = self._waiters[request_id]
            waiter.settle(topic, ended if waiter.unsubscribe else value)
            if waiter.pending == 0:
                del self._waiters[request_id]
                self.done.append((request_id, waiter.result()))

    def _settle_some(
        self, topic: str, *, unsubscribe: bool, value: SubscriptionRejected | bool
    ) -> None:
        """Like :meth:`_settle`, for one kind of waiter only."""
        ids = self._by_topic.get(topic)
        if not ids:
            return
        for request_id in list(ids):
            waiter = self._waiters[request_id]
            if waiter.unsubscribe is not unsubscribe:
                continue
            waiter.settle(topic, value)
            ids.discard(request_id)
            if waiter.pending == 0:
                del self._waiters[request_id]
                self.done.append((request_id, waiter.result()))
        if not ids:
            self._by_topic.pop(topic, None)

    def _prune(self, topics: Iterable[str]) -> None:
        ledger = self.ledger
        for topic in topics:
            if not ledger.is_desired(topic) and ledger.state(topic) is TopicState.INACTIVE:
                self._route.pop(topic, None)

    # -- what to send -------------------------------------------------------------------

    def plan(self, *, authenticated: bool) -> list[Plan]:
        """Unsubscribes first (a resync cycles its channel), then subscribes.

        Private subscribes wait for authentication; nothing is marked here.
        """
        ledger, group = self.ledger, self._group
        plans: list[Plan] = [
            (False, group(chunk[0]) == PRIVATE, chunk)
            for chunk in ledger.plan_unsubscribe(
                self.max_per_request, group=group, max_chars=self.max_chars
            )
        ]
        for chunk in ledger.plan_subscribe(
            self.max_per_request, group=group, max_chars=self.max_chars
        ):
            private = group(chunk[0]) == PRIVATE
            if not private or authenticated:
                plans.append((True, private, chunk))
        return plans

    # -- outcomes -----------------------------------------------------------------------

    def subscribe_acked(self, request_id: RequestId, accepted: list[str]) -> tuple[str, ...]:
        """Diff the ack against the request; returns the channels activated."""
        outcome = self.ledger.subscribe_acked(request_id, accepted)
        events = self._events
        for topic in outcome.activated:
            events.append(SubscriptionActive(topic=topic))
            self._settle_some(topic, unsubscribe=False, value=True)
        self._reject(outcome.rejected, DROPPED)
        return outcome.activated

    def subscribe_failed(self, request_id: RequestId, reason: str | None) -> None:
        """No ack: ``reason`` (a venue error) rejects the channels; ``None`` retries them."""
        given_up = self.ledger.subscribe_failed(request_id, retry=reason is None)
        if reason is not None:
            self._reject(given_up, reason)

    def _reject(self, topics: Iterable[str], reason: str) -> None:
        events = self._events
        for topic in topics:
            event = SubscriptionRejected(topic=topic, reason=reason)
            events.append(event)
            self._settle(topic, False, event)
            self._prune((topic,))

    def reject_private(self, reason: str) -> None:
        """Authentication failed: private channels waiting for it are rejected."""
        ledger = self.ledger
        waiting = [
            t
            for t in ledger.desired()
            if self._route.get(t) == PRIVATE and ledger.state(t) is TopicState.INACTIVE
        ]
        ledger.unwant(waiting)
        self._reject(waiting, reason)

    def unsubscribe_acked(self, request_id: RequestId) -> list[str]:
        """The channels ended; returns those no longer desired (not a resync)."""
        ledger = self.ledger
        ended = [t for t in ledger.unsubscribe_acked(request_id) if not ledger.is_desired(t)]
        events = self._events
        for topic in ended:
            events.append(SubscriptionEnded(topic=topic))
            self._settle_some(topic, unsubscribe=True, value=True)
        self._prune(ended)
        return ended

    def unsubscribe_failed(self, request_id: RequestId) -> list[str]:
        """No ack: the channels count as still active; returns them."""
        return self.ledger.unsubscribe_failed(request_id)  # unwanted ones: planned again

    def connection_lost(self) -> None:
        """Every subscription died; unsubscribe requests have their answer."""
        self.ledger.connection_lost()
        for topic in list(self._by_topic):
            self._settle_some(topic, unsubscribe=True, value=True)
        self._prune(list(self._route))

    def reset(self) -> list[RequestId]:
        """The session ended: nothing is desired; returns the waiting user requests."""
        ledger = self.ledger
        ledger.unwant(ledger.desired())
        ledger.connection_lost()
        waiting = list(self._waiters)
        self._waiters.clear()
        self._by_topic.clear()
        self._route.clear()
        return waiting
