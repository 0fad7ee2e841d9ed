"""``deribit.HTTPClientProtocol`` against the venue's HTTP adapter, in memory.

Requests are built by the protocol, sent by a real ``HTTPClientStack`` to a real
``HTTPServerConnection`` (the server machine's HTTP adapter over ``HTTPServerStack``),
answered by the pair venue of ``support_pair``, and the responses turned back into
typed outcomes: GET and POST, the ``deri-hmac-sha256`` signature (vectors B and the POST
vector reproduced), Bearer tokens from an auth result, WebSocket-only methods refused
locally (and 10030 when sent raw), and errors typed whatever the status."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.protocol import (
    CounterIds,
    HTTPClientStack,
    HTTPRequest,
    HTTPResponse,
    LocalProtocolError,
    RequestFailed,
    RequestSucceeded,
)
from tradewire.protocol.deribit import (
    AccountSummary,
    AuthClientCredentials,
    AuthClientSignature,
    AuthResult,
    Buy,
    Cancel,
    CancelAllByKindOrType,
    CancelReport,
    Credentials,
    DisableHeartbeat,
    GenericRequest,
    GetAccountSummary,
    GetOrderBook,
    GetPositions,
    GetTicker,
    GetTime,
    Hello,
    HTTPClientProtocol,
    Logout,
    MalformedResult,
    MethodNotFound,
    MustBeWebsocketRequest,
    OrderBookSnapshot,
    OrderNotFound,
    OrderResult,
    PrivateSubscribe,
    PublicSubscribe,
    SetHeartbeat,
    Test,
    Ticker,
    Unauthorized,
    http_get_target,
)
from tradewire.protocol.deribit.server import (
    HTTPServerConnection,
    Reply,
    ReplyError,
    RequestReceived,
    ServerState,
)

sys.path.append(str(Path(__file__).parent))
from support_pair import CLIENT_ID, EPOCH_OFFSET, HOST, PEER, SECRET, START, PairVenue, make_state

SUMMARY = "/api/v2/private/get_account_summary?currency=BTC"
VECTOR_B_SIG = "9bfbc51a2bc372d72cc396cf1a213dc78d42eb74cb7dc272351833ad0de276ab"
POST_VECTOR_SIG = "0227126082beff33352b73756e4fa6f16e1988058b1426e9e9a17e4962989e00"
POST_VECTOR_BODY = (
    b'{"jsonrpc":"2.0","id":1,"method":"private/buy","params":'
    b'{"instrument_name":"BTC-PERPETUAL","amount":10,"type":"market"}}'
)
BTC = "BTC-PERPETUAL"


def amanda(**options: Any) -> HTTPClientProtocol:
    options.setdefault("epoch_offset", EPOCH_OFFSET)
    return HTTPClientProtocol(
        credentials=Credentials(client_id=CLIENT_ID, client_secret=SECRET), **options
    )


class HTTPPair:
    """A client stack and the venue's HTTP connection, wired in memory."""

    def __init__(self, protocol: HTTPClientProtocol, state: ServerState | None = None) -> None:
        self.now = START
        self.protocol = protocol
        self.venue = PairVenue(state)
        self.stack = HTTPClientStack(host=HOST)
        self.server: HTTPServerConnection | None = None
        self.received: list[RequestReceived] = []

    def _connect(self) -> None:
        self.server = HTTPServerConnection(self.venue.state, peer=PEER)
        self.stack.connection_made(self.now)
        self.server.connection_made(self.now)

    def pump(self) -> None:
        for _ in range(100):
            if self.server is None:
                if not self.stack.wants_connection:
                    return
                self._connect()
            server = self.server
            assert server is not None
            busy = False
            up = self.stack.data_to_send()
            if up:
                busy = True
                server.receive_data(up, self.now)
            for event in server.events():
                busy = True
                assert isinstance(event, RequestReceived)
                self.received.append(event)
                answer = self.venue.answers[type(event.command)](event, self.now)
                if not isinstance(answer, ReplyError):
                    answer = Reply(request_id=event.request_id, result=answer)
                server.send(answer, self.now)
            down = server.data_to_send()
            if down:
                busy = True
                self.stack.receive_data(down, self.now)
            if server.should_close_transport or self.stack.should_close_transport:
                server.connection_lost(self.now)
                self.stack.connection_lost(self.now)
                self.server = None
                busy = True
            if not busy:
                return
        raise RuntimeError("the HTTP pair never went quiet")

    def exchange(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request`` as it is; return the stack's response."""
        request_id = self.stack.request(request, self.now)
        self.pump()
        events = self.stack.events()
        [response] = [e for e in events if isinstance(e, HTTPResponse)]
        assert response.request_id == request_id, events
        return response

    def call(self, command: Any, **options: Any) -> RequestSucceeded | RequestFailed:
        request = self.protocol.request(command, self.now, **options)
        return self.protocol.response(command, self.exchange(request))

    def result(self, command: Any, **options: Any) -> Any:
        outcome = self.call(command, **options)
        assert isinstance(outcome, RequestSucceeded), outcome
        return outcome.result

    def error(self, command: Any, **options: Any) -> Any:
        outcome = self.call(command, **options)
        assert isinstance(outcome, RequestFailed), outcome
        return outcome.error


# -- the signature header -------------------------------------------------------------------


def test_vector_b_reproduces_and_the_server_accepts_it() -> None:
    pair = HTTPPair(amanda(nonces=lambda: "1iqt2wls"))
    command = GetAccountSummary(currency="BTC")
    request = pair.protocol.request(command, START)
    assert (request.method, request.target, request.body) == ("GET", SUMMARY, b"")
    assert request.header("Authorization") == (
        f"deri-hmac-sha256 id=AMANDA,ts=1576074319000,sig={VECTOR_B_SIG},nonce=1iqt2wls"
    )
    outcome = pair.protocol.response(command, pair.exchange(request))
    assert isinstance(outcome, RequestSucceeded)
    assert isinstance(outcome.result, AccountSummary)
    assert outcome.command is command
    [event] = pair.received
    assert (event.client_id, event.transport, event.command) == (CLIENT_ID, "http", command)


def test_the_post_vector_reproduces_and_the_server_accepts_it() -> None:
    pair = HTTPPair(amanda(nonces=lambda: "1iqt2wls", ids=CounterIds(), post=True))
    command = Buy(instrument_name=BTC, amount=10, type="market")
    request = pair.protocol.request(command, START)
    assert (request.method, request.target) == ("POST", "/api/v2/private/buy")
    assert request.body == POST_VECTOR_BODY
    assert request.header("Content-Type") == "application/json"
    assert request.header("Authorization") == (
        f"deri-hmac-sha256 id=AMANDA,ts=1576074319000,sig={POST_VECTOR_SIG},nonce=1iqt2wls"
    )
    outcome = pair.protocol.response(command, pair.exchange(request))
    assert isinstance(outcome, RequestSucceeded)
    assert isinstance(outcome.result, OrderResult)
    assert outcome.result.order.order_state == "filled"


def test_the_signature_covers_the_exact_target_with_escaped_query_values() -> None:
    pair = HTTPPair(amanda())
    command = Buy(instrument_name=BTC, amount=10, price=59_000.5, label="a b&c=d/é")
    request = pair.protocol.request(command, START)
    assert "label=a%20b%26c%3Dd%2F%C3%A9" in request.target
    assert request.target == http_get_target(command)
    outcome = pair.protocol.response(command, pair.exchange(request))
    assert isinstance(outcome, RequestSucceeded), outcome
    assert outcome.result.order.label == "a b&c=d/é"


def test_signed_requests_are_fresh_and_single_use() -> None:
    pair = HTTPPair(amanda(nonces=lambda: "same"))
    assert isinstance(pair.result(GetPositions()), list)
    replay = pair.error(GetPositions())
    assert isinstance(replay, Unauthorized)
    assert replay.data == {"reason": "nonce_reused"}
    skewed = HTTPPair(amanda(epoch_offset=EPOCH_OFFSET + 61), pair.venue.state)
    late = skewed.error(GetPositions())
    assert late.data == {"reason": "invalid_timestamp"}
    # The default nonce is the timestamp and a counter: two requests in one millisecond.
    fast = HTTPPair(amanda(), pair.venue.state)
    first = fast.protocol.request(GetPositions(), START)
    second = fast.protocol.request(GetPositions(), START)
    assert first.header("Authorization") != second.header("Authorization")
    assert str(first.header("Authorization")).endswith(",nonce=1576074319000-1")
    for request in (first, second):
        outcome = fast.protocol.response(GetPositions(), fast.exchange(request))
        assert isinstance(outcome, RequestSucceeded), outcome


def test_a_wrong_secret_is_refused_with_a_typed_error() -> None:
    protocol = HTTPClientProtocol(
        credentials=Credentials(client_id=CLIENT_ID, client_secret="nope"),
        epoch_offset=EPOCH_OFFSET,
    )
    error = HTTPPair(protocol).error(GetPositions())
    assert isinstance(error, Unauthorized)
    assert error.data == {"reason": "invalid_signature"}


# -- Bearer tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("post", [False, True])
def test_bearer_tokens_from_an_auth_result(post: bool) -> None:
    pair = HTTPPair(HTTPClientProtocol(epoch_offset=EPOCH_OFFSET, post=post))
    with pytest.raises(LocalProtocolError, match="private/get_positions needs authentication"):
        pair.protocol.request(GetPositions(), START)
    granted = pair.result(AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET))
    assert isinstance(granted, AuthResult)
    assert granted.token_type == "bearer"
    pair.protocol.use_token(granted)
    assert pair.protocol.has_token
    request = pair.protocol.request(GetPositions(), START)
    assert request.header("Authorization") == f"Bearer {granted.access_token.reveal()}"
    assert granted.access_token.reveal() not in repr(request)
    assert granted.access_token.reveal() not in repr(pair.protocol)
    assert isinstance(pair.result(GetPositions()), list)
    assert pair.received[-1].client_id == CLIENT_ID
    pair.protocol.use_token("not-a-token")
    assert isinstance(pair.error(GetPositions()), Unauthorized)
    pair.protocol.use_token(None)
    assert not pair.protocol.has_token


