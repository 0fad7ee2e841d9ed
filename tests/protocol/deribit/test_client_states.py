"""Every (state, input) pair of ClientProtocol: accepted, or refused as documented misuse.

States are built by driving a fresh machine; inputs are the driving calls.  The table
says which pairs are misuse (:class:`LocalProtocolError`, nothing consumed); every other
pair must run and leave the machine answering ``next_deadline`` and ``events``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tradewire.protocol import LocalProtocolError, RequestFailed, RequestSucceeded
from tradewire.protocol.deribit import GetPositions, GetTime, Logout, Subscribe

sys.path.append(str(Path(__file__).parent))
from support_client import HEARTBEAT, Harness, auth_result, credentials


def fresh() -> Harness:
    return Harness(credentials=credentials())


def connected() -> Harness:
    h = fresh()
    h.connect()
    return h


def authenticated() -> Harness:
    h = fresh()
    h.login()
    return h


def auth_failed() -> Harness:
    h = connected()
    h.fail(h.find("public/auth"), 13004, "invalid_credentials")
    return h


def dead() -> Harness:
    h = authenticated()
    h.advance(15.0)  # silence past interval + grace
    assert h.client.close_request is not None
    return h


def disconnected() -> Harness:
    h = authenticated()
    h.lose()
    return h


def logging_out() -> Harness:
    h = authenticated()
    h.send(Logout())
    return h


def ended() -> Harness:
    h = logging_out()
    h.lose()
    return h


def ended_reconnected() -> Harness:
    h = ended()
    h.connect()
    return h


STATES: dict[str, Callable[[], Harness]] = {
    "fresh": fresh,
    "connected": connected,
    "authenticated": authenticated,
    "auth_failed": auth_failed,
    "dead": dead,
    "disconnected": disconnected,
    "logging_out": logging_out,
    "ended": ended,
    "ended_reconnected": ended_reconnected,
}

INPUTS: dict[str, Callable[[Harness], object]] = {
    "connection_made": lambda h: h.connect(),
    "connection_lost": lambda h: h.lose(),
    "receive": lambda h: h.feed(HEARTBEAT),
    "send_public": lambda h: h.send(GetTime()),
    "send_private": lambda h: h.send(GetPositions(currency="BTC")),
    "send_subscribe": lambda h: h.send(Subscribe(channels=["ticker.BTC-PERPETUAL.100ms"])),
    "handle_timer": lambda h: h.advance(0.5),
}

CONNECTED = {
    "connected",
    "authenticated",
    "auth_failed",
    "dead",
    "logging_out",
    "ended_reconnected",
}
ENDED = {"logging_out", "ended", "ended_reconnected"}


def misuse(state: str, name: str) -> bool:
    if name == "connection_made":
        return state in CONNECTED
    if name == "receive":
        return state not in CONNECTED
    if name.startswith("send_"):
        return state in ENDED
    return False


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("name", list(INPUTS))
def test_every_state_takes_every_input_or_refuses_it_as_misuse(state: str, name: str) -> None:
    h = STATES[state]()
    h.take_events()
    sent_before = list(h.log)
    if misuse(state, name):
        with pytest.raises(LocalProtocolError):
            INPUTS[name](h)
        assert h.log == sent_before  # nothing consumed, nothing queued
        assert not [e for e in h.take_events() if isinstance(e, RequestSucceeded | RequestFailed)]
    else:
        INPUTS[name](h)
    h.client.next_deadline()
    h.take_events()
    if state == "ended_reconnected":
        assert h.client.close_request is not None


def test_the_private_request_in_a_failed_auth_state_resolves_at_once() -> None:
    h = auth_failed()
    h.take_events()
    rid = h.send(GetPositions(currency="BTC"))
    [done] = [e for e in h.events if isinstance(e, RequestFailed)]
    assert done.request_id == rid


def test_the_dead_state_holds_new_requests_for_the_next_connection() -> None:
    h = dead()
    h.take_sent()
    rid = h.send(GetTime())
    assert h.sent == []
    h.lose()
    h.connect()
    h.answer("public/auth", auth_result())
    assert any(s.id == rid for s in h.sent)
