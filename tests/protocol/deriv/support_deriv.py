"""Helpers for the Deriv client tests: a connected client machine and venue frames.

Test files add this folder to ``sys.path`` and import the module as ``support_deriv``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.protocol import Event
from tradewire.protocol import deriv as d

SUB_A = "a" * 8 + "-0000-0000-0000-" + "0" * 12
SUB_B = "b" * 8 + "-0000-0000-0000-" + "0" * 12
SUB_C = "c" * 8 + "-0000-0000-0000-" + "0" * 12
TOKEN = "secret-token-123"


def client(**options: Any) -> d.ClientProtocol:
    options.setdefault("ping_interval", None)
    options.setdefault("rate_limits", None)
    return d.ClientProtocol(**options)


def sent(machine: d.ClientProtocol) -> list[dict[str, Any]]:
    return [msgspec.json.decode(m) for m in machine.messages_to_send()]


def reply(
    req_id: int | None,
    msg_type: str,
    payload: Any,
    *,
    sub: str | None = None,
    echo: Any = None,
    **extra: Any,
) -> bytes:
    body: dict[str, Any] = {"echo_req": echo if echo is not None else {}, "msg_type": msg_type}
    if req_id is not None:
        body["req_id"] = req_id
    if sub is not None:
        body["subscription"] = {"id": sub}
    body[msg_type] = payload
    body.update(extra)
    return msgspec.json.encode(body)


def error(
    req_id: int | None, msg_type: str, code: str, message: str = "no", details: Any = None
) -> bytes:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    body: dict[str, Any] = {"echo_req": {}, "error": err, "msg_type": msg_type}
    if req_id is not None:
        body["req_id"] = req_id
    return msgspec.json.encode(body)


def tick(
    req_id: int, sub: str, symbol: str = "R_50", epoch: int = 1, quote: float = 100.5
) -> bytes:
    return reply(
        req_id,
        "tick",
        {
            "epoch": epoch,
            "quote": quote,
            "symbol": symbol,
            "id": sub,
            "pip_size": 4,
            "ask": quote,
            "bid": quote,
        },
        sub=sub,
    )


def authorize_reply(req_id: int) -> bytes:
    return reply(
        req_id,
        "authorize",
        {"loginid": "VRTC1", "balance": 10000, "currency": "USD", "scopes": ["read", "trade"]},
        echo={"authorize": "<not shown>", "req_id": req_id},
    )


def of(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]
