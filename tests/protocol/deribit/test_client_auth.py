"""ClientProtocol authentication (both grants, scopes, refresh) and heartbeats (set on
connect, test_request answered, silence declared dead), directly and through the stacks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradewire.protocol import (
    CloseRequest,
    ConnectionDead,
    RequestFailed,
    RequestSucceeded,
    RequestTimeout,
    SubscriptionRejected,
)
from tradewire.protocol.deribit import (
    Authenticated,
    AuthenticationFailed,
    AuthState,
    Credentials,
    GetPositions,
    GetTime,
    HeartbeatTimeout,
    HeartbeatUnavailable,
    InvalidCredentials,
    Subscribe,
    signature,
)
from tradewire.protocol.transport._websocket import Connected, WebSocketClosed

sys.path.append(str(Path(__file__).parent))
from support_client import (
    HEARTBEAT,
    KEY,
    SECRET,
    START,
    TEST_REQUEST,
    Harness,
    auth_result,
    book,
    credentials,
    make_link,
)

VECTOR_A = "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"


# -- the login ------------------------------------------------------------------------------


def test_client_signature_matches_vector_a_with_the_injected_clock_and_nonce() -> None:
    h = Harness(
        credentials=Credentials(client_id="AMANDA", client_secret="AMANDASECRECT"),
        nonces=lambda: "1iqt2wls",
        epoch_offset=1576074319.0 - START,  # a monotonic clock reading START at that instant
        heartbeat_interval=None,
    )
    h.connect()
    auth = h.find("public/auth")
    assert auth.params == {
        "grant_type": "client_signature",
        "client_id": "AMANDA",
        "timestamp": 1576074319000,
        "signature": VECTOR_A,
        "nonce": "1iqt2wls",
    }
    assert "client_secret" not in auth.params


def test_signature_default_nonce_is_the_timestamp_as_ccxt_does() -> None:
    h = Harness(credentials=credentials(), epoch_offset=1_700_000_000.0, heartbeat_interval=None)
    h.now = 12.3456
    h.connect()
    params = h.find("public/auth").params
    assert params["timestamp"] == 1_700_000_012_346  # now + epoch_offset, in ms
    assert params["nonce"] == "1700000012346"
    assert params["signature"] == signature(SECRET, 1_700_000_012_346, "1700000012346")


def test_signature_data_is_signed_and_sent() -> None:
    creds = Credentials(client_id=KEY, client_secret=SECRET, data="some-data")
    h = Harness(credentials=creds, nonces=lambda: "n1", heartbeat_interval=None)
    h.connect()
    params = h.find("public/auth").params
    assert params["data"] == "some-data"
    assert params["signature"] == signature(SECRET, params["timestamp"], "n1", "some-data")


def test_client_credentials_grant() -> None:
    h = Harness(credentials=credentials("client_credentials"), heartbeat_interval=None)
    h.connect()
    assert h.find("public/auth").params == {
        "grant_type": "client_credentials",
        "client_id": KEY,
        "client_secret": SECRET,
    }
    h.answer("public/auth", auth_result(expires_in=600, scope="connection mainaccount"))
    assert h.of(Authenticated) == [
        Authenticated(scope="connection mainaccount", expires_in=600, refreshed=False)
    ]
    assert h.client.authenticated
    assert h.client.granted_scope == "connection mainaccount"


def test_session_scope_is_asked_for_on_every_connection() -> None:
    h = Harness(credentials=credentials(), scope="session:bot-1", heartbeat_interval=None)
    h.login(scope="session:bot-1 mainaccount")
    assert h.log[0].params["scope"] == "session:bot-1"
    assert h.client.granted_scope == "session:bot-1 mainaccount"
    h.lose()
    assert h.client.auth_state is AuthState.NONE
    h.connect()
    assert h.find("public/auth").params["scope"] == "session:bot-1"


def test_auth_goes_first_then_heartbeat_then_public_traffic() -> None:
    h = Harness(credentials=credentials())
    h.send(GetTime())
    h.send(GetPositions(currency="BTC"))
    h.send(Subscribe(channels=["ticker.BTC-PERPETUAL.100ms", "user.orders.any.any.raw"]))
    h.connect()
    assert h.methods() == [
        "public/auth",
        "public/set_heartbeat",
        "public/subscribe",
        "public/get_time",
    ]
    h.answer("public/auth", auth_result())
    assert h.methods()[-2:] == ["private/get_positions", "private/subscribe"]


# -- refresh --------------------------------------------------------------------------------


def test_refresh_token_grant_at_the_configured_fraction_of_expires_in() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login(expires_in=1000)
    h.take_sent()
    assert h.client.next_deadline() == START + 800.0
    h.advance(799.0)
    assert h.sent == []
    h.advance(1.0)
    refresh = h.find("public/auth")
    assert refresh.at == START + 800.0
    assert refresh.params == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-token-1-SECRET",
    }
    h.answer("public/auth", auth_result(expires_in=500, n=2))
    assert h.of(Authenticated)[-1] == Authenticated(
        scope="connection mainaccount", expires_in=500, refreshed=True
    )
    h.advance(400.0)  # 0.8 * 500 after the refresh
    assert h.find("public/auth").params["refresh_token"] == "refresh-token-2-SECRET"


def test_refresh_fraction_is_configurable() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None, refresh_fraction=0.5)
    h.login(expires_in=100)
    assert h.client.next_deadline() == START + 50.0


def test_a_failed_refresh_logs_in_again_with_the_credentials() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None, nonces=lambda: "n")
    h.login(expires_in=100)
    h.take_sent()
    h.advance(80.0)
    h.fail(h.find("public/auth"), 13009, "unauthorized")
    login = h.find("public/auth")
    assert login.params["grant_type"] == "client_signature"
    # Private traffic keeps flowing meanwhile: the connection is still authenticated.
    h.send(GetPositions(currency="BTC"))
    assert "private/get_positions" in h.methods()
    h.answer("public/auth", auth_result(n=3))
    assert h.of(Authenticated)[-1].refreshed is False
    assert not h.of(AuthenticationFailed)


def test_a_refresh_that_times_out_logs_in_again() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None, request_timeout=2.0)
    h.login(expires_in=100)
    h.take_sent()
    h.advance(80.0)
    assert h.find("public/auth").params["grant_type"] == "refresh_token"
    h.take_sent()
    h.advance(2.0)
    assert h.find("public/auth").params["grant_type"] == "client_signature"


# -- failures -------------------------------------------------------------------------------


def test_failed_auth_is_an_event_and_fails_waiting_private_requests_with_it() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    private = h.send(GetPositions(currency="BTC"))
    public = h.send(GetTime())
    h.send(Subscribe(channels=["user.orders.any.any.raw", "ticker.BTC-PERPETUAL.100ms"]))
    h.connect()
    h.fail(h.find("public/auth"), 13004, "invalid_credentials")
    [failed] = h.of(AuthenticationFailed)
    assert isinstance(failed.error, InvalidCredentials)
    [done] = [e for e in h.events if isinstance(e, RequestFailed) and e.request_id == private]
    assert done.error is failed.error
    [rejected] = h.of(SubscriptionRejected)
    assert rejected.topic == "user.orders.any.any.raw"
    assert "authentication failed: 13004: invalid_credentials" in rejected.reason
    assert h.client.auth_state is AuthState.FAILED
    # Public traffic is unaffected; new private requests fail at once on this connection.
    assert "public/get_time" in h.methods()
    h.answer("public/get_time", 1)
    assert any(isinstance(e, RequestSucceeded) and e.request_id == public for e in h.events)
    again = h.send(GetPositions(currency="BTC"))
    assert any(isinstance(e, RequestFailed) and e.request_id == again for e in h.events)
    # The next connection tries again.
    h.lose()
    h.take_sent()
    h.connect()
    assert h.methods() == ["public/auth", "public/subscribe"]
    assert h.find("public/subscribe").params == {"channels": ["ticker.BTC-PERPETUAL.100ms"]}


def test_an_auth_timeout_drops_the_connection_and_private_requests_keep_waiting() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None, request_timeout=5.0)
    h.connect()
    h.advance(1.0)
    private = h.send(GetPositions(currency="BTC"), timeout=30.0)
    h.advance(4.0)
    [failed] = h.of(AuthenticationFailed)
    assert isinstance(failed.error, RequestTimeout)
    assert h.client.close_request == CloseRequest(abort=True)
    assert not [e for e in h.events if isinstance(e, RequestFailed) and e.request_id == private]
    h.lose()
    h.take_sent()
    h.login()
    assert "private/get_positions" in h.methods()


# -- heartbeats -----------------------------------------------------------------------------


def test_set_heartbeat_goes_out_on_every_connection() -> None:
    h = Harness(heartbeat_interval=30)
    h.connect()
    assert h.find("public/set_heartbeat").params == {"interval": 30}
    h.lose()
    h.take_sent()
    h.connect()
    assert h.find("public/set_heartbeat").params == {"interval": 30}


def test_heartbeat_disabled_sends_nothing_and_never_declares_silence() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    assert h.sent == []
    assert h.client.next_deadline() is None
    h.advance(3600.0)
    assert h.client.close_request is None


def test_test_request_is_answered_by_the_machine_and_not_surfaced() -> None:
    h = Harness()
    h.login()
    h.feed(TEST_REQUEST)
    test = h.find("public/test")
    assert test.params == {}
    h.reply(test, {"version": "1.2.26"})
    assert not [e for e in h.events if isinstance(e, RequestSucceeded | RequestFailed)]
    h.feed(HEARTBEAT)  # a plain heartbeat needs no answer
    assert h.sent == []


def test_test_request_answers_are_bounded() -> None:
    h = Harness()
    h.login()
    for _ in range(10):
        h.feed(TEST_REQUEST)
    assert h.methods() == ["public/test"] * 4
    h.reply(h.sent[0], {"version": "1"})
    h.feed(TEST_REQUEST)
    assert h.methods() == ["public/test"] * 4


def test_silence_past_interval_plus_grace_declares_the_connection_dead() -> None:
    h = Harness(heartbeat_interval=10)
    h.login()
    assert h.client.heartbeat_grace == 5.0
    assert h.client.next_deadline() == START + 15.0
    h.advance(12.0)
    h.feed(HEARTBEAT)  # any message counts as liveness
    h.advance(14.9)
    h.feed(book("book.BTC-PERPETUAL.100ms", 5))
    h.advance(14.9)
    assert not h.of(HeartbeatTimeout)
    h.advance(0.1)
    [dead] = h.of(HeartbeatTimeout)
    assert isinstance(dead, ConnectionDead)
    assert dead.silence == pytest.approx(15.0)
    assert "heartbeat interval 10s" in dead.reason
    assert h.client.close_request == CloseRequest(abort=True)
    h.advance(60.0)
    assert len(h.of(HeartbeatTimeout)) == 1  # declared once


def test_an_unanswered_set_heartbeat_leaves_the_silence_check_on() -> None:
    h = Harness(heartbeat_interval=10, request_timeout=5.0)
    h.connect()
    h.advance(15.0)
    assert not h.of(HeartbeatUnavailable)
    assert len(h.of(HeartbeatTimeout)) == 1


def test_a_transiently_refused_set_heartbeat_leaves_the_silence_check_on() -> None:
    h = Harness(heartbeat_interval=10)
    h.connect()
    h.fail(h.find("public/set_heartbeat"), 13028, "temporarily_unavailable")
    assert not h.of(HeartbeatUnavailable)  # not a refusal of heartbeats as such
    h.advance(15.0)
    assert len(h.of(HeartbeatTimeout)) == 1


def test_default_grace_is_half_the_interval_at_least_five_seconds() -> None:
    assert Harness(heartbeat_interval=60).client.heartbeat_grace == 30.0
    assert Harness(heartbeat_interval=10).client.heartbeat_grace == 5.0
    assert Harness(heartbeat_interval=10, heartbeat_grace=1.5).client.heartbeat_grace == 1.5


def test_a_refused_set_heartbeat_turns_the_silence_check_off() -> None:
    h = Harness(heartbeat_interval=10)
    h.connect()
    h.fail(h.find("public/set_heartbeat"), -32602, "Invalid params")
    [unavailable] = h.of(HeartbeatUnavailable)
    assert unavailable.error.code == -32602  # type: ignore[attr-defined]
    h.advance(100.0)
    assert not h.of(HeartbeatTimeout)


# -- through the WebSocket stacks ----------------------------------------------------------


def test_venue_heartbeats_are_answered_and_the_connection_stays_up() -> None:
    link, client, venues = make_link(credentials=credentials(), heartbeat_interval=10)
    link.pump()
    link.advance(120.0)
    venue = venues[0]
    assert len(venues) == 1
    assert venue.authenticated
    tests = [r for r in venue.requests if r.method == "public/test"]
    assert len(tests) >= 11
    assert venue.close_request is None
    events = link.take_client_events()
    assert not [e for e in events if isinstance(e, ConnectionDead | WebSocketClosed)]
    assert client.authenticated


def test_a_heartbeat_close_from_the_venue_is_followed_by_a_fresh_login() -> None:
    link, client, venues = make_link(credentials=credentials(), heartbeat_interval=10)
    link.pump()
    assert link.server is not None
    link.server.close(link.now, 4000, "heartbeat close")
    link.pump()
    closed = [e for e in link.take_client_events() if isinstance(e, WebSocketClosed)]
    assert closed == [WebSocketClosed(code=4000, reason="heartbeat close", by="remote")]
    link.advance(30.0)
    assert len(venues) == 2
    assert venues[1].authenticated
    assert client.authenticated


def test_a_silent_venue_is_declared_dead_and_the_client_reconnects_and_logs_in() -> None:
    link, client, venues = make_link(credentials=credentials(), heartbeat_interval=10)
    link.pump()
    assert venues[0].authenticated
    link.blackhole = True  # the socket looks open; nothing gets through
    link.advance(15.0)
    events = link.take_client_events()
    [dead] = [e for e in events if isinstance(e, HeartbeatTimeout)]
    assert dead.silence == pytest.approx(15.0)
    assert [e for e in events if isinstance(e, WebSocketClosed)] == [
        WebSocketClosed(code=1006, reason="", by="transport")
    ]
    link.blackhole = False
    link.advance(30.0)
    events = link.take_client_events()
    assert [e.attempt for e in events if isinstance(e, Connected)] == [1]
    assert len(venues) == 2
    methods = [r.method for r in venues[1].requests]
    assert methods[:2] == ["public/auth", "public/set_heartbeat"]
    assert any(isinstance(e, Authenticated) for e in events)
    assert client.authenticated
