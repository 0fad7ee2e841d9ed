"""ClientProtocol requests: typed results, venue errors, deadlines, waiting, logout, misuse,
bounds, exactly-once resolution and the receive-path fuzz invariant."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import hypothesis
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import (
    ClientMachine,
    CloseRequest,
    ConnectionLost,
    LocalProtocolError,
    RemoteProtocolError,
    RequestFailed,
    RequestSucceeded,
    RequestTimeout,
    Secret,
)
from tradewire.protocol.deribit import (
    Buy,
    ClientProtocol,
    Credentials,
    GenericRequest,
    GetPositions,
    GetTicker,
    GetTime,
    InsufficientFunds,
    LoggedOut,
    Logout,
    MalformedResult,
    SetHeartbeat,
    Subscribe,
    Test,
    Ticker,
    UnmatchedError,
    Unsubscribe,
)

sys.path.append(str(Path(__file__).parent))
from support_client import (
    SECRET,
    START,
    TEST_REQUEST,
    Harness,
    auth_result,
    credentials,
    error,
    result,
)

TICKER = {
    "instrument_name": "BTC-PERPETUAL",
    "timestamp": 1623060194301,
    "state": "open",
    "best_bid_price": 36442.5,
    "best_bid_amount": 5000,
    "best_ask_price": 36443,
    "best_ask_amount": 100,
    "last_price": 36457.5,
    "mark_price": 36446.51,
    "index_price": 36441.64,
    "min_price": 35898.37,
    "max_price": 36991.72,
    "stats": {"high": 36824.5, "low": 35213.5, "price_change": 0.7229, "volume": 7871.0},
}


def outcome(h: Harness, request_id: Any) -> list[Any]:
    return [
        e
        for e in h.events
        if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id == request_id
    ]


def test_machine_shape_and_handshake() -> None:
    client = ClientProtocol()
    assert isinstance(client, ClientMachine)
    assert client.handshake.path == "/ws/api/v2"
    assert client.close_request is None
    assert client.next_deadline() is None
    assert client.messages_to_send() == []
    assert client.events() == []


def test_result_is_decoded_with_the_result_type() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    ticker = h.send(GetTicker(instrument_name="BTC-PERPETUAL"))
    clock = h.send(GetTime())
    assert h.methods() == ["public/ticker", "public/get_time"]
    h.answer("public/ticker", TICKER)
    h.answer("public/get_time", 1535098298227)
    [done] = outcome(h, ticker)
    assert isinstance(done, RequestSucceeded)
    assert isinstance(done.result, Ticker)
    assert done.result.best_bid_price == 36442.5
    assert done.command == GetTicker(instrument_name="BTC-PERPETUAL")
    [done] = outcome(h, clock)
    assert isinstance(done, RequestSucceeded)
    assert done.result == 1535098298227


def test_generic_request_result_stays_plain_json() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    rid = h.send(GenericRequest(method="public/get_index_price_names", params={"x": 1}))
    request = h.find("public/get_index_price_names")
    assert request.params == {"x": 1}
    h.reply(request, ["btc_usd", "eth_usd"])
    [done] = outcome(h, rid)
    assert isinstance(done, RequestSucceeded)
    assert done.result == ["btc_usd", "eth_usd"]


def test_venue_error_fails_the_request_with_the_mapped_exception() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login()
    rid = h.send(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    h.fail(h.find("private/buy"), 10009, "not_enough_funds")
    [done] = outcome(h, rid)
    assert isinstance(done, RequestFailed)
    assert isinstance(done.error, InsufficientFunds)
    assert done.error.code == 10009


def test_deadline_fails_the_request_with_request_timeout() -> None:
    h = Harness(heartbeat_interval=None, request_timeout=3.0)
    h.connect()
    rid = h.send(GetTime())
    other = h.send(GetTime(), timeout=7.0)
    h.advance(2.9)
    assert outcome(h, rid) == []
    h.advance(0.2)
    [done] = outcome(h, rid)
    assert isinstance(done, RequestFailed)
    assert isinstance(done.error, RequestTimeout)
    assert outcome(h, other) == []
    h.advance(4.0)
    assert isinstance(outcome(h, other)[0].error, RequestTimeout)
    # A late answer resolves nothing a second time.
    h.feed(result(rid, 1))
    assert len(outcome(h, rid)) == 1


def test_connection_loss_fails_requests_on_the_wire_only() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.connect()
    public = h.send(GetTime())  # goes out at once
    private = h.send(GetPositions(currency="BTC"))  # waits for auth
    assert "private/get_positions" not in h.methods()
    h.lose()
    assert isinstance(outcome(h, public)[0].error, ConnectionLost)
    assert outcome(h, private) == []
    h.take_sent()
    h.now += 1.0
    h.login()
    h.answer("private/get_positions", [])
    assert isinstance(outcome(h, private)[0], RequestSucceeded)


def test_requests_sent_while_disconnected_wait_then_go() -> None:
    h = Harness(heartbeat_interval=None)
    rid = h.send(GetTime())
    assert h.sent == []
    assert h.client.next_deadline() == START + 10.0
    h.now += 4.0
    h.connect()
    assert h.methods() == ["public/get_time"]
    h.answer("public/get_time", 5)
    assert outcome(h, rid)[0].result == 5


def test_a_waiting_request_is_never_sent_after_its_deadline() -> None:
    h = Harness(heartbeat_interval=None, request_timeout=2.0)
    rid = h.send(GetTime())
    h.advance(2.5)
    assert isinstance(outcome(h, rid)[0].error, RequestTimeout)
    h.connect()
    assert h.sent == []


def test_private_requests_wait_for_auth_and_public_ones_do_not() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.connect()
    h.send(GetPositions(currency="BTC"))
    h.send(GetTime())
    assert h.methods() == ["public/auth", "public/get_time"]
    h.answer("public/auth", auth_result())
    assert h.methods() == ["public/get_time", "private/get_positions"]


def test_private_request_without_credentials_is_misuse_unless_it_has_a_token() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    with pytest.raises(LocalProtocolError, match="needs authentication"):
        h.send(GetPositions(currency="BTC"))
    with pytest.raises(LocalProtocolError, match="need authentication"):
        h.send(Subscribe(channels=["user.orders.any.any.raw"]))
    h.send(GetPositions(currency="BTC", access_token=Secret("tok")))
    sent = h.find("private/get_positions")
    assert sent.params["access_token"] == "tok"
    h.send(GenericRequest(method="private/get_positions", params={"access_token": "t"}))
    assert h.methods().count("private/get_positions") == 2


@pytest.mark.parametrize(
    ("command", "hint"),
    [
        (SetHeartbeat(interval=10), "heartbeat_interval"),
        (GenericRequest(method="public/disable_heartbeat"), "heartbeat_interval=None"),
        (GenericRequest(method="public/auth", params={}), "credentials"),
        (GenericRequest(method="public/subscribe", params={"channels": ["x"]}), "Subscribe"),
        (GenericRequest(method="private/unsubscribe_all"), "UnsubscribeAll"),
    ],
)
def test_methods_the_machine_owns_are_refused(command: Any, hint: str) -> None:
    client = ClientProtocol()
    with pytest.raises(LocalProtocolError, match=hint):
        client.send(command, START)
    assert client.messages_to_send() == []


def test_a_result_that_does_not_fit_its_type_fails_the_request() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    rid = h.send(GetTicker(instrument_name="BTC-PERPETUAL"))
    h.answer("public/ticker", {"not": "a ticker"})
    [done] = outcome(h, rid)
    assert isinstance(done, RequestFailed)
    assert isinstance(done.error, MalformedResult)
    assert "public/ticker" in str(done.error)


def test_errors_without_a_request_are_events() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.feed(error(None, 11050, "bad_request", "invalid json"))
    h.feed(error(12345, 10001, "error"))
    unmatched = h.of(UnmatchedError)
    assert [(u.request_id, u.error.code) for u in unmatched] == [(None, 11050), (12345, 10001)]
    assert unmatched[0].error.data == "invalid json"
    h.feed(result(999, "ok"))  # an answer to nothing: ignored
    assert not h.of(RequestSucceeded)


def test_logout_resolves_when_the_venue_closes_and_ends_the_session() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login()
    waiting = h.send(GetTime())
    h.answer("public/get_time", 1)
    rid = h.send(Logout(invalidate_token=True))
    assert h.methods() == ["private/logout"]
    assert h.find("private/logout").params == {"invalidate_token": True}
    with pytest.raises(LocalProtocolError, match="logout"):
        h.send(GetTime())
    assert outcome(h, rid) == []
    h.lose()  # the venue closes the socket: that is the answer
    [done] = outcome(h, rid)
    assert isinstance(done, RequestSucceeded)
    assert done.result is None
    assert h.of(LoggedOut)
    assert isinstance(outcome(h, waiting)[0], RequestSucceeded)
    assert h.client.session_ended
    # The stack reconnects on its own; the ended machine asks to close at once.
    h.take_sent()
    h.connect()
    assert h.sent == []
    assert h.client.close_request == CloseRequest(
        code=1000, reason="session ended by private/logout"
    )


def test_logout_fails_requests_still_waiting() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login()
    h.send(Logout())
    h.lose()
    assert h.of(LoggedOut)
    with pytest.raises(LocalProtocolError, match="session ended"):
        h.send(Test())


def test_logout_past_its_deadline_closes_the_connection_itself() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None, request_timeout=5.0)
    h.login()
    rid = h.send(Logout())
    h.advance(5.0)
    assert isinstance(outcome(h, rid)[0].error, RequestTimeout)
    assert h.client.close_request == CloseRequest(code=1000, reason="logout")
    h.lose()
    assert h.of(LoggedOut)


def test_logout_refused_by_the_venue_keeps_the_session() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login()
    rid = h.send(Logout())
    h.fail(h.find("private/logout"), 13009, "unauthorized")
    assert isinstance(outcome(h, rid)[0], RequestFailed)
    h.send(GetTime())  # still usable


# -- misuse and bounds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"credentials": "key:secret"}, "credentials"),
        ({"scope": "session:name"}, "scope"),
        ({"credentials": credentials(), "scope": "session:"}, "scope"),
        ({"credentials": credentials(), "scope": "session:a session:b"}, "scope"),
        ({"credentials": credentials(), "scope": "connection session:a"}, "scope"),
        ({"credentials": credentials(), "scope": ""}, "scope"),
        ({"ids": 5}, "ids"),
        ({"nonces": "fixed"}, "nonces"),
        ({"epoch_offset": float("nan")}, "epoch_offset"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"heartbeat_interval": 9}, "heartbeat_interval"),
        ({"heartbeat_interval": 10.5}, "heartbeat_interval"),
        ({"heartbeat_grace": -1}, "heartbeat_grace"),
        ({"refresh_fraction": 1.0}, "refresh_fraction"),
        ({"refresh_fraction": 0}, "refresh_fraction"),
        ({"rate_limits": {"x": 1}}, "rate_limits"),
        ({"max_channels_per_request": 0}, "max_channels_per_request"),
        ({"maintain_books": 1}, "maintain_books"),
        ({"max_book_levels": 0}, "max_book_levels"),
        ({"max_pending": 0}, "max_pending"),
        ({"max_outbound": -3}, "max_outbound"),
        ({"max_events": True}, "max_events"),
        ({"max_subscriptions": 0}, "max_subscriptions"),
    ],
)
def test_constructor_misuse_names_the_argument(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        ClientProtocol(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"client_id": "", "client_secret": "x"}, "client_id"),
        ({"client_id": "k", "client_secret": ""}, "client_secret"),
        ({"client_id": "k", "client_secret": 5}, "client_secret"),
        ({"client_id": "k", "client_secret": "x", "grant_type": "password"}, "grant_type"),
    ],
)
def test_credentials_misuse_names_the_argument(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        Credentials(**kwargs)


def test_call_misuse() -> None:
    client = ClientProtocol()
    with pytest.raises(LocalProtocolError, match="before connection_made"):
        client.receive_message(b"{}", START)
    with pytest.raises(LocalProtocolError, match="invalid command"):
        client.send(msgspec.Struct(), START)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="invalid timeout"):
        client.send(GetTime(), START, timeout=0)
    client.connection_made(START)
    with pytest.raises(LocalProtocolError, match="twice"):
        client.connection_made(START)
    client.connection_lost(START)
    client.connection_lost(START)  # idempotent


def test_max_pending_bounds_user_requests_only() -> None:
    h = Harness(heartbeat_interval=None, max_pending=3, credentials=credentials())
    for _ in range(3):
        h.send(GetTime())
    with pytest.raises(LocalProtocolError, match="max_pending=3"):
        h.send(GetTime())
    with pytest.raises(LocalProtocolError, match="max_pending=3"):
        h.send(Subscribe(channels=["ticker.BTC-PERPETUAL.100ms"]))
    # The machine's own requests (the login here) do not count against it...
    h.connect()
    assert h.methods() == ["public/auth"] + ["public/get_time"] * 3
    assert h.client.pending == 4
    # ...and answers make room again.
    h.reply(h.sent[1], 1)
    h.send(GetTime())


def test_event_and_outbound_bounds_are_checked_at_call_entry() -> None:
    client = ClientProtocol(heartbeat_interval=None, max_events=2, max_outbound=2)
    client.connection_made(START)
    client.send(GetTime(), START)
    client.send(GetTime(), START)
    with pytest.raises(
        LocalProtocolError, match=r"outbound queue .*max_outbound.* messages_to_send"
    ):
        client.send(GetTime(), START)
    [first, second] = [decode(m) for m in client.messages_to_send()]
    client.receive_message(result(first, 1), START)
    client.receive_message(result(second, 2), START)
    with pytest.raises(LocalProtocolError, match=r"event queue .*max_events.* events"):
        client.receive_message(result(77, 1), START)
    with pytest.raises(LocalProtocolError, match="max_events"):
        client.handle_timer(START)
    assert len(client.events()) == 2
    client.receive_message(result(77, 1), START)


def decode(data: bytes) -> Any:
    return msgspec.json.decode(data)["id"]


def test_secrets_never_appear_in_repr_str_or_events() -> None:
    creds = credentials("client_credentials")
    h = Harness(credentials=creds, heartbeat_interval=None)
    h.login()
    h.send(GetTime())
    text = "".join(
        (repr(creds), str(creds), repr(h.client), repr(h.client.options), repr(h.events))
    )
    assert SECRET not in text
    assert "SECRET" not in text  # the tokens of support_client.auth_result
    # The secret goes on the wire only in the auth request itself (client_credentials).
    assert h.log[0].params["client_secret"] == SECRET


# -- properties ---------------------------------------------------------------------------


def _good_answer(method: str, params: dict[str, Any]) -> Any:
    if method == "public/auth":
        return auth_result()
    if method.endswith("/subscribe") or method.endswith("/unsubscribe"):
        return params["channels"]
    if method == "public/set_heartbeat":
        return "ok"
    if method == "public/test":
        return {"version": "1.2.26"}
    if method == "public/get_time":
        return 7
    if method == "private/get_positions":
        return []
    return "ok"


_send = st.tuples(
    st.just("send"),
    st.sampled_from(["time", "time", "private", "subscribe", "unsubscribe"]),
)
_reply = st.tuples(
    st.just("reply"),
    st.integers(0, 50),
    st.sampled_from(["ok", "ok", "ok", "error", "10028", "bad"]),
)
_branches: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "send": _send,
    "reply": _reply,
    "advance": st.tuples(st.just("advance"), st.floats(0, 2) | st.floats(0, 12)),
    "lose": st.tuples(st.just("lose"), st.just(0)),
    "connect": st.tuples(st.just("connect"), st.just(0)),
    "test_request": st.tuples(st.just("test_request"), st.just(0)),
}
_ops = st.lists(
    # Weighted by repetition in sampled_from (one_of does not weigh a repeated branch):
    # replies are what resolve requests, so they are a third of the picks.
    st.sampled_from(["send", *["reply"] * 3, "advance", "lose", "connect", "test_request"]).flatmap(
        _branches.__getitem__
    ),
    max_size=80,
)


@st.composite
def _sessions(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Operations with at least two requests sent, at drawn places among the rest."""
    ops = draw(_ops)
    for send in draw(st.lists(_send, min_size=2, max_size=5)):
        ops.insert(draw(st.integers(0, len(ops))), send)
    return ops


