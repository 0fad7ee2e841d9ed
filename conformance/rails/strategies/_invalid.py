"""What a peer gets wrong: venue messages a client must refuse, requests a venue must
answer 400, and fields a conforming peer ignores."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import strategies as st

from ._messages import (
    PushSample,
    book_deltas,
    book_snapshots,
    order_messages,
    public_trades,
)

__all__ = [
    "INVALID_MESSAGE_KINDS",
    "InvalidMessage",
    "invalid_requests",
    "invalid_server_messages",
    "with_unknown_fields",
]

INVALID_MESSAGE_KINDS = ("truncated", "not_an_object", "wrong_type", "missing_field", "bad_utf8")


class InvalidMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A venue message ``decode_inbound`` must refuse with ``RemoteProtocolError``."""

    kind: str
    data: bytes
    reason: str


def _break(kind: str, sample: PushSample, cut: int) -> InvalidMessage:
    data = sample.data
    value = msgspec.json.decode(data)
    if kind == "truncated":
        return InvalidMessage(kind=kind, data=data[: max(1, cut % len(data))], reason="cut short")
    if kind == "not_an_object":
        return InvalidMessage(kind=kind, data=msgspec.json.encode([value]), reason="an array")
    if kind == "wrong_type":
        value["data"] = "not an object"
        return InvalidMessage(kind=kind, data=msgspec.json.encode(value), reason="data is a string")
    if kind == "missing_field":
        value["data"] = {"unrelated": True}
        return InvalidMessage(kind=kind, data=msgspec.json.encode(value), reason="fields missing")
    return InvalidMessage(kind=kind, data=data[: cut % len(data)] + b"\xff\xfe", reason="not UTF-8")


def invalid_server_messages() -> st.SearchStrategy[InvalidMessage]:
    """Known messages with required fields, broken in one of
    :data:`INVALID_MESSAGE_KINDS` ways."""
    known = st.one_of(book_deltas(), book_snapshots(), public_trades(), order_messages())
    return st.builds(_break, st.sampled_from(INVALID_MESSAGE_KINDS), known, st.integers(1, 10_000))


def invalid_requests() -> st.SearchStrategy[bytes]:
    """Requests a venue must answer with 400: bad JSON, an unknown ``message``, a
    ``clientRequestId`` that is not a UUID, a float price, a side that is not one."""
    crid = "0835bf3e-4a20-41f0-908d-8213f2b7a285"
    cases: list[Any] = [
        b"{",
        b"[]",
        {"message": "launchRocket", "content": {}},
        {"message": "ping", "content": {"clientRequestId": "42"}},
        {"message": "createOrder", "content": {"clientRequestId": crid, "price": 1.5,
                                                "quantity": "1", "orderType": "buy"}},
        {"message": "createOrder", "content": {"clientRequestId": crid, "price": "1",
                                                "quantity": "1", "orderType": "long"}},
        {"message": "subscribe", "content": {"clientRequestId": crid, "subscriptions": ["x"]}},
        {"message": "cancelOrder", "content": {"clientRequestId": crid, "orderId": "A",
                                                "cancelBy": "price"}},
    ]  # fmt: skip
    return st.sampled_from([c if isinstance(c, bytes) else msgspec.json.encode(c) for c in cases])


def with_unknown_fields(samples: st.SearchStrategy[PushSample]) -> st.SearchStrategy[PushSample]:
    """Add fields the venue might add one day, at the top level and in ``data``: a
    conforming client ignores them, so the expected event is unchanged."""

    def add(sample: PushSample, name: str, value: Any) -> PushSample:
        decoded = msgspec.json.decode(sample.data)
        decoded[f"x{name}"] = value
        if isinstance(decoded.get("data"), dict):
            decoded["data"][f"x{name}"] = value
        return PushSample(data=msgspec.json.encode(decoded), expected=sample.expected)

    return st.builds(
        add,
        samples,
        st.text("abcdefghij", min_size=1, max_size=8),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=8)
        | st.lists(st.integers(), max_size=2),
    )
