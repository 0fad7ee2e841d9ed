"""A reference venue's WebSocket connections, each with its own faults.

Every reference venue serves WebSocket connections the same way: the venue's server
machine wrapped in a :class:`~tradewire.conformance._fault_engine.FaultyMachine` (the
faults the plan gives that connection, numbered in the order they were accepted), in a
:class:`~tradewire.conformance._fault_engine.FaultySocket` (the too-slow close), kept by
connection id until the session closes.  :class:`VenueSockets` is that bookkeeping; a
venue composes one and supplies only its machine factory, its fault hooks and its
too-slow close.
"""

from __future__ import annotations

from collections.abc import Callable

from tradewire.protocol import LocalProtocolError

from ._fault_engine import FaultHooks, FaultyMachine, FaultySocket, ServerMachineLike
from ._faults import Fault, FaultPlan

__all__ = ["VenueSockets", "one_fault"]


def one_fault(fault: Fault | str) -> Fault:
    """``fault`` itself, or the single fault its compact spec names (``"zombie"``)."""
    if isinstance(fault, Fault):
        return fault
    faults = FaultPlan.parse(fault).faults
    if len(faults) != 1:
        raise LocalProtocolError(f"invalid fault {fault!r}: expected exactly one fault")
    return faults[0]


class VenueSockets:
    """The open WebSocket connections of one reference venue (see the module docstring).

    ``machine(peer)`` builds the venue's server machine for a new connection; ``plan``
    gives each connection its faults by its accept number; ``max_pending_bytes``,
    ``too_slow_code`` and ``too_slow_reason`` configure the close of a reader that stopped
    reading.  ``sockets`` maps connection ids to the open sockets (the venue removes one
    when its session closes: :meth:`closed`).
    """

    def __init__(
        self,
        machine: Callable[[str | None], ServerMachineLike],
        hooks: FaultHooks,
        plan: FaultPlan,
        *,
        max_pending_bytes: int,
        too_slow_code: int,
        too_slow_reason: str,
    ) -> None:
        self._machine = machine
        self._hooks = hooks
        self.plan = plan
        self.max_pending_bytes = max_pending_bytes
        self.too_slow_code = too_slow_code
        self.too_slow_reason = too_slow_reason
        self.sockets: dict[int, FaultySocket] = {}
        self.accepted = 0

    def __len__(self) -> int:
        return len(self.sockets)

    def open(self, peer: str | None = None) -> FaultySocket:
        """A new connection's socket: the ``serve()`` / ``route_upgrade`` factory."""
        self.accepted += 1
        machine = FaultyMachine(
            self._machine(peer),
            self._hooks,
            number=self.accepted,
            faults=self.plan.for_connection(self.accepted),
        )
        socket = FaultySocket(
            machine,
            peer=peer,
            max_pending_bytes=self.max_pending_bytes,
            too_slow_code=self.too_slow_code,
            too_slow_reason=self.too_slow_reason,
        )
        self.sockets[machine.connection_id] = socket
        return socket

    def closed(self, connection_id: int) -> None:
        """The session of ``connection_id`` closed: forget its socket."""
        self.sockets.pop(connection_id, None)

    @staticmethod
    def socket_of(connection: object) -> FaultySocket | None:
        """The venue socket behind ``connection`` (itself, or a router's ``stack``)."""
        if isinstance(connection, FaultySocket):
            return connection
        inner = getattr(connection, "stack", None)
        return inner if isinstance(inner, FaultySocket) else None

    def backlog(self, connection: object, waiting: int, now: float) -> None:
        """A binding reports ``waiting`` unsent bytes on ``connection``: past
        ``max_pending_bytes`` it is closed as too slow."""
        socket = self.socket_of(connection)
        if socket is not None:
            socket.transport_backlog(waiting, now)

    def inject(self, connection_id: int, fault: Fault, now: float) -> None:
        """Apply ``fault`` (its trigger is ignored) to the open connection now and write
        what it queued; a :class:`LocalProtocolError` when the connection is not open."""
        socket = self.sockets.get(connection_id)
        if socket is None or not socket.machine.is_open:
            raise LocalProtocolError(f"invalid connection_id: {connection_id!r} is not open")
        socket.machine.fired.append(fault)
        socket.machine.apply(fault, now)
        socket.handle_timer(now)
