"""Transcripts: a client session as JSON lines, a recorder, and a replay runner.

Venue-neutral; a venue package supplies a :class:`VenueAdapter` (how to build its client
machine from the header, how to write and read its commands).  Pure like the rest of the
kit: text in, text out, no files, no clock.  This module gathers the parts:
``_transcript_format`` (the lines, writing and parsing them), ``_transcript_compare``
(JSON comparison, events as JSON), ``_transcript_replay`` (the runner) and
``_transcript_recorder``.

The format
==========

One JSON object per line, each ending in a newline (blank lines are skipped; JSON may hold
U+2028 and the like unescaped, so nothing else ends a line); times are the ``now``
values of the session's clock, in seconds, and never decrease:

* line 1, the header::

    {"transcript": 1, "venue": "deribit", "venue_version": "v2", "server": "...",
     "library": "tradewire 0.1.0", "description": "...", "client": {...},
     "strict": ["BookGap", ...]}

  ``client`` is the venue's client configuration, with everything that would
  otherwise vary pinned (request ids, nonces, the epoch offset), so a replay is byte
  for byte.  ``strict`` names event types that must all be expected (see below);
* ``{"t": 1000.0, "in": {...}}``: a message the client received (from the client's
  view), as JSON; ``{"t": ..., "out": {...}}``: a message the client sent.  A message
  that is not JSON is ``{"t": ..., "in": "...", "encoding": "text"}`` (the exact text)
  or ``"encoding": "base64"`` (the exact bytes, e.g. invalid UTF-8).  ``"unsent": true``
  marks an ``out`` message the machine queued but the connection ended before it went
  out (informational);
* ``{"t": ..., "send": "Subscribe", "fields": {...}, "id": 3}``: the user passed that
  command to ``send`` (``id``, optional, is the request id it must return);
* ``{"t": ..., "connection": "made"}`` / ``"lost"``: the transport came up / went away;
* ``{"t": ..., "expect": "BookGap", "fields": {...}}``: the client reported an event of
  that type whose fields include ``fields`` (objects match as subsets, recursively;
  everything else by equal JSON value).  Besides the machine's events there are three
  pseudo-events: ``RemoteProtocolError`` and ``LocalProtocolError`` (a driving call
  raised; field ``message``) and ``CloseRequest`` (the machine asked for the close;
  ``code``, ``reason``, ``abort``).  ``t`` is optional here;
* ``{"comment": "..."}``: ignored.

Replay
======

:func:`replay` builds a fresh client from the header and walks the lines in order.  Each
line's ``t`` first moves the clock there, firing every deadline on the way
(``handle_timer`` at exactly ``next_deadline()``).  Then:

* ``in``: the message is fed (``receive_message``); ``send`` and ``connection`` lines
  call ``send`` / ``connection_made`` / ``connection_lost``.  Before any of these, the
  client must have sent nothing the transcript does not list, and reported no
  strict-type event the transcript does not expect;
* ``out``: the next message the client sent must equal it: the same JSON value (object
  key order aside, since it has no meaning on these wires; numbers keep their type, so
  ``10`` is not ``10.0``), or the same bytes for a ``text`` / ``base64`` line.  When the
  header has the client's secret redacted, an expected ``"<redacted>"`` string matches
  any value at that place;
* ``expect``: the events reported since the last message, send or connection line are
  searched in order for a match; other events before it are passed over, unless their
  type is strict (then the order is wrong).

The first difference ends the replay, reported as a :class:`Mismatch` naming the line,
what the transcript expects and what the client did.  A file that is not a transcript
raises :class:`TranscriptError` instead.
"""

from tradewire.protocol import MASK

from ._transcript_compare import describe_event, json_difference
from ._transcript_format import (
    FORMAT_VERSION,
    PSEUDO_EVENTS,
    Connection,
    Expect,
    Header,
    Line,
    Message,
    Send,
    Transcript,
    TranscriptError,
    VenueAdapter,
)
from ._transcript_recorder import Recorder, RecordingMachine
from ._transcript_replay import Mismatch, ReplayMismatch, ReplayReport, replay

__all__ = [
    "FORMAT_VERSION",
    "MASK",
    "PSEUDO_EVENTS",
    "Connection",
    "Expect",
    "Header",
    "Line",
    "Message",
    "Mismatch",
    "Recorder",
    "RecordingMachine",
    "ReplayMismatch",
    "ReplayReport",
    "Send",
    "Transcript",
    "TranscriptError",
    "VenueAdapter",
    "describe_event",
    "json_difference",
    "replay",
]
