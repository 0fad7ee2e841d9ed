"""The venue registry: the one table ``tradewire serve | stream | replay | demo`` and the
pytest plugin read.

Adding a venue is one entry: write its :class:`~tradewire.bindings._venue_spec.VenueEntry`
(a module ``_venue_<name>.py`` beside Deribit's) and add it to :data:`ENTRIES`.  The
command line then accepts the name everywhere, ``tradewire serve`` runs its reference
venue, ``tradewire stream`` prints its events in the common line format, ``tradewire
replay`` replays its transcripts, and the pytest plugin offers the fixture
``<name>_venue`` and the marker ``<name>_faults``.

The helpers here start a venue's reference venue the same way for every user:
:func:`start_reference` builds it for a server clock, :func:`served` serves it with an
async binding (asyncio or trio) for an ``async with`` block.
"""

from __future__ import annotations

import contextlib
import importlib
import ssl as _ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import anyio

from tradewire.conformance import FaultPlan
from tradewire.protocol import LocalProtocolError

from ._common import ServerConnection
from ._venue_currencycom import ENTRY as CURRENCYCOM
from ._venue_deribit import ENTRY as DERIBIT
from ._venue_deriv import ENTRY as DERIV
from ._venue_rails import ENTRY as RAILS
from ._venue_spec import ReferenceOptions, ReferenceVenue, VenueEntry

__all__ = [
    "DEFAULT_SEED",
    "ENTRIES",
    "REGISTRY",
    "Served",
    "entry",
    "open_client",
    "reference_names",
    "served",
    "start_reference",
]

DEFAULT_SEED = 1

ENTRIES: tuple[VenueEntry, ...] = (DERIBIT, DERIV, CURRENCYCOM, RAILS)
"""Every venue the command line and the pytest plugin know, in the order help lists them."""

REGISTRY: dict[str, VenueEntry] = {venue.name: venue for venue in ENTRIES}


def entry(name: str, *, reference: bool = False) -> VenueEntry:
    """The entry of venue ``name``; ``reference``: it must have a reference venue.

    Raises :class:`LocalProtocolError` naming the accepted venues.
    """
    found = REGISTRY.get(name)
    names = reference_names() if reference else list(REGISTRY)
    if found is None or (reference and found.reference is None):
        raise LocalProtocolError(f"unknown venue {name!r}; accepted: {', '.join(names)}")
    return found


def reference_names() -> list[str]:
    """The venues with a reference venue (``tradewire serve`` runs them)."""
    return [venue.name for venue in ENTRIES if venue.reference is not None]


def start_reference(
    venue: VenueEntry,
    *,
    now: float,
    epoch_offset: float,
    seed: int = DEFAULT_SEED,
    faults: FaultPlan | str | None = None,
    market: Any = None,
) -> ReferenceVenue:
    """``venue``'s reference venue for a server whose clock reads ``now``.

    Raises :class:`~tradewire.conformance.FaultSpecError` (a ``ValueError``) for a plan
    the parser refuses and :class:`LocalProtocolError` for one the venue cannot apply (a
    gap on an instrument its market lacks).
    """
    if venue.reference is None:
        raise LocalProtocolError(f"invalid venue {venue.name!r}: it has no reference venue")
    plan = FaultPlan.parse(faults) if isinstance(faults, str) else faults or FaultPlan()
    options = ReferenceOptions(
        now=now, epoch_offset=epoch_offset, seed=seed, faults=plan, market=market
    )
    return venue.reference(options)


def open_client(
    venue: VenueEntry,
    binding: ModuleType,
    url: str,
    machine: Any,
    *,
    http_url: str | None = None,
    credentials: Any = None,
    **options: Any,
) -> Any:
    """``async with open_client(...) as client``: a client of ``venue`` through an async
    ``binding``: the venue's own ``connect`` when it has one (Rails: its token over
    ``http_url`` with ``credentials``), else ``binding.connect(url, machine, **options)``."""
    if venue.connect is None:
        return binding.connect(url, machine, **options)
    return venue.connect(
        binding, url, machine, http_url=http_url, credentials=credentials, **options
    )


def connection_factory(
    venue: VenueEntry, reference: ReferenceVenue
) -> Callable[[str | None], ServerConnection]:
    """The ``serve()`` connection factory of a started reference venue."""
    return venue.connections(reference)


@dataclass
class Served:
    """A reference venue being served: ``venue`` (the conformance object), ``server``
    (the binding's), and where it listens."""

    entry: VenueEntry
    venue: ReferenceVenue
    server: Any
    host: str
    port: int
    secure: bool

    @property
    def url(self) -> str:
        return self.entry.urls.ws_url(self.host, self.port, secure=self.secure)

    @property
    def http_url(self) -> str | None:
        return self.entry.urls.http_url(self.host, self.port, secure=self.secure)


@contextlib.asynccontextmanager
async def served(
    venue: VenueEntry,
    *,
    binding: ModuleType | str = "asyncio",
    host: str = "127.0.0.1",
    port: int = 0,
    ssl: _ssl.SSLContext | None = None,
    seed: int = DEFAULT_SEED,
    faults: FaultPlan | str | None = None,
    market: Any = None,
) -> AsyncIterator[Served]:
    """``async with served(entry) as running``: ``entry``'s reference venue served by an
    async binding (``"asyncio"`` or ``"trio"``, the one running this task) on
    ``host:port`` (``port`` 0: a free one), over TLS with ``ssl``."""
    if isinstance(binding, str):
        binding = importlib.import_module(f"tradewire.bindings.{binding}")
    reference = start_reference(
        venue,
        now=anyio.current_time(),
        epoch_offset=binding.epoch_offset(),
        seed=seed,
        faults=faults,
        market=market,
    )
    async with binding.serve(
        connection_factory(venue, reference),
        host=host,
        port=port,
        ssl=ssl,
        on_events=reference.on_events,
        app=reference,
    ) as server:
        yield Served(
            entry=venue,
            venue=reference,
            server=server,
            host=host,
            port=server.port,
            secure=ssl is not None,
        )
