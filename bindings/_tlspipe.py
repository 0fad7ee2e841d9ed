"""TLS over memory buffers (:class:`ssl.MemoryBIO`), for the selector-driven sync binding.

Sans-IO like the stacks: ciphertext in (:meth:`TLSPipe.feed`), plaintext out; plaintext
in (:meth:`TLSPipe.send`), ciphertext out (:meth:`TLSPipe.take`).  The handshake runs
as bytes arrive; plaintext sent before it completes is held, then encrypted.
"""

from __future__ import annotations

import ssl

__all__ = ["TLSPipe"]


class TLSPipe:
    """One TLS session over memory buffers; errors are :class:`ssl.SSLError`."""

    def __init__(
        self, context: ssl.SSLContext, *, server_side: bool, server_hostname: str | None = None
    ) -> None:
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._obj = context.wrap_bio(
            self._in, self._out, server_side=server_side, server_hostname=server_hostname
        )
        self.handshaken = False
        self.eof = False
        self._held: list[bytes] = []

    def start(self) -> None:
        """Begin the handshake (a client's ClientHello is then ready to :meth:`take`)."""
        self._handshake()

    def feed(self, data: bytes) -> bytes:
        """Ciphertext from the peer (``b""`` at end of file); returns the plaintext."""
        if data:
            self._in.write(data)
        else:
            self._in.write_eof()
        if not self.handshaken:
            self._handshake()
            if not self.handshaken:
                return b""
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self._obj.read(262144)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def send(self, data: bytes) -> None:
        if self.handshaken:
            self._obj.write(data)
        else:
            self._held.append(data)

    def take(self) -> bytes:
        """Ciphertext to write to the socket."""
        return self._out.read()

    def _handshake(self) -> None:
        try:
            self._obj.do_handshake()
        except ssl.SSLWantReadError:
            if self._in.eof:
                raise ssl.SSLEOFError("EOF during the TLS handshake") from None
            return
        self.handshaken = True
        held, self._held = self._held, []
        for data in held:
            self._obj.write(data)
