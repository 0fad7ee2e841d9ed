"""Deribit error codes (spec 7.1) map to documented exception types."""

from __future__ import annotations

import pytest

from tradewire.protocol import RequestFailure, VenueError
from tradewire.protocol.deribit import (
    ERROR_MESSAGES,
    AlreadyClosed,
    AuthError,
    AuthorizationRequired,
    BadRequest,
    DeribitError,
    ErrorCode,
    Forbidden,
    InsufficientFunds,
    InvalidCredentials,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    MissingParams,
    MustBeWebsocketRequest,
    NotOpenOrder,
    OrderError,
    OrderNotFound,
    PostOnlyReject,
    RateLimited,
    RawSubscriptionsNeedAuth,
    RequestTooLarge,
    ServiceUnavailable,
    TemporarilyUnavailable,
    TooManyRequests,
    Unauthorized,
    _errors,
    error_for,
)


@pytest.mark.parametrize(
    ("code", "cls", "family"),
    [
        (10028, TooManyRequests, RateLimited),
        (13009, Unauthorized, AuthError),
        (13004, InvalidCredentials, AuthError),
        (13778, RawSubscriptionsNeedAuth, AuthError),
        (10000, AuthorizationRequired, AuthError),
        (13021, Forbidden, AuthError),
        (10004, OrderNotFound, OrderError),
        (11044, NotOpenOrder, OrderError),
        (10010, AlreadyClosed, NotOpenOrder),
        (10009, InsufficientFunds, OrderError),
        (11054, PostOnlyReject, OrderError),
        (13028, TemporarilyUnavailable, ServiceUnavailable),
        (-32602, InvalidParams, InvalidRequest),
        (-32000, MissingParams, InvalidParams),
        (-32601, MethodNotFound, InvalidRequest),
        (-32600, RequestTooLarge, InvalidRequest),
        (11050, BadRequest, InvalidRequest),
        (10030, MustBeWebsocketRequest, InvalidRequest),
    ],
)
def test_documented_codes_pick_their_class(code: int, cls: type, family: type) -> None:
    error = error_for(code, ERROR_MESSAGES[code], {"reason": "x"})
    assert type(error) is cls
    assert isinstance(error, family)
    assert isinstance(error, DeribitError)
    assert isinstance(error, VenueError)
    assert isinstance(error, RequestFailure)
    assert (error.code, error.message, error.data) == (code, ERROR_MESSAGES[code], {"reason": "x"})
    assert str(error) == f"{code}: {ERROR_MESSAGES[code]}"
    assert repr(error) == f"{cls.__name__}(code={code!r}, message={ERROR_MESSAGES[code]!r})"


@pytest.mark.parametrize("code", [0, 1, 99999, 10001, 12001])
def test_codes_without_a_class_give_the_base(code: int) -> None:
    error = error_for(code, "whatever")
    assert type(error) is DeribitError
    assert error.code == code


def test_every_class_code_is_documented_and_claimed_once() -> None:
    table = _errors._registry()
    assert set(table) <= set(ERROR_MESSAGES)
    for code, cls in table.items():
        assert code in cls.codes


def test_error_code_enum_matches_the_messages() -> None:
    for code in ErrorCode:
        assert int(code) in ERROR_MESSAGES, code


def test_invalid_params_names_the_param() -> None:
    error = error_for(-32602, "Invalid params", {"reason": "wrong format", "param": "nonce"})
    assert isinstance(error, InvalidParams)
    assert error.param == "nonce"
    assert InvalidParams(-32602, "Invalid params", "text").param is None
    assert InvalidParams(-32602, "Invalid params", {"param": 3}).param is None


def test_errors_can_be_raised_and_caught_by_family() -> None:
    with pytest.raises(RateLimited):
        raise error_for(10028, "too_many_requests")
    with pytest.raises(NotOpenOrder):
        raise error_for(10010, "already_closed")
