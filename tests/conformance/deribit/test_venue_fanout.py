"""The reference venue encodes and frames a notification once for all its subscribers,
and a connection with a message fault armed still gets its own altered copy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

import tradewire.protocol.deribit._server_core as server_core
import tradewire.protocol.transport._frames as frames
from tradewire.conformance.deribit import VenueHarness

sys.path.append(str(Path(__file__).parent))
from support_venue import SMALL, RawClient, make_harness, raw_client

TICKER = "ticker.BTC-PERPETUAL.100ms"
BOOK = "book.BTC-PERPETUAL.100ms"
CLIENTS = 4


class BytesClient(RawClient):
    """A raw client that keeps every message as the bytes it arrived as."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    def receive_message(self, data: bytes | str, now: float) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.raw.append(raw)
        try:
            self.received.append(msgspec.json.decode(raw))
        except msgspec.DecodeError:
            self.received.append(None)  # a malformed copy

    def on(self, channel: str) -> list[bytes]:
        mark = f'"channel":"{channel}"'.encode()
        return [m for m in self.raw if mark in m]


def subscribed(harness: VenueHarness, count: int) -> list[BytesClient]:
    clients = []
    for _ in range(count):
        client = BytesClient()
        machine, stack = raw_client(harness)
        assert isinstance(machine, RawClient)
        stack.machine = client  # the same machine contract, keeping bytes
        client.connected = True
        clients.append(client)
        stack.send(client.request("public/subscribe", {"channels": [TICKER, BOOK]}, id=7), 0.0)
    harness.advance(1.0)
    for client in clients:
        assert client.answer(7)["result"] == [TICKER, BOOK]
    return clients


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, mark: bytes) -> list[int]:
    """Count calls of ``module.name`` whose output holds ``mark``."""
    calls = [0]
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        if mark in out:
            calls[0] += 1
        return out

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_one_notification_to_many_connections_is_encoded_and_framed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = make_harness(SMALL)
    clients = subscribed(harness, CLIENTS)
    mark = f'"channel":"{TICKER}"'.encode()
    encodes = counting(monkeypatch, server_core, "encode_notification", mark)
    framed = counting(monkeypatch, frames, "encode_frame", mark)
    before = [len(c.on(TICKER)) for c in clients]
    harness.advance(2.0)
    got = [c.on(TICKER)[n:] for c, n in zip(clients, before, strict=True)]
    assert len(got[0]) >= 10  # one per 100 ms window
    assert all(g == got[0] for g in got)  # every subscriber got the same bytes
    assert encodes[0] == len(got[0])  # one body per notification, not one per connection
    assert framed[0] == len(got[0])  # and one frame


def test_a_connection_with_a_fault_armed_gets_its_own_faulted_copy() -> None:
    harness = make_harness(SMALL, faults=f"duplicate:{TICKER}@2s#1,malformed:{BOOK}@2s#2")
    clients = subscribed(harness, 3)
    harness.advance(3.0)
    duplicated, malformed, clean = clients
    # #1: one ticker notification twice, the rest once; the others: each once
    assert len(duplicated.on(TICKER)) == len(clean.on(TICKER)) + 1
    assert len(set(duplicated.on(TICKER))) == len(clean.on(TICKER))
    assert len(malformed.on(TICKER)) == len(clean.on(TICKER))
    # #2: one book notification replaced by truncated JSON; #1 and #3 got it intact
    assert None in malformed.received
    assert None not in duplicated.received
    assert None not in clean.received
    pairs = list(zip(malformed.on(BOOK), clean.on(BOOK), strict=True))
    altered = [(bad, good) for bad, good in pairs if bad != good]
    assert len(altered) == 1
    bad, good = altered[0]
    assert good.startswith(bad)  # truncated
    assert duplicated.on(BOOK) == clean.on(BOOK)


def test_the_market_computes_tick_tickers_only_for_instruments_with_a_ticker_subscriber() -> None:
    harness = make_harness(SMALL)
    market = harness.venue.market
    assert market.tickers_for is not None
    assert "BTC-PERPETUAL" not in market.tickers_for
    clients = subscribed(harness, 2)
    assert "BTC-PERPETUAL" in market.tickers_for
    assert "ETH-PERPETUAL" not in market.tickers_for
    feeds = harness.venue.feeds
    one, two = list(harness.venue.sockets)
    feeds.add(one, feeds.subs[TICKER][one].channel, None, harness.now)  # again: no double count
    feeds.remove(one, [TICKER])
    assert "BTC-PERPETUAL" in market.tickers_for  # one subscriber left
    before = len(clients[1].on(TICKER))
    harness.advance(1.0)
    assert len(clients[1].on(TICKER)) > before
    feeds.drop(two)
    assert "BTC-PERPETUAL" not in market.tickers_for
