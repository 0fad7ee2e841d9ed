"""Market data from the reference venue: snapshots and change_id chains, every channel
family as typed events of tradewire's client, and the silent drop of bad channels."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import msgspec

from tradewire.protocol import SubscriptionRejected
from tradewire.protocol.deribit import (
    BookGap,
    BookResynced,
    BookUpdate,
    Buy,
    ChartUpdate,
    GetOrderBook,
    GroupedBookUpdate,
    IncrementalTickerUpdate,
    PerpetualUpdate,
    PlatformStateUpdate,
    PortfolioUpdate,
    PriceIndexUpdate,
    QuoteUpdate,
    Subscribe,
    TickerUpdate,
    TradesUpdate,
    Unsubscribe,
    UserChangesUpdate,
    UserOrdersUpdate,
    UserTradesUpdate,
)

sys.path.append(str(Path(__file__).parent))
from support_venue import BUSY, SMALL, Client, assert_recovered, make_harness, raw_client

BOOKS = ["book.BTC-PERPETUAL.raw", "book.BTC-PERPETUAL.100ms", "book.ETH-PERPETUAL.agg2"]


def test_book_channels_start_with_a_snapshot_and_keep_the_chain() -> None:
    harness = make_harness(BUSY)
    client = Client(harness)
    client.send(Subscribe(channels=BOOKS))
    harness.advance(10.0)
    updates = client.of(BookUpdate)
    for channel in BOOKS:
        mine = [u.data for u in updates if u.channel == channel]
        assert mine[0].type == "snapshot"
        assert mine[0].prev_change_id is None
        assert all(d.type == "change" for d in mine[1:])
        assert len(mine) > 5
        for before, after in itertools.pairwise(mine):
            assert after.prev_change_id == before.change_id  # the chain, never "+1"
        assert {d.instrument_name for d in mine} == {channel.split(".")[1]}
    assert [u.channel for u in updates if u.data.type == "snapshot"] == BOOKS  # one each
    assert client.of(BookGap) == []
    assert client.of(BookResynced) == []
    assert_recovered(client, "book.BTC-PERPETUAL.raw", "book.BTC-PERPETUAL.100ms")


def test_a_100ms_window_merges_changes_into_one_link_of_the_chain() -> None:
    harness = make_harness(SMALL)
    client = Client(harness)
    client.send(Subscribe(channels=["book.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.raw"]))
    harness.advance(1.0)
    client.take()
    best = client.call(GetOrderBook(instrument_name="BTC-PERPETUAL")).bids[0][0]
    for step in (1, 2, 3):  # three changes inside one window
        client.call(Buy(instrument_name="BTC-PERPETUAL", amount=10, price=best - 100 * step))
    harness.advance(0.1)
    raw = [u.data for u in client.of(BookUpdate) if u.channel.endswith(".raw")]
    windowed = [u.data for u in client.of(BookUpdate) if u.channel.endswith(".100ms")]
    mine = {best - 100 * step for step in (1, 2, 3)}
    raw_mine = [d for d in raw if {lv[1] for lv in d.bids} & mine]
    assert len(raw_mine) == 3
    (merged,) = [d for d in windowed if {lv[1] for lv in d.bids} & mine]
    assert {lv[1] for lv in merged.bids} >= mine
    assert client.of(BookGap) == []
    assert_recovered(client, "book.BTC-PERPETUAL.raw", "book.BTC-PERPETUAL.100ms")


def test_every_channel_family_delivers_typed_events() -> None:
    harness = make_harness(BUSY)
    client = Client(harness)
    families = {
        "book.BTC-PERPETUAL.100ms": BookUpdate,
        "book.BTC-PERPETUAL.none.10.100ms": GroupedBookUpdate,
        "book.ETH-PERPETUAL.25.1.agg2": GroupedBookUpdate,
        "ticker.BTC-PERPETUAL.100ms": TickerUpdate,
        "ticker.ETH-PERPETUAL.raw": TickerUpdate,
        "incremental_ticker.BTC-PERPETUAL": IncrementalTickerUpdate,
        "quote.BTC-PERPETUAL": QuoteUpdate,
        "trades.BTC-PERPETUAL.100ms": TradesUpdate,
        "trades.future.BTC.raw": TradesUpdate,
        "trades.future.any.agg2": TradesUpdate,
        "chart.trades.BTC-PERPETUAL.1": ChartUpdate,
        "deribit_price_index.btc_usd": PriceIndexUpdate,
        "perpetual.BTC-PERPETUAL.100ms": PerpetualUpdate,
        "platform_state": PlatformStateUpdate,
        "user.orders.any.any.100ms": UserOrdersUpdate,
        "user.orders.BTC-PERPETUAL.raw": UserOrdersUpdate,
        "user.trades.future.BTC.100ms": UserTradesUpdate,
        "user.changes.any.any.raw": UserChangesUpdate,
        "user.portfolio.btc": PortfolioUpdate,
        "user.portfolio.BTC": PortfolioUpdate,
    }
    client.send(Subscribe(channels=list(families)))
    harness.advance(1.0)
    assert set(client.machine.ledger.active()) == set(families)
    client.call(Buy(instrument_name="BTC-PERPETUAL", amount=20, type="market"))
    harness.advance(5.0)
    events = client.collect()
    for channel, kind in families.items():
        got = [e for e in events if getattr(e, "channel", None) == channel]
        assert got, channel
        assert all(isinstance(e, kind) for e in got), channel
    batched = [e for e in client.of(UserOrdersUpdate) if e.channel.endswith(".100ms")]
    assert all(isinstance(e.data, list) for e in batched)  # arrays, except on raw
    single = [e for e in client.of(UserOrdersUpdate) if e.channel.endswith(".raw")]
    assert all(not isinstance(e.data, list) for e in single)
    increments = [e.data for e in client.of(IncrementalTickerUpdate)]
    assert increments[0].type == "snapshot"
    assert {d.type for d in increments[1:]} == {"change"}
    grouped = [e.data for e in client.of(GroupedBookUpdate) if e.channel.endswith("25.1.agg2")]
    assert all(len(d.bids) <= 1 and len(d.asks) <= 1 for d in grouped)
    assert all(round(d.bids[0][0] / 0.25, 6).is_integer() for d in grouped if d.bids)
    assert client.of(BookGap) == []


def test_bad_and_unknown_channels_are_dropped_silently() -> None:
    harness = make_harness(SMALL)
    client = Client(harness)
    client.send(
        Subscribe(
            channels=[
                "ticker.BTC-PERPETUAL.100ms",
                "book.NOPE-PERPETUAL.100ms",  # unknown instrument
                "perpetual.ETH-PERPETUAL.100ms",
                "perpetual.BTC_USDC.100ms",  # not a perpetual
                "book.BTC-PERPETUAL.25.1.100ms",  # an ETH group on BTC
                "deribit_price_index.xrp_usdc",  # an index the market does not list
                "user.portfolio.XRP",
            ]
        )
    )
    harness.advance(1.0)
    rejected = {e.topic for e in client.of(SubscriptionRejected)}
    assert rejected == {
        "book.NOPE-PERPETUAL.100ms",
        "perpetual.BTC_USDC.100ms",
        "book.BTC-PERPETUAL.25.1.100ms",
        "deribit_price_index.xrp_usdc",
        "user.portfolio.XRP",
    }
    assert set(client.machine.ledger.active()) == {
        "ticker.BTC-PERPETUAL.100ms",
        "perpetual.ETH-PERPETUAL.100ms",
    }
    channels = {getattr(e, "channel", None) for e in client.collect()} - {None}
    assert channels == {"ticker.BTC-PERPETUAL.100ms", "perpetual.ETH-PERPETUAL.100ms"}


def test_raw_subscriptions_need_auth_and_duplicates_get_no_second_snapshot() -> None:
    harness = make_harness(SMALL)
    raw, _ = raw_client(harness)
    harness.pump()
    only_bad = raw.request("public/subscribe", {"channels": ["book.NOPE-PERPETUAL.100ms"]})
    refused = raw.request("public/subscribe", {"channels": ["book.BTC-PERPETUAL.raw"]})
    first = raw.request("public/subscribe", {"channels": ["book.BTC-PERPETUAL.100ms"]})
    again = raw.request("public/subscribe", {"channels": ["book.BTC-PERPETUAL.100ms"]})
    for request in (only_bad, refused, first, again):
        harness.links[0].client.send(request, harness.now)
    harness.pump()
    assert raw.answer(1)["result"] == []
    assert raw.answer(2)["error"]["code"] == 13778
    assert raw.answer(3)["result"] == ["book.BTC-PERPETUAL.100ms"]
    assert raw.answer(4)["result"] == ["book.BTC-PERPETUAL.100ms"]
    snapshots = [
        n
        for n in raw.notifications("book.BTC-PERPETUAL.100ms")
        if n["params"]["data"]["type"] == "snapshot"
    ]
    assert len(snapshots) == 1  # pushed promptly, before any market tick, and only once
    harness.advance(1.0)
    snapshots = [n for n in raw.notifications() if n["params"]["data"].get("type") == "snapshot"]
    assert len(snapshots) == 1


def test_unsubscribe_stops_the_channel_and_resubscribing_gives_a_fresh_snapshot() -> None:
    harness = make_harness(BUSY)
    client = Client(harness)
    channel = "book.BTC-PERPETUAL.100ms"
    client.send(Subscribe(channels=[channel]))
    harness.advance(1.0)
    client.send(Unsubscribe(channels=[channel]))
    harness.advance(1.0)
    client.take()
    harness.advance(1.0)
    assert client.of(BookUpdate) == []
    client.send(Subscribe(channels=[channel]))
    harness.advance(1.0)
    updates = client.of(BookUpdate)
    assert updates[0].data.type == "snapshot"
    assert_recovered(client, channel)


def test_notifications_carry_the_subscribed_channel_and_the_instrument() -> None:
    """What ccxt routes on: ``params.channel`` exactly as subscribed, ``data.instrument_name``."""
    harness = make_harness(BUSY)
    raw, stack = raw_client(harness)
    harness.pump()
    channels = [
        "book.BTC-PERPETUAL.100ms",
        "ticker.BTC-PERPETUAL.100ms",
        "quote.BTC-PERPETUAL",
        "trades.BTC-PERPETUAL.100ms",
        "book.BTC-PERPETUAL.none.20.100ms",
    ]
    stack.send(raw.request("public/subscribe", {"channels": channels}), harness.now)
    harness.advance(5.0)
    seen = raw.notifications()
    assert {n["params"]["channel"] for n in seen} == set(channels)
    for note in seen:
        data = note["params"]["data"]
        items = data if isinstance(data, list) else [data]
        assert all(item["instrument_name"] == "BTC-PERPETUAL" for item in items)
        assert set(note) == {"jsonrpc", "method", "params"}  # no usIn/usOut on notifications


def test_the_venue_is_deterministic_for_a_seed() -> None:
    def session() -> list[bytes]:
        harness = make_harness(BUSY)
        raw, stack = raw_client(harness)
        harness.pump()
        stack.send(
            raw.request("public/subscribe", {"channels": ["book.BTC-PERPETUAL.100ms"]}),
            harness.now,
        )
        harness.advance(3.0)
        return [msgspec.json.encode(m) for m in raw.received]

    first, second = session(), session()
    assert len(first) > 10
    assert first == second
