"""Subscriptions of a client session: the ledger, a venue's routing, the user's requests.

The :class:`~tradewire.protocol.SubscriptionLedger` holds desired / pending / active
topics.  :class:`Subscriptions` adds what every venue needs around it, with the venue's
:class:`~tradewire.protocol.session.SubscriptionPolicy` deciding the venue's part:

* routing: each topic belongs to a group (the policy's ``group``); a group may need the
  connection to be authenticated (``group_needs_auth``), and its topics wait for that;
* chunking to the policy's ``max_per_request`` topics and ``max_chars`` characters,
  never mixing groups;
* the diff of every acknowledgement against its request: a topic the venue left out
  silently is a ``SubscriptionRejected`` naming it (with the policy's ``dropped``
  reason), never silence;
* the user's requests.  A subscribe resolves once every topic in it is active or
  rejected, an unsubscribe once every topic in it has ended.  They wait across
  reconnects (the ledger keeps the desired set), bounded by their deadlines; a timeout
  ends the request, not the intent.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from .._bounded import BoundedQueue
from .._events import Event, SubscriptionActive, SubscriptionEnded, SubscriptionRejected
from .._sources import RequestId
from ._ledger import SubscriptionLedger, TopicState
from ._policies import SubscriptionPolicy

__all__ = ["UNWANTED", "Plan", "SubscribeResult", "Subscriptions", "UnsubscribeResult"]

UNWANTED = "unsubscribed before the venue acknowledged the subscription"
DEFAULT_DROPPED = "left out of the venue's acknowledgement"

Plan = tuple[bool, str, list[str]]
"""(subscribe, group, topics): one request to send."""


class SubscribeResult(msgspec.Struct, frozen=True, kw_only=True):
    """How a subscribe request ended: each topic is in exactly one of the two.

    ``rejected`` says why, per topic, as ``SubscriptionRejected`` values: left out of
    the venue's acknowledgement, a venue error or failed authentication (all also
    reported as events), or unsubscribed before it was acknowledged.
    """

    active: tuple[str, ...]
    rejected: tuple[SubscriptionRejected, ...] = ()


class UnsubscribeResult(msgspec.Struct, frozen=True, kw_only=True):
    """The topics that ended (acknowledged by the venue or gone with the connection)."""

    ended: tuple[str, ...]


class _Waiter:
    """A user's subscribe or unsubscribe: topic -> outcome, in the order given."""

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
    """The ledger plus the venue's routing and the user's subscription requests."""

    def __init__(
        self,
        policy: SubscriptionPolicy,
        *,
        events: BoundedQueue[Event],
        max_subscriptions: int,
        dropped: str = DEFAULT_DROPPED,
    ) -> None:
        self.policy = policy
        self.ledger = SubscriptionLedger(max_topics=max_subscriptions)
        self.dropped = dropped
        self._events = events
        self._route: dict[str, str] = {}  # every topic the ledger knows -> its group
        self._waiters: dict[RequestId, _Waiter] = {}
        self._by_topic: dict[str, set[RequestId]] = {}
        self.done: list[tuple[RequestId, SubscribeResult | UnsubscribeResult]] = []

    def _group(self, topic: str) -> str:
        group = self._route.get(topic)
        return self.policy.group(topic) if group is None else group

    def needs_auth(self, topic: str) -> bool:
        return self.policy.group_needs_auth(self._group(topic))

    # -- the user's requests ------------------------------------------------------------

    def subscribe(self, request_id: RequestId, topics: tuple[str, ...]) -> None:
        ledger = self.ledger
        ledger.want(topics)  # raises on the max_subscriptions bound, changing nothing
        waiter = _Waiter(unsubscribe=False)
        for topic in topics:
            if topic not in self._route:
                self._route[topic] = self.policy.group(topic)
            if ledger.state(topic) is TopicState.ACTIVE:
                waiter.outcome[topic] = True
            else:
                waiter.outcome[topic] = None
                waiter.pending += 1
        self._register(request_id, waiter)

    def unsubscribe(self, request_id: RequestId, topics: Iterable[str] | None) -> None:
        """``topics=None``: every topic desired or live (unsubscribe all)."""
        ledger = self.ledger
        if topics is None:
            topics = [
                t
                for t in self._route
                if ledger.is_desired(t) or ledger.state(t) is not TopicState.INACTIVE
            ]
        waiter = _Waiter(unsubscribe=True)
        for topic in topics:
            live = ledger.state(topic) is not TopicState.INACTIVE
            waiter.outcome[topic] = None if live else False
            waiter.pending += live
        for topic in ledger.unwant(waiter.outcome):
            if ledger.state(topic) is not TopicState.ACTIVE:
                rejected = SubscriptionRejected(topic=topic, reason=UNWANTED)
                self._settle_some(topic, unsubscribe=False, value=rejected)
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
        """Unsubscribes first (a resync cycles its topic), then subscribes.

        Topics of a group that needs auth wait for authentication; nothing is marked.
        """
        ledger, group, policy = self.ledger, self._group, self.policy
        limit, chars = policy.max_per_request, policy.max_chars
        plans: list[Plan] = [
            (False, group(chunk[0]), chunk)
            for chunk in ledger.plan_unsubscribe(limit, group=group, max_chars=chars)
        ]
        for chunk in ledger.plan_subscribe(limit, group=group, max_chars=chars):
            name = group(chunk[0])
            if authenticated or not policy.group_needs_auth(name):
                plans.append((True, name, chunk))
        return plans

    # -- outcomes -----------------------------------------------------------------------

    def activate_all(self) -> list[str]:
        """Every desired topic counts as active (they were in the handshake)."""
        ledger = self.ledger
        topics = [t for t in ledger.desired() if ledger.state(t) is TopicState.INACTIVE]
        if not topics:
            return []
        marker: RequestId = "handshake"
        ledger.mark_subscribing(topics, marker)
        return self.subscribe_acked(marker, topics, None)

    def subscribe_acked(
        self, request_id: RequestId, accepted: list[str], remote_ids: dict[str, str] | None
    ) -> list[str]:
        """Diff the ack against the request; returns the topics activated."""
        outcome = self.ledger.subscribe_acked(request_id, accepted, remote_ids)
        events = self._events
        for topic in outcome.activated:
            events.append(SubscriptionActive(topic=topic))
            self._settle_some(topic, unsubscribe=False, value=True)
        self._reject(outcome.rejected, self.dropped)
        return list(outcome.activated)

    def subscribe_failed(self, request_id: RequestId, reason: str | None) -> None:
        """No ack: ``reason`` (a venue error) rejects the topics; ``None`` retries them."""
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

    def reject_needing_auth(self, reason: str) -> None:
        """Authentication failed: topics waiting for it are rejected."""
        ledger = self.ledger
        waiting = [
            t
            for t in ledger.desired()
            if self.needs_auth(t) and ledger.state(t) is TopicState.INACTIVE
        ]
        ledger.unwant(waiting)
        self._reject(waiting, reason)

    def unsubscribe_acked(self, request_id: RequestId) -> list[str]:
        """The topics ended; returns those no longer desired (not a resync)."""
        ledger = self.ledger
        ended = [t for t in ledger.unsubscribe_acked(request_id) if not ledger.is_desired(t)]
        self._ended(ended)
        return ended

    def _ended(self, ended: list[str]) -> None:
        events = self._events
        for topic in ended:
            events.append(SubscriptionEnded(topic=topic))
            self._settle_some(topic, unsubscribe=True, value=True)
        self._prune(ended)

    def venue_ended(self, topics: Iterable[str], *, keep_desired: bool) -> list[str]:
        """The venue ended these live topics by itself; returns the ones that were
        active.  ``keep_desired``: they are planned again (else no longer desired)."""
        ledger = self.ledger
        ended = [
            t for t in dict.fromkeys(topics) if ledger.ended_by_venue(t, keep_desired=keep_desired)
        ]
        self._ended(ended)
        return ended

    def unsubscribe_failed(self, request_id: RequestId) -> list[str]:
        """No ack: the topics count as still active; returns them."""
        return self.ledger.unsubscribe_failed(request_id)  # unwanted ones: planned again

    def undesired_active(self) -> list[str]:
        """Active topics nobody wants (or flagged for a resync): what a venue without
        unsubscribe can drop only by reconnecting."""
        ledger = self.ledger
        return [c for chunk in ledger.plan_unsubscribe(10**9) for c in chunk]

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
