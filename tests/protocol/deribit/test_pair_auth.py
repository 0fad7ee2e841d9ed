"""The real client and server machines paired (``support_pair``): authentication.

client_signature verified by the server (vector A with the injected clock and nonce),
client_credentials, refresh at 0.8 of a short ``expires_in``, session against connection
scope across connections, the 60 s timestamp window, nonce reuse, and re-authentication
before any private resubscribe after a reconnect."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradewire.conformance._link import FakeClock
from tradewire.protocol.deribit import (
    AccountSummary,
    Authenticated,
    AuthenticationFailed,
    AuthState,
    Credentials,
    GetAccountSummary,
    GetPositions,
    InvalidCredentials,
    Subscribe,
    Unauthorized,
)
from tradewire.protocol.deribit.server import (
    ServerState,
)
from tradewire.protocol.transport._websocket import Connected

sys.path.append(str(Path(__file__).parent))
from support_pair import (
    CLIENT_ID,
    EPOCH_OFFSET,
    START,
    VECTOR_A_NONCE,
    VECTOR_A_SIGNATURE,
    PairVenue,
    credentials,
    make_pair,
    make_state,
)

SUMMARY = GetAccountSummary(currency="BTC")


def test_client_signature_is_verified_by_the_server_vector_a() -> None:
    pair = make_pair(credentials=credentials(), nonces=lambda: VECTOR_A_NONCE)
    pair.pump()
    [auth] = [r for r in pair.venue.log if r.method == "public/auth"]
    assert auth.at == START
    assert auth.params == {
        "grant_type": "client_signature",
        "client_id": CLIENT_ID,
        "timestamp": 1_576_074_319_000,
        "signature": VECTOR_A_SIGNATURE,
        "nonce": VECTOR_A_NONCE,  # data "" is left out, as the default
    }
    [granted] = pair.of(Authenticated)
    assert "connection" in granted.scope.split()
    assert pair.machine.auth_state is AuthState.AUTHENTICATED
    assert pair.server_machine().client_id == CLIENT_ID
    assert isinstance(pair.result(pair.send(SUMMARY)), AccountSummary)


def test_a_wrong_secret_fails_the_signature_check_and_the_waiting_private_requests() -> None:
    wrong = Credentials(client_id=CLIENT_ID, client_secret="not-the-secret")
    pair = make_pair(credentials=wrong)
    waiting = pair.send(SUMMARY)
    [failed] = pair.of(AuthenticationFailed)
    assert isinstance(failed.error, Unauthorized)
    assert failed.error.data == {"reason": "invalid_signature"}
    assert pair.error(waiting) is failed.error
    assert pair.server_machine().client_id is None


def test_client_credentials_login() -> None:
    pair = make_pair(credentials=credentials("client_credentials"))
    pair.pump()
    [auth] = [r for r in pair.venue.log if r.method == "public/auth"]
    assert auth.params == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": "AMANDASECRECT",
    }
    assert pair.of(Authenticated)
    assert isinstance(pair.result(pair.send(SUMMARY)), AccountSummary)
    bad = make_pair(
        PairVenue(pair.venue.state),
        credentials=Credentials(
            client_id=CLIENT_ID, client_secret="wrong", grant_type="client_credentials"
        ),
    )
    waiting = bad.send(GetPositions())
    [failed] = bad.of(AuthenticationFailed)
    assert isinstance(failed.error, InvalidCredentials)
    assert isinstance(bad.error(waiting), InvalidCredentials)


def test_the_token_is_refreshed_at_80_percent_of_a_short_lifetime() -> None:
    venue = PairVenue(make_state(expires_in=100))
    pair = make_pair(venue, credentials=credentials())
    pair.advance(250.0)
    logins = [(r.at, r.params["grant_type"]) for r in venue.log if r.method == "public/auth"]
    assert logins == [
        (START, "client_signature"),
        (START + 80, "refresh_token"),
        (START + 160, "refresh_token"),
        (START + 240, "refresh_token"),
    ]
    assert [e.refreshed for e in pair.of(Authenticated)] == [False, True, True, True]
    assert [e.expires_in for e in pair.of(Authenticated)] == [100] * 4
    # 250 s after the first login, long past its token's expiry, private calls work.
    assert isinstance(pair.result(pair.send(SUMMARY)), AccountSummary)
    assert len(venue.machines) == 1  # never a reconnect for it


def test_the_server_enforces_expiry_so_refreshing_is_what_keeps_a_session_alive() -> None:
    """The control for the test above: a token the venue expires is refused, and only a
    new grant (here prompted by the refusal itself) brings private calls back; the refused
    call (not executed) goes again with the new token."""
    venue = PairVenue(make_state(expires_in=100))
    pair = make_pair(venue, credentials=credentials())
    pair.advance(50.0)
    assert venue.state.expire_tokens(pair.now) == 1
    retried = pair.send(SUMMARY)
    assert isinstance(pair.result(retried), AccountSummary)
    summaries = [r for r in venue.log if r.method == "private/get_account_summary"]
    assert len(summaries) == 2  # refused, then done (one outcome: pair.result checked it)
    assert [(e.refreshed, e.expires_in) for e in pair.of(Authenticated)] == [
        (False, 100),
        (True, 100),
    ]
    assert isinstance(pair.result(pair.send(SUMMARY)), AccountSummary)
    pair.advance(100.0)  # the schedule restarts from the new grant: 80 s after it
    grants = [r.at for r in venue.log if r.method == "public/auth"]
    assert grants == [START, START + 50, START + 130]


def _token(state: ServerState) -> str:
    """The access token issued last to AMANDA (the client keeps its own out of sight)."""
    *_, record = state.tokens(CLIENT_ID)
    return record.access_token


def test_a_session_token_works_on_other_connections_and_across_reconnects() -> None:
    clock = FakeClock(START)
    owner = make_pair(clock=clock, credentials=credentials(), scope="session:pairtest")
    owner.pump()
    [granted] = owner.of(Authenticated)
    assert "session:pairtest" in granted.scope.split()
    token = _token(owner.venue.state)
    other = make_pair(owner.venue, clock=clock)  # no credentials of its own
    with_token = GetAccountSummary(currency="ETH", access_token=token)
    assert isinstance(other.result(other.send(with_token)), AccountSummary)
    owner.drop()
    owner.advance(5.0)  # the owner reconnected and logged in again, same session
    assert len(owner.of(Connected)) == 2
    assert ["session:pairtest" in e.scope.split() for e in owner.of(Authenticated)] == [True] * 2
    assert isinstance(other.result(other.send(with_token)), AccountSummary)


def test_a_connection_token_works_on_its_connection_only() -> None:
    clock = FakeClock(START)
    owner = make_pair(clock=clock, credentials=credentials())
    owner.pump()
    token = _token(owner.venue.state)
    with_token = GetAccountSummary(currency="ETH", access_token=token)
    assert isinstance(owner.result(owner.send(with_token)), AccountSummary)
    other = make_pair(owner.venue, clock=clock)
    refused = other.error(other.send(with_token))
    assert isinstance(refused, Unauthorized)
    assert refused.data == {"reason": "invalid_token"}
    owner.drop()
    owner.advance(5.0)  # reconnected: a new login, a new token
    assert isinstance(owner.error(owner.send(with_token)), Unauthorized)  # the old one died
    assert isinstance(owner.result(owner.send(SUMMARY)), AccountSummary)


@pytest.mark.parametrize(("skew", "accepted"), [(59.0, True), (-59.0, True), (61.0, False)])
def test_a_clock_more_than_60_s_off_is_refused(skew: float, accepted: bool) -> None:
    pair = make_pair(credentials=credentials(), epoch_offset=EPOCH_OFFSET + skew)
    waiting = pair.send(SUMMARY)
    [auth] = [r for r in pair.venue.log if r.method == "public/auth"]
    assert auth.params["timestamp"] == 1_576_074_319_000 + int(skew * 1000)
    if accepted:
        assert pair.of(Authenticated)
        assert isinstance(pair.result(waiting), AccountSummary)
        return
    [failed] = pair.of(AuthenticationFailed)
    assert isinstance(failed.error, Unauthorized)
    assert failed.error.data == {"reason": "invalid_timestamp"}
    assert pair.error(waiting) is failed.error


def test_a_nonce_is_single_use_across_clients() -> None:
    clock = FakeClock(START)
    shared = ["n-1", "n-1", "n-2"]  # one nonce source that hands "n-1" out twice

    def nonces() -> str:
        return shared.pop(0)

    first = make_pair(clock=clock, credentials=credentials(), nonces=nonces)
    first.pump()
    second = make_pair(first.venue, clock=clock, credentials=credentials(), nonces=nonces)
    second_waiting = second.send(SUMMARY)
    assert first.of(Authenticated)
    [failed] = second.of(AuthenticationFailed)
    assert isinstance(failed.error, Unauthorized)
    assert failed.error.data == {"reason": "nonce_reused"}
    assert second.error(second_waiting) is failed.error
    # A fresh nonce on the next connection logs in.
    second.drop()
    second.advance(5.0)
    assert second.of(Authenticated)


def test_after_a_reconnect_the_client_logs_in_before_any_private_resubscribe() -> None:
    pair = make_pair(credentials=credentials())
    channels = [
        "ticker.BTC-PERPETUAL.100ms",
        "book.ETH-PERPETUAL.raw",
        "user.orders.any.any.raw",
        "user.portfolio.BTC",
    ]
    pair.send(Subscribe(channels=channels))
    first = pair.server_machine().connection_id
    assert pair.server_machine().channels == set(channels)
    pair.drop()
    pair.advance(5.0)
    second = pair.server_machine().connection_id
    assert second != first
    methods = pair.venue.methods(second)
    assert methods[0] == "public/auth"
    assert methods.index("public/auth") < methods.index("private/subscribe")
    private = [
        r for r in pair.venue.log if r.connection_id == second and r.method == "private/subscribe"
    ]
    assert sorted(c for r in private for c in r.params["channels"]) == sorted(channels[1:])
    assert pair.server_machine().channels == set(channels)


def test_a_token_the_venue_drops_early_is_replaced_at_the_first_refusal() -> None:
    """With a year-long token the scheduled refresh is months away: without this, every
    private call would fail until then."""
    pair = make_pair(credentials=credentials())  # expires_in: one year
    pair.advance(30.0)
    assert pair.venue.state.expire_tokens(pair.now) == 1
    assert isinstance(pair.result(pair.send(SUMMARY)), AccountSummary)  # after a refresh
    logins = [(r.at, r.params["grant_type"]) for r in pair.venue.log if r.method == "public/auth"]
    assert logins == [(START, "client_signature"), (START + 30, "refresh_token")]
    assert [e.refreshed for e in pair.of(Authenticated)] == [False, True]
    # A second refusal within a second does not refresh at once (no login storm): the
    # refused call waits ...
    pair.venue.state.expire_tokens(pair.now)
    waiting = pair.send(SUMMARY)
    assert pair.outcomes(waiting) == []
    assert len([r for r in pair.venue.log if r.method == "public/auth"]) == 2
    # ... for the refresh a second after the last one, and goes again with its token.
    pair.advance(1.0)
    logins = [(r.at, r.params["grant_type"]) for r in pair.venue.log if r.method == "public/auth"]
    assert logins[2:] == [(START + 31, "refresh_token")]
    assert isinstance(pair.result(waiting), AccountSummary)


def test_a_revoked_session_logs_in_again_with_the_credentials() -> None:
    pair = make_pair(credentials=credentials(), scope="session:pairtest")
    pair.advance(30.0)
    [record] = pair.venue.state.tokens(CLIENT_ID)
    assert pair.venue.state.revoke(record.lineage) == 1  # the refresh token dies too
    assert isinstance(pair.result(pair.send(SUMMARY)), AccountSummary)  # after a new login
    logins = [(r.at, r.params["grant_type"]) for r in pair.venue.log if r.method == "public/auth"]
    assert logins == [
        (START, "client_signature"),
        (START + 30, "refresh_token"),  # refused
        (START + 30, "client_signature"),
    ]
    assert pair.of(AuthenticationFailed) == []
    assert isinstance(pair.result(pair.send(SUMMARY)), AccountSummary)