def test_a_token_takes_precedence_over_signing_and_a_signed_login_works_too() -> None:
    pair = HTTPPair(amanda())
    login = AuthClientSignature.signed(
        client_id=CLIENT_ID, client_secret=SECRET, timestamp=1_576_074_319_000, nonce="x1"
    )
    granted = pair.result(login, post=True)
    pair.protocol.use_token(granted.access_token)
    request = pair.protocol.request(GetPositions(), START)
    assert str(request.header("Authorization")).startswith("Bearer ")


def test_a_command_with_its_own_access_token_needs_no_header() -> None:
    pair = HTTPPair(HTTPClientProtocol())
    token = pair.result(AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET))
    command = GetPositions(access_token=token.access_token)
    request = pair.protocol.request(command, START)
    assert request.header("Authorization") is None
    assert isinstance(pair.result(command), list)


def test_authenticate_public_authenticates_public_methods_too() -> None:
    pair = HTTPPair(amanda(authenticate_public=True))
    request = pair.protocol.request(GetTime(), START)
    assert str(request.header("Authorization")).startswith("deri-hmac-sha256 id=AMANDA,")
    assert isinstance(pair.result(GetTicker(instrument_name=BTC)), Ticker)
    assert pair.received[-1].client_id == CLIENT_ID  # the account's pool, not the IP's
    plain = HTTPPair(amanda())
    assert plain.protocol.request(GetTime(), START).header("Authorization") is None
    assert isinstance(plain.result(GetTicker(instrument_name=BTC)), Ticker)
    assert plain.received[-1].client_id is None


