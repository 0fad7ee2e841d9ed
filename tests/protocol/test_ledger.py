"""The subscription ledger: desired / pending / active, chunking, partial acks."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tradewire.protocol import LocalProtocolError, SubscriptionLedger, TopicState


def test_subscribe_ack_activates_and_partial_ack_rejects_the_rest() -> None:
    ledger = SubscriptionLedger()
    assert ledger.want(["book.A.100ms", "ticker.B.100ms", "bad.channel"]) == [
        "book.A.100ms",
        "ticker.B.100ms",
        "bad.channel",
    ]
    (chunk,) = ledger.plan_subscribe(10)
    ledger.mark_subscribing(chunk, 7)
    assert ledger.state("book.A.100ms") is TopicState.SUBSCRIBING
    assert ledger.plan_subscribe(10) == []  # in flight: not planned twice
    outcome = ledger.subscribe_acked(7, ["ticker.B.100ms", "book.A.100ms", "extra"])
    assert outcome.activated == ("book.A.100ms", "ticker.B.100ms")
    assert outcome.rejected == ("bad.channel",)
    assert outcome.unexpected == ("extra",)
    assert ledger.active() == ["book.A.100ms", "ticker.B.100ms"]
    assert ledger.desired() == ["book.A.100ms", "ticker.B.100ms"]


def test_chunking_respects_count_size_and_groups() -> None:
    ledger = SubscriptionLedger()
    topics = [f"user.orders.X{i}.raw" if i % 2 else f"book.X{i}.100ms" for i in range(9)]
    ledger.want(topics)

    def group(topic: str) -> str:
        return "private" if topic.startswith("user.") else "public"

    chunks = ledger.plan_subscribe(2, group=group)
    assert [len(c) for c in chunks] == [2, 2, 1, 2, 2]
    assert all(len({group(t) for t in c}) == 1 for c in chunks)
    assert sorted(t for c in chunks for t in c) == sorted(topics)
    by_size = ledger.plan_subscribe(100, max_chars=40)
    assert all(sum(len(t) + 3 for t in c) <= 40 for c in by_size)
    with pytest.raises(LocalProtocolError, match="max_per_request"):
        ledger.plan_subscribe(0)


def test_unsubscribe_and_resync_cycle() -> None:
    ledger = SubscriptionLedger()
    ledger.want(["a", "b"])
    ledger.mark_subscribing(["a", "b"], 1)
    ledger.subscribe_acked(1, ["a", "b"])
    assert ledger.resync("a")
    ledger.unwant(["b"])
    (chunk,) = ledger.plan_unsubscribe(10)
    assert chunk == ["a", "b"]
    ledger.mark_unsubscribing(chunk, 2)
    assert ledger.unsubscribe_acked(2) == ["a", "b"]
    assert ledger.plan_subscribe(10) == [["a"]]  # a comes back, b is gone
    assert ledger.desired() == ["a"]
    assert len(ledger) == 1


def test_failed_subscribe_retries_or_gives_up() -> None:
    ledger = SubscriptionLedger()
    ledger.want(["a", "b"])
    ledger.mark_subscribing(["a"], 1)
    ledger.mark_subscribing(["b"], 2)
    assert ledger.subscribe_failed(1, retry=True) == []
    assert ledger.subscribe_failed(2, retry=False) == ["b"]
    assert ledger.desired() == ["a"]
    assert ledger.plan_subscribe(10) == [["a"]]


def test_remote_ids_map_both_ways_until_the_subscription_ends() -> None:
    ledger = SubscriptionLedger()
    ledger.want(["ticks:R_50"])
    ledger.mark_subscribing(["ticks:R_50"], 3)
    ledger.subscribe_acked(3, ["ticks:R_50"], remote_ids={"ticks:R_50": "c84a793b" * 4})
    assert ledger.remote_id("ticks:R_50") == "c84a793b" * 4
    assert ledger.topic_for_remote("c84a793b" * 4) == "ticks:R_50"
    assert ledger.ended_by_venue("ticks:R_50", keep_desired=False)
    assert ledger.topic_for_remote("c84a793b" * 4) is None
    assert ledger.desired() == []


def test_misuse_is_a_local_protocol_error() -> None:
    ledger = SubscriptionLedger(max_topics=2)
    with pytest.raises(LocalProtocolError, match="topic"):
        ledger.want([""])
    ledger.want(["a", "b"])
    with pytest.raises(LocalProtocolError, match="max_topics=2"):
        ledger.want(["c"])
    with pytest.raises(LocalProtocolError, match="expected state active"):
        ledger.mark_unsubscribing(["a"], 1)
    ledger.mark_subscribing(["a"], 1)
    with pytest.raises(LocalProtocolError, match="already in flight"):
        ledger.mark_subscribing(["b"], 1)


TOPICS = ["book.A.raw", "book.B.100ms", "ticker.A.100ms", "user.orders.any.any.raw", "trades.C"]


class LedgerModel(RuleBasedStateMachine):
    """Any sequence of caller intents, acks and disconnects keeps the ledger coherent,
    and after a disconnect the resubscribe batch is exactly the desired set."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = SubscriptionLedger()
        self.desired: set[str] = set()
        self.next_id = 1
        self.in_flight: dict[int, tuple[str, list[str]]] = {}

    @rule(topics=st.lists(st.sampled_from(TOPICS), max_size=3))
    def want(self, topics: list[str]) -> None:
        self.ledger.want(topics)
        self.desired |= set(topics)

    @rule(topics=st.lists(st.sampled_from(TOPICS), max_size=3))
    def unwant(self, topics: list[str]) -> None:
        self.ledger.unwant(topics)
        self.desired -= set(topics)

    @rule(topic=st.sampled_from(TOPICS))
    def resync(self, topic: str) -> None:
        self.ledger.resync(topic)

    @rule(size=st.integers(1, 3))
    def send_subscribes(self, size: int) -> None:
        for chunk in self.ledger.plan_subscribe(size):
            self.ledger.mark_subscribing(chunk, self.next_id)
            self.in_flight[self.next_id] = ("sub", chunk)
            self.next_id += 1

    @rule(size=st.integers(1, 3))
    def send_unsubscribes(self, size: int) -> None:
        for chunk in self.ledger.plan_unsubscribe(size):
            self.ledger.mark_unsubscribing(chunk, self.next_id)
            self.in_flight[self.next_id] = ("unsub", chunk)
            self.next_id += 1

    @precondition(lambda self: bool(self.in_flight))
    @rule(data=st.data(), outcome=st.sampled_from(["ack", "partial", "retry", "refused"]))
    def answer(self, data: st.DataObject, outcome: str) -> None:
        request_id = data.draw(st.sampled_from(sorted(self.in_flight)))
        kind, chunk = self.in_flight.pop(request_id)
        if kind == "unsub":
            if outcome in ("retry", "refused"):
                self.ledger.unsubscribe_failed(request_id)
            else:
                self.ledger.unsubscribe_acked(request_id)
            return
        if outcome == "ack":
            self.ledger.subscribe_acked(request_id, chunk)
        elif outcome == "partial":
            accepted = data.draw(st.lists(st.sampled_from(chunk), unique=True))
            result = self.ledger.subscribe_acked(request_id, accepted)
            self.desired -= set(result.rejected)
        elif outcome == "retry":
            self.ledger.subscribe_failed(request_id, retry=True)
        else:
            given_up = self.ledger.subscribe_failed(request_id, retry=False)
            self.desired -= set(given_up)

    @rule()
    def disconnect(self) -> None:
        self.ledger.connection_lost()
        self.in_flight.clear()
        batch = [t for chunk in self.ledger.plan_subscribe(2) for t in chunk]
        assert sorted(batch) == sorted(self.desired)
        assert len(batch) == len(set(batch))
        assert self.ledger.active() == []

    @invariant()
    def desired_matches_the_model(self) -> None:
        assert set(self.ledger.desired()) == self.desired

    @invariant()
    def nothing_is_planned_twice(self) -> None:
        planned = [t for c in self.ledger.plan_subscribe(2) for t in c]
        in_flight = {t for _, chunk in self.in_flight.values() for t in chunk}
        assert not set(planned) & in_flight
        for topic in planned:
            assert self.ledger.state(topic) is TopicState.INACTIVE


LedgerModel.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
test_ledger_model = LedgerModel.TestCase