@settings(max_examples=300, deadline=None)
@given(ops=_sessions(), heartbeat=st.sampled_from([None, 10]))
def test_every_request_resolves_exactly_once(
    ops: list[tuple[Any, ...]], heartbeat: int | None
) -> None:
    """Sends, answers (good, venue errors, 10028, malformed), time, lost and restored
    connections and heartbeats in any order: each request resolves exactly once.

    Every example sends at least two requests; ``event()`` reports how many, and how
    they resolved (``pytest --hypothesis-show-statistics``): an example where nothing
    was pending proves nothing about exactly-once.
    """
    h = Harness(
        credentials=credentials(),
        request_timeout=5.0,
        max_channels_per_request=2,
        heartbeat_interval=heartbeat,
    )
    ids: list[Any] = []
    channels = ["ticker.BTC-PERPETUAL.100ms", "book.ETH-PERPETUAL.raw", "user.orders.any.any.raw"]
    h.connect()
    connected = True
    for op in ops:
        name = op[0]
        if name == "send":
            command: Any = {
                "time": GetTime(),
                "private": GetPositions(currency="BTC"),
                "subscribe": Subscribe(channels=channels[: 1 + len(ids) % 3]),
                "unsubscribe": Unsubscribe(channels=channels[len(ids) % 3 :]),
            }[op[1]]
            ids.append(h.send(command))
        elif name == "reply" and connected and h.sent:
            mine = [r for r in h.sent if r.id in ids] if op[1] % 2 else []
            pool = mine or h.sent
            request = pool[op[1] % len(pool)]
            if op[2] == "ok":
                h.reply(request, _good_answer(request.method, request.params))
            elif op[2] == "error":
                h.fail(request, 10001, "error")
            elif op[2] == "10028":
                h.fail(request, 10028, "too_many_requests")
            else:
                h.reply(request, {"unexpected": [1]})
        elif name == "advance":
            h.advance(op[1])
        elif name == "lose" and connected:
            h.lose()
            h.take_sent()
            connected = False
        elif name == "connect" and not connected and h.client.close_request is None:
            h.connect()
            connected = True
        elif name == "test_request" and connected:
            h.feed(TEST_REQUEST)
        if h.client.close_request is not None and connected:
            h.lose()
            h.take_sent()
            connected = False
    if connected:
        h.lose()
    h.advance(60.0)
    resolved = [e for e in h.events if isinstance(e, RequestSucceeded | RequestFailed)]
    seen = [e.request_id for e in resolved]
    assert sorted(map(str, seen)) == sorted(map(str, ids)), "each request exactly once"
    assert h.client.pending == 0
    hypothesis.event(f"requests: {len(ids) if len(ids) < 6 else '6+'}")
    for outcome in sorted({_resolution(e) for e in resolved if e.request_id in ids}):
        hypothesis.event(f"some resolved by {outcome}")


