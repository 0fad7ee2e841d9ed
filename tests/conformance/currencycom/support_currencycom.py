"""A Currency.com client wired to the reference venue on a fake clock."""

from __future__ import annotations

import random
from typing import Any

from tradewire.conformance import Harness
from tradewire.conformance._link import MemoryLink
from tradewire.conformance.currencycom import DEMO_KEY, DEMO_SECRET, CurrencycomVenue
from tradewire.protocol import Event, WebSocketClientStack
from tradewire.protocol.currencycom import ClientProtocol, Credentials

START = 1000.0


def venue_and_client(
    *, faults: str | None = None, signed: bool = True, **options: Any
) -> tuple[Harness[CurrencycomVenue], ClientProtocol, MemoryLink]:
    venue = CurrencycomVenue(now=START, faults=faults)
    harness = Harness(venue)
    credentials = Credentials(api_key=DEMO_KEY, secret=DEMO_SECRET) if signed else None
    client = ClientProtocol(credentials=credentials, epoch_offset=venue.epoch_offset, **options)
    stack = WebSocketClientStack(client, host="venue", rng=random.Random(1))
    link = harness.connect(stack)
    harness.pump()
    return harness, client, link


def of_type(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]
