"""What "through the machine" means: the Deribit ClientProtocol, or the wire layer for now.

:func:`make_machine` imports :class:`tradewire.protocol.deribit.ClientProtocol` and
builds it with no arguments.  While that class does not exist (it is being written),
or cannot be built that way, it returns :class:`WireMachine` instead: the smallest
client machine that follows the driving contract and turns every message into its
event with :func:`~tradewire.protocol.deribit.decode_inbound`, and nothing more (no
request table, no ledger, no book).  Every row it stands behind says so in its label,
so a table never passes the wire layer off as the machine.  When the ClientProtocol
lands the same command measures it, with no change here unless its constructor needs
arguments (then edit :func:`make_machine`).

Both kinds are primed the same way (:func:`prime`): ``connection_made``, a
``public/subscribe`` for the benchmark channels, and the venue's answer to every
request the machine sent, so a machine that only delivers notifications for channels
it subscribed to is measured on its real path.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from tradewire.protocol import CloseRequest, Command, Event, Handshake
from tradewire.protocol.deribit import PublicSubscribe, decode_inbound, encode_request

from ._messages import BOOK, TICKER, TRADES, answer_request

__all__ = [
    "WireMachine",
    "answer_all",
    "is_book_event",
    "make_machine",
    "prime",
    "subscribe_command",
]

NOW = 1_000.0  # the machines are pure: any clock will do, a fixed one keeps runs identical


class WireMachine:
    """A client machine that only decodes: ``receive_message`` -> ``decode_inbound``."""

    def __init__(self) -> None:
        self.handshake = Handshake(path="/ws/api/v2")
        self.close_request: CloseRequest | None = None
        self._ids = itertools.count(1)
        self._out: list[bytes] = []
        self._events: list[Any] = []

    def connection_made(self, now: float) -> None:
        pass

    def receive_message(self, data: bytes | str, now: float) -> None:
        self._events.append(decode_inbound(data))

    def send(self, command: Command, now: float) -> int:
        request_id = next(self._ids)
        self._out.append(encode_request(request_id, command))
        return request_id

    def handle_timer(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def connection_lost(self, now: float) -> None:
        pass

    def messages_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        events, self._events = self._events, []
        return events


def make_machine(**options: Any) -> tuple[Any, str, bool]:
    """``(machine, label, is_client_protocol)``: the ClientProtocol if it can be built.

    ``options`` go to the ClientProtocol (e.g. ``maintain_books=True``); the defaults
    otherwise: heartbeats on (``public/set_heartbeat`` at connect), pacing on, no books.
    """
    try:
        from tradewire.protocol.deribit import ClientProtocol
    except ImportError:
        return WireMachine(), "wire layer: decode_inbound (no ClientProtocol yet)", False
    try:
        machine = ClientProtocol(**options)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"[:60]
        return (
            WireMachine(),
            f"wire layer: decode_inbound (ClientProtocol() failed: {reason})",
            False,
        )
    shown = "".join(f", {k}={v!r}" for k, v in options.items())
    return machine, f"tradewire ClientProtocol.receive_message{shown}", True


def subscribe_command(machine: Any, channels: list[str]) -> Command:
    """How ``machine`` subscribes: the ClientProtocol's ``Subscribe`` (its ledger owns the
    subscribe methods), or ``public/subscribe`` for the wire-layer machine."""
    if isinstance(machine, WireMachine):
        return PublicSubscribe(channels=channels)
    from tradewire.protocol.deribit import Subscribe

    return Subscribe(channels=channels)


def answer_all(sent: Callable[[], list[bytes]], feed: Callable[[bytes], None]) -> None:
    """Answer every request ``sent()`` drains, feeding each answer, until nothing is sent."""
    for _ in range(10):  # answers may lead to further requests (auth, resubscribes ...)
        messages = sent()
        if not messages:
            return
        for message in messages:
            answer = answer_request(message)
            if answer is not None:
                feed(answer)


def prime(machine: Any, now: float = NOW) -> None:
    """Connect, subscribe to the benchmark channels and feed the venue's answers."""
    machine.connection_made(now)
    machine.send(subscribe_command(machine, [BOOK, TICKER, TRADES]), now)
    answer_all(machine.messages_to_send, lambda answer: machine.receive_message(answer, now))
    machine.events()


def is_book_event(event: object) -> bool:
    """An event that carries one book notification (whatever the machine calls it)."""
    return getattr(event, "channel", None) == BOOK
