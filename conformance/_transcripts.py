"""Transcripts: a client session as JSON lines, a recorder, and a replay runner.

Venue-neutral; a venue package supplies a :class:`VenueAdapter` (how to build its client
machine from the header, how to write and read its commands).  Pure like the rest of the
kit: text in, text out, no files, no clock.

The format
==========

One JSON object per line, each ending in a newline (blank lines are skipped; JSON may hold
U+2028 and the like unescaped, so nothing else ends a line); times are the ``now``
values of the session's clock, in seconds, and never decrease:

* line 1, the header::

    {"transcript": 1, "venue": "deribit", "venue_version": "v2", "server": "...",
     "library": "tradewire 0.1.0", "description": "...", "client": {...},
     "strict": ["BookGap", ...]}

  ``client`` is the venue's client configuration, with everything that would
  otherwise vary pinned (request ids, nonces, the epoch offset), so a replay is byte
  for byte.  ``strict`` names event types that must all be expected (see below);
* ``{"t": 1000.0, "in": {...}}``: a message the client received (from the client's
  view), as JSON; ``{"t": ..., "out": {...}}``: a message the client sent.  A message
  that is not JSON is ``{"t": ..., "in": "...", "encoding": "text"}`` (the exact text)
  or ``"encoding": "base64"`` (the exact bytes, e.g. invalid UTF-8).  ``"unsent": true``
  marks an ``out`` message the machine queued but the connection ended before it went
  out (informational);
* ``{"t": ..., "send": "Subscribe", "fields": {...}, "id": 3}``: the user passed that
  command to ``send`` (``id``, optional, is the request id it must return);
* ``{"t": ..., "connection": "made"}`` / ``"lost"``: the transport came up / went away;
* ``{"t": ..., "expect": "BookGap", "fields": {...}}``: the client reported an event of
  that type whose fields include ``fields`` (objects match as subsets, recursively;
  everything else by equal JSON value).  Besides the machine's events there are three
  pseudo-events: ``RemoteProtocolError`` and ``LocalProtocolError`` (a driving call
  raised; field ``message``) and ``CloseRequest`` (the machine asked for the close;
  ``code``, ``reason``, ``abort``).  ``t`` is optional here;
* ``{"comment": "..."}``: ignored.

Replay
======

:func:`replay` builds a fresh client from the header and walks the lines in order.  Each
line's ``t`` first moves the clock there, firing every deadline on the way
(``handle_timer`` at exactly ``next_deadline()``).  Then:

* ``in``: the message is fed (``receive_message``); ``send`` and ``connection`` lines
  call ``send`` / ``connection_made`` / ``connection_lost``.  Before any of these, the
  client must have sent nothing the transcript does not list, and reported no
  strict-type event the transcript does not expect;
* ``out``: the next message the client sent must equal it: the same JSON value (object
  key order aside, since it has no meaning on these wires; numbers keep their type, so
  ``10`` is not ``10.0``), or the same bytes for a ``text`` / ``base64`` line.  When the
  header has the client's secret redacted, an expected ``"<redacted>"`` string matches
  any value at that place;
* ``expect``: the events reported since the last message, send or connection line are
  searched in order for a match; other events before it are passed over, unless their
  type is strict (then the order is wrong).

The first difference ends the replay, reported as a :class:`Mismatch` naming the line,
what the transcript expects and what the client did.  A file that is not a transcript
raises :class:`TranscriptError` instead.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, Protocol

import msgspec

from tradewire.protocol import (
    MASK,
    ClientMachine,
    CloseRequest,
    Command,
    Event,
    Handshake,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    RequestId,
    Secret,
    VenueError,
)

__all__ = [
    "FORMAT_VERSION",
    "MASK",
    "PSEUDO_EVENTS",
    "Connection",
    "Expect",
    "Header",
    "Line",
    "Message",
    "Mismatch",
    "Recorder",
    "RecordingMachine",
    "ReplayMismatch",
    "ReplayReport",
    "Send",
    "Transcript",
    "TranscriptError",
    "VenueAdapter",
    "describe_event",
    "json_difference",
    "replay",
]

FORMAT_VERSION = 1
"""The ``transcript`` value of the header this module reads and writes."""

PSEUDO_EVENTS = ("RemoteProtocolError", "LocalProtocolError", "CloseRequest")
"""Expectation types that are not events: a driving call raised, or ``close_request``
was set."""

_MESSAGE_TIME_KEYS = frozenset({"t", "encoding", "unsent"})


class TranscriptError(ValueError):
    """The text is not a valid transcript; ``line`` is the 1-based line, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


