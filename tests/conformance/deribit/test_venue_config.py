"""The venue's configuration, its aggregation periods, and misuse of its API."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.conformance.deribit import (
    DEMO_CLIENT_ID,
    ApiClient,
    DeribitVenue,
    FaultPlan,
    FaultSpecError,
    VenueConfig,
)
from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit import (
    IncrementalTickerUpdate,
    Notification,
    PlatformStateUpdate,
    Subscribe,
    TickerUpdate,
)

sys.path.append(str(Path(__file__).parent))
from support_venue import BUSY, SMALL, Client, make_harness


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"agg2_interval": 0.05}, "invalid agg2_interval"),
        ({"agg2_interval": float("inf")}, "invalid agg2_interval"),
        ({"max_pending_bytes": 0}, "invalid max_pending_bytes"),
        ({"too_slow_close_code": 1006}, "invalid too_slow_close_code"),
        ({"too_slow_close_code": 999}, "invalid too_slow_close_code"),
        (
            {"clients": (ApiClient(client_id="a", client_secret="x"),) * 2},
            "duplicate client_id",
        ),
    ],
)
def test_bad_configs_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        VenueConfig(**fields)


def test_the_demo_key_is_registered_and_secrets_stay_out_of_reprs() -> None:
    venue = DeribitVenue()
    key = venue.state.client(DEMO_CLIENT_ID)
    assert key is not None
    assert key.account_id == 1
    assert "secret" not in repr(ApiClient(client_id="k", client_secret="very-secret-value"))
    config = VenueConfig(clients=(ApiClient(client_id="k", client_secret="very-secret-value"),))
    assert "very-secret" not in repr(config)


def test_fault_plans_come_from_strings_or_objects_and_are_checked() -> None:
    from_text = DeribitVenue(faults="disconnect@30s#1")
    from_objects = DeribitVenue(faults=FaultPlan.parse("disconnect@30s#1"))
    assert from_text.config.faults == from_objects.config.faults
    assert "disconnect@30s#1" in repr(from_text)
    with pytest.raises(FaultSpecError, match="item 1"):
        DeribitVenue(faults="explode")
    with pytest.raises(LocalProtocolError, match=r"no instrument 'book\.NOPE-PERPETUAL\.raw'"):
        DeribitVenue(faults="gap:book.NOPE-PERPETUAL.raw")
    DeribitVenue(faults="gap:ETH-PERPETUAL")  # an instrument name is a target too


def test_inject_needs_one_fault_and_an_open_connection() -> None:
    harness = make_harness(SMALL)
    client = Client(harness)
    harness.advance(1.0)
    (connection_id,) = harness.venue.sockets
    with pytest.raises(LocalProtocolError, match="expected exactly one fault"):
        harness.venue.inject(connection_id, "zombie,stall", harness.now)
    with pytest.raises(LocalProtocolError, match="is not open"):
        harness.venue.inject(999, "zombie", harness.now)
    harness.venue.on_backlog(object(), 10**9, harness.now)  # not a venue socket: ignored
    assert client.machine.connected


def test_aggregation_periods_follow_the_config() -> None:
    harness = make_harness(BUSY, agg2_interval=0.5)
    client = Client(harness, client_id=None)
    channels = ["ticker.BTC-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.agg2"]
    client.send(Subscribe(channels=channels))
    harness.advance(3.0)
    stamps = {
        channel: [e.data.timestamp for e in client.of(TickerUpdate) if e.channel == channel]
        for channel in channels
    }
    assert {b - a for a, b in itertools.pairwise(stamps[channels[0]])} == {100}
    assert {b - a for a, b in itertools.pairwise(stamps[channels[1]])} == {500}


def test_incremental_ticker_sends_only_changed_fields_once_a_second() -> None:
    harness = make_harness(BUSY)
    client = Client(harness, client_id=None)
    client.send(Subscribe(channels=["incremental_ticker.ETH-PERPETUAL"]))
    harness.advance(3.0)
    (snapshot, *changes) = [e.data for e in client.of(IncrementalTickerUpdate)]
    assert snapshot.type == "snapshot"
    assert snapshot.best_bid_price is not msgspec.UNSET
    assert len(changes) == 3
    for change in changes:
        fields = {f for f in change.__struct_fields__ if getattr(change, f) is not msgspec.UNSET}
        assert {"type", "instrument_name", "timestamp"} < fields
        assert "state" not in fields  # unchanged: left out


def test_parameterless_families_are_served() -> None:
    harness = make_harness(SMALL)
    client = Client(harness, client_id=None)
    channels = ["platform_state", "platform_state.public_methods_state", "announcements"]
    client.send(Subscribe(channels=channels))
    harness.advance(2.0)
    assert set(client.machine.ledger.active()) == set(channels)
    states = [e.data for e in client.of(PlatformStateUpdate) if e.channel == "platform_state"]
    assert [(s.price_index, s.locked) for s in states] == [
        ("btc_usd", False),
        ("eth_usd", False),
        ("btc_usdc", False),
    ]
    (methods,) = [e for e in client.of(PlatformStateUpdate) if e.channel == channels[1]]
    assert methods.data.allow_unauthenticated_public_requests is True
    assert client.of(Notification) == []  # announcements: accepted, quiet
