"""Outbound WebSocket frame encoding (RFC 6455 section 5.2).

wsproto parses everything that arrives and drives the handshake and closing handshake;
data frames *leaving* a stack are encoded here instead, for two measured reasons:

* a venue machine hands over UTF-8 bytes; wsproto's ``TextMessage`` wants ``str`` and
  encodes it again, a decode/encode round trip per message on the send path;
* a client must mask its frames with an unpredictable key; wsproto draws it from
  ``os.urandom``, while the core takes randomness only from an injected source, so a
  seeded run produces the same bytes every time.

Only unfragmented data frames and control frames without extensions are produced;
stacks never negotiate extensions, so this is all a peer can expect.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Callable

from .._sources import RandomSource

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "SharedText",
    "encode_frame",
    "mask",
    "text_frames",
]

OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

_FIN = 0x80
_MASK_BIT = 0x80


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``key`` repeated (masking is its own inverse)."""
    length = len(payload)
    if not length:
        return b""
    repeated = (key * (length // 4 + 1))[:length]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big"
    )


def encode_frame(opcode: int, payload: bytes, rng: RandomSource | None) -> bytes:
    """One final frame; masked with a key from ``rng`` when ``rng`` is given (client)."""
    length = len(payload)
    mask_bit = _MASK_BIT if rng is not None else 0
    if length < 126:
        header = struct.pack("!BB", _FIN | opcode, mask_bit | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", _FIN | opcode, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", _FIN | opcode, mask_bit | 127, length)
    if rng is None:
        return header + payload
    key = rng.getrandbits(32).to_bytes(4, "big")
    return header + key + mask(payload, key)


class SharedText(bytes):
    """A text message's UTF-8 bytes that many connections send: one notification fanned
    out to every subscriber.  A server's frames are not masked, so the frame is the same
    bytes for all of them; :meth:`frame` builds it on first use and hands the same object
    to every stack after that.  It is a ``bytes`` everywhere else (a machine's queue, the
    fault engine, a transcript), so nothing that takes messages needs to know.
    """

    # no __slots__: a bytes subclass cannot have non-empty ones; the frame lives in the
    # instance dict, made once per shared message

    def frame(self) -> bytes:
        """The unmasked final text frame of this message, built once."""
        try:
            return self.__dict__["_frame"]  # type: ignore[no-any-return]
        except KeyError:
            frame = self.__dict__["_frame"] = encode_frame(OP_TEXT, self, None)
            return frame


def text_frames(messages: list[bytes], rng: RandomSource | None) -> list[bytes]:
    """The frames of ``messages``: masked with keys from ``rng`` (a client), or unmasked
    (a server), where a :class:`SharedText` gives its one frame."""
    if rng is not None:
        return [encode_frame(OP_TEXT, m, rng) for m in messages]
    return [
        m.frame() if type(m) is SharedText else encode_frame(OP_TEXT, m, None) for m in messages
    ]


class FrameReader:
    """The fast path for what a *server* sends a client: frame splitting in front of wsproto.

    Venue traffic is almost entirely complete, unmasked, unfragmented text frames.  For
    those, parsing the 2-10 byte header here and handing the payload straight to the
    machine costs a fraction of wsproto's general parser (measured in
    ``benchmarks/``).  Everything else, byte for byte and in order, goes to wsproto,
    which stays the authority for control frames, fragmentation, extensions and every
    error: a frame is "simple" only if FIN is set, the opcode is text, no RSV bit and no
    mask bit is set, its length is minimally encoded and within ``limit``, no
    fragmented message is in progress, and its payload is valid UTF-8.  Any other frame
    is streamed to wsproto as raw bytes, whole or as it arrives.

    :meth:`runs` returns the input split into runs of complete simple text messages
    (a ``list`` of their UTF-8 payloads) and raw ``bytes`` for wsproto, in wire order;
    :meth:`feed` gives the same split as ``(True, payload)`` and ``(False, raw)`` items.
    A run is taken by a loop that does no more than a simple frame needs
    (:func:`_simple_run`: two byte reads, a slice, the UTF-8 check, an append), so the
    stack hands each run to the machine as it is, with no second pass per message.
    ``tests/protocol/test_fast_path.py`` checks, with hypothesis, that a stack using it
    yields exactly what wsproto alone yields for arbitrary frame streams split at
    arbitrary points.
    """

    __slots__ = (
        "_buf",
        "_header",
        "_in_message",
        "_need",
        "_passthrough",
        "_poisoned",
        "_utf8",
        "limit",
    )

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._need = 0  # bytes the buffered partial frame needs before it can be parsed
        self._passthrough = 0  # bytes of the current non-simple frame still owed to wsproto
        self._header: bytearray | None = None  # a non-simple frame's header, still arriving
        self._in_message = False  # a fragmented data message is open (in wsproto's hands)
        # While a simple frame's payload arrives in pieces, each piece is checked as it
        # comes (wsproto reports invalid UTF-8 as soon as it sees it, so must we).
        self._utf8: codecs.IncrementalDecoder | None = None
        self._poisoned = False  # the buffered frame turned out invalid: wsproto's now

    def feed(self, data: bytes) -> list[tuple[bool, bytes]]:
        """:meth:`runs` as ``(True, payload)`` / ``(False, raw)`` items, one per message."""
        out: list[tuple[bool, bytes]] = []
        for item in self.runs(data):
            if type(item) is list:
                out.extend((True, payload) for payload in item)
            else:
                out.append((False, item))  # type: ignore[arg-type]
        return out

    def runs(self, data: bytes) -> list[list[bytes] | bytes]:
        """``data`` split into runs of complete simple messages and raw bytes for wsproto."""
        out: list[list[bytes] | bytes] = []
        if self._buf:
            before = len(self._buf)
            self._buf += data
            if self._utf8 is not None:
                try:
                    self._utf8.decode(data[: self._need - before], final=False)
                except UnicodeDecodeError:
                    self._poisoned = True
                    self._need = 0
            if len(self._buf) < self._need:
                return out
            view = bytes(self._buf)
            self._buf = bytearray()
            self._utf8 = None
        else:
            view = data
        pos = 0
        end = len(view)
        limit = self.limit
        while pos < end:
            if not (self._passthrough or self._in_message or self._poisoned) and (
                self._header is None
            ):
                run: list[bytes] = []
                pos = _simple_run(view, pos, end, limit, run.append)
                if run:
                    out.append(run)
                if pos >= end:
                    break
            if self._passthrough:
                take = min(self._passthrough, end - pos)
                out.append(view[pos : pos + take])
                self._passthrough -= take
                pos += take
                continue
            if self._header is not None:
                pos = self._pass_header(view, pos, out)
                continue
            first = view[pos]
            if first != 0x81 or self._in_message or self._poisoned:
                self._poisoned = False
                self._start_passing(first)  # known not simple from its first byte
                continue
            if end - pos < 2:
                self._keep(view, pos, 2)
                break
            second = view[pos + 1]
            if second & 0x80:
                self._start_passing(first)  # masked: wsproto rejects it
                continue
            length = second
            header = 2
            if length == 126:
                if end - pos < 4:
                    self._keep(view, pos, 4)
                    break
                length = (view[pos + 2] << 8) | view[pos + 3]
                header = 4
                minimal = length >= 126
            elif length == 127:
                if end - pos < 10:
                    self._keep(view, pos, 10)
                    break
                length = int.from_bytes(view[pos + 2 : pos + 10], "big")
                header = 10
                minimal = 1 << 16 <= length < 1 << 63
            else:
                minimal = True
            if minimal and length <= limit:
                total = header + length
                payload = view[pos + header : pos + total]
                if end - pos < total:
                    # Incomplete: wait for the rest, unless the part already here is
                    # invalid UTF-8, which wsproto reports as soon as it sees it.
                    decoder = codecs.getincrementaldecoder("utf-8")()
                    try:
                        decoder.decode(payload, final=False)
                    except UnicodeDecodeError:
                        pass
                    else:
                        self._keep(view, pos, total)
                        self._utf8 = decoder
                        break
                elif payload.isascii() or _is_utf8(payload):
                    out.append([payload])
                    pos += total
                    continue
            # Not simple after all (its header is complete here): wsproto gets it.
            self._start_passing(first)
        return out

    def _start_passing(self, first: int) -> None:
        """The frame starting with byte ``first`` goes to wsproto, header first."""
        opcode = first & 0x0F
        if opcode in (0x1, 0x2):
            self._in_message = not first & 0x80
        elif opcode == 0x0 and first & 0x80:
            self._in_message = False
        self._header = bytearray()

    def _pass_header(self, view: bytes, pos: int, out: list[list[bytes] | bytes]) -> int:
        """Pass a non-simple frame's header bytes on as they arrive; learn its length."""
        header = self._header
        assert header is not None
        end = len(view)
        while pos < end:
            size = 2 if len(header) < 2 else _header_size(header)
            if len(header) >= size:
                break
            take = min(size - len(header), end - pos)
            out.append(view[pos : pos + take])
            header += view[pos : pos + take]
            pos += take
        if len(header) >= 2 and len(header) == _header_size(header):
            self._header = None
            self._passthrough = _payload_length(header)
        return pos

    def _keep(self, view: bytes, pos: int, need: int) -> None:
        self._buf = bytearray(view[pos:])
        self._need = need


def _simple_run(
    view: bytes, pos: int, end: int, limit: int, append: Callable[[bytes], None]
) -> int:
    """Append the payloads of the complete simple text frames from ``pos`` on; return
    where the first other frame (or the end) starts.

    Only the usual frames: FIN text with a 2- or 4-byte header, no mask, a minimal
    length within ``limit``, complete in ``view``, valid UTF-8.  Anything else (a 10-byte
    header, a frame still arriving, a control frame ...) stops the run and is left to
    :meth:`FrameReader.runs`' general loop, which knows every case.
    """
    while end - pos >= 2 and view[pos] == 0x81:
        length = view[pos + 1]
        if length < 126:
            start = pos + 2
        elif length == 126 and end - pos >= 4:
            length = (view[pos + 2] << 8) | view[pos + 3]
            if length < 126:
                break  # not minimal: wsproto's to reject
            start = pos + 4
        else:
            break  # masked, a 10-byte header, or a header still arriving
        stop = start + length
        if stop > end or length > limit:
            break
        payload = view[start:stop]
        if not payload.isascii() and not _is_utf8(payload):
            break
        append(payload)
        pos = stop
    return pos


def _header_size(header: bytearray) -> int:
    """Bytes in a frame header, from its second byte (extended length, mask key)."""
    second = header[1]
    return 2 + {126: 2, 127: 8}.get(second & 0x7F, 0) + (4 if second & 0x80 else 0)


def _payload_length(header: bytearray) -> int:
    """The payload length a complete frame header declares (huge if it is invalid)."""
    short = header[1] & 0x7F
    if short == 126:
        return (header[2] << 8) | header[3]
    if short == 127:
        length = int.from_bytes(header[2:10], "big")
        return length if length < 1 << 63 else 1 << 64  # invalid: wsproto fails on it
    return short


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
