"""The Deriv entry of the soak's venue table (see :mod:`benchmarks.soak`).

The reference venue (:class:`~tradewire.conformance.deriv.DerivVenue`) served as
``tradewire serve deriv`` serves it (the registry's ``served``; WebSocket only), and
tradewire's ``deriv.ClientProtocol`` with the demo token as each client.  Deriv has no
order books (its markets are synthetic indices whose streams are ticks and candles), so
no book is compared: the soak checks requests (public and authorized), streams (public
and private, restored with new ids after every reconnect) and memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tradewire.bindings._venues import REGISTRY, served
from tradewire.conformance.deriv import DEMO_TOKEN
from tradewire.protocol import Command, Event, Secret, SubscriptionActive, deriv

from ._soak_venue import SoakVenue

__all__ = ["DERIV"]

CHANNELS = (
    "ticks.R_50",
    "ticks.1HZ100V",
    "candles.R_100.60",
    "balance",
    "transaction",
    "proposal_open_contract",
)

#: A composed plan of the faults the Deriv venue applies (``gap`` does not: its streams
#: carry no sequence numbers): every connection meets a duplicated and a reordered tick,
#: a malformed candle, a revoked authorization (private calls answer
#: ``AuthorizationRequired`` until the client authorizes again), an emptied rate budget
#: (the next call answers ``RateLimit``) and an ignored ping (the client's pong deadline
#: drops it), and is dropped after 45 s; the 2nd connection goes silent (a zombie), the
#: 3rd stops reading (stall), the 4th is closed as idle.
FAULTS = (
    "duplicate:ticks.R_50@5s,reorder:ticks.1HZ100V@9s,malformed:candles.R_100.60@13s,"
    "expire@17s,ratelimit@21s,heartbeat@25s,disconnect@45s,zombie@15s#2,stall@15s#3,"
    "idle@10s#4"
)


class Served:
    """The running venue, as the soak sees it (no books)."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url

    def book(self, channel: str) -> tuple[int, list[Any], list[Any]]:
        raise LookupError(f"Deriv has no order books ({channel!r})")

    def history(self, channel: str) -> list[tuple[list[Any], list[Any]]]:
        raise LookupError(f"Deriv has no order books ({channel!r})")


@asynccontextmanager
async def serve(faults: str, seed: int) -> AsyncIterator[Served]:
    async with served(REGISTRY["deriv"], seed=seed, faults=faults) as running:
        yield Served(running.url)


def client(index: int, served: Any) -> deriv.ClientProtocol:
    """Client ``index``: the demo token (authorized on every connection)."""
    return deriv.ClientProtocol(token=Secret(DEMO_TOKEN))


def subscribe(channels: tuple[str, ...]) -> Command:
    return deriv.Subscribe(streams=list(channels))


#: A rise/fall contract bought outright (``buy: "1"`` with its parameters): it moves
#: the balance and opens a contract, so ``balance``, ``transaction`` and
#: ``proposal_open_contract`` carry the client's own changes.
BUY = deriv.Buy(
    buy="1",
    price=10,
    parameters={
        "contract_type": "CALL",
        "symbol": "R_100",
        "currency": "USD",
        "amount": 1,
        "basis": "stake",
        "duration": 5,
        "duration_unit": "t",
    },
)

REQUESTS: tuple[tuple[str, float, Command], ...] = (
    ("time", 4.0, deriv.Time()),
    ("active_symbols", 30.0, deriv.ActiveSymbols(active_symbols="brief")),
    ("portfolio (authorized)", 30.0, deriv.Portfolio()),
    ("statement (authorized)", 20.0, deriv.Statement(limit=5)),
    ("buy (authorized)", 10.0, BUY),
)
"""What each client asks, and how often (seconds between two of the kind).

Every client authorizes with the one demo token, and the venue counts the budgets of
spec 6.2 per account while each client paces its own connection only: these rates keep
8 clients (the soak's default) within the account's budgets (general calls 220 a minute,
``portfolio`` 30, ``statement`` 100 and 2,000 an hour, ``buy`` 360), so a ``RateLimit``
comes from the fault plan alone.  Faster, the clients overrun the account together and
their calls wait for refills and time out (``RateLimit`` and ``RequestTimeout``
failures: the load's doing, not a fault's)."""


def book_change(event: Event) -> tuple[str, int] | None:
    return None


def counted(event: Event) -> str | None:
    """Stream messages by stream type, and authorizations."""
    if isinstance(event, deriv.Authorized):
        return "authorized"
    if isinstance(event, SubscriptionActive):
        return "streams active"
    if isinstance(event, deriv.DerivMessage) and getattr(event, "topic", None) is not None:
        return f"{type(event).msg_type} messages"
    return None


DERIV = SoakVenue(
    faults=FAULTS,
    channels=CHANNELS,
    books=(),
    serve=serve,
    client=client,
    subscribe=subscribe,
    requests=REQUESTS,
    book_change=book_change,
    counted=counted,
)
