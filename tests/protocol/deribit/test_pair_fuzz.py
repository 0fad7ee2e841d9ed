"""The real client and server machines paired (``support_pair``): a property over sessions.

Random sequences of client commands (some with short deadlines), fake-time advances,
dropped connections, a link that swallows everything for a while, refused dials, the
venue closing the connection, lost book changes and tokens the venue expires early:
nothing raises, every request resolves exactly once, and once the link is healthy
again the venue holds exactly the client's desired channels and every maintained book
equals the venue's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import MessageRejected, RequestFailed, RequestSucceeded
from tradewire.protocol.deribit import (
    Buy,
    Cancel,
    GetAccountSummary,
    GetTicker,
    GetTime,
    Subscribe,
    Unsubscribe,
    UnsubscribeAll,
)
from tradewire.protocol.deribit.server import (
    Disconnect,
)

sys.path.append(str(Path(__file__).parent))
from support_pair import INSTRUMENTS, PairVenue, credentials, make_pair, make_state

BTC = "BTC-PERPETUAL"
ETH = "ETH-PERPETUAL"
CHANNELS = [
    f"book.{BTC}.100ms",
    f"book.{ETH}.raw",
    f"ticker.{ETH}.100ms",
    "user.orders.any.any.raw",
]
COMMANDS: dict[str, Any] = {
    "time": GetTime(),
    "ticker": GetTicker(instrument_name=BTC),
    "buy": Buy(instrument_name=ETH, amount=10, type="market"),
    "cancel": Cancel(order_id="ETH-1"),
    "summary": GetAccountSummary(currency="BTC"),
}

requests = st.one_of(
    st.tuples(st.just("send"), st.sampled_from(sorted(COMMANDS))),
    st.tuples(st.just("send_short"), st.sampled_from(sorted(COMMANDS))),
    st.tuples(st.just("subscribe"), st.sets(st.sampled_from(CHANNELS), min_size=1)),
    st.tuples(st.just("unsubscribe"), st.sets(st.sampled_from(CHANNELS), min_size=1)),
    st.tuples(st.just("unsubscribe_all"), st.just(None)),
)
ops = st.lists(
    st.one_of(
        requests,
        st.tuples(st.just("advance"), st.floats(0, 3) | st.floats(0, 25)),
        st.tuples(st.just("drop"), st.just(None)),
        st.tuples(st.just("blackhole"), st.booleans()),
        st.tuples(st.just("book"), st.tuples(st.sampled_from(sorted(INSTRUMENTS)), st.booleans())),
        st.tuples(st.just("expire_tokens"), st.just(None)),
        st.tuples(st.just("disconnect"), st.booleans()),
        st.tuples(st.just("refuse_dials"), st.booleans()),
    ),
    max_size=40,
)


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Operations with at least two requests, at drawn places among the rest."""
    drawn = draw(ops)
    for request in draw(st.lists(requests, min_size=2, max_size=4)):
        drawn.insert(draw(st.integers(0, len(drawn))), request)
    return drawn


@settings(max_examples=200, deadline=None)
@given(ops=sessions())
def test_any_session_resolves_every_request_once_and_converges(ops: list[tuple[str, Any]]) -> None:
    """Every example makes at least two requests; ``event()`` reports how many, how
    they resolved and how many maintained books it checked at the end (see
    ``pytest --hypothesis-show-statistics``)."""
    venue = PairVenue(make_state(expires_in=40))
    pair = make_pair(venue, credentials=credentials(), request_timeout=5.0, maintain_books=True)
    ids: list[Any] = []
    for name, arg in ops:
        if name == "send":
            ids.append(pair.send(COMMANDS[arg]))
        elif name == "send_short":
            ids.append(pair.send(COMMANDS[arg], timeout=0.5))
        elif name == "subscribe":
            ids.append(pair.send(Subscribe(channels=sorted(arg))))
        elif name == "unsubscribe":
            ids.append(pair.send(Unsubscribe(channels=sorted(arg))))
        elif name == "unsubscribe_all":
            ids.append(pair.send(UnsubscribeAll()))
        elif name == "advance":
            pair.advance(arg)
        elif name == "drop":
            pair.drop()
            pair.pump()
        elif name == "blackhole":
            pair.blackhole = arg
        elif name == "book":
            instrument, lose = arg
            venue.book_change(instrument, pair.now, lose=lose)
            pair.pump()
        elif name == "expire_tokens":
            venue.state.expire_tokens(pair.now)
        elif name == "disconnect" and pair.server is not None:
            pair.server.send(Disconnect(code=1001, abort=arg), pair.now)
            pair.pump()
        elif name == "refuse_dials":
            pair.refuse_dials = arg
    pair.blackhole = pair.refuse_dials = False
    pair.advance(120.0)  # every deadline passes; the client reconnects and settles
    for instrument in INSTRUMENTS:  # a lost change shows only when the next one comes
        venue.book_change(instrument, pair.now)
    pair.advance(30.0)

    outcomes = [e for e in pair.history if isinstance(e, RequestSucceeded | RequestFailed)]
    resolved = [e.request_id for e in outcomes if e.request_id in ids]
    assert sorted(map(str, resolved)) == sorted(map(str, ids)), "each request exactly once"
    assert pair.errors == []
    assert pair.of(MessageRejected) == []
    assert pair.machine.pending == 0
    desired = set(pair.machine.ledger.desired())
    assert set(pair.machine.ledger.active()) == desired
    assert pair.server_machine().channels == desired
    books = 0
    for channel in desired:
        if channel.startswith("book."):
            book = pair.machine.book(channel)
            assert book is not None
            assert not book.stale
            assert (book.bids(), book.asks()) == venue.book(channel.split(".")[1])
            books += 1
    hypothesis.event(f"requests: {len(ids) if len(ids) < 6 else '6+'}")
    for kind in sorted(
        {
            "a result" if isinstance(e, RequestSucceeded) else type(e.error).__name__
            for e in outcomes
            if e.request_id in ids
        }
    ):
        hypothesis.event(f"some resolved by {kind}")
    hypothesis.event(f"maintained books compared with the venue's: {books}")
