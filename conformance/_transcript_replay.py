"""The replay runner: drive a fresh client with a transcript, report the first mismatch.

The rules it follows are in :mod:`tradewire.conformance._transcripts` ("Replay").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.protocol import CloseRequest, LocalProtocolError, ProtocolError, RemoteProtocolError

from ._transcript_compare import _close_fields, _pseudo, _short, describe_event, json_difference
from ._transcript_format import (
    Connection,
    Expect,
    Line,
    Message,
    Send,
    Transcript,
    TranscriptError,
    VenueAdapter,
)

__all__ = ["Mismatch", "ReplayMismatch", "ReplayReport", "replay"]


class Mismatch(msgspec.Struct, frozen=True, kw_only=True):
    """The first place a replay differs from its transcript.

    ``line`` is the transcript line (1-based), ``0`` after the last line.
    """

    line: int
    reason: str
    expected: str | None = None
    got: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "end of transcript"
        text = f"{where}: {self.reason}"
        if self.expected is not None:
            text += f"\n  expected: {self.expected}"
        if self.got is not None:
            text += f"\n  got:      {self.got}"
        return text


class ReplayMismatch(AssertionError):
    """Raised by :meth:`ReplayReport.check`; ``mismatch`` says where and what."""

    def __init__(self, mismatch: Mismatch) -> None:
        super().__init__(str(mismatch))
        self.mismatch = mismatch


class ReplayReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a replay did: counts, and the first :class:`Mismatch` (``None``: it passed)."""

    venue: str
    lines: int
    messages_in: int
    messages_out: int
    sends: int
    expectations: int
    events: int
    mismatch: Mismatch | None = None

    @property
    def ok(self) -> bool:
        return self.mismatch is None

    def summary(self) -> str:
        """One line: what was replayed and whether it matched."""
        status = "ok" if self.ok else "MISMATCH"
        return (
            f"{status}: {self.venue} transcript, {self.messages_in} messages in, "
            f"{self.messages_out} out, {self.sends} commands sent, "
            f"{self.expectations} expectations met ({self.events} events)"
        )

    def check(self) -> None:
        """Raise :class:`ReplayMismatch` unless the replay passed (for tests)."""
        if self.mismatch is not None:
            raise ReplayMismatch(self.mismatch)


class _Stop(Exception):
    def __init__(self, mismatch: Mismatch) -> None:
        super().__init__(str(mismatch))
        self.mismatch = mismatch


