"""The exported Rails strategies generate what they promise: every venue message decodes
to its expected event (unknown fields ignored), every request reads back as its command
on the venue's side, every broken message is refused, every bad request answered 400."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings

from tradewire.conformance.rails.strategies import (
    InvalidMessage,
    PushSample,
    RequestSample,
    invalid_requests,
    invalid_server_messages,
    requests,
    server_messages,
    with_unknown_fields,
)
from tradewire.protocol import RemoteProtocolError
from tradewire.protocol.rails import decode_inbound
from tradewire.protocol.rails.server import RejectedRequest, decode_request


@settings(max_examples=200)
@given(server_messages())
def test_every_venue_message_decodes_to_its_event(sample: PushSample) -> None:
    event(type(sample.expected).__name__)
    assert decode_inbound(sample.data) == sample.expected


@settings(max_examples=100)
@given(with_unknown_fields(server_messages()))
def test_unknown_fields_are_ignored(sample: PushSample) -> None:
    event(type(sample.expected).__name__)
    assert decode_inbound(sample.data) == sample.expected


@settings(max_examples=200)
@given(requests(all_markets=True))
def test_every_request_reads_back_as_its_command(sample: RequestSample) -> None:
    event(type(sample.command).__name__)
    read = decode_request(sample.data)
    assert read.command == sample.command
    assert read.client_request_id == sample.request_id


@settings(max_examples=200)
@given(invalid_server_messages())
def test_every_broken_message_is_refused(sample: InvalidMessage) -> None:
    event(sample.kind)
    with pytest.raises(RemoteProtocolError):
        decode_inbound(sample.data)


@given(invalid_requests())
def test_every_bad_request_is_answered_400(data: bytes) -> None:
    with pytest.raises(RejectedRequest) as info:
        decode_request(data)
    assert info.value.status == 400
