"""The Deribit venue side over HTTP: routes, auth headers, 10030, replies as responses."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import (
    AcceptUpgrade,
    HTTPClientStack,
    HTTPRequest,
    HTTPRequestReceived,
    HTTPResponse,
    LocalProtocolError,
)
from tradewire.protocol.deribit import (
    AuthClientCredentials,
    Buy,
    GetAccountSummary,
    GetTime,
    RateClass,
    build_http_authorization,
    http_get_target,
    http_post_body,
)
from tradewire.protocol.deribit.server import (
    CreditRule,
    Disconnect,
    HTTPAnswer,
    HTTPServerConnection,
    HTTPServerProtocol,
    Notify,
    Reply,
    RequestReceived,
    ServerProtocol,
    ServerState,
)

from .support_server import CLIENT_ID, PEER, SECRET, START, Driver, make_state, upgrade

US = 1576074319000000
VECTOR_B_SIG = "9bfbc51a2bc372d72cc396cf1a213dc78d42eb74cb7dc272351833ad0de276ab"
VECTOR_B_HEADER = f"deri-hmac-sha256 id=AMANDA,ts=1576074319000,nonce=1iqt2wls,sig={VECTOR_B_SIG}"
SUMMARY = "/api/v2/private/get_account_summary?currency=BTC"


def received(
    method: str,
    target: str,
    *,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    peer: str | None = PEER,
) -> HTTPRequestReceived:
    path, _, query = target.partition("?")
    return HTTPRequestReceived(
        method=method,
        target=target,
        path=path,
        query=tuple(parse_qsl(query, keep_blank_values=True)),
        headers=headers,
        body=body,
        http_version="1.1",
        peer=peer,
    )


class Adapter:
    """An HTTPServerProtocol fed HTTPRequestReceived events directly."""

    def __init__(self, state: ServerState, *, peer: str | None = PEER, now: float = START) -> None:
        self.protocol = HTTPServerProtocol(state, peer=peer)
        self.now = now
        self.protocol.connection_made(now)

    def handle(self, method: str, target: str, **kwargs: Any) -> HTTPAnswer | None:
        self.protocol.handle_request(received(method, target, **kwargs), self.now)
        return self.protocol.take_response()

    def json(self, method: str, target: str, **kwargs: Any) -> tuple[int, Any]:
        answer = self.handle(method, target, **kwargs)
        assert answer is not None, self.protocol.events()
        assert ("Content-Type", "application/json") in answer.headers
        return answer.status, json.loads(answer.body)

    def request_event(
        self, method: str, target: str, *, answer: bool = True, **kwargs: Any
    ) -> RequestReceived:
        """The venue event of a request; ``answer`` replies ``{}`` so the next can come."""
        assert self.handle(method, target, **kwargs) is None
        (event,) = self.protocol.events()
        assert isinstance(event, RequestReceived)
        if answer:
            self.protocol.reply(event.request_id, {}, self.now)
            assert self.protocol.take_response() is not None
        return event


@pytest.fixture
def state() -> ServerState:
    return make_state(credits={})


@pytest.fixture
def adapter(state: ServerState) -> Adapter:
    return Adapter(state)


def envelope_error(code: int, message: str, data: Any = None, **ident: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {
        "jsonrpc": "2.0",
        **ident,
        "error": error,
        "testnet": False,
        "usIn": US,
        "usOut": US,
        "usDiff": 0,
    }


# -- routes --------------------------------------------------------------------------------


def test_get_answers_without_id(adapter: Adapter) -> None:
    assert adapter.json("GET", http_get_target(GetTime())) == (
        200,
        {
            "jsonrpc": "2.0",
            "result": 1576074319000,
            "testnet": False,
            "usIn": US,
            "usOut": US,
            "usDiff": 0,
        },
    )


def test_get_with_query_params_reaches_the_venue_typed(adapter: Adapter) -> None:
    event = adapter.request_event(
        "GET", "/api/v2/public/get_order_book?instrument_name=BTC-PERPETUAL&depth=5", answer=False
    )
    assert event.transport == "http"
    assert event.wire_id is None
    assert event.method == "public/get_order_book"
    assert event.command.depth == 5  # type: ignore[union-attr]
    adapter.protocol.reply(event.request_id, {"bids": []}, START + 0.003)
    answer = adapter.protocol.take_response()
    assert answer is not None
    assert answer.status == 200
    assert json.loads(answer.body) == {
        "jsonrpc": "2.0",
        "result": {"bids": []},
        "testnet": False,
        "usIn": US,
        "usOut": US + 3000,
        "usDiff": 3000,
    }


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/", "/api/v2/public/auth"])
def test_post_json_rpc_bodies(adapter: Adapter, path: str) -> None:
    body = http_post_body(9929, AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET))
    status, message = adapter.json("POST", path, body=body)
    assert status == 200
    assert message["id"] == 9929
    assert message["result"]["token_type"] == "bearer"


def test_post_to_a_path_naming_another_method_is_a_bad_request(adapter: Adapter) -> None:
    body = http_post_body(3, GetTime())
    assert adapter.json("POST", "/api/v2/public/test", body=body) == (
        400,
        envelope_error(11050, "bad_request", "method does not match the path", id=3),
    )


def test_post_envelope_errors_and_32_kb(adapter: Adapter) -> None:
    assert adapter.json("POST", "/api/v2", body=b"{nope") == (
        400,
        envelope_error(11050, "bad_request", "invalid json"),
    )
    big = json.dumps({"id": 1, "method": "public/test", "params": {"x": "a" * 33_000}})
    assert adapter.json("POST", "/api/v2", body=big.encode()) == (
        400,
        envelope_error(-32600, "request entity too large"),
    )


@pytest.mark.parametrize(
    "target",
    [
        "/api/v2/public/subscribe?channels=book.BTC-PERPETUAL.100ms",
        "/api/v2/public/set_heartbeat?interval=10",
        "/api/v2/public/hello?client_name=a&client_version=1",
        "/api/v2/private/logout",
        "/api/v2/public/unsubscribe_all",
    ],
)
def test_websocket_only_methods_get_10030(adapter: Adapter, target: str) -> None:
    assert adapter.json("GET", target) == (
        400,
        envelope_error(10030, "must_be_websocket_request"),
    )


def test_unknown_methods_paths_and_http_methods(adapter: Adapter) -> None:
    assert adapter.json("GET", "/api/v2/public/nope") == (
        400,
        envelope_error(-32601, "Method not found"),
    )
    assert adapter.json("GET", "/favicon.ico")[0] == 404
    status, message = adapter.json("PUT", "/api/v2/public/test")
    assert status == 405
    assert message["error"]["code"] == 11050


def test_invalid_query_params_name_the_param(adapter: Adapter) -> None:
    assert (
        adapter.json("GET", "/api/v2/public/get_order_book?instrument_name=X&depth=7")[1]["error"][
            "data"
        ]["param"]
        == "depth"
    )
    assert adapter.json("GET", "/api/v2/public/ticker")[1]["error"] == {
        "code": -32000,
        "message": "Missing params",
        "data": {"reason": "missing", "param": "instrument_name"},
    }


def test_the_error_status_is_configurable() -> None:
    adapter = Adapter(make_state(credits={}, http_error_status=500))
    assert adapter.json("GET", "/api/v2/public/nope")[0] == 500


# -- authentication -----------------------------------------------------------------------


def test_private_methods_need_auth_over_http(adapter: Adapter) -> None:
    assert adapter.json("GET", SUMMARY) == (
        400,
        envelope_error(13009, "unauthorized", {"reason": "invalid_token"}),
    )


def test_vector_b_signed_get_within_60_seconds(state: ServerState) -> None:
    adapter = Adapter(state, now=START + 30)
    event = adapter.request_event("GET", SUMMARY, headers=(("authorization", VECTOR_B_HEADER),))
    assert event.command == GetAccountSummary(currency="BTC")
    assert (event.client_id, event.account_id) == (CLIENT_ID, 1)
    # The same nonce again is a replay.
    status, message = adapter.json("GET", SUMMARY, headers=(("authorization", VECTOR_B_HEADER),))
    assert (status, message["error"]["data"]) == (400, {"reason": "nonce_reused"})


def test_signed_requests_are_checked_against_the_raw_target_and_time(state: ServerState) -> None:
    late = Adapter(state, now=START + 61)
    assert late.json("GET", SUMMARY, headers=(("authorization", VECTOR_B_HEADER),))[1]["error"][
        "data"
    ] == {"reason": "invalid_timestamp"}
    adapter = Adapter(state)
    tampered = SUMMARY.replace("BTC", "ETH")
    assert adapter.json("GET", tampered, headers=(("authorization", VECTOR_B_HEADER),))[1]["error"][
        "data"
    ] == {"reason": "invalid_signature"}
    broken = "deri-hmac-sha256 id=AMANDA,ts=abc,nonce=1,sig=00"
    assert adapter.json("GET", SUMMARY, headers=(("authorization", broken),))[1]["error"][
        "data"
    ] == {"reason": "invalid_authorization_header"}


def test_signed_post_covers_the_body(state: ServerState) -> None:
    adapter = Adapter(state)
    body = http_post_body(1, Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    header = build_http_authorization(
        CLIENT_ID,
        SECRET,
        timestamp_ms=1576074319000,
        nonce="n-post",
        method="POST",
        uri="/api/v2/private/buy",
        body=body,
    )
    event = adapter.request_event(
        "POST", "/api/v2/private/buy", body=body, headers=(("Authorization", header),)
    )
    assert event.wire_id == 1
    assert event.client_id == CLIENT_ID


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_tokens_from_http_auth(state: ServerState, scheme: str) -> None:
    adapter = Adapter(state)
    _, message = adapter.json(
        "GET",
        f"/api/v2/public/auth?client_id={CLIENT_ID}&client_secret={SECRET}"
        "&grant_type=client_credentials",
    )
    token = message["result"]["access_token"]
    later = Adapter(state, now=START + 5)  # another connection: HTTP tokens are not bound
    event = later.request_event("GET", SUMMARY, headers=(("Authorization", f"{scheme} {token}"),))
    assert event.client_id == CLIENT_ID
    assert later.json("GET", SUMMARY, headers=(("Authorization", "Bearer nope"),))[1]["error"][
        "data"
    ] == {"reason": "invalid_token"}


def test_a_websocket_connection_token_is_refused_over_http(state: ServerState) -> None:
    token = Driver(state).login()["access_token"]
    adapter = Adapter(state)
    assert (
        adapter.json("GET", SUMMARY, headers=(("Authorization", f"Bearer {token}"),))[1]["error"][
            "code"
        ]
        == 13009
    )


def test_basic_auth(state: ServerState) -> None:
    adapter = Adapter(state)
    good = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    event = adapter.request_event("GET", SUMMARY, headers=(("Authorization", f"Basic {good}"),))
    assert event.client_id == CLIENT_ID
    bad = base64.b64encode(f"{CLIENT_ID}:wrong".encode()).decode()
    assert adapter.json("GET", SUMMARY, headers=(("Authorization", f"Basic {bad}"),))[1][
        "error"
    ] == {"code": 13004, "message": "invalid_credentials"}
    assert (
        adapter.json("GET", SUMMARY, headers=(("Authorization", "Basic !!!"),))[1]["error"]["code"]
        == 13009
    )
    assert (
        adapter.json("GET", SUMMARY, headers=(("Authorization", "Digest x"),))[1]["error"]["code"]
        == 13009
    )


def test_an_access_token_query_param_works(state: ServerState) -> None:
    adapter = Adapter(state)
    token = adapter.json(
        "GET",
        f"/api/v2/public/auth?client_id={CLIENT_ID}&client_secret={SECRET}"
        "&grant_type=client_credentials",
    )[1]["result"]["access_token"]
    event = adapter.request_event("GET", f"{SUMMARY}&access_token={token}")
    assert event.client_id == CLIENT_ID


def test_cancel_on_disconnect_over_http_is_account_scoped_only(state: ServerState) -> None:
    adapter = Adapter(state)
    good = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    auth = (("Authorization", f"Basic {good}"),)
    assert (
        adapter.json("GET", "/api/v2/private/enable_cancel_on_disconnect", headers=auth)[1][
            "error"
        ]["code"]
        == 10030
    )
    _, message = adapter.json(
        "GET", "/api/v2/private/enable_cancel_on_disconnect?scope=account", headers=auth
    )
    assert message["result"] == "ok"
    assert state.cod_default(1)
    _, message = adapter.json(
        "GET", "/api/v2/private/get_cancel_on_disconnect?scope=account", headers=auth
    )
    assert message["result"] == {"scope": "account", "enabled": True}


# -- answers, limits, misuse -----------------------------------------------------------------


def test_one_request_at_a_time_and_exactly_one_answer(adapter: Adapter) -> None:
    event = adapter.request_event(
        "GET", "/api/v2/public/ticker?instrument_name=BTC-PERPETUAL", answer=False
    )
    with pytest.raises(LocalProtocolError, match="previous request"):
        adapter.protocol.handle_request(received("GET", "/api/v2/public/test"), START)
    adapter.protocol.send(Reply(request_id=event.request_id, result={}), START)
    with pytest.raises(LocalProtocolError, match="already answered"):
        adapter.protocol.reply(event.request_id, {}, START)
    with pytest.raises(LocalProtocolError, match="no subscriptions"):
        adapter.protocol.send(Notify(channel="book.BTC-PERPETUAL.100ms", data={}), START)
    assert adapter.protocol.take_response() is not None
    assert adapter.protocol.take_response() is None


def test_credits_over_http_answer_10028_and_close() -> None:
    state = make_state(credits={RateClass.NON_MATCHING: CreditRule(cost=1, capacity=1, refill=1)})
    adapter = Adapter(state)
    assert adapter.json("GET", "/api/v2/public/test")[0] == 200
    answer = adapter.handle("GET", "/api/v2/public/test")
    assert answer is not None
    assert json.loads(answer.body)["error"] == {"code": 10028, "message": "too_many_requests"}
    assert answer.closes
    assert adapter.protocol.close_requested


def test_http_and_websocket_connections_share_the_address_limit() -> None:
    state = make_state(credits={}, max_connections_per_ip=2)
    websocket = ServerProtocol(state)
    assert isinstance(websocket.decide_upgrade(upgrade(), START), AcceptUpgrade)
    second = Adapter(state)
    third = Adapter(state)
    answer = third.handle("GET", "/api/v2/public/test")
    assert answer is not None
    assert (answer.status, answer.closes) == (429, True)
    assert second.json("GET", "/api/v2/public/test")[0] == 200
    second.protocol.connection_lost(START)
    fourth = Adapter(state)
    assert fourth.json("GET", "/api/v2/public/test")[0] == 200


def test_a_late_reply_after_the_connection_is_gone_is_dropped(adapter: Adapter) -> None:
    event = adapter.request_event(
        "GET", "/api/v2/public/ticker?instrument_name=BTC-PERPETUAL", answer=False
    )
    adapter.protocol.connection_lost(START)
    adapter.protocol.reply(event.request_id, {}, START)
    assert adapter.protocol.take_response() is None


# -- end to end: HTTPClientStack <-> HTTPServerConnection ------------------------------------


class HTTPPair:
    def __init__(self, state: ServerState) -> None:
        self.now = START
        self.client = HTTPClientStack(host="www.deribit.test")
        self.server = HTTPServerConnection(state, peer=PEER)
        self.client.connection_made(self.now)
        self.server.connection_made(self.now)

    def pump(self) -> None:
        for _ in range(20):
            up = self.client.data_to_send()
            if up:
                self.server.receive_data(up, self.now)
            down = self.server.data_to_send()
            if down:
                self.client.receive_data(down, self.now)
            if not up and not down:
                return

    def responses(self) -> list[HTTPResponse]:
        return [e for e in self.client.events() if isinstance(e, HTTPResponse)]


def test_end_to_end_over_the_http_stacks(state: ServerState) -> None:
    pair = HTTPPair(state)
    pair.client.request(HTTPRequest.get("/api/v2/public/get_time"), pair.now)
    pair.client.request(
        HTTPRequest(
            method="GET",
            path="/api/v2/private/get_account_summary",
            query=(("currency", "BTC"),),
            headers=(("Authorization", VECTOR_B_HEADER),),
        ),
        pair.now,
    )
    pair.pump()
    (time_response,) = pair.responses()
    assert time_response.status == 200
    assert time_response.json()["result"] == 1576074319000
    pair.pump()
    (event,) = pair.server.events()
    assert isinstance(event, RequestReceived)
    assert event.client_id == CLIENT_ID
    pair.server.send(Reply(request_id=event.request_id, result={"equity": 1.5}), pair.now)
    pair.pump()
    (summary,) = pair.responses()
    assert summary.status == 200
    assert summary.json()["result"] == {"equity": 1.5}
    assert not pair.server.should_close_transport
    assert pair.server.next_deadline() == pair.now + 60.0
    pair.server.connection_lost(pair.now)
    assert state.connection_count("203.0.113.7") == 0


def test_a_venue_disconnect_closes_the_http_connection(state: ServerState) -> None:
    pair = HTTPPair(state)
    pair.client.request(
        HTTPRequest.get("/api/v2/public/ticker", {"instrument_name": "X"}), pair.now
    )
    pair.pump()
    (event,) = pair.server.events()
    assert isinstance(event, RequestReceived)
    pair.server.send(Disconnect(), pair.now)
    assert not pair.server.should_close_transport  # the request in progress is answered first
    pair.server.send(Reply(request_id=event.request_id, result={}), pair.now)
    pair.pump()
    (response,) = pair.responses()
    assert response.header("connection") == "close"
    assert pair.server.should_close_transport


def test_end_to_end_large_bodies_and_errors(state: ServerState) -> None:
    pair = HTTPPair(state)
    pair.client.request(
        HTTPRequest.post_json(
            "/api/v2", {"id": 1, "method": "public/test", "params": {"x": "a" * 40_000}}
        ),
        pair.now,
    )
    pair.pump()
    (response,) = pair.responses()
    assert response.status == 400
    assert response.json()["error"]["code"] == -32600


# -- fuzz ---------------------------------------------------------------------------------

http_methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"])
paths = st.sampled_from(
    [
        "/api/v2",
        "/api/v2/",
        "/api/v2/public/test",
        "/api/v2/public/auth",
        "/api/v2/private/buy",
        "/api/v2/public/subscribe",
        "/api/v2/private/get_account_summary",
        "/api/v2/public/nope",
        "/x",
    ]
)
queries = st.lists(
    st.tuples(
        st.sampled_from(["currency", "grant_type", "amount", "scope", "x"]), st.text(max_size=6)
    ),
    max_size=3,
)
authorizations = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["Bearer x", "Basic Og==", "basic", VECTOR_B_HEADER, "deri-hmac-sha256 id=A"]),
)


@settings(max_examples=300, deadline=None)
@given(
    method=http_methods,
    path=paths,
    query=queries,
    body=st.binary(max_size=64) | st.sampled_from([b'{"id":1,"method":"public/test"}']),
    authorization=authorizations,
)
def test_fuzz_any_http_request_gets_one_response_or_one_event(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    body: bytes,
    authorization: str | None,
) -> None:
    adapter = Adapter(make_state(credits={}))
    target = path + ("?" + urlencode(query) if query else "")
    headers = (("authorization", authorization),) if authorization is not None else ()
    answer = adapter.handle(method, target, body=body, headers=headers)
    events = adapter.protocol.events()
    assert (answer is None) == (len(events) == 1)
    if answer is None:
        (event,) = events
        assert isinstance(event, RequestReceived)
        adapter.protocol.reply_error(event.request_id, 10001, START)
        answer = adapter.protocol.take_response()
        assert answer is not None
    assert answer.status in (200, 400, 404, 405)
    json.loads(answer.body)
    assert adapter.json("GET", "/api/v2/public/test")[0] == 200
