"""The transcript format: its lines, the header, writing and parsing JSON lines.

What each line means is in :mod:`tradewire.conformance._transcripts`; this module holds
the types, :meth:`Transcript.dumps` and the parser with its :class:`TranscriptError`,
and the :class:`VenueAdapter` a venue package supplies.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any, Literal, Protocol

import msgspec

from tradewire.protocol import ClientMachine, Command

__all__ = [
    "FORMAT_VERSION",
    "PSEUDO_EVENTS",
    "Connection",
    "Expect",
    "Header",
    "Line",
    "Message",
    "Send",
    "Transcript",
    "TranscriptError",
    "VenueAdapter",
    "_encode_json",
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