# -- the lines ----------------------------------------------------------------------------


class Header(msgspec.Struct, frozen=True, kw_only=True):
    """Line 1: which venue, who played it, and the client's pinned configuration."""

    venue: str
    client: dict[str, Any]
    venue_version: str | None = None
    server: str | None = None
    library: str | None = None
    description: str | None = None
    strict: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"transcript": FORMAT_VERSION, "venue": self.venue}
        for name in ("venue_version", "server", "library", "description"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out["client"] = self.client
        out["strict"] = list(self.strict)
        return out


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """An ``in`` or ``out`` line; ``data`` is the exact bytes, ``value`` the JSON (or
    ``UNSET`` for a ``text`` / ``base64`` line)."""

    line: int
    t: float
    direction: Literal["in", "out"]
    data: bytes
    value: Any = msgspec.UNSET
    unsent: bool = False


class Send(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    t: float
    command: str
    fields: dict[str, Any]
    id: Any = msgspec.UNSET


class Connection(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    t: float
    state: Literal["made", "lost"]


class Expect(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    event: str
    fields: dict[str, Any]
    t: float | None = None


Line = Message | Send | Connection | Expect


def _encode_json(value: Any) -> bytes:
    return msgspec.json.encode(value)


def _line_json(item: Line) -> dict[str, Any]:
    if isinstance(item, Message):
        out: dict[str, Any] = {"t": item.t}
        if item.value is not msgspec.UNSET:
            out[item.direction] = item.value
        else:
            try:
                out[item.direction] = item.data.decode("utf-8")
                out["encoding"] = "text"
            except UnicodeDecodeError:
                out[item.direction] = base64.b64encode(item.data).decode("ascii")
                out["encoding"] = "base64"
        if item.unsent:
            out["unsent"] = True
        return out
    if isinstance(item, Send):
        out = {"t": item.t, "send": item.command, "fields": item.fields}
        if item.id is not msgspec.UNSET:
            out["id"] = item.id
        return out
    if isinstance(item, Connection):
        return {"t": item.t, "connection": item.state}
    out = {} if item.t is None else {"t": item.t}
    out["expect"] = item.event
    out["fields"] = item.fields
    return out


class Transcript(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed transcript: the header and the lines (comments dropped)."""

    header: Header
    lines: tuple[Line, ...]

    @classmethod
    def loads(cls, text: str | bytes) -> Transcript:
        """Parse JSON-lines text; :class:`TranscriptError` names the first bad line."""
        return _parse(text)

    def dumps(self) -> str:
        """The transcript as JSON lines (comments are not kept)."""
        rows = [self.header.to_json(), *(_line_json(item) for item in self.lines)]
        return "".join(_encode_json(row).decode("utf-8") + "\n" for row in rows)

    @property
    def messages_in(self) -> int:
        return sum(isinstance(x, Message) and x.direction == "in" for x in self.lines)

    @property
    def messages_out(self) -> int:
        return sum(isinstance(x, Message) and x.direction == "out" for x in self.lines)

    @property
    def expectations(self) -> int:
        return sum(isinstance(x, Expect) for x in self.lines)


# -- parsing ------------------------------------------------------------------------------

_LINE_DECODER = msgspec.json.Decoder()


def _time(row: dict[str, Any], number: int, *, required: bool = True) -> float | None:
    if "t" not in row:
        if required:
            raise TranscriptError("missing 't' (the time in seconds)", number)
        return None
    value = row["t"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranscriptError(f"'t' must be a number of seconds, got {value!r:.40}", number)
    return float(value)


def _only(row: dict[str, Any], allowed: Iterable[str], number: int) -> None:
    extra = sorted(set(row) - set(allowed))
    if extra:
        raise TranscriptError(f"unknown key {extra[0]!r} in a {_kind_of(row)} line", number)


def _kind_of(row: dict[str, Any]) -> str:
    for kind in ("in", "out", "send", "connection", "expect", "comment"):
        if kind in row:
            return kind
    return "?"


def _header(row: Any, number: int) -> Header:
    if not isinstance(row, dict) or "transcript" not in row:
        raise TranscriptError(
            'the first line must be the header, {"transcript": 1, "venue": ...}', number
        )
    if row["transcript"] != FORMAT_VERSION:
        raise TranscriptError(
            f"unsupported transcript format {row['transcript']!r:.20}; this reader reads "
            f"format {FORMAT_VERSION}",
            number,
        )
    fields = {k: v for k, v in row.items() if k != "transcript"}
    unknown = sorted(set(fields) - set(Header.__struct_fields__))
    if unknown:
        raise TranscriptError(f"unknown key {unknown[0]!r} in the header", number)
    try:
        return msgspec.convert(fields, Header)
    except msgspec.ValidationError as exc:
        raise TranscriptError(f"invalid header: {exc}", number) from None


def _message(row: dict[str, Any], number: int) -> Message:
    direction: Literal["in", "out"] = "in" if "in" in row else "out"
    _only(row, {direction, *_MESSAGE_TIME_KEYS}, number)
    t = _time(row, number)
    assert t is not None
    value = row[direction]
    encoding = row.get("encoding", "json")
    unsent = row.get("unsent", False)
    if not isinstance(unsent, bool):
        raise TranscriptError("'unsent' must be true or false", number)
    if encoding == "json":
        return Message(
            line=number,
            t=t,
            direction=direction,
            data=_encode_json(value),
            value=value,
            unsent=unsent,
        )
    if encoding not in ("text", "base64"):
        raise TranscriptError(
            f"unknown encoding {encoding!r:.20}; accepted values: 'json', 'text', 'base64'",
            number,
        )
    if not isinstance(value, str):
        raise TranscriptError(f"a message with encoding {encoding!r} must be a string", number)
    if encoding == "text":
        data = value.encode("utf-8", "surrogatepass")
    else:
        try:
            data = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise TranscriptError("the message is not valid base64", number) from None
    return Message(line=number, t=t, direction=direction, data=data, unsent=unsent)


def _fields(row: dict[str, Any], number: int) -> dict[str, Any]:
    fields = row.get("fields", {})
    if not isinstance(fields, dict):
        raise TranscriptError("'fields' must be an object", number)
    return fields


def _row(row: Any, number: int) -> Line | None:
    if not isinstance(row, dict):
        raise TranscriptError("every line must be a JSON object", number)
    kinds = [k for k in ("in", "out", "send", "connection", "expect", "comment") if k in row]
    if len(kinds) != 1:
        raise TranscriptError(
            "a line must have exactly one of 'in', 'out', 'send', 'connection', "
            f"'expect', 'comment' (found {kinds or 'none'})",
            number,
        )
    kind = kinds[0]
    if kind in ("in", "out"):
        return _message(row, number)
    if kind == "comment":
        _only(row, {"comment", "t"}, number)
        return None
    if kind == "send":
        _only(row, {"t", "send", "fields", "id"}, number)
        t = _time(row, number)
        assert t is not None
        if not isinstance(row["send"], str):
            raise TranscriptError("'send' must name a command type", number)
        return Send(
            line=number,
            t=t,
            command=row["send"],
            fields=_fields(row, number),
            id=row.get("id", msgspec.UNSET),
        )
    if kind == "connection":
        _only(row, {"t", "connection"}, number)
        t = _time(row, number)
        assert t is not None
        state = row["connection"]
        if state not in ("made", "lost"):
            raise TranscriptError(
                f"'connection' must be 'made' or 'lost', got {state!r:.20}", number
            )
        return Connection(line=number, t=t, state=state)
    _only(row, {"t", "expect", "fields"}, number)
    if not isinstance(row["expect"], str):
        raise TranscriptError("'expect' must name an event type", number)
    return Expect(
        line=number,
        event=row["expect"],
        fields=_fields(row, number),
        t=_time(row, number, required=False),
    )


def _parse(text: str | bytes) -> Transcript:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TranscriptError(f"not UTF-8 text: {exc}") from None
    header: Header | None = None
    lines: list[Line] = []
    last_t: float | None = None
    # Lines end at "\n" only: str.splitlines() would also split at U+2028, U+0085 ...,
    # which JSON allows unescaped inside strings.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            row = _LINE_DECODER.decode(raw)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise TranscriptError(f"not JSON: {exc}", number) from None
        if header is None:
            header = _header(row, number)
            continue
        item = _row(row, number)
        if item is None:
            continue
        t = item.t
        if t is not None:
            if last_t is not None and t < last_t:
                raise TranscriptError(f"time goes backwards ({t!r} after {last_t!r})", number)
            last_t = t
        lines.append(item)
    if header is None:
        raise TranscriptError("empty transcript: no header line")
    return Transcript(header=header, lines=tuple(lines))


# -- comparing JSON values -------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def json_difference(
    expected: Any, got: Any, *, wildcard: bool = False, subset: bool = False, path: str = "$"
) -> str | None:
    """Where two JSON values first differ (a ``$.a[2].b`` path and both values), or ``None``.

    Numbers keep their JSON type (``1`` is not ``1.0``, ``true`` is not ``1``); object
    key order is ignored.  ``subset``: an expected object matches any object that has
    its keys with matching values.  ``wildcard``: an expected ``"<redacted>"`` matches
    anything.
    """
    if wildcard and expected == MASK and isinstance(expected, str):
        return None
    kind_e, kind_g = _kind(expected), _kind(got)
    if kind_e != kind_g:
        return f"at {path}: expected {_short(expected)} ({kind_e}), got {_short(got)} ({kind_g})"
    if kind_e == "object":
        for key, value in expected.items():
            if key not in got:
                return f"at {path}: missing key {key!r} (expected {_short(value)})"
            found = json_difference(
                value, got[key], wildcard=wildcard, subset=subset, path=_key_path(path, key)
            )
            if found is not None:
                return found
        if not subset:
            extra = [key for key in got if key not in expected]
            if extra:
                return f"at {path}: unexpected key {extra[0]!r} = {_short(got[extra[0]])}"
        return None
    if kind_e == "list":
        if len(expected) != len(got):
            return f"at {path}: expected {len(expected)} items, got {len(got)}"
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            found = json_difference(a, b, wildcard=wildcard, subset=subset, path=f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if expected != got:
        return f"at {path}: expected {_short(expected)}, got {_short(got)}"
    return None


def _short(value: Any, limit: int = 120) -> str:
    try:
        text = _encode_json(value).decode("utf-8", "replace")
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- events as JSON ---------------------------------------------------------------------


def _builtin_hook(obj: Any) -> Any:
    if isinstance(obj, Secret):
        return MASK
    if isinstance(obj, BaseException):
        return _describe_exception(obj)
    if isinstance(obj, Command):
        return type(obj).__name__
    raise NotImplementedError(f"cannot describe {type(obj).__name__}")


def _describe_exception(exc: BaseException) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(exc).__name__}
    if isinstance(exc, VenueError):
        out["code"] = exc.code
        out["message"] = exc.message
        if exc.data is not None:
            out["data"] = _to_json(exc.data)
    else:
        out["message"] = str(exc)
    return out


def _to_json(value: Any) -> Any:
    if isinstance(value, Command):
        return type(value).__name__
    if isinstance(value, BaseException):
        return _describe_exception(value)
    return msgspec.to_builtins(value, enc_hook=_builtin_hook, str_keys=True)


def describe_event(event: Event) -> tuple[str, dict[str, Any]]:
    """An event as ``(type name, fields as JSON)``: what an ``expect`` line holds.

    Commands inside events are written as their type name, request failures as
    ``{"type", "code", "message", "data"}`` (venue errors) or ``{"type", "message"}``,
    secrets as ``"<redacted>"``.
    """
    fields: dict[str, Any] = {}
    for name in event.__struct_fields__:
        value = getattr(event, name)
        if value is msgspec.UNSET:
            continue
        fields[name] = _to_json(value)
    return type(event).__name__, fields


def _pseudo(name: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return name, fields


def _close_fields(request: CloseRequest) -> dict[str, Any]:
    return {"code": request.code, "reason": request.reason, "abort": request.abort}


# -- the venue's part ---------------------------------------------------------------------


class VenueAdapter(Protocol):
    """What a venue package supplies for its transcripts."""

    @property
    def venue(self) -> str:
        """The header's ``venue``."""

    def build_client(self, header: Header) -> ClientMachine:
        """A fresh client machine configured as ``header.client`` says."""

    def decode_command(self, name: str, fields: dict[str, Any]) -> Command:
        """The command of a ``send`` line; raise ``ValueError`` if it is not one."""

    def encode_command(self, command: Command) -> tuple[str, dict[str, Any]]:
        """A command as ``(type name, fields)`` for a ``send`` line."""

    def redacted(self, header: Header) -> bool:
        """Whether ``out`` lines have ``"<redacted>"`` in place of credentials."""


# -- replay -----------------------------------------------------------------------------


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


# -- recording --------------------------------------------------------------------------


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
