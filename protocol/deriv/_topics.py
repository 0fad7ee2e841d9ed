"""User-facing stream names (topics): one string per stream request, stable across reconnects.

Deriv names a stream by a ``subscription.id`` it issues on each connection; tradewire
names it by what was asked for, so the same topic survives a reconnect while its id
changes.  A topic is the canonical form of a stream command (our grammar):

==================================== ======================================================
topic                                request
==================================== ======================================================
``ticks.R_50``                       ``{"ticks": "R_50", "subscribe": 1}``
``ticks_history.R_50``               ``{"ticks_history": "R_50", "end": "latest",
                                     "style": "ticks", "subscribe": 1}`` (history first)
``candles.R_50.60``                  ``{"ticks_history": "R_50", "end": "latest",
                                     "style": "candles", "granularity": 60, "subscribe": 1}``
``balance``                          ``{"balance": 1, "subscribe": 1}``
``transaction``                      ``{"transaction": 1, "subscribe": 1}``
``website_status``                   ``{"website_status": 1, "subscribe": 1}``
``proposal_open_contract``           every open contract
``proposal_open_contract.123``       contract 123
``CALL:{JSON}``                      any other stream request: the call, a colon, and its
                                     fields (no ``subscribe``, ``req_id`` or
                                     ``passthrough``) as compact JSON with sorted keys,
                                     e.g. ``proposal:{"amount":10,"basis":"stake",...}``
==================================== ======================================================

:func:`topic_of` gives the canonical topic of a command; :func:`parse_topic` the command
of a topic (any of the forms; it raises :class:`LocalProtocolError` naming the topic).
Two requests with equal topics are the same stream, which is also the venue's rule
(``AlreadySubscribed``, spec 1.5).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._errors import LocalProtocolError
from .._secrets import enc_hook
from ._commands import (
    STREAM_COMMANDS,
    Balance,
    ProposalOpenContract,
    StreamCommand,
    Ticks,
    TicksHistory,
    Transaction,
    WebsiteStatus,
)

__all__ = ["PRIVATE_STREAM_TYPES", "parse_topic", "stream_type", "topic_of"]

PRIVATE_STREAM_TYPES = frozenset({"balance", "transaction", "proposal_open_contract"})
"""Stream types that need an authorized connection (spec 3.2)."""

_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook, order="sorted")
_SIMPLE: dict[str, type[StreamCommand]] = {
    "balance": Balance,
    "transaction": Transaction,
    "website_status": WebsiteStatus,
}


def _fields(command: StreamCommand) -> dict[str, Any]:
    fields: dict[str, Any] = msgspec.to_builtins(command, enc_hook=enc_hook)
    fields.pop("subscribe", None)
    fields.pop("passthrough", None)
    return {k: v for k, v in fields.items() if v is not None}


def topic_of(command: StreamCommand) -> str:
    """The canonical topic of a stream command (see the module docstring)."""
    fields = _fields(command)
    if isinstance(command, Ticks):
        return f"ticks.{command.ticks}"
    if isinstance(command, TicksHistory):
        rest = {k: v for k, v in fields.items() if k not in ("ticks_history", "end", "style")}
        if command.end == "latest" and command.style in (None, "ticks") and not rest:
            return f"ticks_history.{command.ticks_history}"
        if (
            command.end == "latest"
            and command.style == "candles"
            and command.granularity is not None
            and set(rest) == {"granularity"}
        ):
            return f"candles.{command.ticks_history}.{command.granularity}"
    elif isinstance(command, Balance | Transaction | WebsiteStatus) and not fields:
        return command.call
    elif isinstance(command, ProposalOpenContract):
        if command.contract_id is None:
            return command.call
        return f"{command.call}.{command.contract_id}"
    return f"{command.call}:{_ENCODER.encode(fields).decode()}"


def _bad(topic: str, why: str) -> LocalProtocolError:
    return LocalProtocolError(
        f"invalid stream {topic!r:.120}: {why}; accepted forms: ticks.SYMBOL, "
        "ticks_history.SYMBOL, candles.SYMBOL.GRANULARITY, balance, transaction, "
        "website_status, proposal_open_contract[.CONTRACT_ID], CALL:{JSON}"
    )


def parse_topic(topic: str) -> StreamCommand:
    """The stream command of ``topic`` (any form of the module docstring)."""
    if not isinstance(topic, str) or not topic:
        raise _bad(str(topic), "expected a non-empty str")
    try:
        if ":" in topic:
            call, _, body = topic.partition(":")
            cls = STREAM_COMMANDS.get(call)
            if cls is None:
                raise _bad(topic, f"{call!r} is not a stream call")
            fields = msgspec.json.decode(body)
            if not isinstance(fields, dict) or "subscribe" in fields:
                raise _bad(topic, "expected a JSON object of request fields")
            command: StreamCommand = msgspec.convert(fields, cls)
            return command
        head, _, rest = topic.partition(".")
        if head == "ticks" and rest:
            return Ticks(ticks=rest)
        if head == "ticks_history" and rest:
            return TicksHistory(ticks_history=rest, style="ticks")
        if head == "candles" and rest:
            symbol, _, granularity = rest.rpartition(".")
            if not granularity.isdigit() or not symbol:
                raise _bad(topic, "expected candles.SYMBOL.GRANULARITY")
            return TicksHistory(ticks_history=symbol, style="candles", granularity=int(granularity))
        if head == "proposal_open_contract":
            if not rest:
                return ProposalOpenContract()
            if not rest.isdigit():
                raise _bad(topic, "expected proposal_open_contract.CONTRACT_ID")
            return ProposalOpenContract(contract_id=int(rest))
        simple = _SIMPLE.get(head)
        if simple is not None and not rest:
            return simple()
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _bad(topic, str(exc)) from None
    except LocalProtocolError as exc:
        if topic in str(exc):
            raise
        raise _bad(topic, str(exc)) from None
    raise _bad(topic, "unknown form")


def stream_type(command: StreamCommand) -> str:
    """The ``forget_all`` type of a stream command (``candles`` for candle history)."""
    if isinstance(command, TicksHistory):
        return command.stream_kind
    kind = command.stream_type
    assert kind is not None
    return kind
