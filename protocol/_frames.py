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
