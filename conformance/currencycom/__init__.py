"""tradewire.conformance.currencycom: the reference Currency.com / Dzengi venue.

The protocol notes are ``docs/venues/currencycom.md`` ("spec N.N" here is a section of
that file).  :class:`CurrencycomVenue` (a simulated market behind the real server
machines, WebSocket at ``/connect`` and REST under ``/api/v1`` and ``/api/v2`` on one
port), its catalog, transcripts (:class:`CurrencycomTranscripts`,
:func:`transcript_file`) and hypothesis strategies (``strategies``).

Demo credentials: API key ``tradewire-demo``, secret ``tradewire-demo-secret``.
"""

from ._catalog import LISTINGS, STARTING_BALANCES, currencycom_catalog, market_config
from ._methods import Methods, Refusal
from ._socket import CurrencycomFaultHooks, VenueHTTP, currencycom_machine
from ._transcripts import (
    CANONICAL_FLOWS,
    STRICT_EVENTS,
    CurrencycomRecorder,
    CurrencycomTranscripts,
    replay_transcript,
    transcript_file,
)
from ._venue import DEMO_ACCOUNT, DEMO_KEY, DEMO_SECRET, CurrencycomVenue, VenueConfig

__all__ = [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "CurrencycomRecorder",
    "CurrencycomTranscripts",
    "replay_transcript",
    "transcript_file",
    "DEMO_ACCOUNT",
    "DEMO_KEY",
    "DEMO_SECRET",
    "LISTINGS",
    "STARTING_BALANCES",
    "CurrencycomFaultHooks",
    "CurrencycomVenue",
    "Methods",
    "Refusal",
    "VenueConfig",
    "VenueHTTP",
    "currencycom_catalog",
    "currencycom_machine",
    "market_config",
]
