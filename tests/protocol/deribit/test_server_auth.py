"""ServerProtocol: public/auth grants, scopes, token methods, logout, auth enforcement."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tradewire.protocol.deribit import (
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    ExchangeToken,
    ForkToken,
    GetAccountSummary,
    GetPositions,
    GetTicker,
    Logout,
    Test,
)
from tradewire.protocol.deribit.server import (
    RequestReceived,
    ServerState,
    SessionClosed,
)

from .support_server import (
    CLIENT_ID,
    SECRET,
    START,
    Driver,
    make_state,
    signed,
    vector_a,
)

TOKEN = re.compile(r"^1576074319\d{3}\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{43}$")
FULL_SCOPE = (
    "account:read_write block_rfq:read_write block_trade:read_write connection mainaccount "
    "trade:read_write wallet:read_write"
)


@pytest.fixture
def state() -> ServerState:
    return make_state(credits={})


def error_of(message: dict[str, Any]) -> dict[str, Any]:
    assert "error" in message, message
    error: dict[str, Any] = message["error"]
    return error


def unauthorized(reason: str) -> dict[str, Any]:
    return {"code": 13009, "message": "unauthorized", "data": {"reason": reason}}


# -- grants ---------------------------------------------------------------------------


def test_client_credentials_grant_has_the_documented_result_shape(state: ServerState) -> None:
    driver = Driver(state)
    result = driver.result(
        AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET, state="s1")
    )
    assert TOKEN.match(result.pop("access_token"))
    assert TOKEN.match(result.pop("refresh_token"))
    assert result == {
        "expires_in": 31536000,
        "scope": FULL_SCOPE,
        "token_type": "bearer",
        "enabled_features": [],
        "state": "s1",
    }


@pytest.mark.parametrize(
    "command",
    [
        AuthClientCredentials(client_id=CLIENT_ID, client_secret="wrong"),
        AuthClientCredentials(client_id="NOBODY", client_secret=SECRET),
    ],
)
def test_wrong_credentials_get_13004(state: ServerState, command: AuthClientCredentials) -> None:
    driver = Driver(state)
    assert error_of(driver.answer(command)) == {"code": 13004, "message": "invalid_credentials"}
    assert driver.machine.client_id is None


@pytest.mark.parametrize("offset", [0.0, -59.0, 59.9])
def test_vector_a_is_accepted_within_60_seconds_of_server_time(
    state: ServerState, offset: float
) -> None:
    driver = Driver(state, now=START + offset)
    result = driver.result(vector_a())
    assert result["scope"] == FULL_SCOPE
    assert driver.machine.client_id == CLIENT_ID


@pytest.mark.parametrize("offset", [-60.5, 60.5, 3600.0])
def test_signature_timestamps_more_than_60_seconds_off_are_rejected(
    state: ServerState, offset: float
) -> None:
    driver = Driver(state, now=START + offset)
    assert error_of(driver.answer(vector_a())) == unauthorized("invalid_timestamp")
    assert driver.machine.client_id is None


def test_a_reused_nonce_is_rejected(state: ServerState) -> None:
    first = Driver(state)
    first.result(vector_a())
    second = Driver(state, now=START + 1)
    assert error_of(second.answer(vector_a())) == unauthorized("nonce_reused")
    # A fresh nonce at the same time is fine; so is ccxt's nonce = str(timestamp).
    assert "result" in second.answer(signed(1576074319000, "other"))
    assert "result" in second.answer(signed(1576074320000, "1576074320000"))
    # Without a nonce, an exact replay is caught by its timestamp.
    assert "result" in second.answer(signed(1576074319500, ""))
    assert error_of(second.answer(signed(1576074319500, ""))) == unauthorized("nonce_reused")


def test_nonces_are_forgotten_after_the_window_where_the_timestamp_check_takes_over(
    state: ServerState,
) -> None:
    Driver(state).result(vector_a())
    late = Driver(state, now=START + 130)
    assert error_of(late.answer(vector_a())) == unauthorized("invalid_timestamp")
    fresh = signed(1576074319000 + 130_000, "1iqt2wls")  # the same nonce, long after
    assert "result" in late.answer(fresh)


def test_a_bad_signature_is_rejected(state: ServerState) -> None:
    forged = AuthClientSignature.signed(
        client_id=CLIENT_ID, client_secret="not-the-secret", timestamp=1576074319000, nonce="n"
    )
    driver = Driver(state)
    assert error_of(driver.answer(forged)) == unauthorized("invalid_signature")
    unknown = AuthClientSignature.signed(
        client_id="NOBODY", client_secret=SECRET, timestamp=1576074319000, nonce="n"
    )
    assert error_of(driver.answer(unknown))["code"] == 13004


def test_refresh_token_grant_rotates_the_refresh_token(state: ServerState) -> None:
    driver = Driver(state)
    first = driver.login()
    driver.now += 5
    second = driver.result(AuthRefreshToken(refresh_token=first["refresh_token"]))
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    assert error_of(driver.answer(AuthRefreshToken(refresh_token=first["refresh_token"]))) == (
        unauthorized("invalid_token")
    )
    driver.call(GetPositions(access_token=second["access_token"]))
    (event,) = driver.requests()
    assert event.client_id == CLIENT_ID


def test_short_expires_in_makes_clients_refresh() -> None:
    driver = Driver(make_state(credits={}, expires_in=30))
    token = driver.login()
    assert token["expires_in"] == 30
    driver.now += 31
    assert error_of(driver.answer(GetPositions())) == unauthorized("invalid_token")
    driver.result(AuthRefreshToken(refresh_token=token["refresh_token"]))
    driver.call(GetPositions())
    assert len(driver.requests()) == 1


def test_the_early_expiry_fault_hook_expires_access_tokens_only(state: ServerState) -> None:
    driver = Driver(state)
    token = driver.login()
    assert state.expire_tokens(driver.now, client_id=CLIENT_ID) == 1
    assert error_of(driver.answer(GetPositions()))["code"] == 13009
    driver.result(AuthRefreshToken(refresh_token=token["refresh_token"]))
    driver.call(GetPositions())
    assert len(driver.requests()) == 1


# -- scopes ------------------------------------------------------------------------------


def test_requested_scope_is_narrowed_to_the_key_and_echoed_sorted() -> None:
    state = make_state(credits={})
    state.add_client("ccxt-key", "s3cret", scope="trade:read_write wallet:read", name="ccxt")
    driver = Driver(state)
    result = driver.result(
        AuthClientCredentials(
            client_id="ccxt-key",
            client_secret="s3cret",
            scope="session:desk trade:read wallet:read_write expires:600 frobnicate",
        )
    )
    assert result["scope"] == (
        "expires:600 mainaccount name:ccxt session:desk trade:read wallet:read"
    )
    assert result["expires_in"] == 600


def test_a_connection_scoped_token_is_refused_on_another_connection(state: ServerState) -> None:
    first = Driver(state)
    token = first.login()["access_token"]
    other = Driver(state)
    assert other.answer(GetPositions(access_token=token)) == {
        "jsonrpc": "2.0",
        "id": 1,
        "error": unauthorized("invalid_token"),
        "testnet": False,
        "usIn": 1576074319000000,
        "usOut": 1576074319000000,
        "usDiff": 0,
    }
    first.call(GetPositions(access_token=token))
    assert len(first.requests()) == 1


def test_a_session_scoped_token_works_on_other_connections_and_outlives_its_socket(
    state: ServerState,
) -> None:
    first = Driver(state)
    result = first.result(
        AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET, scope="session:bot")
    )
    assert "session:bot" in result["scope"].split()
    assert "connection" not in result["scope"].split()
    first.machine.connection_lost(first.now)
    other = Driver(state)
    other.call(GetPositions(access_token=result["access_token"]))
    (event,) = other.requests()
    assert (event.client_id, event.account_id) == (CLIENT_ID, 1)


def test_connection_scoped_tokens_die_with_their_connection(state: ServerState) -> None:
    driver = Driver(state)
    driver.login()
    assert len(state.tokens(CLIENT_ID)) == 1
    driver.machine.connection_lost(driver.now)
    assert state.tokens(CLIENT_ID) == []


def test_an_ip_bound_token_is_refused_from_another_address(state: ServerState) -> None:
    driver = Driver(state)
    result = driver.result(
        AuthClientCredentials(
            client_id=CLIENT_ID, client_secret=SECRET, scope="session:x ip:198.51.100.1"
        )
    )
    assert "ip:198.51.100.1" in result["scope"]
    assert error_of(driver.answer(GetPositions()))["code"] == 13009


# -- token methods ------------------------------------------------------------------------


def test_exchange_token_switches_to_a_subaccount(state: ServerState) -> None:
    driver = Driver(state)
    refresh = driver.login()["refresh_token"]
    result = driver.result(ExchangeToken(refresh_token=refresh, subject_id=7))
    assert "mainaccount" not in result["scope"]
    driver.call(GetAccountSummary(currency="BTC"))
    (event,) = driver.requests()
    assert (event.client_id, event.account_id) == (CLIENT_ID, 7)
    assert error_of(driver.answer(ExchangeToken(refresh_token=refresh, subject_id=99))) == {
        "code": 13021,
        "message": "forbidden",
        "data": {"reason": "not_a_subaccount", "param": "subject_id"},
    }


def test_fork_token_needs_a_session_token(state: ServerState) -> None:
    driver = Driver(state)
    connection = driver.login()
    assert (
        error_of(
            driver.answer(ForkToken(refresh_token=connection["refresh_token"], session_name="b"))
        )["code"]
        == 13021
    )
    session = driver.result(
        AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET, scope="session:a")
    )
    forked = driver.result(ForkToken(refresh_token=session["refresh_token"], session_name="b"))
    assert "session:b" in forked["scope"].split()
    assert forked["access_token"] != session["access_token"]


# -- auth enforcement ---------------------------------------------------------------------


def test_private_methods_need_auth_and_say_why(state: ServerState) -> None:
    driver = Driver(state)
    for command in (GetPositions(), Logout(), GetAccountSummary(currency="BTC")):
        assert error_of(driver.answer(command)) == unauthorized("invalid_token")
    assert driver.machine.close_request is None


def test_an_access_token_param_authenticates_one_request(state: ServerState) -> None:
    token = Driver(state).result(
        AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET, scope="session:p")
    )["access_token"]
    driver = Driver(state)
    driver.call(GetPositions(access_token=token))
    (event,) = driver.requests()
    assert event.client_id == CLIENT_ID
    assert error_of(driver.answer(GetPositions()))["code"] == 13009  # the connection is not
    # An invalid token on a public method just leaves the request unauthenticated.
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL", access_token="garbage"))
    (event,) = driver.requests()
    assert event.client_id is None
    assert error_of(driver.answer(GetPositions(access_token="garbage")))["code"] == 13009


def test_requests_carry_who_is_asking(state: ServerState) -> None:
    driver = Driver(state)
    driver.login()
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    (event,) = driver.requests()
    assert isinstance(event, RequestReceived)
    assert (event.client_id, event.account_id, event.scope) == (CLIENT_ID, 1, FULL_SCOPE)


# -- logout -------------------------------------------------------------------------------


def test_logout_sends_nothing_closes_gracefully_and_invalidates_the_session(
    state: ServerState,
) -> None:
    driver = Driver(state)
    session = driver.result(
        AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET, scope="session:s")
    )
    driver.call(Logout())
    assert driver.sent() == []
    close = driver.machine.close_request
    assert close is not None
    assert (close.code, close.reason, close.abort) == (1000, "logout", False)
    driver.call(Test())  # ignored: the session is over
    assert driver.sent() == []
    driver.machine.connection_lost(driver.now)
    assert driver.events() == [
        SessionClosed(connection_id=driver.machine.connection_id, reason="logout", logged_out=True)
    ]
    other = Driver(state)
    assert error_of(other.answer(GetPositions(access_token=session["access_token"])))["code"] == (
        13009
    )


def test_logout_without_invalidation_keeps_session_tokens(state: ServerState) -> None:
    driver = Driver(state)
    session = driver.result(
        AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET, scope="session:s")
    )
    driver.call(Logout(invalidate_token=False))
    assert driver.machine.close_request is not None
    other = Driver(state)
    other.call(GetPositions(access_token=session["access_token"]))
    assert len(other.requests()) == 1


def test_tokens_never_show_in_reprs(state: ServerState) -> None:
    driver = Driver(state)
    token = driver.login()["access_token"]
    assert token not in repr(state.tokens())
    driver.call(GetPositions(access_token=token))
    assert token not in repr(driver.requests())
