"""Every fault kind of the venue's fault plans, recovered by tradewire's own client.

Each test runs one session against a busy market with a fault on the first connection
(``#1``), checks that the fault happened as documented, and then that the client
recovered: its ledger's active set is its desired set (no subscription lost) and its
maintained books equal the venue's (no corrupted book).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tradewire.protocol import MessageRejected, RequestFailed, RequestSucceeded
from tradewire.protocol.deribit import (
    Authenticated,
    BookGap,
    BookResynced,
    Buy,
    GetOpenOrdersByCurrency,
    GetOrderBook,
    GetTime,
    HeartbeatTimeout,
    Subscribe,
    TickerUpdate,
    Unauthorized,
    UserOrdersUpdate,
)
from tradewire.protocol.deribit.server import (
    ServerConfig,
)
from tradewire.protocol.transport._websocket import Connected, WebSocketClosed

sys.path.append(str(Path(__file__).parent))
from support_venue import BUSY, Client, assert_recovered, make_harness

BTC_BOOK = "book.BTC-PERPETUAL.100ms"
ETH_BOOK = "book.ETH-PERPETUAL.raw"
CHANNELS = [BTC_BOOK, ETH_BOOK, "ticker.BTC-PERPETUAL.100ms", "user.orders.any.any.raw"]


def session(faults: str, **config: Any) -> Client:
    """A client with books and a private channel, active after 2 s."""
    harness = make_harness(BUSY, faults=faults, **config)
    client = Client(harness)
    client.send(Subscribe(channels=CHANNELS))
    harness.advance(2.0)
    assert set(client.machine.ledger.active()) == set(CHANNELS)
    return client


def recovered(client: Client) -> None:
    assert_recovered(client, BTC_BOOK, ETH_BOOK)
    assert set(client.machine.ledger.desired()) == set(CHANNELS)


def closes(client: Client) -> list[tuple[int, str, str]]:
    return [(e.code, e.reason, e.by) for e in client.of(WebSocketClosed)]


def reconnects(client: Client) -> int:
    return len([e for e in client.of(Connected) if e.attempt > 0])


def fired(client: Client) -> list[str]:
    sockets = client.link.servers
    return [f.spec() for s in sockets for f in s.machine.fired]  # type: ignore[attr-defined]


def test_disconnect_after_seconds_drops_the_transport_and_the_client_comes_back() -> None:
    client = session("disconnect@5s#1")
    client.harness.advance(10.0)
    assert closes(client) == [(1006, "", "transport")]
    assert reconnects(client) == 1
    assert client.harness.venue.accepted == 2
    recovered(client)


def test_disconnect_after_messages_with_a_close_code() -> None:
    client = session("disconnect=4001@40msg#1")
    client.harness.advance(10.0)
    assert closes(client) == [(4001, "fault injected", "remote")]
    (first, *_) = client.harness.links[0].servers
    assert first.machine.sent == 40  # type: ignore[attr-defined]
    assert reconnects(client) == 1
    recovered(client)


def test_a_zombie_is_caught_by_the_heartbeat_and_replaced() -> None:
    client = session("zombie@3s#1")
    client.harness.advance(1.5)
    client.take()
    client.harness.advance(10.0)
    assert client.of(TickerUpdate) == []  # nothing arrives from a zombie
    client.harness.advance(20.0)
    assert len(client.of(HeartbeatTimeout)) == 1
    assert closes(client) == [(1006, "", "transport")]
    assert reconnects(client) == 1
    recovered(client)


def test_a_skipped_change_id_is_a_gap_and_the_channel_alone_is_resynced() -> None:
    client = session("gap:book.BTC-PERPETUAL.100ms@3s#1")
    client.harness.advance(5.0)
    (gap,) = client.of(BookGap)
    assert gap.channel == BTC_BOOK
    assert gap.got != gap.expected
    assert [e.channel for e in client.of(BookResynced)] == [BTC_BOOK]
    assert fired(client) == ["gap:book.BTC-PERPETUAL.100ms@3s#1"]
    assert reconnects(client) == 0  # no reconnect needed
    recovered(client)


@pytest.mark.parametrize("kind", ["duplicate", "reorder"])
def test_a_duplicated_or_reordered_change_is_a_gap_and_is_resynced(kind: str) -> None:
    client = session(f"{kind}:{ETH_BOOK}@3s#1")
    client.harness.advance(5.0)
    gaps = client.of(BookGap)
    assert [g.channel for g in gaps] == [ETH_BOOK]
    assert [e.channel for e in client.of(BookResynced)] == [ETH_BOOK]
    recovered(client)


def test_a_duplicated_ticker_is_harmless() -> None:
    client = session("duplicate:ticker.BTC-PERPETUAL.100ms@3s#1")
    client.harness.advance(2.0)
    tickers = [e.data for e in client.of(TickerUpdate)]
    stamps = [t.timestamp for t in tickers]
    assert len(stamps) == len(set(stamps)) + 1  # one notification twice
    recovered(client)


@pytest.mark.parametrize(
    ("variant", "reason"), [("json", "not valid JSON"), ("binary", "binary message")]
)
def test_a_malformed_book_frame_is_rejected_and_the_book_resynced(
    variant: str, reason: str
) -> None:
    client = session(f"malformed={variant}:{BTC_BOOK}@3s#1")
    client.harness.advance(5.0)
    (rejected,) = client.of(MessageRejected)
    assert reason.lower() in rejected.reason.lower()
    assert [g.channel for g in client.of(BookGap)] == [BTC_BOOK]  # the change it replaced
    assert [e.channel for e in client.of(BookResynced)] == [BTC_BOOK]
    assert client.link.errors == []
    recovered(client)


def test_a_frame_of_invalid_utf8_closes_the_connection_and_the_client_reconnects() -> None:
    client = session(f"malformed=utf8:{BTC_BOOK}@3s#1")
    client.harness.advance(10.0)
    assert [(code, by) for code, _, by in closes(client)] == [(1007, "local")]
    assert [name for name, _ in client.link.errors] == ["client"]
    assert reconnects(client) == 1
    recovered(client)


def test_an_empty_credit_pool_answers_10028_closes_and_the_request_is_retried() -> None:
    client = session("ratelimit@3s#1")
    client.harness.advance(1.5)
    request_id = client.send(GetTime())
    client.harness.advance(5.0)
    assert closes(client) == [(1013, "too_many_requests", "remote")]
    assert isinstance(client.outcome(request_id), RequestSucceeded)  # on the next connection
    assert reconnects(client) == 1
    recovered(client)


def test_early_token_expiry_until_the_client_refreshes() -> None:
    client = session("expire@3s#1", server=ServerConfig(expires_in=60))
    client.harness.advance(2.0)
    # The venue refuses the early-expired token; the client refreshes at once and the
    # refused call (not executed) goes again with the new token.
    assert client.call(GetOpenOrdersByCurrency(currency="BTC")) == []
    assert [e.refreshed for e in client.of(Authenticated)] == [False, True]
    refused = [e for e in client.of(RequestFailed) if isinstance(e.error, Unauthorized)]
    assert refused == []
    client.harness.advance(45.0)
    assert client.call(GetOpenOrdersByCurrency(currency="BTC")) == []
    low = client.call(GetOrderBook(instrument_name="BTC-PERPETUAL")).bids[-1][0]
    placed = client.call(Buy(instrument_name="BTC-PERPETUAL", amount=10, price=low))
    assert placed.order.order_state == "open"
    client.harness.advance(0.5)
    assert client.of(UserOrdersUpdate)  # the private subscription survived
    assert reconnects(client) == 0
    recovered(client)


def test_an_unanswered_test_request_closes_with_4000_and_the_client_reconnects() -> None:
    client = session("heartbeat@12s#1")
    client.harness.advance(30.0)
    assert closes(client) == [(4000, "heartbeat close", "remote")]
    assert reconnects(client) == 1
    recovered(client)


def test_a_client_that_stops_reading_is_closed_as_connection_too_slow() -> None:
    client = session("stall@3s#1", max_pending_bytes=32_768)
    client.harness.advance(1.0)
    (socket,) = client.harness.venue.sockets.values()
    assert socket.machine.stalled
    client.harness.advance(10.0)
    assert socket.closed_too_slow
    assert closes(client) == [(1008, "connection_too_slow", "remote")]
    assert reconnects(client) == 1
    recovered(client)


def test_faults_compose_on_one_connection_and_spare_the_others() -> None:
    client = session(f"gap:{BTC_BOOK}@3s#1,duplicate:{ETH_BOOK}@4s#1,disconnect@6s#1")
    client.harness.advance(10.0)
    assert sorted(g.channel for g in client.of(BookGap)) == sorted([BTC_BOOK, ETH_BOOK])
    assert closes(client) == [(1006, "", "transport")]
    assert reconnects(client) == 1
    client.harness.advance(10.0)  # connection 2 has no faults
    assert reconnects(client) == 1
    assert fired(client) == [
        f"gap:{BTC_BOOK}@3s#1",
        f"duplicate:{ETH_BOOK}@4s#1",
        "disconnect@6s#1",
    ]
    recovered(client)


def test_a_fault_can_be_injected_into_a_live_connection() -> None:
    client = session("")
    (connection_id,) = client.harness.venue.sockets
    client.harness.venue.inject(connection_id, "disconnect=1001", client.harness.now)
    client.harness.advance(5.0)
    assert closes(client) == [(1001, "fault injected", "remote")]
    recovered(client)


def test_request_failed_events_are_not_left_behind() -> None:
    client = session("disconnect@3s#1")
    client.harness.advance(10.0)
    assert [e for e in client.collect() if isinstance(e, RequestFailed)] == []