# -- forms and results -------------------------------------------------------------------------


def test_public_methods_over_get_and_post() -> None:
    pair = HTTPPair(HTTPClientProtocol(epoch_offset=EPOCH_OFFSET))
    assert pair.result(GetTime()) == 1_576_074_319_000
    book = pair.result(GetOrderBook(instrument_name=BTC, depth=5), post=True)
    assert isinstance(book, OrderBookSnapshot)
    assert [tuple(level) for level in book.bids] == pair.venue.book(BTC)[0][:5]
    assert pair.result(Test(), post=True).version == "1.2.26"
    assert pair.result(GenericRequest(method="public/get_time"), post=True) == 1_576_074_319_000


def test_list_and_bool_params_go_through_the_query_string() -> None:
    pair = HTTPPair(amanda())
    for instrument in (BTC, "ETH-PERPETUAL"):
        pair.result(Buy(instrument_name=instrument, amount=10, price=1.0))
    command = CancelAllByKindOrType(currency=["BTC", "ETH"], detailed=True)
    request = pair.protocol.request(command, START)
    assert request.query == (("currency", '["BTC","ETH"]'), ("detailed", "true"))
    reports = pair.result(command)
    assert [(type(r), r.currency) for r in reports] == [
        (CancelReport, "BTC"),
        (CancelReport, "ETH"),
    ]


@pytest.mark.parametrize(
    "command",
    [
        Hello(client_name="a", client_version="1"),
        SetHeartbeat(interval=10),
        DisableHeartbeat(),
        PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms"]),
        PrivateSubscribe(channels=["user.orders.any.any.raw"]),
        Logout(),
    ],
)
@pytest.mark.parametrize("post", [False, True])
def test_websocket_only_methods_are_refused_naming_the_method(command: Any, post: bool) -> None:
    protocol = amanda()
    with pytest.raises(LocalProtocolError, match=f"{command.method} is WebSocket-only"):
        protocol.request(command, START, post=post)


def test_a_websocket_only_method_sent_raw_gets_10030_typed() -> None:
    pair = HTTPPair(HTTPClientProtocol())
    command = Hello(client_name="a", client_version="1")
    raw = HTTPRequest.get("/api/v2/public/hello", {"client_name": "a", "client_version": "1"})
    response = pair.exchange(raw)
    assert response.status == 400
    outcome = pair.protocol.response(command, response)
    assert isinstance(outcome, RequestFailed)
    assert isinstance(outcome.error, MustBeWebsocketRequest)
    assert outcome.error.code == 10030


