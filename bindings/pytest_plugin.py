"""tradewire's pytest plugin: a reference venue per test, on a local port.

Installing tradewire registers this module with pytest (entry point ``pytest11``,
name ``tradewire``); nothing to configure.  For every venue in the venue registry
(``tradewire.bindings._venues``) that has a reference venue it adds a fixture
``<venue>_venue`` and a marker ``<venue>_faults`` (today: ``deribit_venue`` and
``deribit_faults``, ``rails_venue`` and ``rails_faults``), for async tests run by
anyio's pytest plugin
(``@pytest.mark.anyio``; the ``anyio_backend`` fixture picks asyncio or trio, and the
venue is served by tradewire's binding for that backend, under the test's own event
loop)::

    import pytest
    from tradewire.protocol.deribit import BookUpdate, GetTime, Subscribe

    @pytest.mark.anyio
    @pytest.mark.deribit_faults("gap:book.BTC-PERPETUAL.100ms@1s")
    async def test_my_client_resyncs(deribit_venue):
        async with deribit_venue.connect() as client:       # tradewire's own client
            await client.request(Subscribe(channels=["book.BTC-PERPETUAL.100ms"]))
            ...
        # or your own client: deribit_venue.url, deribit_venue.http_url,
        # deribit_venue.client_id / deribit_venue.client_secret

What the fixture gives (a :class:`ServedVenue`):

* ``url``: ``ws://127.0.0.1:PORT/ws/api/v2``; ``http_url``: ``http://127.0.0.1:PORT``
  (REST at ``/api/v2/{public|private}/{method}``, on the same port; ccxt's
  ``urls.api.rest``; ``None`` for a venue without HTTP); ``host``, ``port``;
* ``client_id`` / ``client_secret``: the venue's demo key (Deribit: ``tradewire-demo`` /
  ``tradewire-demo-secret``), ``credentials``: the same as the venue's credentials
  object (``deribit.Credentials``);
* ``venue``: the reference venue itself (Deribit's
  :class:`~tradewire.conformance.deribit.DeribitVenue`: its market, its connections in
  ``venue.sockets``); ``server``: the binding's server; ``faults``: the fault plan in
  force; ``backend``: ``"asyncio"`` or ``"trio"``; ``entry``: the registry entry;
* ``inject(fault, connection_id=None)``: apply one fault now to a WebSocket connection
  (the newest open one by default), e.g. ``deribit_venue.inject("disconnect")``;
* ``now()``: the server's clock; ``machine(**options)``: the venue's client machine
  (``deribit.ClientProtocol``) with the demo credentials; ``connect(machine=None,
  **options)``: ``connect()`` of the backend's binding to ``url`` with that machine.

Fault plans use the grammar of :mod:`tradewire.conformance._faults`: from the marker
``@pytest.mark.deribit_faults("disconnect@2s#1", "gap:book.ETH-PERPETUAL.raw@1s")``
(items are joined), or from the fixture's parameter (``@pytest.mark.parametrize(
"deribit_venue", ["disconnect@1s#1", {"faults": "...", "seed": 7}], indirect=True)``).
A bad plan fails the test's setup with the parser's message.  A dict parameter may also
set ``seed`` (default 1) and ``market``, the venue's market config (Deribit: a
:class:`~tradewire.conformance.market.MarketConfig`; ``tick_interval=3600`` makes a
market that only your orders move; its ``seed`` and ``start_ms`` are set by the fixture).
The venue stops when the fixture is torn down: the server closes and every connection it
accepted is dropped.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import anyio
import pytest

from tradewire.conformance import Fault, FaultPlan
from tradewire.protocol import ClientMachine, LocalProtocolError, Secret

from ._venue_spec import ReferenceVenue, VenueEntry
from ._venues import DEFAULT_SEED, ENTRIES, connection_factory, open_client, start_reference

__all__ = [
    "ServedDeribit",
    "ServedVenue",
    "fixture_name",
    "fixtures",
    "marker_name",
    "pytest_configure",
    "register_markers",
]


def fixture_name(venue: VenueEntry) -> str:
    return f"{venue.name}_venue"


def marker_name(venue: VenueEntry) -> str:
    return f"{venue.name}_faults"


def register_markers(config: pytest.Config, entries: Iterable[VenueEntry]) -> None:
    """Declare the ``<venue>_faults`` marker of every entry with a reference venue."""
    for venue in entries:
        if venue.reference is not None:
            config.addinivalue_line(
                "markers",
                f"{marker_name(venue)}(*specs): the fault plan of the {fixture_name(venue)} "
                "fixture (tradewire.conformance._faults grammar; several items are joined)",
            )


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config, ENTRIES)


@dataclass
class ServedVenue:
    """The reference venue of one test (see the module docstring)."""

    url: str
    http_url: str | None
    host: str
    port: int
    venue: Any
    server: Any
    faults: FaultPlan
    backend: str
    binding: ModuleType
    entry: VenueEntry
    client_id: str = ""
    client_secret: str = ""

    @property
    def credentials(self) -> Any:
        """The demo key as the venue's credentials object (``deribit.Credentials``)."""
        return self.entry.credentials(self.client_id, Secret(self.client_secret))

    def now(self) -> float:
        """The server's clock (what the venue is driven with)."""
        return anyio.current_time()

    def machine(self, **options: Any) -> ClientMachine:
        """The venue's client machine logging in with the demo key (``options`` are its
        other arguments)."""
        options.setdefault("credentials", self.credentials)
        return self.entry.client(**options)

    def connect(self, machine: Any = None, **options: Any) -> Any:
        """``async with <venue>_venue.connect() as client``: the backend binding's
        ``connect(url, machine, **options)`` (a venue whose WebSocket needs a token
        fetched over HTTP first, Rails, gets it from ``http_url`` with the demo key and
        keeps it fresh); the machine defaults to :meth:`machine`."""
        chosen = machine if machine is not None else self.machine()
        return open_client(
            self.entry,
            self.binding,
            self.url,
            chosen,
            http_url=self.http_url,
            credentials=self.credentials,
            **options,
        )

    def inject(self, fault: Fault | str, connection_id: int | None = None) -> None:
        """Apply ``fault`` (one fault; its trigger is ignored) to a WebSocket connection
        now: ``connection_id``, or the newest open one.  What it writes or closes goes
        out at once."""
        if connection_id is None:
            open_ids = [cid for cid, s in self.venue.sockets.items() if s.machine.is_open]
            if not open_ids:
                raise LocalProtocolError("invalid inject: the venue has no open WebSocket")
            connection_id = max(open_ids)
        now = self.now()
        self.venue.inject(connection_id, fault, now)
        self.server.hub.settle(now)


