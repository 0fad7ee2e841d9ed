"""Fields nobody knows yet, added to any valid sample.

A conforming peer ignores them, so the sample's expected value does not change; kept
apart because it rewrites samples of every kind.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import msgspec
from hypothesis import strategies as st

from tradewire.protocol.deribit import ChannelEvent, ErrorResponse, Notification

from ._samples import PushSample, RequestSample, ResponseSample
from ._values import _floats, _text

__all__ = ["with_unknown_fields"]

S = TypeVar("S", "PushSample", "ResponseSample", "RequestSample")


@functools.cache
def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**53), 2**53), _floats(), _text(0, 12)
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(("channel", "method", "id", "a", "x")), inner, max_size=3
            ),
        ),
        max_leaves=6,
    )


@functools.cache
def _unknown_keys() -> st.SearchStrategy[str]:
    return st.one_of(
        st.from_regex(r"x_[a-z][a-z0-9_]{0,10}", fullmatch=True),
        st.sampled_from(("x_trace", "x_new_field", "x_server_time")),
    )


def _inject(draw: st.DrawFn, target: dict[str, Any]) -> dict[str, Any]:
    extra = draw(st.dictionaries(_unknown_keys(), _json_values(), min_size=1, max_size=3))
    extra = {k: v for k, v in extra.items() if k not in target}
    if draw(st.booleans()):
        return {**extra, **target}
    return {**target, **extra}


def _typed_data(sample: PushSample) -> bool:
    expected = sample.expected
    return isinstance(expected, ChannelEvent) and not isinstance(expected, Notification)


@st.composite
def with_unknown_fields(draw: st.DrawFn, samples: st.SearchStrategy[S]) -> S:
    """``samples`` with fields nobody knows yet added to their JSON objects.

    Keys are added to the envelope, ``params``, typed ``data`` (or its elements), the
    ``error`` object and struct ``result`` values, at the front or the back (where a
    nested ``"channel"`` can mislead a decoder that peeks), with any JSON values.  A
    conforming peer ignores them, so ``expected`` (and ``command``) stay as they were;
    for a response, ``expected.result`` is the new raw result, which still decodes to
    ``result``.
    """
    sample = draw(samples)
    message: dict[str, Any] = msgspec.json.decode(sample.data)
    if isinstance(sample, RequestSample):
        params = message.get("params")
        if isinstance(params, dict) and draw(st.booleans()):
            message["params"] = _inject(draw, params)
        message = _inject(draw, message)
        return msgspec.structs.replace(sample, data=msgspec.json.encode(message))
    if isinstance(sample, PushSample):
        params = message["params"]
        if "channel" in params and _typed_data(sample) and draw(st.booleans()):
            data = params["data"]
            if isinstance(data, dict):
                params["data"] = _inject(draw, data)
            elif isinstance(data, list) and data:
                index = draw(st.integers(0, len(data) - 1))
                data[index] = _inject(draw, data[index])
        if draw(st.booleans()):
            message["params"] = _inject(draw, params)
        message = _inject(draw, message)
        return msgspec.structs.replace(sample, data=msgspec.json.encode(message))
    assert isinstance(sample, ResponseSample)
    expected = sample.expected
    if isinstance(expected, ErrorResponse):
        message["error"] = _inject(draw, message["error"])
        message = _inject(draw, message)
        return msgspec.structs.replace(sample, data=msgspec.json.encode(message))
    result = message["result"]
    if isinstance(sample.result, msgspec.Struct) and isinstance(result, dict):
        result = _inject(draw, result)
    elif (
        isinstance(result, list)
        and result
        and all(isinstance(r, msgspec.Struct) for r in sample.result)
    ):
        index = draw(st.integers(0, len(result) - 1))
        result[index] = _inject(draw, result[index])
    raw = msgspec.Raw(msgspec.json.encode(result))
    message["result"] = raw
    message = _inject(draw, message)
    new_expected = msgspec.structs.replace(expected, result=raw)
    return msgspec.structs.replace(sample, data=msgspec.json.encode(message), expected=new_expected)
