"""The reference Deribit venue: ``deribit.ServerProtocol`` driven by the simulated market.

A faithful local Deribit (``docs/venues/deribit.md``, section 10) for your own client, ccxt or a
fuzzer: WebSocket at ``/ws/api/v2`` (and ``/ws/api/v2/``), HTTP ``GET``/``POST
/api/v2/{public|private}/{method}`` on the same state, every public market method and the
trading and account methods on a deterministic market, every channel family the market
can feed, and fault plans (``tradewire.conformance._faults``) per connection.

Demo credentials, registered by default (account 1)::

    client_id     tradewire-demo
    client_secret tradewire-demo-secret

Over real sockets (one port for WebSocket and HTTP)::

    from tradewire.bindings import route_upgrade
    from tradewire.bindings.asyncio import epoch_offset, serve
    from tradewire.conformance.deribit import DeribitVenue, VenueConfig
    from tradewire.conformance.market import MarketConfig

    now = asyncio.get_running_loop().time()  # serve() drives the venue with loop.time()
    start_ms = round((now + epoch_offset()) * 1000)  # wall clock: clients sign with it
    config = VenueConfig(market=MarketConfig(seed=7, start_ms=start_ms))
    venue = DeribitVenue(config, now=now, faults="disconnect@60s")
    factory = route_upgrade(venue.websocket_connection, venue.http_connection)
    async with serve(factory, port=8080, on_events=venue.on_events, app=venue) as server:
        ...  # ws://127.0.0.1:8080/ws/api/v2 and http://127.0.0.1:8080/api/v2/...

In memory, :class:`VenueHarness` wires client stacks to the venue on a fake clock.

"spec N.N" in this package (and in ``strategies``) is section N.N of
``docs/venues/deribit.md``.
"""

# -- venue (DeribitVenue, config, connections, faults, harness) ---------------------------
# isort: split
from .._faults import FAULT_KINDS, Fault, FaultPlan, FaultSpecError
from ._catalog import INDEX_NAMES, PERPETUAL_EXPIRY_MS, deribit_catalog, expiries
from ._config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EXTRA_METHODS,
    TOO_SLOW_CLOSE_CODE,
    TOO_SLOW_REASON,
    ApiClient,
    VenueConfig,
)
from ._errors import REASON_CODES, refusal
from ._harness import HTTPLink, VenueHarness
from ._socket import VenueHTTP, VenueProtocol, VenueSocket
from ._venue import DeribitVenue

# -- end venue ------------------------------------------------------------------------

__all__ = [
    # -- venue --
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "EXTRA_METHODS",
    "FAULT_KINDS",
    "INDEX_NAMES",
    "PERPETUAL_EXPIRY_MS",
    "REASON_CODES",
    "TOO_SLOW_CLOSE_CODE",
    "TOO_SLOW_REASON",
    "ApiClient",
    "DeribitVenue",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "HTTPLink",
    "VenueConfig",
    "VenueHTTP",
    "VenueHarness",
    "VenueProtocol",
    "VenueSocket",
    "deribit_catalog",
    "expiries",
    "refusal",
    # -- end venue --
]

# -- transcripts (record, replay, canonical flows; hypothesis strategies live in the
# -- separate module ``tradewire.conformance.deribit.strategies``, which needs hypothesis)
# isort: split
from .._transcripts import (
    Mismatch,
    Recorder,
    ReplayMismatch,
    ReplayReport,
    Transcript,
    TranscriptError,
    replay,
)
from ._transcripts import (
    CANONICAL_FLOWS,
    STRICT_EVENTS,
    TRANSCRIPTS,
    DeribitRecorder,
    DeribitTranscripts,
    replay_transcript,
    transcript_file,
)

__all__ += [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "TRANSCRIPTS",
    "DeribitRecorder",
    "DeribitTranscripts",
    "Mismatch",
    "Recorder",
    "ReplayMismatch",
    "ReplayReport",
    "Transcript",
    "TranscriptError",
    "replay",
    "replay_transcript",
    "transcript_file",
]
# -- end transcripts --
