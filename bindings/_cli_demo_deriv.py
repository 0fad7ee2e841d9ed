"""``tradewire demo deriv``: a whole Deriv session against the in-process reference venue.

Serves the reference Deriv venue (asyncio ``serve()`` on 127.0.0.1, a free port) with
the fault plan ``disconnect@4s#1`` and drives tradewire's asyncio client with the demo
token:

1. authorize; stream ``ticks.R_50``, ``ticks_history.1HZ100V``, ``balance`` and
   ``transaction``;
2. a ``proposal`` stream (rise/fall on ``R_100``), bought at its price; the bought
   contract's open-contract stream; sold;
3. ride through the dropped connection: authorize again and restore every stream (new
   ids, the same topics);
4. print a summary; exit 0 only if every step happened, within its deadline.

One live line a second on stdout; a failure is one line on stderr and exit 1.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TextIO

from tradewire.protocol import Connected, Event, Secret, SubscriptionActive, deriv

from . import asyncio as aio
from ._cli_demo import DemoFailed, bounded
from ._common import ConnectFailed, describe
from ._demo_kit import PROG, say, step
from ._venues import REGISTRY, served

__all__ = ["FAULTS", "STREAMS", "demo"]

FAULTS = "disconnect@4s#1"
STREAMS = ("ticks.R_50", "ticks_history.1HZ100V", "balance", "transaction")
STEP_TIMEOUT = 8.0
TOTAL_TIMEOUT = 40.0
CALL = deriv.Proposal(
    contract_type="CALL",
    currency="USD",
    symbol="R_100",
    amount=10,
    basis="stake",
    duration=5,
    duration_unit="t",
)


class _Seen:
    def __init__(self) -> None:
        self.messages = 0
        self.reconnects = 0
        self.authorized = 0
        self.proposals: list[deriv.ProposalMessage] = []
        self.last_quote: float | None = None
        self.restored = asyncio.Event()
        self.proposal = asyncio.Event()
        self.active_after_reconnect: set[str] = set()


async def _consume(client: aio.Client, seen: _Seen) -> None:
    async for event in client:
        _see(event, seen)


def _see(event: Event, seen: _Seen) -> None:
    if isinstance(event, deriv.DerivMessage) and event.topic is not None:
        seen.messages += 1
    if isinstance(event, deriv.TickMessage) and event.topic == "ticks.R_50":
        seen.last_quote = event.tick.quote
    elif isinstance(event, deriv.ProposalMessage):
        seen.proposals.append(event)
        seen.proposal.set()
    elif isinstance(event, deriv.Authorized):
        seen.authorized += 1
    elif isinstance(event, Connected) and event.attempt > 0:
        seen.reconnects += 1
    elif isinstance(event, SubscriptionActive) and seen.reconnects:
        seen.active_after_reconnect.add(event.topic)
        if set(STREAMS) <= seen.active_after_reconnect:
            seen.restored.set()


async def _live(out: TextIO, seen: _Seen, started: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(1.0)
        quote = "-" if seen.last_quote is None else f"{seen.last_quote:.4f}"
        say(
            out,
            f"{loop.time() - started:5.1f}s  messages {seen.messages:4d}  R_50 {quote}  "
            f"reconnects {seen.reconnects}  authorized {seen.authorized}",
        )


async def demo(seed: int, out: TextIO) -> int:
    """Run the Deriv demo; raises :class:`DemoFailed` with a one-line reason."""
    return await bounded(_demo(seed, out), TOTAL_TIMEOUT)


async def _demo(seed: int, out: TextIO) -> int:
    venue = REGISTRY["deriv"]
    assert venue.demo is not None
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with served(venue, seed=seed, faults=FAULTS) as running:
        say(out, f"{PROG}: reference Deriv venue at {running.url} (seed {seed}, faults {FAULTS})")
        machine = venue.client(credentials=venue.credentials(*_demo_key(venue.demo)))
        seen = _Seen()
        async with contextlib.AsyncExitStack() as resources:
            try:
                client = await resources.enter_async_context(aio.connect(running.url, machine))
            except (OSError, ConnectFailed) as exc:
                raise DemoFailed(f"could not connect to the venue: {describe(exc)}") from None
            consumer = asyncio.create_task(_consume(client, seen))
            ticker = asyncio.create_task(_live(out, seen, started))
            try:
                await step(
                    "subscribing", client.request(deriv.Subscribe(streams=STREAMS)), STEP_TIMEOUT
                )
                say(out, f"{PROG}: streaming {', '.join(STREAMS)}")
                await step(
                    "the proposal stream",
                    client.request(deriv.Subscribe(streams=[CALL])),
                    STEP_TIMEOUT,
                )
                await step("a proposal", seen.proposal.wait(), STEP_TIMEOUT)
                proposal = seen.proposals[-1].proposal
                bought = await step(
                    "buy",
                    client.request(deriv.Buy(buy=proposal.id, price=proposal.ask_price)),
                    STEP_TIMEOUT,
                )
                assert isinstance(bought, deriv.BuyResult)
                say(
                    out,
                    f"{PROG}: bought contract {bought.contract_id} for {bought.buy_price:.2f} USD",
                )
                topic = f"proposal_open_contract.{bought.contract_id}"
                await step(
                    "the open-contract stream",
                    client.request(deriv.Subscribe(streams=[topic])),
                    STEP_TIMEOUT,
                )
                sold = await step(
                    "sell",
                    client.request(deriv.Sell(sell=bought.contract_id, price=0)),
                    STEP_TIMEOUT,
                )
                assert isinstance(sold, deriv.SellResult)
                say(
                    out,
                    f"{PROG}: sold for {sold.sold_for:.2f} USD, balance {sold.balance_after:.2f}",
                )
                await step(
                    "riding through the dropped connection", seen.restored.wait(), STEP_TIMEOUT
                )
                say(out, f"{PROG}: reconnected, authorized again, every stream restored")
                await asyncio.sleep(1.0)
            finally:
                ticker.cancel()
                await client.close()
                await asyncio.wait({consumer, ticker})
    say(
        out,
        f"{PROG}: summary after {loop.time() - started:.1f}s: {seen.messages} stream messages, "
        f"{seen.reconnects} reconnect(s), {seen.authorized} authorizations",
    )
    say(out, f"{PROG}: ok")
    return 0


def _demo_key(demo: tuple[str, str]) -> tuple[str, Secret]:
    return demo[0], Secret(demo[1])
