"""Every (state, input) pair of the generic client machine, against its table.

The machine's states and what each driving call may do in each are data
(``tradewire.protocol.session.TABLE``).  Each state is built by driving a fresh toy
machine; each input is applied to a fresh copy; the outcome must be what the table says:
a refused call raises :class:`LocalProtocolError` and changes nothing, any other leaves the
machine in one of the states the table allows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.session import TABLE, ClientSession, Input, SessionState

sys.path.append(str(Path(__file__).parent))
from support_toy import Op, push, sent, toy


def idle() -> ClientSession:
    return toy(heartbeat="probes")


def open_() -> ClientSession:
    client = idle()
    client.connection_made(0.0)
    return client


def closing() -> ClientSession:
    client = open_()
    client.handle_timer(30.0)  # silence past the limit: the peer is dead
    assert client.close_request is not None
    return client


def ending() -> ClientSession:
    client = open_()
    client.send(Op(op="logout", ends_session=True), 0.0)
    sent(client)
    return client


def ended() -> ClientSession:
    client = ending()
    client.connection_lost(1.0)
    return client


def ended_open() -> ClientSession:
    client = ended()
    client.connection_made(2.0)
    return client


BUILDERS: dict[SessionState, Callable[[], ClientSession]] = {
    SessionState.IDLE: idle,
    SessionState.OPEN: open_,
    SessionState.CLOSING: closing,
    SessionState.ENDING: ending,
    SessionState.ENDED: ended,
    SessionState.ENDED_OPEN: ended_open,
}

INPUTS: dict[Input, Callable[[ClientSession], object]] = {
    Input.CONNECTION_MADE: lambda c: c.connection_made(5.0),
    Input.RECEIVE_MESSAGE: lambda c: c.receive_message(push("t"), 5.0),
    Input.SEND: lambda c: c.send(Op(op="time"), 5.0),
    Input.HANDLE_TIMER: lambda c: c.handle_timer(5.0),
    Input.CONNECTION_LOST: lambda c: c.connection_lost(5.0),
}


def test_the_table_covers_every_state_and_input() -> None:
    assert set(TABLE) == set(SessionState)
    for row in TABLE.values():
        assert set(row) == set(Input)


@pytest.mark.parametrize("state", list(SessionState), ids=lambda s: s.value)
def test_each_state_is_reachable(state: SessionState) -> None:
    assert BUILDERS[state]().state is state


@pytest.mark.parametrize("call", list(Input), ids=lambda i: i.value)
@pytest.mark.parametrize("state", list(SessionState), ids=lambda s: s.value)
def test_every_pair_does_what_the_table_says(state: SessionState, call: Input) -> None:
    client = BUILDERS[state]()
    allowed = TABLE[state][call]
    pending, deadline = client.pending, client.next_deadline()
    if not allowed:
        with pytest.raises(LocalProtocolError):
            INPUTS[call](client)
        assert client.state is state
        assert (client.pending, client.next_deadline()) == (pending, deadline)
        return
    INPUTS[call](client)
    assert client.state in allowed
    client.events()  # still usable
    client.messages_to_send()


def test_resolve_options_merges_overrides_and_names_what_is_wrong() -> None:
    from tradewire.protocol import LocalProtocolError
    from tradewire.protocol.session import SessionOptions, resolve_options

    base = SessionOptions(request_timeout=5.0)
    assert resolve_options(SessionOptions, base, {}) is base
    merged = resolve_options(SessionOptions, base, {"max_pending": 7})
    assert (merged.request_timeout, merged.max_pending) == (5.0, 7)
    assert resolve_options(SessionOptions, None, {"max_pending": 3}).max_pending == 3
    with pytest.raises(LocalProtocolError, match="expected SessionOptions, got dict"):
        resolve_options(SessionOptions, {"max_pending": 3}, {})  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match=r"accepted options: .*request_timeout"):
        resolve_options(SessionOptions, None, {"colour": "blue"})
