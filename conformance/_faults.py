"""Fault plans: what a reference venue does wrong on purpose, per connection, composable.

A :class:`FaultPlan` is a tuple of :class:`Fault` values; it comes from Python objects or
from one compact string (the ``--faults`` flag of ``tradewire serve``)::

    FaultPlan.parse("disconnect@30s, gap:book.BTC-PERPETUAL.100ms@2s#1, malformed=binary@40msg")

Grammar (whitespace around items is ignored; an empty string is the empty plan)::

    plan     = item *( "," item )
    item     = kind [ "=" variant ] [ ":" target ] [ "@" trigger ] [ "#" connection ]
    trigger  = SECONDS "s"          after that many seconds on the connection (0.5s, 30s)
             / COUNT "msg"          once the venue has sent COUNT messages on it (0msg, 40msg)
                                    no trigger: at once (as "@0s")
    connection = N                  only the N-th WebSocket connection the venue accepts
                                    (1-based); no connection: every connection

Kinds (what each venue does for them is its own; the Deribit venue's is in
``tradewire.conformance.deribit``):

============ ========== =================== ==================================================
kind         target     variant             what happens
============ ========== =================== ==================================================
disconnect   --         ``abort`` (default) the transport is dropped, no close frame (a cable
                        or a close code     pulled); with a code (``disconnect=1011``): a
                                            close handshake with that code
zombie       --         --                  the socket stays open; from then on nothing is
                                            sent (not even pongs) and input is ignored
gap          required   --                  the next book change of that channel's
                                            instrument skips a sequence number
duplicate    required   --                  the next notification on the channel is sent twice
reorder      required   --                  the next notification on the channel is held and
                                            sent after the one that follows it on the channel
malformed    optional   ``json`` (default), the next message (on the channel, if given) is
                        ``utf8``, ``binary`` replaced by truncated JSON, by a text frame of
                                            invalid UTF-8, or by a binary frame
ratelimit    --         --                  the connection's credit pool is emptied: its next
                                            request is refused as rate limited and the venue
                                            closes the connection
expire       --         --                  the connection's access tokens expire now
heartbeat    --         --                  the client's next heartbeat answer is ignored, so
                                            the venue's heartbeat check closes the connection
stall        --         --                  the client stops reading: the connection's output
                                            piles up until the venue's too-slow limit closes it
idle         --         --                  the venue closes the connection now as idle (its
                                            inactivity timeout, without waiting for it)
============ ========== =================== ==================================================

Every fault fires once per connection it applies to.  Triggers count from the
connection's ``connection_made``, in the caller's clock, so a plan replays exactly under a
fake clock.  :class:`FaultSchedule` tracks one connection's faults; :class:`MessageFaults`
applies ``duplicate`` / ``reorder`` / ``malformed`` to an outbound message stream.
Invalid plans raise :class:`FaultSpecError` (a :class:`LocalProtocolError` and a
:class:`ValueError`) naming the item and the bad part.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Literal, NamedTuple, TypeVar

import msgspec

from tradewire.protocol import LocalProtocolError

__all__ = [
    "FAULT_KINDS",
    "BinaryFrame",
    "Fault",
    "FaultPlan",
    "FaultSchedule",
    "FaultSpecError",
    "MessageFaults",
    "with_faults",
]


class FaultSpecError(LocalProtocolError, ValueError):
    """A fault plan (string or objects) is invalid; the message names the bad part.

    ``problem`` is the message without the part that says where.
    """

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem if problem is not None else message


class _Rule(NamedTuple):
    target: Literal["none", "optional", "required"]
    variants: tuple[str, ...]  # () = no variant; "<code>" = a WebSocket close code
    help: str


FAULT_KINDS: dict[str, _Rule] = {
    "disconnect": _Rule("none", ("abort", "<code>"), "drop the connection"),
    "zombie": _Rule("none", (), "stay open, send nothing, ignore input"),
    "gap": _Rule("required", (), "skip a sequence number on a channel's book"),
    "duplicate": _Rule("required", (), "send a channel's next notification twice"),
    "reorder": _Rule("required", (), "swap a channel's next two notifications"),
    "malformed": _Rule("optional", ("json", "utf8", "binary"), "replace the next message"),
    "ratelimit": _Rule("none", (), "empty the credit pool: rate limited, then closed"),
    "expire": _Rule("none", (), "expire the connection's access tokens now"),
    "heartbeat": _Rule("none", (), "ignore the next heartbeat answer"),
    "stall": _Rule("none", (), "the client stops reading until the too-slow limit"),
    "idle": _Rule("none", (), "close the connection now as idle (inactivity timeout)"),
}
"""Every fault kind: whether it takes a target, its variants, one line of help."""

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)s")
_MESSAGES = re.compile(r"(\d+)msg")
_TARGET = re.compile(r"[A-Za-z0-9_.\-]+")
_RESERVED_CLOSE_CODES = (1004, 1005, 1006, 1015)


def _close_code(text: str) -> int | None:
    if not text.isdigit():
        return None
    code = int(text)
    ok = 1000 <= code <= 4999 and code not in _RESERVED_CLOSE_CODES
    return code if ok else None


class Fault(msgspec.Struct, frozen=True, kw_only=True):
    """One fault; see the module docstring for the kinds.

    ``after_seconds`` / ``after_messages`` is the trigger (at most one; neither: at once).
    ``connection`` limits it to the N-th WebSocket connection (1-based; ``None``: all).
    """

    kind: str
    target: str | None = None
    variant: str | None = None
    after_seconds: float | None = None
    after_messages: int | None = None
    connection: int | None = None

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise FaultSpecError(f"invalid fault {self.spec()!r}: {problem}", problem)

    def _problem(self) -> str | None:
        rule = FAULT_KINDS.get(self.kind) if isinstance(self.kind, str) else None
        if rule is None:
            return f"unknown kind {self.kind!r}; accepted kinds: {', '.join(FAULT_KINDS)}"
        if self.target is not None and (
            not isinstance(self.target, str) or not _TARGET.fullmatch(self.target)
        ):
            return f"invalid target {self.target!r}: expected a channel or instrument name"
        if rule.target == "none" and self.target is not None:
            return f"{self.kind} takes no target"
        if rule.target == "required" and self.target is None:
            return f"{self.kind} needs a target: {self.kind}:<channel or instrument>"
        if self.variant is not None:
            if not rule.variants:
                return f"{self.kind} takes no variant"
            if not isinstance(self.variant, str) or (
                self.variant not in rule.variants
                and not ("<code>" in rule.variants and _close_code(self.variant) is not None)
            ):
                accepted = ", ".join(
                    "a close code 1000-4999 (not 1004-1006, 1015)" if v == "<code>" else repr(v)
                    for v in rule.variants
                )
                return f"invalid variant {self.variant!r} for {self.kind}; accepted: {accepted}"
        seconds, messages = self.after_seconds, self.after_messages
        if seconds is not None and messages is not None:
            return "give one trigger: after_seconds or after_messages"
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            return f"invalid after_seconds {seconds!r}: expected seconds >= 0"
        if messages is not None and (
            isinstance(messages, bool) or not isinstance(messages, int) or messages < 0
        ):
            return f"invalid after_messages {messages!r}: expected an int >= 0"
        connection = self.connection
        if connection is not None and (
            isinstance(connection, bool) or not isinstance(connection, int) or connection < 1
        ):
            return f"invalid connection {connection!r}: expected an int >= 1"
        return None

    @property
    def close_code(self) -> int | None:
        """``disconnect`` with a close handshake: its code (``None``: abort)."""
        return _close_code(self.variant) if self.variant is not None else None

    def spec(self) -> str:
        """This fault in the compact grammar (``FaultPlan.parse`` reads it back)."""
        text = str(self.kind)
        if self.variant is not None:
            text += f"={self.variant}"
        if self.target is not None:
            text += f":{self.target}"
        if self.after_seconds is not None:
            text += f"@{self.after_seconds:g}s"
        elif self.after_messages is not None:
            text += f"@{self.after_messages}msg"
        if self.connection is not None:
            text += f"#{self.connection}"
        return text


class FaultPlan(msgspec.Struct, frozen=True):
    """The faults a venue applies (see the module docstring)."""

    faults: tuple[Fault, ...] = ()

    def __post_init__(self) -> None:
        faults = tuple(self.faults)
        if not all(isinstance(f, Fault) for f in faults):
            raise FaultSpecError("invalid faults: expected a sequence of Fault values")
        msgspec.structs.force_setattr(self, "faults", faults)

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """Read the compact grammar; :class:`FaultSpecError` names the bad item and part."""
        if not isinstance(spec, str):
            raise FaultSpecError(f"invalid fault spec: expected a str, got {spec!r}")
        if not spec.strip():
            return cls()
        items = spec.split(",")
        return cls(tuple(_parse_item(item.strip(), n) for n, item in enumerate(items, 1)))

    def spec(self) -> str:
        """The plan in the compact grammar."""
        return ",".join(f.spec() for f in self.faults)

    def __str__(self) -> str:
        return self.spec()

    @property
    def empty(self) -> bool:
        return not self.faults

    def for_connection(self, number: int) -> tuple[Fault, ...]:
        """The faults that apply to the ``number``-th connection (1-based)."""
        return tuple(f for f in self.faults if f.connection in (None, number))

    def __add__(self, other: FaultPlan) -> FaultPlan:
        return FaultPlan(self.faults + other.faults)


ConfigT = TypeVar("ConfigT", bound=msgspec.Struct)


def with_faults(config: ConfigT, faults: FaultPlan | str | None) -> ConfigT:
    """A venue config whose ``faults`` field is ``faults`` (a plan or its compact
    string), or ``config`` itself when ``faults`` is None: every reference venue takes
    ``faults=`` beside its config this way."""
    if faults is None:
        return config
    plan = FaultPlan.parse(faults) if isinstance(faults, str) else faults
    return msgspec.structs.replace(config, faults=plan)


def _parse_item(item: str, number: int) -> Fault:
    where = f"item {number} {item!r}"
    if not item:
        raise FaultSpecError(f"invalid fault spec: {where} is empty (a stray ',')")
    rest, connection_text, trigger_text, target, variant = item, None, None, None, None
    if "#" in rest:
        rest, _, connection_text = rest.partition("#")
    if "@" in rest:
        rest, _, trigger_text = rest.partition("@")
    if ":" in rest:
        rest, _, target = rest.partition(":")
    if "=" in rest:
        rest, _, variant = rest.partition("=")
    kind = rest.strip()
    after_seconds: float | None = None
    after_messages: int | None = None
    connection: int | None = None
    if kind not in FAULT_KINDS:
        raise FaultSpecError(
            f"invalid fault spec: {where}: unknown kind {kind!r}; accepted kinds: "
            + ", ".join(FAULT_KINDS)
        )
    if target == "":
        raise FaultSpecError(f"invalid fault spec: {where}: empty target after ':'")
    if trigger_text is not None:
        seconds = _SECONDS.fullmatch(trigger_text)
        messages = _MESSAGES.fullmatch(trigger_text)
        if seconds:
            after_seconds = float(seconds.group(1))
        elif messages:
            after_messages = int(messages.group(1))
        else:
            raise FaultSpecError(
                f"invalid fault spec: {where}: invalid trigger {trigger_text!r}; expected "
                "seconds such as '@2.5s' or a message count such as '@100msg'"
            )
    if connection_text is not None:
        if not connection_text.isdigit() or int(connection_text) < 1:
            raise FaultSpecError(
                f"invalid fault spec: {where}: invalid connection {connection_text!r}; "
                "expected a connection number >= 1 such as '#1'"
            )
        connection = int(connection_text)
    try:
        return Fault(
            kind=kind,
            target=target,
            variant=variant,
            after_seconds=after_seconds,
            after_messages=after_messages,
            connection=connection,
        )
    except FaultSpecError as exc:
        raise FaultSpecError(f"invalid fault spec: {where}: {exc.problem}", exc.problem) from None


# -- one connection's faults ------------------------------------------------------------------


class FaultSchedule:
    """The faults of one connection and when each is due (each fires once).

    A fault with ``after_seconds`` is due at ``opened_at + after_seconds`` (no trigger:
    at ``opened_at``); one with ``after_messages`` once ``sent`` reaches that count.
    """

    def __init__(self, faults: Iterable[Fault], opened_at: float) -> None:
        self.opened_at = opened_at
        self._timed: list[tuple[float, Fault]] = []
        self._counted: list[tuple[int, Fault]] = []
        for fault in faults:
            if fault.after_messages is not None:
                self._counted.append((fault.after_messages, fault))
            else:
                self._timed.append((opened_at + (fault.after_seconds or 0.0), fault))
        self._timed.sort(key=lambda pair: pair[0])
        self._counted.sort(key=lambda pair: pair[0])

    @property
    def pending(self) -> tuple[Fault, ...]:
        """The faults not fired yet."""
        return tuple(f for _, f in self._timed) + tuple(f for _, f in self._counted)

    def next_deadline(self) -> float | None:
        return self._timed[0][0] if self._timed else None

    def due(self, now: float | None, sent: int) -> list[Fault]:
        """The faults due at ``now`` (``None``: time triggers are not checked) after
        ``sent`` messages, in trigger order; they will not be returned again."""
        fired: list[Fault] = []
        if now is not None:
            while self._timed and self._timed[0][0] <= now:
                fired.append(self._timed.pop(0)[1])
        while self._counted and self._counted[0][0] <= sent:
            fired.append(self._counted.pop(0)[1])
        return fired


# -- faults on an outbound message stream -------------------------------------------------------


class BinaryFrame(NamedTuple):
    """A message to send as a binary frame (the ``malformed=binary`` fault)."""

    payload: bytes


Outbound = bytes | BinaryFrame

_BAD_UTF8 = b"\xc3\x28"  # a lead byte followed by a non-continuation byte


def _truncate(message: bytes) -> bytes:
    text = message.decode("utf-8", "replace")
    cut = text[: max(1, len(text) // 2)]
    return cut.encode("utf-8")


class MessageFaults:
    """``duplicate``, ``reorder`` and ``malformed`` faults armed on one connection.

    :meth:`arm` a fault when it is due; :meth:`apply` each outbound message with the
    channel it belongs to (``None`` for a response): it returns what to send in its place.
    Each armed fault applies to the first message that matches its target (any message
    for a ``malformed`` fault without one); a ``reorder`` holds that message until the
    next one on the same channel has gone out.
    """

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self._held: dict[str, bytes] = {}

    @property
    def armed(self) -> bool:
        """Something is armed or held: messages need their channel."""
        return bool(self._armed or self._held)

    def arm(self, fault: Fault) -> None:
        if fault.kind not in ("duplicate", "reorder", "malformed"):
            raise FaultSpecError(f"invalid fault {fault.spec()!r}: not a message fault")
        self._armed.append(fault)

    def apply(self, message: bytes, channel: str | None) -> list[Outbound]:
        fault = self._match(channel)
        out: list[Outbound]
        if fault is None:
            out = [message]
        elif fault.kind == "duplicate":
            out = [message, message]
        elif fault.kind == "reorder":
            assert channel is not None  # reorder always has a target
            self._held[channel] = message
            return []
        elif fault.variant == "binary":
            out = [BinaryFrame(message)]
        elif fault.variant == "utf8":
            out = [_BAD_UTF8 + message]
        else:
            out = [_truncate(message)]
        if channel is not None:
            held = self._held.pop(channel, None)
            if held is not None:
                out.append(held)
        return out

    def _match(self, channel: str | None) -> Fault | None:
        for index, fault in enumerate(self._armed):
            if fault.target == channel or (fault.target is None and fault.kind == "malformed"):
                return self._armed.pop(index)
        return None
