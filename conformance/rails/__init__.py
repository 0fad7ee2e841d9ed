"""The reference Rails venue: ``rails.server.ServerProtocol`` driven by the simulated market.

A local Rails (``docs/venues/rails.md``) for your own client, a plain WebSocket client
or a fuzzer: WebSocket at ``/`` with ``?market=...&subscriptions=...`` and the token as
the subprotocol ``authorization#<JWT>``; HTTP ``POST /api/v1/token`` and ``GET
/api/v1/markets`` on the same port; markets ``BTC-USD``, ``ETH-USD``, ``BTC-USDT`` and
``ETH-USDT`` on a deterministic market with order matching; the four streams with
deterministic delivery; fault plans (``tradewire.conformance._faults``) per connection.
Rails has no third-party client to check it against, so where the docs are silent the
venue's behaviour is ours, and each module says so.

Demo keys, registered by default (account ``1``; public on purpose, this is a local test
double)::

    api key     tradewire-demo         api secret  tradewire-demo-secret
    read-only   tradewire-readonly     api secret  tradewire-readonly-secret

In memory, :class:`VenueHarness` wires client stacks to the venue on a fake clock.
Transcripts: :class:`RailsRecorder` records a ``rails.ClientProtocol`` session,
:func:`replay_transcript` replays one (``tradewire replay FILE``), and
:data:`CANONICAL_FLOWS` are the checked-in ones (``transcripts/``: a token and a
connection with a book, an order lifecycle, a reconnect with a token renewal).

"spec N.N" in this package (and in ``strategies``) is section N.N of
``docs/venues/rails.md``.
"""

# -- venue ---------------------------------------------------------------------------------
# isort: split
from .._faults import FAULT_KINDS, Fault, FaultPlan, FaultSpecError
from ._catalog import MARKETS, MarketSpec, market_list, rails_catalog
from ._config import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    READ_ONLY_API_KEY,
    READ_ONLY_API_SECRET,
    TOO_SLOW_CLOSE_CODE,
    TOO_SLOW_REASON,
    VenueConfig,
    rails_market,
)
from ._feeds import Feeds, match_id
from ._harness import HTTPLink, VenueHarness
from ._orders import Orders, Outcome
from ._socket import STREAM_OF, RailsFaultHooks, rails_machine, topic_of
from ._venue import RailsVenue

__all__ = [
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "FAULT_KINDS",
    "MARKETS",
    "READ_ONLY_API_KEY",
    "READ_ONLY_API_SECRET",
    "STREAM_OF",
    "TOO_SLOW_CLOSE_CODE",
    "TOO_SLOW_REASON",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "Feeds",
    "HTTPLink",
    "MarketSpec",
    "Orders",
    "Outcome",
    "RailsFaultHooks",
    "RailsVenue",
    "VenueConfig",
    "VenueHarness",
    "market_list",
    "match_id",
    "rails_catalog",
    "rails_machine",
    "rails_market",
    "topic_of",
]

# -- transcripts (record, replay, canonical flows; hypothesis strategies live in the
# -- separate module ``tradewire.conformance.rails.strategies``, which needs hypothesis)
# isort: split
from .._transcripts import (
    Mismatch,
    ReplayMismatch,
    ReplayReport,
    Transcript,
    TranscriptError,
    replay,
)
from ._transcript_flows import CANONICAL_FLOWS, TRANSCRIPTS, transcript_file
from ._transcripts import STRICT_EVENTS, RailsRecorder, RailsTranscripts, replay_transcript

__all__ += [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "TRANSCRIPTS",
    "Mismatch",
    "RailsRecorder",
    "RailsTranscripts",
    "ReplayMismatch",
    "ReplayReport",
    "Transcript",
    "TranscriptError",
    "replay",
    "replay_transcript",
    "transcript_file",
]
# -- end transcripts --
