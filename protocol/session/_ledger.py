"""The subscription ledger: what the caller wants, what is in flight, what is live.

Each topic (a Deribit channel name, a Deriv stream key, a Rails stream, a Currency.com
destination and symbol) has

* ``desired``: the caller wants it;
* a state: ``INACTIVE`` -> ``SUBSCRIBING`` -> ``ACTIVE`` -> ``UNSUBSCRIBING`` -> ``INACTIVE``;
* a ``restart`` flag, set by :meth:`SubscriptionLedger.resync`: cycle an active
  subscription (unsubscribe, then subscribe again) to get a fresh snapshot after a gap.

The ledger does no I/O and builds no messages.  The venue machine asks it what to send
(:meth:`plan_subscribe`, :meth:`plan_unsubscribe`: chunks that respect the venue's
per-request limits and never mix groups such as Deribit's public and private
subscribe), tells it what it sent (:meth:`mark_subscribing`) and what came back
(:meth:`subscribe_acked` with the accepted topics, which may be a subset of the request).

:meth:`connection_lost` keeps the desired set and forgets the rest, so after a reconnect
:meth:`plan_subscribe` is exactly the desired set, chunked.  A hypothesis state machine in
``tests/protocol/test_ledger.py`` checks that after any sequence of operations.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping

import msgspec

from .._errors import LocalProtocolError
from .._sources import RequestId

__all__ = ["AckOutcome", "SubscriptionLedger", "TopicState"]


class TopicState(enum.Enum):
    INACTIVE = "inactive"
    SUBSCRIBING = "subscribing"
    ACTIVE = "active"
    UNSUBSCRIBING = "unsubscribing"


class AckOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a subscribe acknowledgement meant, topic by topic."""

    activated: tuple[str, ...]
    rejected: tuple[str, ...]  # requested, left out of the ack; no longer desired
    unexpected: tuple[str, ...]  # acknowledged without being requested by this request


class _Entry:
    __slots__ = ("desired", "remote_id", "request_id", "restart", "state")

    def __init__(self) -> None:
        self.desired = False
        self.state = TopicState.INACTIVE
        self.request_id: RequestId | None = None
        self.restart = False
        self.remote_id: str | None = None


def _no_group(topic: str) -> str:
    return ""


