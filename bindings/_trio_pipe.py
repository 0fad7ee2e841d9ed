"""The trio binding's transport glue: a reader and a writer task per stream.

:class:`_Pipe` feeds each ``receive_some`` (one batch, up to 64 KiB) to its owner and
drains the outbound buffer with ``send_all``; a writer blocked by a peer that does not
read never delays a timer.  A read the owner keeps for a waiting consumer (``on_data``
returns ``True``) is taken before the next one is read (see ``_trio_driver``).
:func:`_open` dials TCP then TLS; :class:`_EventWaiter` resolves an awaited request.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from tradewire.protocol import Event

from ._common import CLOSE_GRACE, WRITE_HIGH_WATER, never
from ._session import Session

__all__ = ["READ_SIZE", "_EventWaiter", "_Pipe", "_open"]

READ_SIZE = 65536
_STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError)


class _Pipe:
    """One trio stream: a reader task feeding ``on_data``, a writer draining the outbox."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        on_data: Callable[[_Pipe, bytes], bool],
        on_broken: Callable[[_Pipe], None],
        grace: float = CLOSE_GRACE,
        *,
        kept: Callable[[], bool] = never,
        settle: Callable[[], bool] = never,
    ) -> None:
        self.stream = stream
        self._on_data = on_data
        self._on_broken = on_broken
        self._kept = kept
        self._settle = settle
        self.grace = grace
        self.outbox: list[bytes] = []
        self.out_size = 0
        self._has_output = trio.Event()
        self.drained = trio.Event()
        self.drained.set()
        self.resume: trio.Event | None = None
        self.scope = trio.CancelScope()
        self.closing = False
        self.abort = False
        self.broken = False  # set when a write failed (the owner is told too)

    def push(self, data: bytes) -> int:
        if self.broken:
            return 0  # a write failed: the stream is gone, the owner was told
        self.outbox.append(data)
        self.out_size += len(data)
        self._has_output.set()
        if self.out_size > WRITE_HIGH_WATER and self.drained.is_set():
            self.drained = trio.Event()
        return self.out_size

    def pause(self) -> None:
        if self.resume is None:
            self.resume = trio.Event()

    def unpause(self) -> None:
        resume, self.resume = self.resume, None
        if resume is not None:
            resume.set()

    def shut(self, abort: bool) -> None:
        """Stop: flush the outbox and close, or abort at once."""
        self.closing = True
        if abort:
            self.abort = True
            self.scope.cancel()
        else:
            self._has_output.set()
            self.scope.deadline = trio.current_time() + self.grace

    async def run(self) -> None:
        try:
            with self.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._reader)
                    await self._writer()
                    nursery.cancel_scope.cancel()
        finally:
            self.drained.set()
            if self.abort or self.scope.cancelled_caught:
                await trio.aclose_forcefully(self.stream)
            else:
                with trio.move_on_after(self.grace):
                    await self.stream.aclose()

    async def _writer(self) -> None:
        while True:
            if self.outbox:
                data = b"".join(self.outbox)
                self.outbox.clear()
                self.out_size = 0
                try:
                    await self.stream.send_all(data)
                except _STREAM_ERRORS:
                    self.broken = True
                    self._on_broken(self)
                    return
                self.drained.set()
                continue
            if self.closing:
                return
            self._has_output = trio.Event()
            await self._has_output.wait()

    async def _reader(self) -> None:
        while True:
            if self.resume is not None:
                await self.resume.wait()
                continue
            try:
                data = bytes(await self.stream.receive_some(READ_SIZE))
            except _STREAM_ERRORS:
                data = b""
            if self._on_data(self, data):
                await self._hand_over()
            if not data:
                return

    async def _hand_over(self) -> None:
        """The owner kept the read for the consumer it woke: let the consumer take it in
        its own task, before this task reads again.  The woken consumer runs in the
        run's next batch; this task waits two batches (trio shuffles the order within
        one) and then hands the read over itself if nobody did (the consumer was
        cancelled, or is busy elsewhere), so a read is never kept longer than that."""
        for _ in range(2):
            await trio.lowlevel.cancel_shielded_checkpoint()
            if not self._kept():
                return
        self._settle()


class _EventWaiter:
    __slots__ = ("done", "event")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.event: Event | None = None

    def resolve(self, event: Event) -> None:
        if self.event is None:
            self.event = event
            self.done.set()


def _dial_error(exc: BaseException) -> BaseException:
    """The TLS error behind trio's BrokenResourceError, so callers see the real cause."""
    cause = exc.__cause__
    return cause if isinstance(exc, trio.BrokenResourceError) and cause is not None else exc


async def _open(session: Session) -> tuple[trio.abc.Stream | None, BaseException | None]:
    """TCP, then TLS if configured; a failure is returned, a cancellation closes all."""
    endpoint = session.endpoint
    try:
        tcp = await trio.open_tcp_stream(endpoint.host, endpoint.port)
    except OSError as exc:
        return None, exc
    if session.ssl_context is None:
        return tcp, None
    tls = trio.SSLStream(tcp, session.ssl_context, server_hostname=session.server_hostname)
    try:
        await tls.do_handshake()
    except BaseException as exc:
        await trio.aclose_forcefully(tls)
        if isinstance(exc, OSError | trio.BrokenResourceError):
            return None, _dial_error(exc)
        raise
    return tls, None