def test_venue_errors_are_typed_whatever_the_status() -> None:
    for status in (400, 500):
        pair = HTTPPair(amanda(), make_state(http_error_status=status))
        error = pair.error(Cancel(order_id="BTC-1"))
        assert isinstance(error, OrderNotFound)
        assert error.code == 10004
        unknown = pair.error(GenericRequest(method="public/nope"))
        assert isinstance(unknown, MethodNotFound)


# -- bodies that are not answers --------------------------------------------------------------


def _response(request: HTTPRequest, status: int, body: bytes) -> HTTPResponse:
    return HTTPResponse(
        request_id=7, request=request, status=status, reason="", headers=(), body=body
    )


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (502, b"<html>bad gateway</html>", "not a JSON-RPC response"),
        (429, b"too many connections from this address\n", "not a JSON-RPC response"),
        (200, b'{"jsonrpc":"2.0","result":{"x":1}}', "malformed result for public/ticker"),
        (200, b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}', "a Heart"),
    ],
)
def test_bodies_that_are_not_answers_fail_the_request_as_malformed(
    status: int, body: bytes, why: str
) -> None:
    protocol = HTTPClientProtocol()
    command = GetTicker(instrument_name=BTC)
    request = protocol.request(command, START)
    outcome = protocol.response(command, _response(request, status, body))
    assert isinstance(outcome, RequestFailed)
    assert outcome.request_id == 7
    assert isinstance(outcome.error, MalformedResult)
    assert f"HTTP {status} for public/ticker" in str(outcome.error)
    assert why in str(outcome.error)


def test_a_post_answer_must_echo_the_request_id() -> None:
    protocol = HTTPClientProtocol(ids=CounterIds(5), post=True)
    command = GetTime()
    request = protocol.request(command, START)
    assert msgspec.json.decode(request.body)["id"] == 5
    wrong = b'{"jsonrpc":"2.0","id":6,"result":1}'
    outcome = protocol.response(command, _response(request, 200, wrong))
    assert isinstance(outcome, RequestFailed)
    assert "id 6 is not 5" in str(outcome.error)
    right = b'{"jsonrpc":"2.0","id":5,"result":1}'
    assert protocol.response(command, _response(request, 200, right)) == RequestSucceeded(
        request_id=7, command=command, result=1
    )


def test_a_response_for_another_command_is_misuse() -> None:
    protocol = HTTPClientProtocol()
    request = protocol.request(GetTime(), START)
    with pytest.raises(LocalProtocolError, match="answers GET '/api/v2/public/get_time'"):
        protocol.response(GetTicker(instrument_name=BTC), _response(request, 200, b"{}"))


# -- misuse -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"credentials": "AMANDA:secret"}, "credentials"),
        ({"credentials": Credentials(client_id="A,B", client_secret="s")}, "credentials"),
        ({"ids": 3}, "ids"),
        ({"nonces": "n"}, "nonces"),
        ({"epoch_offset": float("nan")}, "epoch_offset"),
        ({"epoch_offset": True}, "epoch_offset"),
        ({"post": "yes"}, "post"),
        ({"authenticate_public": 1}, "authenticate_public"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, Any], argument: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        HTTPClientProtocol(**options)


def test_bad_commands_nonces_and_tokens_are_refused() -> None:
    protocol = amanda(nonces=lambda: "has space")
    with pytest.raises(LocalProtocolError, match="invalid nonces"):
        protocol.request(GetPositions(), START)
    assert protocol.request(GetTime(), START).header("Authorization") is None  # not signed
    with pytest.raises(LocalProtocolError, match="invalid command"):
        protocol.request(HTTPRequest.get("/x"), START)
    with pytest.raises(LocalProtocolError, match="invalid post"):
        protocol.request(GetTime(), START, post="yes")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="invalid token"):
        protocol.use_token("two words")
    with pytest.raises(LocalProtocolError, match="invalid token"):
        protocol.use_token(42)  # type: ignore[arg-type]
    request = protocol.request(GetTime(), START)
    with pytest.raises(LocalProtocolError, match="invalid command"):
        protocol.response("GetTime", _response(request, 200, b"{}"))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="invalid response"):
        protocol.response(GetTime(), request)  # type: ignore[arg-type]


def test_repr_shows_no_secret() -> None:
    protocol = amanda()
    protocol.use_token("token-value-123")
    text = repr(protocol)
    assert SECRET not in text
    assert "token-value-123" not in text
    assert "AMANDA" in text
    request = protocol.request(
        AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET), START
    )
    assert SECRET in request.target  # the documented GET form of public/auth (spec 2.1) ...
    assert SECRET not in repr(request)  # ... never shown