ServedDeribit = ServedVenue
"""The fixture value's type under its first name (``deribit_venue`` gives one)."""


def _backend_name(anyio_backend: object) -> str:
    if isinstance(anyio_backend, str):
        return anyio_backend
    if isinstance(anyio_backend, tuple) and anyio_backend and isinstance(anyio_backend[0], str):
        return anyio_backend[0]
    raise LocalProtocolError(f"invalid anyio_backend: {anyio_backend!r}")


@dataclass(frozen=True)
class _Settings:
    faults: FaultPlan
    seed: int
    market: Any


_PARAM_KEYS = frozenset({"faults", "seed", "market"})


def _settings(request: pytest.FixtureRequest, venue: VenueEntry) -> _Settings:
    """The fault plan, seed and market config from the marker and the fixture's parameter."""
    specs: list[str] = []
    for marker in reversed(list(request.node.iter_markers(marker_name(venue)))):
        specs += [str(arg) for arg in marker.args]
    seed, market = DEFAULT_SEED, None
    param = getattr(request, "param", None)
    if isinstance(param, str):
        specs.append(param)
    elif isinstance(param, dict) and set(param) <= _PARAM_KEYS:
        if "faults" in param:
            specs.append(str(param["faults"]))
        seed = int(param.get("seed", seed))
        market = param.get("market")
    elif param is not None:
        raise LocalProtocolError(
            f"invalid {fixture_name(venue)} parameter {param!r}: expected a fault plan "
            "string or a dict with the keys 'faults', 'seed' and/or 'market'"
        )
    plan = FaultPlan.parse(",".join(s for s in specs if s.strip()))
    return _Settings(faults=plan, seed=seed, market=market)


def _fixture(venue: VenueEntry) -> Callable[..., AsyncIterator[ServedVenue]]:
    """The ``<venue>_venue`` fixture function of one registry entry."""

    async def served_venue(
        request: pytest.FixtureRequest, anyio_backend: object
    ) -> AsyncIterator[ServedVenue]:
        backend = _backend_name(anyio_backend)
        if backend not in ("asyncio", "trio"):
            raise LocalProtocolError(f"invalid anyio_backend {backend!r}: expected asyncio or trio")
        binding = importlib.import_module(f"tradewire.bindings.{backend}")
        settings = _settings(request, venue)
        reference: ReferenceVenue = start_reference(
            venue,
            now=anyio.current_time(),
            epoch_offset=binding.epoch_offset(),
            seed=settings.seed,
            faults=settings.faults,
            market=settings.market,
        )
        host = "127.0.0.1"
        demo = venue.demo or ("", "")
        async with binding.serve(
            connection_factory(venue, reference),
            host=host,
            port=0,
            on_events=reference.on_events,
            app=reference,
        ) as server:
            yield ServedVenue(
                url=venue.urls.ws_url(host, server.port),
                http_url=venue.urls.http_url(host, server.port),
                host=host,
                port=server.port,
                venue=reference,
                server=server,
                faults=settings.faults,
                backend=backend,
                binding=binding,
                entry=venue,
                client_id=demo[0],
                client_secret=demo[1],
            )

    served_venue.__name__ = fixture_name(venue)
    served_venue.__doc__ = (
        f"The reference {venue.title} venue on 127.0.0.1 (a free port) for one async "
        "test; see :mod:`tradewire.bindings.pytest_plugin`."
    )
    return served_venue


def fixtures(entries: Iterable[VenueEntry]) -> dict[str, Any]:
    """The ``<venue>_venue`` fixtures of the entries with a reference venue, by name (a
    module or conftest that puts them in its namespace offers them)."""
    return {
        fixture_name(venue): pytest.fixture(name=fixture_name(venue))(_fixture(venue))
        for venue in entries
        if venue.reference is not None
    }


globals().update(fixtures(ENTRIES))  # deribit_venue, ...: one per registered venue
