"""How a binding hands epoch time to client machines that sign with it.

Machines are told the time (``now``) and never read a clock; some need *epoch* time
(Deribit's ``client_signature`` timestamp, section 2.2 of ``docs/venues/deribit.md``; the
other venues' signed payloads and JWTs likewise), while a binding's own clock is
monotonic (``loop.time()``,
``trio.current_time()``, ``time.monotonic()``) so that timers survive wall-clock steps.

The hand-off: **a client stack, and the machine in it, is driven on the binding's
monotonic clock shifted to the Unix epoch**.  ``connect()`` (and ``http_client()``)
measure ``epoch_offset = time.time() - <binding clock>`` once, when the client is
created, and pass ``now + epoch_offset`` to every call into the stack; deadlines come
back as ``deadline - epoch_offset``.  So

* the machine's ``now`` reads epoch seconds: a Deribit ``ClientProtocol`` signs correctly
  with its default ``epoch_offset=0.0``, and nothing is left for the user to remember;
* the machine's clock is still monotonic: the shift is fixed for the client's lifetime
  (a wall-clock step after ``connect()`` is not followed; the monotonic clock's rate is
  disciplined by NTP, so a long session drifts by the clock's error only, far inside
  Deribit's 60 s signature window);
* times in client events are epoch seconds too (``ReconnectScheduled.at``).

``connect(..., epoch_offset=x)`` replaces the measured shift (``0.0`` drives the machine
on the bare binding clock, as a fixed value makes signatures reproducible under a fake
clock).  A machine configured with its own monotonic-to-epoch conversion (a Deribit
``ClientProtocol(epoch_offset=time.time() - time.monotonic())``, written for a manual
driver) would be shifted twice; :func:`resolve_epoch_offset` refuses that combination.

Servers are the other way round: ``serve()`` passes the binding's clock as it is (the
``now`` application code sees in ``on_events``), and a venue that speaks epoch time
adds the binding's ``epoch_offset()`` itself, e.g. Deribit's
``ServerConfig(epoch_offset=binding.epoch_offset())``.

Nothing here reads a clock: the bindings measure, these functions decide.
"""

from __future__ import annotations

import math
from typing import Any

from tradewire.protocol import LocalProtocolError

__all__ = ["MAX_MACHINE_EPOCH_OFFSET", "resolve_epoch_offset", "to_binding_time"]

#: A machine's own ``epoch_offset`` larger than this (one day, in seconds) converts a
#: monotonic clock to epoch time, which the binding already does; smaller values are
#: corrections (a venue's clock skew) and are kept.
MAX_MACHINE_EPOCH_OFFSET = 86_400.0


def _machine_offset(machine: Any) -> float | None:
    """The machine's own epoch shift, if it declares one (``options.epoch_offset`` or
    ``epoch_offset``), else ``None``."""
    for holder in (getattr(machine, "options", None), machine):
        value = getattr(holder, "epoch_offset", None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def resolve_epoch_offset(machine: Any, requested: float | None) -> float | None:
    """Check ``connect(..., epoch_offset=requested)`` for ``machine``; returns the fixed
    shift to use, or ``None``: measure ``time.time()`` minus the binding's clock on entry.

    Raises :class:`LocalProtocolError` for a ``requested`` value that is not a finite
    number, and when the binding would shift a machine that already shifts itself from
    a monotonic clock to the epoch (its signatures would be decades ahead).
    """
    if requested is not None and (
        isinstance(requested, bool)
        or not isinstance(requested, int | float)
        or not math.isfinite(requested)
    ):
        raise LocalProtocolError(
            f"invalid epoch_offset: expected None or seconds (a finite number), got {requested!r}"
        )
    own = _machine_offset(machine)
    if requested != 0 and own is not None and abs(own) > MAX_MACHINE_EPOCH_OFFSET:
        raise LocalProtocolError(
            f"invalid machine: its epoch_offset={own:.0f} converts a monotonic clock to "
            "epoch time, but connect() already drives client machines in epoch seconds; "
            "leave the machine's epoch_offset at 0.0 (or a small clock-skew correction), "
            "or pass epoch_offset=0.0 to connect() to drive it on the bare binding clock"
        )
    return None if requested is None else float(requested)


def to_binding_time(deadline: float, offset: float) -> float:
    """``deadline`` (stack time) on the binding's clock, never early.

    ``deadline - offset`` is exact when both are of the same magnitude; should rounding
    ever make ``(result + offset) < deadline``, a timer fired at ``result`` would find
    nothing due and be re-armed at the same instant forever, so the result is nudged up.
    """
    result = deadline - offset
    while result + offset < deadline:
        result = math.nextafter(result, math.inf)
    return result
