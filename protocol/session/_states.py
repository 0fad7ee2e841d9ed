"""The states of a client session, and what each driving call may do in each.

The table is data: :class:`~tradewire.protocol.session.ClientSession` looks its
misuse checks up here, and ``tests/protocol/session/test_states.py`` drives a machine
into every state and applies every input, checking the outcome against the table.

=============== ===================================================================
state           meaning
=============== ===================================================================
``IDLE``        no transport (never connected, or the last one was lost); requests
                wait in the machine within their deadlines
``OPEN``        a transport is up and the machine is using it
``CLOSING``     a transport is up but the machine has asked for it to be closed
                (``close_request``): a dead peer, a credential renewal, a logout
                the venue did not act on
``ENDING``      a request that ends the session (a logout) is on the wire; the
                venue closing the connection is its answer
``ENDED``       the session is over: ``send`` refuses, a new transport is asked to
                close at once (``ENDED_OPEN``)
``ENDED_OPEN``  a transport came up after the end; ``close_request`` is set
=============== ===================================================================

An outcome is the set of states the call may leave the machine in (what it does
depends on the input: a message may declare the peer dead), or :data:`MISUSE`: the
call raises :class:`~tradewire.protocol.LocalProtocolError` and changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

__all__ = ["MISUSE", "TABLE", "Input", "SessionState", "misuse_message"]


class SessionState(enum.Enum):
    IDLE = "idle"
    OPEN = "open"
    CLOSING = "closing"
    ENDING = "ending"
    ENDED = "ended"
    ENDED_OPEN = "ended_open"


class Input(enum.Enum):
    CONNECTION_MADE = "connection_made"
    RECEIVE_MESSAGE = "receive_message"
    SEND = "send"
    HANDLE_TIMER = "handle_timer"
    CONNECTION_LOST = "connection_lost"


MISUSE: frozenset[SessionState] = frozenset()
"""The outcome of a call that is refused."""

S = SessionState
_ALIVE = frozenset({S.OPEN, S.CLOSING})

TABLE: Mapping[SessionState, Mapping[Input, frozenset[SessionState]]] = {
    S.IDLE: {
        Input.CONNECTION_MADE: frozenset({S.OPEN}),
        Input.RECEIVE_MESSAGE: MISUSE,
        Input.SEND: frozenset({S.IDLE}),
        Input.HANDLE_TIMER: frozenset({S.IDLE}),
        Input.CONNECTION_LOST: frozenset({S.IDLE}),
    },
    S.OPEN: {
        Input.CONNECTION_MADE: MISUSE,
        Input.RECEIVE_MESSAGE: _ALIVE,
        Input.SEND: frozenset({S.OPEN, S.ENDING}),
        Input.HANDLE_TIMER: _ALIVE,
        Input.CONNECTION_LOST: frozenset({S.IDLE}),
    },
    S.CLOSING: {
        Input.CONNECTION_MADE: MISUSE,
        Input.RECEIVE_MESSAGE: frozenset({S.CLOSING}),
        Input.SEND: frozenset({S.CLOSING}),
        Input.HANDLE_TIMER: frozenset({S.CLOSING}),
        Input.CONNECTION_LOST: frozenset({S.IDLE}),
    },
    S.ENDING: {
        Input.CONNECTION_MADE: MISUSE,
        Input.RECEIVE_MESSAGE: frozenset({S.ENDING, S.OPEN, S.CLOSING}),
        Input.SEND: MISUSE,
        Input.HANDLE_TIMER: frozenset({S.ENDING}),
        Input.CONNECTION_LOST: frozenset({S.ENDED}),
    },
    S.ENDED: {
        Input.CONNECTION_MADE: frozenset({S.ENDED_OPEN}),
        Input.RECEIVE_MESSAGE: MISUSE,
        Input.SEND: MISUSE,
        Input.HANDLE_TIMER: frozenset({S.ENDED}),
        Input.CONNECTION_LOST: frozenset({S.ENDED}),
    },
    S.ENDED_OPEN: {
        Input.CONNECTION_MADE: MISUSE,
        Input.RECEIVE_MESSAGE: frozenset({S.ENDED_OPEN}),
        Input.SEND: MISUSE,
        Input.HANDLE_TIMER: frozenset({S.ENDED_OPEN}),
        Input.CONNECTION_LOST: frozenset({S.ENDED}),
    },
}

_WHY = {
    Input.CONNECTION_MADE: "connection_made() called twice without connection_lost()",
    Input.RECEIVE_MESSAGE: "receive_message() before connection_made()",
    Input.SEND: "the session ended with {ended}; create a new client machine",
}


def misuse_message(call: Input, ended: str) -> str:
    """The :class:`LocalProtocolError` text for a refused ``call``."""
    return _WHY[call].format(ended=ended)
