"""The reference Deriv venue: ``deriv.server.ServerProtocol`` driven by synthetic indices.

A faithful local Deriv WebSocket API v3 (``docs/venues/deriv.md``) for your own client,
python-deriv-api or a fuzzer: ``/websockets/v3`` (at the root) with ``app_id``, the
synthetic indices ``R_10`` ... ``R_100`` and ``1HZ10V`` ... ``1HZ100V`` ticking on the
shared market engine, rise/fall and multiplier contracts priced by ``proposal``, bought
and sold, and every stream of spec 1.5 the venue can feed; fault plans per connection.

Demo token, registered by default (a virtual USD account, every scope; public on
purpose, this is a local test double)::

    tradewire-demo-token

(``tradewire-read-only`` has the ``read`` scope only.)  In memory, :class:`VenueHarness`
wires client stacks to the venue on a fake clock.  Transcripts: :class:`DerivRecorder`,
:func:`replay_transcript` and the canonical flows (``_transcripts``); hypothesis
strategies: ``tradewire.conformance.deriv.strategies``.

"spec N.N" in this package (and in ``strategies``) is section N.N of
``docs/venues/deriv.md``.
"""

from .._faults import FAULT_KINDS, Fault, FaultPlan, FaultSpecError
from ._catalog import INDICES, MAX_TICKS, PAST_TICKS, SyntheticIndex, deriv_catalog, market_config
from ._config import (
    DEMO_ACCOUNT,
    DEMO_TOKEN,
    EXTRA_CALLS,
    READ_ONLY_TOKEN,
    TOO_SLOW_CLOSE_CODE,
    TOO_SLOW_REASON,
    VenueConfig,
)
from ._harness import VenueHarness
from ._hooks import DerivFaultHooks
from ._trading import MULTIPLIERS, Book, Refusal
from ._venue import DerivVenue

# isort: split
from .._transcripts import Mismatch, ReplayMismatch, ReplayReport, Transcript, TranscriptError
from ._transcripts import (
    CANONICAL_FLOWS,
    STRICT_EVENTS,
    TRANSCRIPTS,
    DerivRecorder,
    DerivTranscripts,
    replay_transcript,
    transcript_file,
)

__all__ = [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "TRANSCRIPTS",
    "DerivRecorder",
    "DerivTranscripts",
    "Mismatch",
    "ReplayMismatch",
    "ReplayReport",
    "Transcript",
    "TranscriptError",
    "replay_transcript",
    "transcript_file",
    "DEMO_ACCOUNT",
    "DEMO_TOKEN",
    "EXTRA_CALLS",
    "FAULT_KINDS",
    "INDICES",
    "MAX_TICKS",
    "MULTIPLIERS",
    "PAST_TICKS",
    "READ_ONLY_TOKEN",
    "TOO_SLOW_CLOSE_CODE",
    "TOO_SLOW_REASON",
    "Book",
    "DerivFaultHooks",
    "DerivVenue",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "Refusal",
    "SyntheticIndex",
    "VenueConfig",
    "VenueHarness",
    "deriv_catalog",
    "market_config",
]
