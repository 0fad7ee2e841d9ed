"""Notifications for every channel family and heartbeat frames: they decode to the
expected events, with or without unknown fields, and pass through ``ClientProtocol``."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewire.conformance.deribit import strategies as ds
from tradewire.protocol.deribit import (
    EVENT_TYPES,
    BookUpdate,
    ChannelFamily,
    ClientProtocol,
    Heartbeat,
    Notification,
    Order,
    TestRequest,
    UserOrdersUpdate,
    decode_inbound,
    parse_channel,
    parse_instrument,
)


@settings(max_examples=300)
@given(ds.notifications())
def test_notifications_decode_to_the_expected_event(sample: ds.PushSample) -> None:
    assert decode_inbound(sample.data) == sample.expected


@pytest.mark.parametrize("family", list(ChannelFamily), ids=lambda f: f.value)
@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_every_family_gets_its_event_type_and_fitting_data(
    family: ChannelFamily, data: st.DataObject
) -> None:
    sample = data.draw(ds.notifications([family]))
    event = decode_inbound(sample.data)
    assert event == sample.expected
    assert type(event) is EVENT_TYPES.get(family, Notification)
    channel = parse_channel(event.channel)  # type: ignore[union-attr]
    assert channel.family is family
    payload = msgspec.json.decode(sample.data)["params"]["data"]
    items = payload if isinstance(payload, list) else [payload]
    for item in items:
        name = item.get("instrument_name") if isinstance(item, dict) else None
        if name is not None and channel.instrument is not None:
            assert name == channel.instrument  # the data is about the channel's instrument
        if name is not None:
            assert parse_instrument(name).name == name


@settings(max_examples=100)
@given(ds.notifications([ChannelFamily.USER_ORDERS]))
def test_user_orders_are_one_object_on_raw_and_arrays_otherwise(sample: ds.PushSample) -> None:
    event = sample.expected
    assert isinstance(event, UserOrdersUpdate)
    if event.channel.endswith(".raw"):
        assert isinstance(event.data, Order)
    else:
        assert isinstance(event.data, list)
        assert event.data


@settings(max_examples=100)
@given(ds.notifications(labels=True))
def test_labels_go_to_private_channels_only(sample: ds.PushSample) -> None:
    event = decode_inbound(sample.data)
    assert event == sample.expected
    label = getattr(event, "label", None)
    assert (label is not None) == event.channel.startswith("user.")  # type: ignore[union-attr]


@settings(max_examples=100)
@given(ds.notifications(labels=False))
def test_labels_false_gives_none(sample: ds.PushSample) -> None:
    assert "label" not in msgspec.json.decode(sample.data)["params"]


@given(ds.heartbeats())
def test_heartbeat_frames_decode_whatever_their_layout(sample: ds.PushSample) -> None:
    assert decode_inbound(sample.data) == sample.expected
    assert isinstance(sample.expected, Heartbeat | TestRequest)


def test_heartbeats_include_the_layouts_seen_on_the_wire() -> None:
    seen: set[bytes] = set()

    @settings(max_examples=200)
    @given(ds.heartbeats())
    def look(sample: ds.PushSample) -> None:
        seen.add(sample.data)

    look()
    assert b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}' in seen
    assert b'{"params":{"type":"test_request"},"method":"heartbeat","jsonrpc":"2.0"}' in seen
    assert any(b"\n" in data for data in seen)


@settings(max_examples=300)
@given(ds.with_unknown_fields(ds.notifications()))
def test_unknown_fields_in_notifications_are_ignored(sample: ds.PushSample) -> None:
    assert decode_inbound(sample.data) == sample.expected


@given(ds.with_unknown_fields(ds.heartbeats()))
def test_unknown_fields_in_heartbeats_are_ignored(sample: ds.PushSample) -> None:
    assert decode_inbound(sample.data) == sample.expected


@settings(max_examples=300)
@given(ds.server_messages())
def test_server_messages_mix_all_three_kinds(sample: ds.PushSample | ds.ResponseSample) -> None:
    assert decode_inbound(sample.data) == sample.expected


@settings(max_examples=200, deadline=None)
@given(ds.with_unknown_fields(ds.notifications()))
def test_the_client_machine_reports_the_same_events(sample: ds.PushSample) -> None:
    event = sample.expected
    if isinstance(event, BookUpdate) and not event.data.is_snapshot:
        return  # a change before any snapshot is a gap; book chains test those
    client = ClientProtocol(heartbeat_interval=None)
    client.connection_made(0.0)
    client.receive_message(sample.data, 1.0)
    assert client.events() == [event]
    assert client.messages_to_send() == []