class _Replayer:
    def __init__(self, transcript: Transcript, adapter: VenueAdapter) -> None:
        self.transcript = transcript
        self.adapter = adapter
        self.wildcard = adapter.redacted(transcript.header)
        self.strict = frozenset(transcript.header.strict)
        self.client = adapter.build_client(transcript.header)
        self.now: float | None = None
        self.outbox: list[tuple[bytes, float]] = []
        self.pending: list[tuple[str, dict[str, Any], float]] = []
        self.close_request: CloseRequest | None = None
        self.counts = {"in": 0, "out": 0, "send": 0, "expect": 0, "events": 0}

    # -- driving the client ----------------------------------------------------------

    def _call(self, line: int, action: Callable[[], Any], now: float) -> tuple[bool, Any]:
        """Run one driving call; a protocol error it raises becomes a pseudo-event."""
        try:
            result = action()
        except (LocalProtocolError, RemoteProtocolError) as exc:
            self._collect(now)
            self._note(_pseudo(type(exc).__name__, message=str(exc)), now)
            return False, None
        except Exception as exc:  # a bug in the client: report it, do not crash the runner
            raise _Stop(
                Mismatch(line=line, reason=f"the client raised {type(exc).__name__}: {exc}")
            ) from exc
        self._collect(now)
        return True, result

    def _note(self, described: tuple[str, dict[str, Any]], now: float) -> None:
        self.pending.append((described[0], described[1], now))
        self.counts["events"] += 1

    def _collect(self, now: float) -> None:
        for data in self.client.messages_to_send():
            self.outbox.append((data, now))
        for event in self.client.events():
            self._note(describe_event(event), now)
        request = self.client.close_request
        if request is not None and request != self.close_request:
            self._note(_pseudo("CloseRequest", **_close_fields(request)), now)
        self.close_request = request

    def _advance(self, line: int, t: float | None) -> None:
        if t is None:
            return
        if self.now is None:
            self.now = t
            return
        for _ in range(1_000_000):
            deadline = self.client.next_deadline()
            if deadline is None or deadline > t:
                break
            self.now = max(self.now, deadline)
            now = self.now
            self._call(line, functools.partial(self.client.handle_timer, now), now)
        else:  # pragma: no cover - a machine whose deadline never moves
            raise _Stop(Mismatch(line=line, reason="the client's timers never settle"))
        self.now = t

    # -- checks ------------------------------------------------------------------------

    def _settled(self, line: int) -> None:
        """Before a message, send or connection line: nothing unlisted, nothing strict."""
        if self.outbox:
            data, at = self.outbox[0]
            raise _Stop(
                Mismatch(
                    line=line,
                    reason=f"the client sent a message at t={at!r} that the transcript "
                    "does not have before this line",
                    got=_show(data),
                )
            )
        for name, fields, at in self.pending:
            if name in self.strict:
                raise _Stop(
                    Mismatch(
                        line=line,
                        reason=f"the client reported {name} at t={at!r}, which the "
                        "transcript does not expect before this line",
                        got=f"{name} {_short(fields, 400)}",
                    )
                )
        self.pending.clear()

    def _out(self, item: Message) -> None:
        if not self.outbox:
            raise _Stop(
                Mismatch(
                    line=item.line,
                    reason=f"the client sent nothing by t={item.t!r}",
                    expected=_show(item.data),
                )
            )
        data, _ = self.outbox.pop(0)
        self.counts["out"] += 1
        if item.value is msgspec.UNSET:
            if data != item.data:
                raise _Stop(
                    Mismatch(
                        line=item.line,
                        reason="the client sent different bytes",
                        expected=_show(item.data),
                        got=_show(data),
                    )
                )
            return
        try:
            got = msgspec.json.decode(data)
        except (msgspec.DecodeError, RecursionError):
            raise _Stop(
                Mismatch(
                    line=item.line,
                    reason="the client sent a message that is not JSON",
                    expected=_show(item.data),
                    got=_show(data),
                )
            ) from None
        difference = json_difference(item.value, got, wildcard=self.wildcard)
        if difference is not None:
            raise _Stop(
                Mismatch(
                    line=item.line,
                    reason=f"the client sent a different message ({difference})",
                    expected=_show(item.data),
                    got=_show(data),
                )
            )

    def _expect(self, item: Expect) -> None:
        for index, (name, fields, _) in enumerate(self.pending):
            if name == item.event and json_difference(item.fields, fields, subset=True) is None:
                del self.pending[: index + 1]
                self.counts["expect"] += 1
                return
            if name in self.strict:
                break
        reported = ", ".join(name for name, _, _ in self.pending) or "nothing"
        closest = next((f for n, f, _ in self.pending if n == item.event), None)
        reason = f"expected {item.event}; since the last step the client reported {reported}"
        if closest is not None:
            difference = json_difference(item.fields, closest, subset=True)
            reason = f"expected {item.event} with other fields ({difference})"
        raise _Stop(
            Mismatch(
                line=item.line,
                reason=reason,
                expected=f"{item.event} {_short(item.fields, 400)}",
                got=None if closest is None else f"{item.event} {_short(closest, 400)}",
            )
        )

    # -- the walk ----------------------------------------------------------------------

    def run(self) -> Mismatch | None:
        try:
            for item in self.transcript.lines:
                self._line(item)
            self._settled(self._last_line() + 1)
        except _Stop as stop:
            mismatch = stop.mismatch
            if mismatch.line > self._last_line():
                mismatch = msgspec.structs.replace(mismatch, line=0)
            return mismatch
        return None

    def _last_line(self) -> int:
        return self.transcript.lines[-1].line if self.transcript.lines else 1

    def _line(self, item: Line) -> None:
        self._advance(item.line, item.t)
        now = self.now if self.now is not None else 0.0
        client = self.client
        if isinstance(item, Expect):
            self._expect(item)
        elif isinstance(item, Message) and item.direction == "out":
            self._out(item)
        elif isinstance(item, Message):
            self._settled(item.line)
            self.counts["in"] += 1
            data = item.data
            self._call(item.line, lambda: client.receive_message(data, now), now)
        elif isinstance(item, Connection):
            self._settled(item.line)
            if item.state == "made":
                self._call(item.line, lambda: client.connection_made(now), now)
            else:
                self._call(item.line, lambda: client.connection_lost(now), now)
        else:
            self._settled(item.line)
            self._send(item, now)

    def _send(self, item: Send, now: float) -> None:
        try:
            command = self.adapter.decode_command(item.command, item.fields)
        except (ValueError, TypeError, ProtocolError) as exc:
            raise _Stop(
                Mismatch(line=item.line, reason=f"invalid command {item.command!r}: {exc}")
            ) from None
        self.counts["send"] += 1
        ok, request_id = self._call(item.line, lambda: self.client.send(command, now), now)
        if ok and item.id is not msgspec.UNSET and request_id != item.id:
            raise _Stop(
                Mismatch(
                    line=item.line,
                    reason="send returned a different request id",
                    expected=_short(item.id),
                    got=_short(request_id),
                )
            )


def _show(data: bytes, limit: int = 400) -> str:
    text = data.decode("utf-8", "backslashreplace")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def replay(transcript: Transcript | str | bytes, adapter: VenueAdapter) -> ReplayReport:
    """Drive a fresh client with ``transcript`` and compare (see the module docstring).

    Raises :class:`TranscriptError` when the text is not a transcript, or is one for
    another venue; a difference in behaviour is the report's ``mismatch``.
    """
    if not isinstance(transcript, Transcript):
        transcript = Transcript.loads(transcript)
    if transcript.header.venue != adapter.venue:
        raise TranscriptError(
            f"a {transcript.header.venue!r:.40} transcript; this runner replays "
            f"{adapter.venue!r} ones",
            1,
        )
    try:
        replayer = _Replayer(transcript, adapter)
    except (ValueError, TypeError, ProtocolError) as exc:
        raise TranscriptError(f"invalid client configuration in the header: {exc}", 1) from None
    mismatch = replayer.run()
    counts = replayer.counts
    return ReplayReport(
        venue=transcript.header.venue,
        lines=len(transcript.lines) + 1,
        messages_in=counts["in"],
        messages_out=counts["out"],
        sends=counts["send"],
        expectations=counts["expect"],
        events=counts["events"],
        mismatch=mismatch,
    )
