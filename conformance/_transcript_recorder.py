"""The recorder: a client machine wrapper that writes a session as a transcript.

What it records is attributed to the call that produced it, so the transcript's order
is the machine's order whatever the driver does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec

from tradewire.protocol import (
    ClientMachine,
    CloseRequest,
    Command,
    Event,
    Handshake,
    LocalProtocolError,
    RemoteProtocolError,
    RequestId,
)

from ._transcript_compare import _close_fields, describe_event
from ._transcript_format import Header, Transcript, VenueAdapter, _encode_json

__all__ = ["Recorder", "RecordingMachine"]


class RecordingMachine:
    """A client machine that records what passes through it into a :class:`Recorder`.

    Drive it exactly as the wrapped machine (a WebSocket stack, a binding, a test); it
    forwards every call.  What it produces is attributed to the call that produced it:
    after each call it takes the wrapped machine's messages and events at once (and
    keeps them for whoever drains it), so the transcript's order is the machine's
    order, whatever the driver does.  Messages nobody drained when the connection is
    lost are marked ``unsent`` and, with ``unsent="drop"`` (what Deribit's
    ``ClientProtocol`` does with them), die with it; ``"keep"`` hands them to the driver
    later, for a machine that keeps them.
    """

    def __init__(
        self,
        inner: ClientMachine,
        recorder: Recorder,
        *,
        unsent: Literal["drop", "keep"] = "drop",
    ) -> None:
        self.inner = inner
        self.unsent = unsent
        self._recorder = recorder
        self._out: list[tuple[bytes, dict[str, Any]]] = []
        self._events: list[Event] = []
        self._close: CloseRequest | None = None

    @property
    def handshake(self) -> Handshake:
        return self.inner.handshake

    @property
    def close_request(self) -> CloseRequest | None:
        return self.inner.close_request

    def _after(self, now: float) -> None:
        for data in self.inner.messages_to_send():
            self._out.append((data, self._recorder._message("out", data, now)))
        events = self.inner.events()
        for event in events:
            self._recorder._event(event, now)
        self._events.extend(events)
        request = self.inner.close_request
        if request is not None and request != self._close:
            self._recorder._expect("CloseRequest", _close_fields(request), now)
        self._close = request

    def _guard(self, action: Callable[[], Any], now: float) -> Any:
        try:
            result = action()
        except (LocalProtocolError, RemoteProtocolError) as exc:
            self._after(now)
            self._recorder._expect(type(exc).__name__, {"message": str(exc)}, now)
            raise
        self._after(now)
        return result

    def connection_made(self, now: float) -> None:
        self._recorder._row({"t": now, "connection": "made"})
        self._guard(lambda: self.inner.connection_made(now), now)

    def receive_message(self, data: bytes | str, now: float) -> None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
        self._recorder._message("in", raw, now)
        self._guard(lambda: self.inner.receive_message(data, now), now)

    def send(self, command: Command, now: float) -> RequestId | None:
        row = self._recorder._send(command, now)
        result: RequestId | None = self._guard(lambda: self.inner.send(command, now), now)
        if result is not None:
            row["id"] = result
        return result

    def handle_timer(self, now: float) -> None:
        self._guard(lambda: self.inner.handle_timer(now), now)

    def next_deadline(self) -> float | None:
        return self.inner.next_deadline()

    def connection_lost(self, now: float) -> None:
        if self.unsent == "drop":
            for _, row in self._out:
                row["unsent"] = True
            self._out.clear()
        self._recorder._row({"t": now, "connection": "lost"})
        self._guard(lambda: self.inner.connection_lost(now), now)

    def messages_to_send(self) -> list[bytes]:
        out = [data for data, _ in self._out]
        self._out.clear()
        return out

    def events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def __getattr__(self, name: str) -> Any:
        # Everything else (properties such as ``authenticated``, ``ledger``) is the
        # wrapped machine's.
        return getattr(self.inner, name)


class Recorder:
    """Record a client session as a transcript: drive :attr:`machine`, then :meth:`dumps`.

    ``header`` builds the header when the transcript is written (a callable, because
    pinned values such as the request ids used are known only then).  ``expects``
    decides which events get an ``expect`` line (pseudo-events always do);
    ``redact`` rewrites an ``out`` message's JSON value before it is written (the
    venue's way to leave credentials out); ``unsent`` is :class:`RecordingMachine`'s.
    """

    def __init__(
        self,
        machine: ClientMachine,
        adapter: VenueAdapter,
        header: Callable[[], Header],
        *,
        expects: Callable[[Event], bool] = lambda event: True,
        redact: Callable[[Any], Any] | None = None,
        unsent: Literal["drop", "keep"] = "drop",
    ) -> None:
        self.adapter = adapter
        self._header = header
        self._expects = expects
        self._redact = redact
        self.rows: list[dict[str, Any]] = []
        self.machine = RecordingMachine(machine, self, unsent=unsent)

    # -- called by the machine -------------------------------------------------------

    def _row(self, row: dict[str, Any]) -> dict[str, Any]:
        self.rows.append(row)
        return row

    def _message(self, direction: str, data: bytes, now: float) -> dict[str, Any]:
        row: dict[str, Any] = {"t": now}
        try:
            value = msgspec.json.decode(data)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            value = msgspec.UNSET
        if value is not msgspec.UNSET and _encode_json(value) == data:
            if direction == "out" and self._redact is not None:
                value = self._redact(value)
            row[direction] = value
        else:
            try:
                row[direction] = data.decode("utf-8")
                row["encoding"] = "text"
            except UnicodeDecodeError:
                row[direction] = base64.b64encode(data).decode("ascii")
                row["encoding"] = "base64"
        return self._row(row)

    def _send(self, command: Command, now: float) -> dict[str, Any]:
        name, fields = self.adapter.encode_command(command)
        return self._row({"t": now, "send": name, "fields": fields})

    def _event(self, event: Event, now: float) -> None:
        if self._expects(event):
            name, fields = describe_event(event)
            self._expect(name, fields, now)

    def _expect(self, name: str, fields: dict[str, Any], now: float) -> None:
        self._row({"t": now, "expect": name, "fields": fields})

    # -- for the user --------------------------------------------------------------------

    def comment(self, text: str) -> None:
        """Add a ``comment`` line (ignored by replay; for the reader)."""
        self.rows.append({"comment": text})

    def dumps(self) -> str:
        """The transcript so far, as JSON lines."""
        rows: Sequence[dict[str, Any]] = [self._header().to_json(), *self.rows]
        return "".join(_encode_json(row).decode("utf-8") + "\n" for row in rows)

    def transcript(self) -> Transcript:
        """The transcript so far, parsed."""
        return Transcript.loads(self.dumps())