class SubscriptionLedger:
    """Desired, pending and active subscriptions, bounded by ``max_topics``."""

    def __init__(self, *, max_topics: int = 10_000) -> None:
        if max_topics < 1:
            raise LocalProtocolError(
                f"invalid max_topics: expected a positive int, got {max_topics!r}"
            )
        self.max_topics = max_topics
        self._entries: dict[str, _Entry] = {}
        self._by_request: dict[RequestId, list[str]] = {}
        self._by_remote: dict[str, str] = {}

    # -- the caller's intent ------------------------------------------------------------

    def want(self, topics: Iterable[str]) -> list[str]:
        """Add topics to the desired set; returns the ones that were not desired yet."""
        topics = list(dict.fromkeys(topics))
        for topic in topics:
            if not isinstance(topic, str) or not topic:
                raise LocalProtocolError(f"invalid topic: expected a non-empty str, got {topic!r}")
        new = [t for t in topics if t not in self._entries]
        if len(self._entries) + len(new) > self.max_topics:
            raise LocalProtocolError(f"too many subscriptions (limit max_topics={self.max_topics})")
        added: list[str] = []
        for topic in topics:
            entry = self._entries.get(topic)
            if entry is None:
                entry = self._entries[topic] = _Entry()
            if not entry.desired:
                entry.desired = True
                added.append(topic)
        return added

    def unwant(self, topics: Iterable[str]) -> list[str]:
        """Remove topics from the desired set; returns the ones that were desired."""
        removed: list[str] = []
        for topic in dict.fromkeys(topics):
            entry = self._entries.get(topic)
            if entry is None or not entry.desired:
                continue
            entry.desired = False
            entry.restart = False
            removed.append(topic)
            self._forget_if_idle(topic, entry)
        return removed

    def resync(self, topic: str) -> bool:
        """Cycle ``topic`` (unsubscribe then subscribe) if it is desired and live.

        A topic still being subscribed is cycled once its ack arrives.  Returns ``False``
        when there is nothing to cycle: not desired, inactive (its next subscribe brings
        a fresh snapshot anyway) or already being unsubscribed.
        """
        entry = self._entries.get(topic)
        if entry is None or not entry.desired:
            return False
        if entry.state in (TopicState.ACTIVE, TopicState.SUBSCRIBING):
            entry.restart = True
            return True
        return False

    # -- planning -----------------------------------------------------------------------

    def plan_subscribe(
        self,
        max_per_request: int,
        *,
        group: Callable[[str], str] = _no_group,
        max_chars: int | None = None,
    ) -> list[list[str]]:
        """Desired topics not yet subscribed or in flight, chunked; nothing is marked."""
        todo = [t for t, e in self._entries.items() if e.desired and e.state is TopicState.INACTIVE]
        return _chunk(todo, max_per_request, group, max_chars)

    def plan_unsubscribe(
        self,
        max_per_request: int,
        *,
        group: Callable[[str], str] = _no_group,
        max_chars: int | None = None,
    ) -> list[list[str]]:
        """Active topics no longer desired, or flagged for resync, chunked."""
        todo = [
            t
            for t, e in self._entries.items()
            if e.state is TopicState.ACTIVE and (not e.desired or e.restart)
        ]
        return _chunk(todo, max_per_request, group, max_chars)

    def mark_subscribing(self, topics: Iterable[str], request_id: RequestId) -> None:
        self._mark(topics, request_id, TopicState.INACTIVE, TopicState.SUBSCRIBING)

    def mark_unsubscribing(self, topics: Iterable[str], request_id: RequestId) -> None:
        self._mark(topics, request_id, TopicState.ACTIVE, TopicState.UNSUBSCRIBING)

    def _mark(
        self, topics: Iterable[str], request_id: RequestId, before: TopicState, after: TopicState
    ) -> None:
        topics = list(topics)
        if request_id in self._by_request:
            raise LocalProtocolError(f"invalid request_id: {request_id!r} is already in flight")
        for topic in topics:
            entry = self._entries.get(topic)
            if entry is None or entry.state is not before:
                state = "unknown" if entry is None else entry.state.value
                raise LocalProtocolError(
                    f"invalid topic {topic!r}: expected state {before.value}, found {state}"
                )
        for topic in topics:
            entry = self._entries[topic]
            entry.state = after
            entry.request_id = request_id
            if after is TopicState.UNSUBSCRIBING:
                entry.restart = False
        self._by_request[request_id] = topics

    # -- outcomes -----------------------------------------------------------------------

    def subscribe_acked(
        self,
        request_id: RequestId,
        accepted: Iterable[str],
        remote_ids: Mapping[str, str] | None = None,
    ) -> AckOutcome:
        """The venue acknowledged subscribe ``request_id`` accepting ``accepted``.

        Requested topics missing from ``accepted`` are rejected: they leave the desired
        set (the venue said no; retrying after a reconnect would only repeat it).
        """
        requested = self._by_request.pop(request_id, [])
        accepted_set = set(accepted)
        activated: list[str] = []
        rejected: list[str] = []
        for topic in requested:
            entry = self._entries[topic]
            entry.request_id = None
            if topic in accepted_set:
                entry.state = TopicState.ACTIVE
                remote = remote_ids.get(topic) if remote_ids else None
                if remote is not None:
                    entry.remote_id = remote
                    self._by_remote[remote] = topic
                activated.append(topic)
            else:
                entry.state = TopicState.INACTIVE
                if entry.desired:
                    rejected.append(topic)
                entry.desired = False
                entry.restart = False
                self._forget_if_idle(topic, entry)
        requested_set = set(requested)
        unexpected = tuple(t for t in dict.fromkeys(accepted) if t not in requested_set)
        return AckOutcome(
            activated=tuple(activated), rejected=tuple(rejected), unexpected=unexpected
        )

    def subscribe_failed(self, request_id: RequestId, *, retry: bool) -> list[str]:
        """Subscribe ``request_id`` got no ack.

        ``retry=True`` (timeout, rate limit, lost connection): the topics stay desired
        and are planned again.  ``retry=False`` (the venue refused them): they leave the
        desired set.  Returns the topics that were desired and are now given up.
        """
        requested = self._by_request.pop(request_id, [])
        given_up: list[str] = []
        for topic in requested:
            entry = self._entries[topic]
            entry.request_id = None
            entry.state = TopicState.INACTIVE
            if not retry:
                if entry.desired:
                    given_up.append(topic)
                entry.desired = False
                entry.restart = False
            self._forget_if_idle(topic, entry)
        return given_up

    def unsubscribe_acked(self, request_id: RequestId) -> list[str]:
        """Unsubscribe ``request_id`` was acknowledged: its topics are inactive.

        Returns the topics that ended.  Topics still desired (a resync, or wanted again
        meanwhile) are planned by the next :meth:`plan_subscribe`.
        """
        requested = self._by_request.pop(request_id, [])
        for topic in requested:
            entry = self._entries[topic]
            entry.request_id = None
            entry.state = TopicState.INACTIVE
            self._drop_remote(entry)
            self._forget_if_idle(topic, entry)
        return requested

    def unsubscribe_failed(self, request_id: RequestId) -> list[str]:
        """Unsubscribe ``request_id`` got no ack; its topics count as still active."""
        requested = self._by_request.pop(request_id, [])
        for topic in requested:
            entry = self._entries[topic]
            entry.request_id = None
            entry.state = TopicState.ACTIVE
        return requested

    def ended_by_venue(self, topic: str, *, keep_desired: bool) -> bool:
        """The venue ended an active subscription by itself (a finished stream).

        Returns ``True`` if ``topic`` was active.  With ``keep_desired`` it is planned
        again; without, it leaves the desired set.
        """
        entry = self._entries.get(topic)
        if entry is None or entry.state is not TopicState.ACTIVE:
            return False
        entry.state = TopicState.INACTIVE
        self._drop_remote(entry)
        if not keep_desired:
            entry.desired = False
            entry.restart = False
        self._forget_if_idle(topic, entry)
        return True

    def connection_lost(self) -> list[str]:
        """Every subscription died with the connection; the desired set stays.

        Returns the topics that were active.
        """
        was_active = [t for t, e in self._entries.items() if e.state is TopicState.ACTIVE]
        self._by_request.clear()
        self._by_remote.clear()
        for topic, entry in list(self._entries.items()):
            entry.state = TopicState.INACTIVE
            entry.request_id = None
            entry.restart = False
            entry.remote_id = None
            self._forget_if_idle(topic, entry)
        return was_active

    # -- queries ------------------------------------------------------------------------

    def desired(self) -> list[str]:
        return [t for t, e in self._entries.items() if e.desired]

    def active(self) -> list[str]:
        return [t for t, e in self._entries.items() if e.state is TopicState.ACTIVE]

    def state(self, topic: str) -> TopicState:
        entry = self._entries.get(topic)
        return TopicState.INACTIVE if entry is None else entry.state

    def is_active(self, topic: str) -> bool:
        entry = self._entries.get(topic)
        return entry is not None and entry.state is TopicState.ACTIVE

    def is_desired(self, topic: str) -> bool:
        entry = self._entries.get(topic)
        return entry is not None and entry.desired

    def in_flight(self, request_id: RequestId) -> list[str]:
        """The topics of a subscribe or unsubscribe request still awaiting its ack."""
        return list(self._by_request.get(request_id, ()))

    def remote_id(self, topic: str) -> str | None:
        entry = self._entries.get(topic)
        return None if entry is None else entry.remote_id

    def topic_for_remote(self, remote_id: str) -> str | None:
        return self._by_remote.get(remote_id)

    def __len__(self) -> int:
        return len(self._entries)

    # -- internals ----------------------------------------------------------------------

    def _drop_remote(self, entry: _Entry) -> None:
        if entry.remote_id is not None:
            self._by_remote.pop(entry.remote_id, None)
            entry.remote_id = None

    def _forget_if_idle(self, topic: str, entry: _Entry) -> None:
        if not entry.desired and entry.state is TopicState.INACTIVE:
            del self._entries[topic]


def _chunk(
    topics: list[str],
    max_per_request: int,
    group: Callable[[str], str],
    max_chars: int | None,
) -> list[list[str]]:
    if max_per_request < 1:
        raise LocalProtocolError(
            f"invalid max_per_request: expected a positive int, got {max_per_request!r}"
        )
    groups: dict[str, list[str]] = {}
    for topic in topics:
        groups.setdefault(group(topic), []).append(topic)
    chunks: list[list[str]] = []
    for members in groups.values():
        chunk: list[str] = []
        chars = 0
        for topic in members:
            cost = len(topic) + 3  # quotes and a comma in a JSON array
            if chunk and (
                len(chunk) >= max_per_request
                or (max_chars is not None and chars + cost > max_chars)
            ):
                chunks.append(chunk)
                chunk, chars = [], 0
            chunk.append(topic)
            chars += cost
        if chunk:
            chunks.append(chunk)
    return chunks
