"""tradewire's pytest plugin: a reference Deribit venue per test, on a local port.

Installing tradewire registers this module with pytest (entry point ``pytest11``,
name ``tradewire``); nothing to configure.  It adds the fixture ``deribit_venue`` for
async tests run by anyio's pytest plugin (``@pytest.mark.anyio``; the ``anyio_backend``
fixture picks asyncio or trio, and the venue is served by tradewire's binding for that
backend, under the test's own event loop)::

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

What the fixture gives (a :class:`ServedDeribit`):

* ``url``: ``ws://127.0.0.1:PORT/ws/api/v2``; ``http_url``: ``http://127.0.0.1:PORT``
  (REST at ``/api/v2/{public|private}/{method}``, on the same port; ccxt's
  ``urls.api.rest``); ``host``, ``port``;
* ``client_id`` / ``client_secret``: the venue's demo key (``tradewire-demo`` /
  ``tradewire-demo-secret``), ``credentials``: the same as ``deribit.Credentials``;
* ``venue``: the :class:`~tradewire.conformance.deribit.DeribitVenue` itself (its
  market, its connections in ``venue.sockets``); ``server``: the binding's server;
  ``faults``: the fault plan in force; ``backend``: ``"asyncio"`` or ``"trio"``;
* ``inject(fault, connection_id=None)``: apply one fault now to a WebSocket connection
  (the newest open one by default), e.g. ``deribit_venue.inject("disconnect")``;
* ``now()``: the server's clock; ``machine(**options)``: a ``deribit.ClientProtocol``
  with the demo credentials; ``connect(machine=None, **options)``: ``connect()`` of the
  backend's binding to ``url`` with that machine.

Fault plans use the grammar of :mod:`tradewire.conformance._faults`: from the marker
``@pytest.mark.deribit_faults("disconnect@2s#1", "gap:book.ETH-PERPETUAL.raw@1s")``
(items are joined), or from the fixture's parameter (``@pytest.mark.parametrize(
"deribit_venue", ["disconnect@1s#1", {"faults": "...", "seed": 7}], indirect=True)``).
A bad plan fails the test's setup with the parser's message.  A dict parameter may also
set ``seed`` (default 1) and ``market``, a
:class:`~tradewire.conformance.market.MarketConfig` (``tick_interval=3600`` makes a
market that only your orders move; its ``seed`` and ``start_ms`` are set by the fixture).
The venue stops when the fixture is torn down: the server closes and every connection it
accepted is dropped.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import anyio
import pytest

from tradewire.conformance import Fault, FaultPlan
from tradewire.conformance.deribit import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DeribitVenue
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import LocalProtocolError, Secret, deribit

from ._cli_serve import DEFAULT_SEED, venue_factory, venue_urls
from ._cli_serve import deribit_venue as _make_venue

__all__ = ["ServedDeribit", "deribit_venue", "pytest_configure"]

MARKER = "deribit_faults"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*specs): the fault plan of the deribit_venue fixture "
        "(tradewire.conformance._faults grammar; several items are joined)",
    )


@dataclass
class ServedDeribit:
    """The reference Deribit venue of one test (see the module docstring)."""

    url: str
    http_url: str
    host: str
    port: int
    venue: DeribitVenue
    server: Any
    faults: FaultPlan
    backend: str
    binding: ModuleType
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET

    @property
    def credentials(self) -> deribit.Credentials:
        """The demo key as ``deribit.Credentials``."""
        return deribit.Credentials(
            client_id=self.client_id, client_secret=Secret(self.client_secret)
        )

    def now(self) -> float:
        """The server's clock (what the venue is driven with)."""
        return anyio.current_time()

    def machine(self, **options: Any) -> deribit.ClientProtocol:
        """A ``deribit.ClientProtocol`` logging in with the demo key (``options`` are
        its other arguments)."""
        options.setdefault("credentials", self.credentials)
        return deribit.ClientProtocol(**options)

    def connect(self, machine: Any = None, **options: Any) -> Any:
        """``async with deribit_venue.connect() as client``: the backend binding's
        ``connect(url, machine, **options)``; the machine defaults to :meth:`machine`."""
        chosen = machine if machine is not None else self.machine()
        return self.binding.connect(self.url, chosen, **options)

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
    market: MarketConfig | None


_PARAM_KEYS = frozenset({"faults", "seed", "market"})


def _settings(request: pytest.FixtureRequest) -> _Settings:
    """The fault plan, seed and market config from the marker and the fixture's parameter."""
    specs: list[str] = []
    for marker in reversed(list(request.node.iter_markers(MARKER))):
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
        if market is not None and not isinstance(market, MarketConfig):
            raise LocalProtocolError(f"invalid market {market!r}: expected a MarketConfig")
    elif param is not None:
        raise LocalProtocolError(
            f"invalid deribit_venue parameter {param!r}: expected a fault plan string or "
            "a dict with the keys 'faults', 'seed' and/or 'market'"
        )
    plan = FaultPlan.parse(",".join(s for s in specs if s.strip()))
    return _Settings(faults=plan, seed=seed, market=market)


@pytest.fixture
async def deribit_venue(
    request: pytest.FixtureRequest, anyio_backend: object
) -> AsyncIterator[ServedDeribit]:
    """The reference Deribit venue on 127.0.0.1 (a free port) for one async test; see
    :mod:`tradewire.bindings.pytest_plugin`."""
    backend = _backend_name(anyio_backend)
    if backend not in ("asyncio", "trio"):
        raise LocalProtocolError(f"invalid anyio_backend {backend!r}: expected asyncio or trio")
    binding = importlib.import_module(f"tradewire.bindings.{backend}")
    settings = _settings(request)
    now = anyio.current_time()
    venue = _make_venue(
        now=now,
        epoch_offset=binding.epoch_offset(),
        seed=settings.seed,
        faults=settings.faults,
        market=settings.market,
    )
    host = "127.0.0.1"
    async with binding.serve(
        venue_factory(venue), host=host, port=0, on_events=venue.on_events, app=venue
    ) as server:
        url, http_url = venue_urls(host, server.port)
        yield ServedDeribit(
            url=url,
            http_url=http_url,
            host=host,
            port=server.port,
            venue=venue,
            server=server,
            faults=settings.faults,
            backend=backend,
            binding=binding,
        )
