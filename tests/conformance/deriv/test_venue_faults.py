"""Every fault kind the Deriv venue applies, recovered by tradewire's own client.

Each test runs one session with public and private streams and a fault on the first
connection (``#1``), checks that the fault happened as documented, then that nothing was
lost: every desired stream is live again (the ledger's active set is its desired set),
every request resolved, and the ticks missed while the connection was down are in the
history the restored ``ticks_history`` stream starts with.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradewire.protocol import (
    Connected,
    MessageRejected,
    RequestFailed,
    RequestSucceeded,
    WebSocketClosed,
)
from tradewire.protocol import deriv as d
from tradewire.protocol.session import PongTimeout

sys.path.append(str(Path(__file__).parent))
from support_deriv_venue import Client, make_harness

STREAMS = ["ticks.R_50", "ticks_history.1HZ100V", "balance", "transaction", "candles.R_10.60"]


def session(faults: str, **config: object) -> Client:
    harness = make_harness(faults=faults, **config)  # type: ignore[arg-type]
    client = Client(harness)
    client.send(d.Subscribe(streams=STREAMS))
    harness.advance(2.0)
    assert set(client.machine.ledger.active()) == set(STREAMS)
    return client


def closes(client: Client) -> list[tuple[int, str, str]]:
    return [(e.code, e.reason, e.by) for e in client.of(WebSocketClosed)]


def reconnects(client: Client) -> int:
    return len([e for e in client.of(Connected) if e.attempt > 0])


def recovered(client: Client) -> None:
    ledger = client.machine.ledger
    assert set(ledger.active()) == set(ledger.desired()) == set(STREAMS)
    # nothing lost on the tick-history stream: seen ticks plus the restored history
    # are every tick the venue made
    seen = {m.tick.epoch for m in client.of(d.TickMessage) if m.topic == "ticks_history.1HZ100V"}
    for history in client.of(d.HistoryMessage):
        seen |= set(history.history.times)
    truth = {t.epoch for t in client.harness.venue.ticks.ticks["1HZ100V"]}
    assert truth <= seen | {max(truth)}  # (the newest may still be on its way)


def test_disconnect_drops_the_transport_and_the_client_restores_every_stream() -> None:
    client = session("disconnect@5s#1")
    client.harness.advance(10.0)
    assert closes(client) == [(1006, "", "transport")]
    assert reconnects(client) == 1
    assert len(client.of(d.Authorized)) == 2
    recovered(client)


def test_a_zombie_is_caught_by_the_pong_deadline_and_replaced() -> None:
    client = session("zombie@3s#1")
    client.harness.advance(40.0)
    (dead,) = client.of(PongTimeout)
    assert dead.waited == 5.0
    assert reconnects(client) == 1
    recovered(client)


def test_a_skipped_ping_is_a_zombie_too() -> None:
    client = session("heartbeat@10s#1")
    client.harness.advance(40.0)
    assert len(client.of(PongTimeout)) == 1
    assert reconnects(client) == 1
    recovered(client)


@pytest.mark.parametrize(
    ("variant", "reason"), [("json", "not valid JSON"), ("binary", "binary message")]
)
def test_a_malformed_stream_message_is_rejected_and_the_stream_goes_on(
    variant: str, reason: str
) -> None:
    client = session(f"malformed={variant}:ticks.R_50@3s#1")
    client.harness.advance(6.0)
    (rejected,) = client.of(MessageRejected)
    assert reason.lower() in rejected.reason.lower()
    assert reconnects(client) == 0
    assert (
        client.of(d.TickMessage)[-1].tick.epoch
        >= client.harness.venue.epoch(client.harness.now) - 2
    )
    recovered(client)


def test_invalid_utf8_closes_the_connection_and_the_client_reconnects() -> None:
    client = session("malformed=utf8:ticks.R_50@3s#1")
    client.harness.advance(10.0)
    assert [(code, by) for code, _, by in closes(client)] == [(1007, "local")]
    assert reconnects(client) == 1
    recovered(client)


def test_an_empty_budget_answers_rate_limit_and_the_call_is_retried() -> None:
    client = session("ratelimit@3s#1")
    client.harness.advance(1.5)
    request_id = client.send(d.Time())
    client.harness.advance(30.0)
    outcome = client.outcome(request_id)
    assert isinstance(outcome, RequestSucceeded)  # paced again once the buckets refilled
    assert reconnects(client) == 0  # Deriv keeps the connection (spec 6.2)
    recovered(client)


def test_a_revoked_authorization_is_refused_once_then_the_client_authorizes_again() -> None:
    client = session("expire@3s#1")
    client.harness.advance(2.0)
    # Refused (AuthorizationRequired, not executed): the client authorizes again on the
    # same connection and the call goes again, so the caller sees only its result.
    assert client.call(d.Portfolio()).contracts == []
    assert len(client.of(d.Authorized)) == 2
    client.harness.advance(2.0)
    assert client.call(d.Portfolio()).contracts == []
    assert reconnects(client) == 0
    recovered(client)


def test_an_idle_close_is_a_reconnect() -> None:
    client = session("idle@4s#1")
    client.harness.advance(6.0)
    assert closes(client) == [(1000, "inactivity timeout", "remote")]
    assert reconnects(client) == 1
    recovered(client)


def test_the_venues_own_idle_timeout_spares_a_client_that_pings() -> None:
    from tradewire.protocol.deriv.server import ServerConfig

    client = session("", server=ServerConfig(idle_timeout=40.0))
    client.harness.advance(200.0)
    assert reconnects(client) == 0  # pings every 30 s keep it
    pinged = Client(client.harness, ping_interval=None, seed=8)  # WebSocket pings only
    silent = Client(client.harness, ping_interval=None, keepalive=None, seed=9)
    client.harness.advance(45.0)
    assert pinged.of(WebSocketClosed) == []  # ping frames count as activity (a switch)
    assert [(e.code, e.reason) for e in silent.of(WebSocketClosed)] == [
        (1000, "inactivity timeout")
    ]


def test_a_client_that_stops_reading_is_closed_as_too_slow() -> None:
    client = session("stall@3s#1", max_pending_bytes=16_384)
    client.harness.advance(60.0)
    assert (1008, "connection_too_slow", "remote") in closes(client)
    assert reconnects(client) >= 1
    recovered(client)


def test_no_request_is_left_unresolved() -> None:
    client = session("disconnect@3s#1")
    ids = [client.send(d.Time()) for _ in range(3)]
    client.harness.advance(10.0)
    for request_id in ids:
        assert isinstance(client.outcome(request_id), RequestSucceeded | RequestFailed)


def test_a_gap_fault_is_refused_for_deriv() -> None:
    from tradewire.protocol import LocalProtocolError

    with pytest.raises(LocalProtocolError, match="no sequence"):
        make_harness(faults="gap:ticks.R_50@1s")
