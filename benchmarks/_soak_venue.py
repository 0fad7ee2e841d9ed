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

    def history(self, channel: str) -> list[tuple[list[Any], list[Any]]]:
        """The venue's recent states of the book behind ``channel``, oldest first, the
        last one its current state (bids, asks; as the client's book writes levels).

        Used for venues whose book events carry no sequence number (``sequenced`` off):
        the client's book must be one of them."""


def maintained_book(machine: Any, topic: str) -> tuple[bool, list[Any], list[Any]] | None:
    """The client machine's maintained book of ``topic`` (the session layer's ``book``):
    stale or not, bids, asks; ``None`` when it keeps none."""
    book = machine.book(topic)
    if book is None:
        return None
    return book.stale, book.bids(), book.asks()


def all_restored(machine: Any) -> bool:
    """Every desired subscription is active again (the session layer's ledger)."""
    ledger = machine.ledger
    return bool(ledger.desired()) and set(ledger.active()) == set(ledger.desired())


@dataclass(frozen=True)
class SoakVenue:
    """A venue for the soak: how to serve it, build a client, and check the client.

    ``requests`` are ``(name, seconds between two, command)``; ``book_change`` reads
    ``(channel, sequence)`` from a book event; ``client_book`` is the client's
    maintained book of a channel ``(stale, bids, asks)``; ``restored`` says every
    desired subscription is active; ``counted`` names the events worth counting.

    ``connect(served, machine)``: how a client connects when the venue needs more than
    the binding's ``connect`` (Rails fetches its token over HTTP first); ``None``: the
    asyncio binding's ``connect(served.ws_url, machine)``.  ``sequenced``: the venue's
    book events carry sequence numbers (``book_change`` gives them and a book is
    compared with the venue's at that number); off, a book is compared, whenever the
    client has consumed everything, with the venue's recent states (``Served.history``):
    equal to the current one is a match, to an older one a change in flight, to none
    a mismatch.  An empty ``books``: the venue has no books, none is compared.
    """

    faults: str
    channels: tuple[str, ...]
    books: tuple[str, ...]
    serve: Callable[[str, int], AbstractAsyncContextManager[Served]]
    client: Callable[[int, Served], ClientMachine]
    subscribe: Callable[[tuple[str, ...]], Command]
    requests: tuple[tuple[str, float, Command], ...]
    book_change: Callable[[Event], tuple[str, int] | None]
    counted: Callable[[Event], str | None]
    client_book: Callable[[Any, str], tuple[bool, list[Any], list[Any]] | None] = maintained_book
    restored: Callable[[Any], bool] = all_restored
    connect: Callable[[Any, Any], AbstractAsyncContextManager[Any]] | None = None
    sequenced: bool = True
