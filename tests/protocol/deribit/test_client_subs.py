"""ClientProtocol subscriptions: public/private routing, chunking, the ack diff, 13778,
user requests and their results, and exact resubscription after a reconnect."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.protocol import (
    LocalProtocolError,
    RequestFailed,
    RequestSucceeded,
    RequestTimeout,
    SubscriptionActive,
    SubscriptionEnded,
    SubscriptionRejected,
)
from tradewire.protocol.deribit import (
    MAX_MESSAGE_SIZE,
    Authenticated,
    Notification,
    Subscribe,
    SubscribeResult,
    Unsubscribe,
    UnsubscribeAll,
    UnsubscribeResult,
)
from tradewire.protocol.deribit._client_policies import DROPPED
from tradewire.protocol.deribit.server import (
    encode_notification,
)
from tradewire.protocol.session import UNWANTED

sys.path.append(str(Path(__file__).parent))
from support_client import (
    Harness,
    ScriptedVenue,
    auth_result,
    credentials,
    make_link,
)

TICKER = "ticker.BTC-PERPETUAL.100ms"
TRADES = "trades.ETH-PERPETUAL.100ms"
RAW_BOOK = "book.BTC-PERPETUAL.raw"
ORDERS = "user.orders.any.any.raw"
BAD = "ticker.BTC-PERP.100ms"  # valid grammar, unknown instrument: the venue drops it


def result_of(h: Harness, request_id: Any) -> Any:
    [done] = [
        e
        for e in h.events
        if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id == request_id
    ]
    return done.result if isinstance(done, RequestSucceeded) else done.error


def subscribe_params(h: Harness) -> list[tuple[str, list[str]]]:
    return [(s.method, s.params["channels"]) for s in h.sent if "subscribe" in s.method]


def test_public_channels_go_out_at_once_and_auth_channels_after_auth() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.connect()
    rid = h.send(Subscribe(channels=[TICKER, RAW_BOOK, ORDERS, TRADES]))
    assert subscribe_params(h) == [("public/subscribe", [TICKER, TRADES])]
    h.answer("public/auth", auth_result())
    assert subscribe_params(h)[1:] == [("private/subscribe", [RAW_BOOK, ORDERS])]
    h.ack_subscriptions()
    assert result_of(h, rid) == SubscribeResult(active=(TICKER, RAW_BOOK, ORDERS, TRADES))
    assert [e.topic for e in h.of(SubscriptionActive)] == [TICKER, TRADES, RAW_BOOK, ORDERS]
    assert sorted(h.client.ledger.active()) == sorted([TICKER, RAW_BOOK, ORDERS, TRADES])


def test_a_channel_left_out_of_the_ack_is_rejected_by_name() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    rid = h.send(Subscribe(channels=[TICKER, BAD]))
    request = h.find("public/subscribe")
    h.reply(request, [TICKER])  # the venue drops BAD silently (spec 3.1)
    [rejected] = h.of(SubscriptionRejected)
    assert rejected == SubscriptionRejected(topic=BAD, reason=DROPPED)
    assert "dropped by the venue without an error" in rejected.reason
    outcome = result_of(h, rid)
    assert outcome.active == (TICKER,)
    assert outcome.rejected == (rejected,)
    assert not h.client.ledger.is_desired(BAD)
    h.lose()
    h.take_sent()
    h.connect()
    assert subscribe_params(h) == [("public/subscribe", [TICKER])]


def test_an_ack_of_nothing_rejects_every_channel() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    rid = h.send(Subscribe(channels=[BAD]))
    h.ack_subscriptions(drop=[BAD])
    assert result_of(h, rid) == SubscribeResult(
        active=(), rejected=(SubscriptionRejected(topic=BAD, reason=DROPPED),)
    )


def test_raw_channel_without_credentials_is_tried_publicly_and_13778_rejects_it() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    rid = h.send(Subscribe(channels=[RAW_BOOK]))
    request = h.find("public/subscribe")
    h.fail(request, 13778, "raw_subscriptions_not_available_for_unauthorized")
    [rejected] = h.of(SubscriptionRejected)
    assert rejected.topic == RAW_BOOK
    assert "13778" in rejected.reason
    assert "raw_subscriptions_not_available_for_unauthorized" in rejected.reason
    assert result_of(h, rid).rejected == (rejected,)
    assert h.client.ledger.desired() == []


def test_other_subscribe_errors_reject_with_the_error() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=[TICKER]))
    h.fail(h.find("public/subscribe"), 11052, "subscribe_error_unsubscribed")
    assert "11052" in h.of(SubscriptionRejected)[0].reason


@pytest.mark.parametrize(
    ("code", "message"),
    [(10040, "retry"), (13028, "temporarily_unavailable"), (10047, "matching_engine_queue_full")],
)
def test_a_transient_subscribe_error_tries_the_channels_again(code: int, message: str) -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=[TICKER]))
    h.fail(h.find("public/subscribe"), code, message)
    assert h.of(SubscriptionRejected) == []
    assert subscribe_params(h)[-1] == ("public/subscribe", [TICKER])  # sent again
    h.ack_subscriptions()
    assert h.client.ledger.active() == [TICKER]


@pytest.mark.parametrize(
    ("code", "message"), [(10040, "retry"), (13028, "temporarily_unavailable")]
)
def test_a_transient_unsubscribe_error_is_not_taken_for_an_unsubscribe(
    code: int, message: str
) -> None:
    # The venue still sends the channel: counting it as ended would leave notifications
    # coming for a channel the client believes gone.
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=[TICKER, TRADES]))
    h.ack_subscriptions()
    rid = h.send(Unsubscribe(channels=[TICKER]))
    h.fail(h.find("public/unsubscribe"), code, message)
    assert h.of(SubscriptionEnded) == []
    assert subscribe_params(h)[-1] == ("public/unsubscribe", [TICKER])  # sent again
    h.ack_subscriptions()
    assert result_of(h, rid) == UnsubscribeResult(ended=(TICKER,))
    assert h.client.ledger.active() == [TRADES]


def test_chunks_respect_the_channel_count_and_never_mix_public_and_private() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None, max_channels_per_request=3)
    h.login()
    public = [f"ticker.BTC-{d}MAR30.100ms" for d in range(1, 8)]
    private = [f"user.orders.BTC-{d}MAR30.raw" for d in range(1, 5)]
    h.send(Subscribe(channels=public + private))
    assert subscribe_params(h) == [
        ("public/subscribe", public[0:3]),
        ("public/subscribe", public[3:6]),
        ("public/subscribe", public[6:7]),
        ("private/subscribe", private[0:3]),
        ("private/subscribe", private[3:4]),
    ]


def test_chunks_fit_the_32_kb_frame() -> None:
    h = Harness(heartbeat_interval=None, max_channels_per_request=10_000, rate_limits=None)
    h.connect()
    channels = [
        f"book.BTC-{d}{m}{y}-{k}-{cp}.100ms"
        for d in (1, 12, 28)
        for m in ("JAN", "FEB", "MAR", "APR", "MAY", "JUN")
        for y in (25, 26, 27)
        for k in range(10_000, 10_000 + 1000 * 30, 1000)
        for cp in "CP"
    ]
    assert len(channels) == 3240
    h.send(Subscribe(channels=channels))
    sizes = [len(_encoded(s.id, s.method, s.params)) for s in h.sent]
    assert len(sizes) >= 4
    assert max(sizes) <= MAX_MESSAGE_SIZE
    assert [c for s in h.sent for c in s.params["channels"]] == channels


def _encoded(request_id: Any, method: str, params: dict[str, Any]) -> bytes:
    message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    return msgspec.json.encode(message)


def test_already_active_channels_resolve_at_once_and_are_not_resent() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=[TICKER]))
    h.ack_subscriptions()
    rid = h.send(Subscribe(channels=[TICKER]))
    assert h.sent == []
    assert result_of(h, rid) == SubscribeResult(active=(TICKER,))


def test_unsubscribe_resolves_with_the_channels_that_ended() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=[TICKER, TRADES]))
    h.ack_subscriptions()
    rid = h.send(Unsubscribe(channels=[TICKER, "quote.BTC-PERPETUAL"]))
    assert subscribe_params(h) == [("public/unsubscribe", [TICKER])]
    h.ack_subscriptions()
    assert result_of(h, rid) == UnsubscribeResult(ended=(TICKER,))
    assert h.of(SubscriptionEnded) == [SubscriptionEnded(topic=TICKER)]
    assert h.client.ledger.active() == [TRADES]


def test_unsubscribe_all_unsubscribes_each_channel_by_name() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login()
    h.send(Subscribe(channels=[TICKER, ORDERS, TRADES]))
    h.ack_subscriptions()
    rid = h.send(UnsubscribeAll())
    assert sorted(subscribe_params(h)) == [
        ("private/unsubscribe", [ORDERS]),
        ("public/unsubscribe", [TICKER, TRADES]),
    ]
    h.ack_subscriptions()
    assert sorted(result_of(h, rid).ended) == sorted([TICKER, ORDERS, TRADES])
    assert h.client.ledger.active() == []
    assert h.client.ledger.desired() == []


def test_unsubscribing_before_the_ack_settles_the_subscribe() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    sub = h.send(Subscribe(channels=[TICKER]))
    unsub = h.send(Unsubscribe(channels=[TICKER]))
    h.ack_subscriptions()  # the subscribe ack: active, but no longer wanted
    assert result_of(h, sub) == SubscribeResult(
        active=(), rejected=(SubscriptionRejected(topic=TICKER, reason=UNWANTED),)
    )
    assert subscribe_params(h) == [("public/unsubscribe", [TICKER])]
    h.ack_subscriptions()
    assert result_of(h, unsub) == UnsubscribeResult(ended=(TICKER,))


def test_unsubscribing_what_never_went_out_sends_nothing() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.connect()  # not authenticated yet: the private channel waits
    sub = h.send(Subscribe(channels=[ORDERS]))
    unsub = h.send(Unsubscribe(channels=[ORDERS]))
    assert result_of(h, unsub) == UnsubscribeResult(ended=())
    assert result_of(h, sub).rejected[0].reason == UNWANTED
    h.answer("public/auth", auth_result())
    assert subscribe_params(h) == []


def test_reconnect_logs_in_before_private_resubscribes_the_exact_desired_set() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login()
    h.send(Subscribe(channels=[TICKER, TRADES, ORDERS, RAW_BOOK, BAD]))
    h.ack_subscriptions(drop=[BAD])
    h.send(Unsubscribe(channels=[TRADES]))
    h.ack_subscriptions()
    h.take_events()
    h.lose()
    assert h.client.ledger.active() == []
    h.take_sent()
    h.connect()
    assert [s.method for s in h.sent] == ["public/auth", "public/subscribe"]
    assert h.find("public/subscribe").params == {"channels": [TICKER]}
    h.answer("public/auth", auth_result())
    assert h.sent[-1].method == "private/subscribe"
    assert h.sent[-1].params == {"channels": [ORDERS, RAW_BOOK]}
    events = h.take_events()
    assert isinstance(events[0], Authenticated)


def test_subscribe_waits_across_reconnects_within_its_deadline() -> None:
    h = Harness(heartbeat_interval=None, request_timeout=5.0)
    h.connect()
    rid = h.send(Subscribe(channels=[TICKER]))
    h.lose()
    h.take_sent()
    h.advance(1.0)
    h.connect()
    h.ack_subscriptions()
    assert result_of(h, rid) == SubscribeResult(active=(TICKER,))


def test_a_subscribe_request_timeout_ends_the_request_not_the_intent() -> None:
    h = Harness(heartbeat_interval=None, request_timeout=5.0)
    rid = h.send(Subscribe(channels=[TICKER]))
    h.advance(5.0)
    assert isinstance(result_of(h, rid), RequestTimeout)
    assert h.client.ledger.desired() == [TICKER]
    h.connect()
    assert subscribe_params(h) == [("public/subscribe", [TICKER])]


def test_an_unanswered_subscribe_is_sent_again() -> None:
    h = Harness(heartbeat_interval=None, request_timeout=5.0)
    h.connect()
    h.send(Subscribe(channels=[TICKER]), timeout=60.0)
    h.take_sent()
    h.advance(5.0)
    assert subscribe_params(h) == [("public/subscribe", [TICKER])]


def test_notifications_on_channels_not_subscribed_are_still_delivered() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.feed(encode_notification("announcements", {"action": "new", "id": 1}))
    h.feed(encode_notification("brand_new.channel", [1, 2]))
    [announcement, unknown] = h.of(Notification)
    assert announcement.channel == "announcements"
    assert unknown.data == [1, 2]


def test_channel_names_are_checked_on_construction() -> None:
    with pytest.raises(LocalProtocolError, match="interval"):
        Subscribe(channels=["ticker.BTC-PERPETUAL.50ms"])
    with pytest.raises(LocalProtocolError, match="channels"):
        Subscribe(channels=[])
    with pytest.raises(LocalProtocolError, match="channels"):
        Unsubscribe(channels="ticker.BTC-PERPETUAL.100ms")
    assert Subscribe(channels=[TICKER, TICKER]).channels == (TICKER,)


def test_max_subscriptions_bounds_the_ledger() -> None:
    h = Harness(heartbeat_interval=None, max_subscriptions=2)
    h.send(Subscribe(channels=[TICKER, TRADES]))
    with pytest.raises(LocalProtocolError, match="max_topics=2"):
        h.send(Subscribe(channels=["quote.BTC-PERPETUAL"]))
    assert len(h.client.ledger) == 2


def test_a_late_unsubscribe_error_counts_as_ended() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=[TICKER]))
    h.ack_subscriptions()
    rid = h.send(Unsubscribe(channels=[TICKER]))
    h.fail(h.find("public/unsubscribe"), 11050, "bad_request")
    assert result_of(h, rid) == UnsubscribeResult(ended=(TICKER,))


# -- through the WebSocket stacks ----------------------------------------------------------


def test_through_the_stacks_a_dropped_connection_is_resubscribed_after_login() -> None:
    link, client, venues = make_link(
        lambda: ScriptedVenue(drop=[BAD]), credentials=credentials(), heartbeat_interval=10
    )
    link.client.send(Subscribe(channels=[TICKER, ORDERS, RAW_BOOK, BAD]), link.now)
    link.advance(1.0)
    events = link.take_client_events()
    rejected = [e for e in events if isinstance(e, SubscriptionRejected)]
    assert [e.topic for e in rejected] == [BAD]
    assert set(venues[0].channels) == {TICKER, ORDERS, RAW_BOOK}
    link.drop()
    link.advance(30.0)
    assert len(venues) == 2
    methods = [r.method for r in venues[1].requests]
    auth_at = methods.index("public/auth")
    assert methods.index("private/subscribe") > auth_at
    assert set(venues[1].channels) == {TICKER, ORDERS, RAW_BOOK}
    assert sorted(client.ledger.active()) == sorted([TICKER, ORDERS, RAW_BOOK])


def test_without_credentials_raw_channels_go_in_requests_of_their_own() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=[RAW_BOOK, TICKER, "trades.BTC-PERPETUAL.raw"]))
    assert subscribe_params(h) == [
        ("public/subscribe", [RAW_BOOK, "trades.BTC-PERPETUAL.raw"]),
        ("public/subscribe", [TICKER]),
    ]


def test_through_the_stacks_raw_without_credentials_is_refused_by_the_venue() -> None:
    link, client, venues = make_link(heartbeat_interval=None)
    rid = link.client.send(Subscribe(channels=[RAW_BOOK, TICKER]), link.now)
    link.advance(1.0)
    events = link.take_client_events()
    [done] = [e for e in events if isinstance(e, RequestSucceeded) and e.request_id == rid]
    assert done.result.active == (TICKER,)
    [rejected] = done.result.rejected
    assert rejected.topic == RAW_BOOK
    assert "13778" in rejected.reason
    assert list(venues[0].channels) == [TICKER]
    assert client.ledger.active() == [TICKER]
