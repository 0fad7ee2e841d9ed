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

from ._sources import RandomSource

__all__ = ["OP_BINARY", "OP_CLOSE", "OP_PING", "OP_PONG", "OP_TEXT", "encode_frame", "mask"]

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

    :meth:`feed` returns the input split into ``(True, payload)`` items (a complete
    simple text message, as UTF-8 bytes) and ``(False, raw)`` items (bytes for wsproto),
    in wire order.  ``tests/protocol/test_fast_path.py`` checks, with hypothesis, that a
    stack using it yields exactly what wsproto alone yields for arbitrary frame streams
    split at arbitrary points.
    """

    __slots__ = ("_buf", "_in_message", "_need", "_passthrough", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._need = 0  # bytes the buffered partial frame needs before it can be parsed
        self._passthrough = 0  # bytes of the current non-simple frame still owed to wsproto
        self._in_message = False  # a fragmented data message is open (in wsproto's hands)

    def feed(self, data: bytes) -> list[tuple[bool, bytes]]:
        out: list[tuple[bool, bytes]] = []
        if self._buf:
            self._buf += data
            if len(self._buf) < self._need:
                return out
            view = bytes(self._buf)
            self._buf = bytearray()
        else:
            view = data
        pos = 0
        end = len(view)
        limit = self.limit
        while pos < end:
            if self._passthrough:
                take = min(self._passthrough, end - pos)
                out.append((False, view[pos : pos + take]))
                self._passthrough -= take
                pos += take
                continue
            if end - pos < 2:
                self._keep(view, pos, 2)
                break
            first = view[pos]
            second = view[pos + 1]
            length = second & 0x7F
            header = 2
            minimal = True
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
            if (
                first == 0x81
                and not second & 0x80
                and minimal
                and length <= limit
                and not self._in_message
            ):
                total = header + length
                payload = view[pos + header : pos + total]
                if end - pos < total:
                    # Incomplete: wait for the rest, unless the part already here is
                    # invalid UTF-8, which wsproto reports as soon as it sees it.
                    if payload.isascii() or _is_utf8(payload, final=False):
                        self._keep(view, pos, total)
                        break
                elif payload.isascii() or _is_utf8(payload):
                    out.append((True, payload))
                    pos += total
                    continue
            # Not simple: wsproto gets this frame, streamed as it arrives.
            opcode = first & 0x0F
            if opcode in (0x1, 0x2):
                self._in_message = not first & 0x80
            elif opcode == 0x0 and first & 0x80:
                self._in_message = False
            masked = 4 if second & 0x80 else 0
            if length >= 1 << 63:
                self._passthrough = end - pos  # invalid: wsproto fails on the header
            else:
                self._passthrough = header + masked + length
        return out

    def _keep(self, view: bytes, pos: int, need: int) -> None:
        self._buf = bytearray(view[pos:])
        self._need = need


def _is_utf8(data: bytes, *, final: bool = True) -> bool:
    """Whether ``data`` is valid UTF-8 (with ``final=False``: a valid prefix of it)."""
    try:
        if final:
            data.decode("utf-8")
        else:
            codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True
