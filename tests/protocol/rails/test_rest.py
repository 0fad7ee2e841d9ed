"""The token endpoint and the market list, client side (spec 1.1): the request as the
docs show it, the answer as a token or a typed error, the secret and token never shown."""

from __future__ import annotations

import msgspec
import pytest

from tradewire.protocol import HTTPRequest, HTTPResponse, RemoteProtocolError, Secret
from tradewire.protocol.rails import (
    InvalidCredentials,
    ServerError,
    TokenClient,
    TooManyRequests,
    UseToken,
    markets,
    markets_request,
)


def response(request: HTTPRequest, status: int, body: object) -> HTTPResponse:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return HTTPResponse(
        request_id=1, request=request, status=status, reason="", headers=(), body=raw
    )


def test_the_token_request_is_a_post_with_the_key_and_secret_headers() -> None:
    tokens = TokenClient("my-key", Secret("my-secret"))
    request = tokens.request()
    assert (request.method, request.path, request.body) == ("POST", "/api/v1/token", b"")
    assert request.header("x-api-key") == "my-key"
    assert request.header("x-api-secret") == "my-secret"
    assert "my-secret" not in repr(request)
    assert "my-secret" not in repr(tokens)


def test_a_token_answer_becomes_a_use_token_command() -> None:
    tokens = TokenClient("k", "s")
    answer = response(
        tokens.request(),
        200,
        {"access_token": "JWT.A.B", "token_type": "Bearer", "expires_in": 1800},
    )
    token = tokens.token(answer)
    assert token.access_token.reveal() == "JWT.A.B"
    assert token.expires_in == 1800
    assert "JWT.A.B" not in repr(token)
    command = token.use()
    assert isinstance(command, UseToken)
    assert command.expires_in == 1800


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (
            401,
            {"statusCode": 401, "body": "invalid api key or secret"},
            InvalidCredentials,
            "invalid api key",
        ),
        (429, {"message": "slow down"}, TooManyRequests, "slow down"),
        (500, b"<html>oops</html>", ServerError, "500"),
    ],
)
def test_an_error_answer_is_a_typed_error(
    status: int, body: object, error: type[Exception], text: str
) -> None:
    tokens = TokenClient("k", "s")
    with pytest.raises(error, match=text):
        tokens.token(response(tokens.request(), status, body))


def test_a_200_that_is_not_a_token_is_a_remote_protocol_error() -> None:
    tokens = TokenClient("k", "s")
    with pytest.raises(RemoteProtocolError):
        tokens.token(response(tokens.request(), 200, b"<html>"))
    with pytest.raises(RemoteProtocolError):
        tokens.token(response(tokens.request(), 200, {"access_token": ""}))


def test_the_market_list() -> None:
    request = markets_request()
    assert (request.method, request.path) == ("GET", "/api/v1/markets")
    found = markets(
        response(
            request,
            200,
            {"statusCode": 200, "data": [{"market": "BTC-USD", "baseAsset": "BTC",
             "quoteAsset": "USD", "tickSize": "0.5", "stepSize": "0.0001",
             "minQuantity": "0.0001"}]},
        )
    )  # fmt: skip
    assert [m.market for m in found] == ["BTC-USD"]
    assert found[0].tick_size == "0.5"
