"""Book chains: consistent ``change_id`` / ``prev_change_id`` chains and levels, injected
gaps, duplicates and reorders; ``ClientProtocol`` reports exactly the injected gaps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.conformance.deribit import strategies as ds
from tradewire.protocol.deribit import (
    BookGap,
    BookResynced,
    BookUpdate,
    ClientProtocol,
    Subscribe,
    decode_inbound,
    parse_channel,
)


def feed(chain: ds.BookChain, **options: object) -> ClientProtocol:
    """The chain through a client subscribed to its channel (books and chains are kept
    for subscribed channels only; the subscription is never acknowledged here)."""
    client = ClientProtocol(heartbeat_interval=None, **options)
    client.connection_made(0.0)
    client.send(Subscribe(channels=[chain.channel]), 0.0)
    client.messages_to_send()
    for index, data in enumerate(chain.messages):
        client.receive_message(data, 1.0 + index / 100)
    return client


@given(ds.book_chains())
def test_a_clean_chain_follows_prev_change_id_with_consistent_levels(chain: ds.BookChain) -> None:
    assert chain.faults == ()
    assert chain.gaps == ()
    assert chain.resyncs == ()
    assert chain.in_sync
    assert parse_channel(chain.channel).family.value == "book"
    first = chain.updates[0].data
    assert first.is_snapshot
    book: dict[str, dict[float, float]] = {"bid": {}, "ask": {}}
    last = None
    for update in chain.updates:
        data = update.data
        if data.is_snapshot:
            book = {"bid": {}, "ask": {}}
        else:
            assert data.prev_change_id == last  # a chain, never assumed to be +1
            assert data.change_id > data.prev_change_id
        last = data.change_id
        for side, levels, descending in (("bid", data.bids, True), ("ask", data.asks, False)):
            prices = [price for _, price, _ in levels]
            assert prices == sorted(prices, reverse=descending)  # best first
            for action, price, amount in levels:
                if action == "new":
                    assert price not in book[side]
                    book[side][price] = amount
                elif action == "change":
                    assert price in book[side]
                    book[side][price] = amount
                else:
                    assert amount == 0
                    del book[side][price]
        if book["bid"] and book["ask"]:
            assert max(book["bid"]) < min(book["ask"])
    assert book == {"bid": chain.bids, "ask": chain.asks}


@given(ds.book_chains(faults=ds.FAULT_KINDS))
def test_the_messages_decode_to_the_updates(chain: ds.BookChain) -> None:
    assert [decode_inbound(m) for m in chain.messages] == list(chain.updates)
    assert all(u.channel == chain.channel for u in chain.updates)


@settings(max_examples=300)
@given(ds.book_chains(faults=ds.FAULT_KINDS))
def test_each_injected_fault_is_one_gap_at_its_position(chain: ds.BookChain) -> None:
    assert len(chain.gaps) == len(chain.faults)
    assert len(chain.resyncs) == len(chain.faults) - (0 if chain.in_sync else 1)
    for fault, gap in zip(chain.faults, chain.gaps, strict=True):
        revealing = chain.updates[fault.position].data
        assert revealing.prev_change_id == gap.got
        assert gap.expected is not None


@pytest.mark.parametrize("kind", ds.FAULT_KINDS)
@given(data=st.data())
def test_each_fault_kind_looks_as_it_should(kind: ds.FaultKind, data: st.DataObject) -> None:
    chain = data.draw(ds.book_chains(faults=[kind], max_faults=1))
    for fault in chain.faults:
        assert fault.kind == kind
        at = fault.position
        seen = chain.updates[at].data
        before = chain.updates[at - 1].data
        if kind == "duplicate":
            assert seen == before
        elif kind == "reorder":
            assert chain.updates[at + 1].data.change_id == seen.prev_change_id
        else:
            assert seen.prev_change_id != before.change_id
            assert seen.prev_change_id not in [u.data.change_id for u in chain.updates]


@settings(max_examples=200, deadline=None)
@given(ds.book_chains())
def test_a_client_reports_no_gap_on_a_clean_chain(chain: ds.BookChain) -> None:
    events = feed(chain).events()
    assert [e for e in events if isinstance(e, BookGap | BookResynced)] == []
    assert [e for e in events if isinstance(e, BookUpdate)] == list(chain.updates)


@settings(max_examples=300, deadline=None)
@given(ds.book_chains(faults=ds.FAULT_KINDS))
def test_a_client_reports_exactly_the_injected_gaps(chain: ds.BookChain) -> None:
    events = feed(chain).events()
    assert [e for e in events if isinstance(e, BookGap)] == list(chain.gaps)
    assert [e for e in events if isinstance(e, BookResynced)] == list(chain.resyncs)


@settings(max_examples=200, deadline=None)
@given(ds.book_chains(faults=ds.FAULT_KINDS))
def test_a_maintained_book_ends_as_the_venues_when_in_sync(chain: ds.BookChain) -> None:
    client = feed(chain, maintain_books=True)
    book = client.book(chain.channel)
    assert book is not None
    assert book.stale is not chain.in_sync
    if chain.in_sync:
        assert dict(book.bids()) == chain.bids
        assert dict(book.asks()) == chain.asks


@given(ds.book_chains("book.ETH-PERPETUAL.100ms", faults=["gap"], min_changes=3, max_changes=3))
def test_the_channel_and_sizes_can_be_fixed(chain: ds.BookChain) -> None:
    assert chain.channel == "book.ETH-PERPETUAL.100ms"
    assert all(u.data.instrument_name == "ETH-PERPETUAL" for u in chain.updates)


def test_bad_arguments_are_refused_when_the_strategy_is_built() -> None:
    with pytest.raises(ValueError, match="invalid fault 'drop'"):
        ds.book_chains(faults=["drop"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="min_changes"):
        ds.book_chains(min_changes=1)
    with pytest.raises(ValueError, match="max_faults"):
        ds.book_chains(max_faults=-1)
