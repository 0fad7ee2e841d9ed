"""What the soak needs from a venue: one :class:`SoakVenue` per entry of its table."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from tradewire.protocol import ClientMachine, Command, Event

__all__ = ["Served", "SoakVenue"]


class Served(Protocol):
    """A running reference venue."""

    ws_url: str

    def book(self, channel: str) -> tuple[int, list[Any], list[Any]]:
        """The venue's book behind ``channel``: its sequence number, bids and asks."""


@dataclass(frozen=True)
class SoakVenue:
    """A venue for the soak: how to serve it, build a client, and check the client.

    ``requests`` are ``(name, seconds between two, command)``; ``book_change`` reads
    ``(channel, sequence)`` from a book event; ``client_book`` is the client's
    maintained book of a channel ``(stale, bids, asks)``; ``restored`` says every
    desired subscription is active; ``counted`` names the events worth counting.
    """

    faults: str
    channels: tuple[str, ...]
    books: tuple[str, ...]
    serve: Callable[[str, int], AbstractAsyncContextManager[Served]]
    client: Callable[[int, Served], ClientMachine]
    subscribe: Callable[[tuple[str, ...]], Command]
    requests: tuple[tuple[str, float, Command], ...]
    book_change: Callable[[Event], tuple[str, int] | None]
    client_book: Callable[[Any, str], tuple[bool, list[Any], list[Any]] | None]
    restored: Callable[[Any], bool]
    counted: Callable[[Event], str | None]
