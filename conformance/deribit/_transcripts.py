"""Deribit transcripts: record a ``ClientProtocol`` session, replay it, the canonical flows.

The format and the runner are venue-neutral (:mod:`tradewire.conformance._transcripts`);
this module is Deribit's part (it gathers ``_transcript_adapter``, ``_transcript_recorder``
and ``_transcript_flows``):

* :class:`DeribitTranscripts`, the adapter: the header's ``client`` object is the
  ``ClientProtocol`` configuration with everything that would vary pinned, so a replay
  is byte for byte::

    "client": {"credentials": {"client_id": "tradewire-demo", "client_secret": "...",
                               "grant_type": "client_signature", "data": ""},
               "scope": null, "ids": 1, "nonces": null, "epoch_offset": 1733096600.0,
               "request_timeout": 10.0, "heartbeat_interval": 10, "heartbeat_grace": 5.0,
               "refresh_fraction": 0.8, "rate_limits": "default", ...}

  ``ids`` is the first id of a counter, or the list of ids the session drew; ``nonces``
  ``null`` is the client's default (the timestamp in ms), or the list of nonces drawn;
  ``rate_limits`` is ``"default"``, ``null`` or the :class:`RateLimits` fields.  A
  ``client_secret`` of ``null`` means it was left out of the file: the replay then
  signs with a stand-in and ``out`` lines hold ``"<redacted>"`` where the secret or the
  signature was (any value matches there);
* :class:`DeribitRecorder`: build a recording client, drive :attr:`~DeribitRecorder.machine`
  like any ``ClientProtocol`` (through a ``WebSocketClientStack`` and a ``MemoryLink``,
  a binding, or directly), then :meth:`~DeribitRecorder.dumps`;
* :func:`replay_transcript`: replay Deribit JSON lines (``tradewire replay FILE``);
* :data:`CANONICAL_FLOWS`: the flows checked in under ``transcripts/``, each a function
  that records it again (the tests compare the two, so behaviour drift shows up as a
  diff; ``TRADEWIRE_RECORD_TRANSCRIPTS=1`` makes that test write the new recording);
  :func:`transcript_file` finds a checked-in one.

The canonical flows are recorded against the reference venue (:class:`DeribitVenue` on
a seeded simulated market, in a :class:`VenueHarness`: the real WebSocket stacks over a
``MemoryLink`` on a fake clock), with its fault injection for the gap and the dropped
connection:

* ``book_gap_resync``: login, a private raw book and a public book, a skipped change on
  the raw one (``BookGap``), its resubscription alone and its snapshot (``BookResynced``);
* ``order_lifecycle``: buy (limit, post-only, labelled), edit, a partial fill by another
  account, cancel; with ``user.orders`` and ``user.trades``;
* ``heartbeats``: ``set_heartbeat``, then ``heartbeat`` and ``test_request`` frames, each
  ``test_request`` answered with ``public/test``;
* ``reconnect``: a request on the wire when the venue drops the connection, the
  reconnect, a login before the private resubscribe, exactly the desired channels.

They replay without the venue: a transcript holds everything the client saw.
"""

from ._transcript_adapter import DeribitTranscripts, replay_transcript
from ._transcript_flows import CANONICAL_FLOWS, TRANSCRIPTS, transcript_file
from ._transcript_recorder import STRICT_EVENTS, DeribitRecorder

__all__ = [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "TRANSCRIPTS",
    "DeribitRecorder",
    "DeribitTranscripts",
    "replay_transcript",
    "transcript_file",
]