def _resolution(event: RequestSucceeded | RequestFailed) -> str:
    return "a result" if isinstance(event, RequestSucceeded) else type(event.error).__name__


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_envelopes = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.just("2.0"),
        "id": st.integers(0, 6) | st.text(max_size=3) | st.none(),
        "method": st.sampled_from(["subscription", "heartbeat", "other"]) | st.text(max_size=5),
        "params": _json
        | st.fixed_dictionaries(
            {"channel": st.sampled_from(["book.BTC-PERPETUAL.100ms", "ticker.X.raw", "zzz"])},
            optional={"data": _json},
        )
        | st.fixed_dictionaries({"type": st.sampled_from(["heartbeat", "test_request", "x"])}),
        "result": _json,
        "error": _json | st.fixed_dictionaries({"code": st.integers(-40000, 20000)}),
    },
)


@settings(max_examples=400, deadline=None)
@given(
    junk=st.lists(
        st.binary(max_size=64)
        | _json.map(msgspec.json.encode)
        | _envelopes.map(msgspec.json.encode),
        max_size=6,
    )
)
def test_any_input_gives_events_or_remote_protocol_error_and_the_machine_stays_usable(
    junk: list[bytes],
) -> None:
    h = Harness(credentials=credentials(), maintain_books=True)
    h.login()
    h.send(Subscribe(channels=["book.BTC-PERPETUAL.100ms"]))
    h.ack_subscriptions()
    # Anything but RemoteProtocolError escaping fails the test.
    for data in junk:
        with contextlib.suppress(RemoteProtocolError):
            h.client.receive_message(data, h.now)
        h.flush()
    for data in junk:  # str input too
        with contextlib.suppress(RemoteProtocolError):
            h.client.receive_message(data.decode("utf-8", "replace"), h.now)
        h.flush()
    h.take_sent()
    rid = h.send(GetTime())
    h.answer("public/get_time", 42)
    assert outcome(h, rid)[0].result == 42
