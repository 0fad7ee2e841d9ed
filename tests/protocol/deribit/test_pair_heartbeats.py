"""The real client and server machines paired (``support_pair``): heartbeats.

``public/set_heartbeat`` on every connection; the server's ``test_request`` frames
answered by the client machine for minutes of fake time; a zombie server (the link
swallows everything) declared dead by the client's heartbeat deadline, then replaced;
and a client that does not answer closed by the server with 4000, then reconnecting."""

from __future__ import annotations

import sys
from pathlib import Path

from tradewire.protocol import RequestTimeout
from tradewire.protocol.deribit import (
    AccountSummary,
    ClientProtocol,
    GetAccountSummary,
    GetTime,
    HeartbeatTimeout,
)
from tradewire.protocol.deribit.server import (
    HEARTBEAT_CLOSE_CODE,
    HEARTBEAT_CLOSE_REASON,
    SessionClosed,
)
from tradewire.protocol.transport._websocket import Connected, ReconnectScheduled, WebSocketClosed

sys.path.append(str(Path(__file__).parent))
from support_pair import EPOCH_OFFSET, START, Pair, PairVenue, credentials, make_pair


class DeafClient(ClientProtocol):
    """A client machine whose ``public/test`` answers never leave it (while ``deaf``)."""

    deaf = True

    def messages_to_send(self) -> list[bytes]:
        messages = super().messages_to_send()
        if not self.deaf:
            return messages
        return [m for m in messages if b'"method":"public/test"' not in m]


def test_set_heartbeat_goes_out_on_every_connection() -> None:
    pair = make_pair(credentials=credentials(), heartbeat_interval=15)
    pair.pump()
    pair.drop()
    pair.advance(5.0)
    connections = [m.connection_id for m in pair.venue.machines]
    assert len(connections) == 2
    for connection in connections:
        [call] = [
            r
            for r in pair.venue.log
            if r.connection_id == connection and r.method == "public/set_heartbeat"
        ]
        assert call.params == {"interval": 15}
    assert pair.venue.methods(connections[1])[:2] == ["public/auth", "public/set_heartbeat"]


def test_test_requests_are_answered_so_the_server_never_closes_over_minutes() -> None:
    pair = make_pair(credentials=credentials())
    pair.advance(600.0)
    tests = [r.at for r in pair.venue.log if r.method == "public/test"]
    assert len(tests) == 60  # one answer per test_request, every 10 s
    assert tests[:3] == [START + 10, START + 20, START + 30]
    assert len(pair.venue.machines) == 1
    assert pair.of(WebSocketClosed) == []
    assert pair.of(HeartbeatTimeout) == []
    assert pair.server_machine().is_open
    assert isinstance(pair.result(pair.send(GetAccountSummary(currency="BTC"))), AccountSummary)


def test_a_zombie_server_is_declared_dead_by_the_heartbeat_deadline_and_replaced() -> None:
    pair = make_pair(credentials=credentials())
    pair.advance(30.0)  # healthy: the last test_request came at START + 30
    first = pair.server_machine()
    pair.blackhole = True  # the connection looks open; nothing gets through either way
    waiting = pair.client.send(GetTime(), pair.now)
    pair.advance(14.9)
    assert pair.of(HeartbeatTimeout) == []
    pair.advance(0.1)
    [dead] = pair.of(HeartbeatTimeout)
    assert dead.silence == 15.0  # interval 10 plus the default grace of 5
    assert pair.of(ReconnectScheduled)
    assert not first.is_open
    assert [e.reason for e in pair.venue.seen if isinstance(e, SessionClosed)] == [
        "connection lost"
    ]
    assert isinstance(pair.error(waiting), RequestTimeout)  # its 10 s ran out first
    pair.blackhole = False
    pair.advance(10.0)
    assert [e.attempt for e in pair.of(Connected)] == [0, 1]
    assert pair.server_machine() is not first
    assert isinstance(pair.result(pair.send(GetTime())), int)


def test_without_the_blackhole_the_same_wait_is_quiet() -> None:
    """The control for the zombie test: 15 s of an idle but live link declares nothing."""
    pair = make_pair(credentials=credentials())
    pair.advance(45.0)
    assert pair.of(HeartbeatTimeout) == []
    assert [e.attempt for e in pair.of(Connected)] == [0]


def test_a_client_that_does_not_answer_is_closed_with_4000_and_reconnects() -> None:
    machine = DeafClient(credentials=credentials(), epoch_offset=EPOCH_OFFSET)
    pair = Pair(machine, PairVenue())
    pair.advance(19.9)
    assert pair.of(WebSocketClosed) == []
    pair.advance(0.1)  # the test_request of START + 10 stayed unanswered for 10 s
    [closed] = pair.of(WebSocketClosed)
    assert (closed.code, closed.reason, closed.by) == (
        HEARTBEAT_CLOSE_CODE,
        HEARTBEAT_CLOSE_REASON,
        "remote",
    )
    assert [e.reason for e in pair.venue.seen if isinstance(e, SessionClosed)] == ["heartbeat"]
    assert pair.of(HeartbeatTimeout) == []  # the server's frames kept the client content
    machine.deaf = False
    pair.advance(5.0)
    assert [e.attempt for e in pair.of(Connected)] == [0, 1]
    pair.advance(120.0)  # answering now: the second connection stays up
    assert len(pair.of(WebSocketClosed)) == 1
    assert len(pair.venue.machines) == 2
    assert isinstance(pair.result(pair.send(GetTime())), int)
