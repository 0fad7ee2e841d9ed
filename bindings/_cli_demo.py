"""``tradewire demo``: the README's main job.

A stand-in until the reference venue lands: an in-memory session through the WebSocket
client and server stacks with the echo venue.
"""

from __future__ import annotations

import argparse
import random
import time

from tradewire.conformance import EchoClient, EchoServer, MemoryLink, Note, Push, Say
from tradewire.protocol import RequestSucceeded, WebSocketClientStack, WebSocketServerStack

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="run the demo session")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--messages", type=int, default=20_000)
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    machine = EchoClient()
    client = WebSocketClientStack(machine, host="demo.local", rng=random.Random(args.seed))
    link = MemoryLink(client, lambda: WebSocketServerStack(EchoServer()))
    link.pump()
    started = time.perf_counter()
    for i in range(args.messages // 100):
        client.send(Push(count=100), link.now)
        client.send(Say(text=f"hello {i}"), link.now)
        link.pump()
    elapsed = time.perf_counter() - started
    events = link.take_client_events()
    notes = sum(isinstance(e, Note) for e in events)
    answered = sum(isinstance(e, RequestSucceeded) for e in events)
    print(f"notifications {notes}  requests answered {answered}  in {elapsed:.3f}s")
    print(f"rate {notes / elapsed:,.0f} messages/s through client and server stacks")
    return 0 if notes == (args.messages // 100) * 100 else 1
