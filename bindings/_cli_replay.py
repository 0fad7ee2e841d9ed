"""``tradewire replay FILE``: replay a recorded transcript against a fresh client machine.

The transcript format and what a replay checks are in
:mod:`tradewire.conformance._transcripts`; the header names the venue (looked up in the
venue registry, ``tradewire.bindings._venues``, for its transcript adapter), whose client
machine is built from the header's pinned configuration.  The transcripts the package
ships (Deribit's canonical flows) are in ``tradewire/conformance/deribit/transcripts/``
of the installed package (``conformance/deribit/transcripts/`` in a checkout).  Output
and exit codes:

* ``0``: the client did exactly what the transcript says; one summary line on stdout
  (messages in and out, commands sent, expectations met);
* ``1``: it did not; the first mismatch on stdout (the line, what the transcript
  expects, what the client did), a few lines, no traceback;
* ``2``: the file is missing, unreadable or not a transcript (of a known venue); one
  line on stderr, ``tradewire replay: error: ...``.

``FILE`` may be ``-`` for standard input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradewire.conformance._transcripts import Transcript, TranscriptError, VenueAdapter, replay

from ._venues import REGISTRY

__all__ = ["adapter", "register", "run"]


def adapter(venue: str) -> VenueAdapter:
    """The transcript adapter of ``venue`` (the header's ``venue``); a
    :class:`TranscriptError` naming the venues that have one."""
    found = REGISTRY.get(venue)
    if found is None or found.transcripts is None:
        known = ", ".join(name for name, e in REGISTRY.items() if e.transcripts is not None)
        raise TranscriptError(f"unknown venue {venue!r:.40}; known: {known}", 1)
    return found.transcripts()


PROG = "tradewire replay"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "replay",
        help="replay a transcript against a fresh client machine",
        description="Replay a JSON-lines transcript against a fresh client machine under a "
        "fake clock and report the first difference. Exit 0: it matched; 1: a mismatch; "
        "2: not a readable transcript.",
    )
    parser.add_argument("file", metavar="FILE", help="the transcript (.jsonl); '-' for stdin")
    parser.set_defaults(run=run)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    name: str = args.file
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {name}: {exc.strerror or exc}")
    try:
        transcript = Transcript.loads(data)
        report = replay(transcript, adapter(transcript.header.venue))
    except TranscriptError as exc:
        return _fail(f"{name}: not a valid transcript: {exc}")
    if report.mismatch is None:
        print(f"{name}: {report.summary()}")
        return 0
    print(f"{name}: mismatch at {report.mismatch}")
    return 1
