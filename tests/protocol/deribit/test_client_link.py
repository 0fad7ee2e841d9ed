"""ClientProtocol through the real WebSocketClientStack and WebSocketServerStack on a
MemoryLink with a fake clock, against the scripted venue of ``support_client``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tradewire.protocol import (
    CloseRequest,
    MessageRejected,
    RequestFailed,
    RequestSucceeded,
    SubscriptionActive,
)
from tradewire.protocol.deribit import (
    Authenticated,
    BookUpdate,
    GetTime,
    LoggedOut,
    Logout,
    Subscribe,
    SubscribeResult,
    TooManyRequests,
)
from tradewire.protocol.deribit.server import (
    encode_notification,
)
from tradewire.protocol.transport._websocket import Connected, StackState, WebSocketClosed

sys.path.append(str(Path(__file__).parent))
from support_client import ScriptedVenue, credentials, make_link

BOOK = "book.BTC-PERPETUAL.100ms"
ORDERS = "user.orders.any.any.raw"


def resolved(events: list[Any], request_id: Any) -> list[Any]:
    return [
        e
        for e in events
        if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id == request_id
    ]


def test_a_whole_session_login_subscribe_request_book_and_logout() -> None:
    link, client, venues = make_link(
        lambda: ScriptedVenue(answers={"public/get_time": 1_700_000_000_000}),
        credentials=credentials(),
        heartbeat_interval=10,
        maintain_books=True,
    )
    sub = link.client.send(Subscribe(channels=[BOOK, ORDERS]), link.now)
    clock = link.client.send(GetTime(), link.now)
    link.advance(1.0)
    venue = venues[0]
    assert [r.method for r in venue.requests][:2] == ["public/auth", "public/set_heartbeat"]
    events = link.take_client_events()
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Connected") < kinds.index("Authenticated")
    assert resolved(events, clock)[0].result == 1_700_000_000_000
    [done] = resolved(events, sub)
    assert done.result == SubscribeResult(active=(BOOK, ORDERS))
    assert {e.topic for e in events if isinstance(e, SubscriptionActive)} == {BOOK, ORDERS}
    [snapshot] = [e for e in events if isinstance(e, BookUpdate)]
    assert snapshot.data.is_snapshot
    venue.change(BOOK)
    assert link.server is not None
    link.server.handle_timer(link.now)
    link.pump()
    book = client.book(BOOK)
    assert book is not None
    assert book.bids() == [(100.0, 7.0)]
    logout = link.client.send(Logout(), link.now)
    link.pump()
    events = link.take_client_events()
    assert resolved(events, logout)[0].result is None
    assert any(isinstance(e, LoggedOut) for e in events)
    assert WebSocketClosed(code=1000, reason="logout", by="remote") in events
    link.client.close(link.now)  # what a binding does on LoggedOut
    link.advance(60.0)
    assert link.client.state is StackState.CLOSED
    assert len(venues) == 1


def test_without_closing_the_stack_an_ended_session_refuses_each_new_connection() -> None:
    link, client, venues = make_link(credentials=credentials(), heartbeat_interval=None)
    link.pump()
    link.client.send(Logout(), link.now)
    link.pump()
    link.advance(5.0)
    assert len(venues) >= 2
    assert all(r.method != "public/auth" for r in venues[-1].requests)
    assert client.close_request == CloseRequest(code=1000, reason="session ended by private/logout")


def test_10028_then_the_venue_closes_and_the_request_goes_again_on_the_next_connection() -> None:
    calls: list[int] = []
    holders: list[ScriptedVenue] = []

    def get_time(params: dict[str, Any]) -> Any:
        calls.append(1)
        if len(calls) == 1:
            holders[-1].close_request = CloseRequest(code=1000, reason="too many requests")
            return Exception(10028, "too_many_requests")
        return 42

    def venue() -> ScriptedVenue:
        machine = ScriptedVenue(answers={"public/get_time": get_time})
        holders.append(machine)
        return machine

    link, _, _ = make_link(venue, heartbeat_interval=None)
    link.pump()
    rid = link.client.send(GetTime(), link.now)
    link.pump()
    events = link.take_client_events()
    assert resolved(events, rid) == []
    assert any(isinstance(e, WebSocketClosed) for e in events)
    link.advance(30.0)
    events = link.take_client_events()
    assert [e.attempt for e in events if isinstance(e, Connected)] == [1]
    [done] = resolved(events, rid)
    assert isinstance(done, RequestSucceeded)
    assert done.result == 42
    assert len(calls) == 2


def test_10028_again_and_again_is_retried_until_the_deadline_then_fails() -> None:
    link, _, venues = make_link(
        lambda: ScriptedVenue(answers={"public/get_time": Exception(10028, "too_many_requests")}),
        heartbeat_interval=None,
        request_timeout=2.0,
    )
    link.pump()
    rid = link.client.send(GetTime(), link.now)
    link.advance(5.0)
    events = link.take_client_events()
    [done] = resolved(events, rid)
    assert isinstance(done, RequestFailed)
    assert isinstance(done.error, TooManyRequests)
    tries = [r for r in venues[0].requests if r.method == "public/get_time"]
    assert len(tries) == 37  # the first, then one per refill (500/9000 s) within 2 s
    assert len({r.id for r in tries}) == 1


def test_a_broken_notification_is_rejected_and_the_session_goes_on() -> None:
    link, _, venues = make_link(credentials=credentials(), heartbeat_interval=None)
    link.pump()
    venues[0].push(encode_notification(BOOK, {"type": "bogus"}))
    assert link.server is not None
    link.server.handle_timer(link.now)
    link.pump()
    rid = link.client.send(GetTime(), link.now)
    link.pump()
    events = link.take_client_events()
    [rejected] = [e for e in events if isinstance(e, MessageRejected)]
    assert "BookUpdate" in rejected.reason
    assert resolved(events, rid)  # answered (-32601 by the scripted venue), not stuck
    assert any(isinstance(e, Authenticated) for e in events)
