"""Deriv's entry in the venue registry (see :mod:`tradewire.bindings._venue_spec`).

Topics are the client machine's stream names (``tradewire.protocol.deriv._topics``):
``ticks.R_50``, ``ticks_history.R_50``, ``candles.R_50.60``, ``balance``,
``transaction``, ``proposal_open_contract[.ID]``, ``website_status``, or ``CALL:{JSON}``
for any other stream request.  The credential is one API token (``--client-secret
TOKEN``); the reference venue's demo token is ``tradewire-demo-token``.  Stream lines use
the common format's ``EVENT TOPIC JSON`` form: the message class and its payload, e.g.
``TickMessage ticks.R_50 {"epoch":...,"quote":...}``.
"""

from __future__ import annotations

from typing import Any, TextIO

import msgspec

from tradewire.conformance._transcripts import VenueAdapter
from tradewire.protocol import ClientMachine, Event, LocalProtocolError, Secret, deriv

from ._venue_spec import ReferenceOptions, ReferenceVenue, URLShape, VenueEntry

__all__ = ["DEMO_TOKEN", "ENTRY", "QUERY"]

DEMO_TOKEN = "tradewire-demo-token"
QUERY = "app_id=1089&l=EN&brand="
_ENCODER = msgspec.json.Encoder(enc_hook=str)


def _client(*, credentials: Secret | str | None = None, **options: Any) -> ClientMachine:
    return deriv.ClientProtocol(token=credentials, **options)


def _credentials(client_id: str, secret: Secret) -> Secret:
    return secret


def _subscribe(topics: Any) -> deriv.Subscribe:
    return deriv.Subscribe(streams=list(topics))


def _check(topic: str) -> bool:
    try:
        command = deriv.parse_topic(topic)
    except LocalProtocolError as exc:
        raise LocalProtocolError(" ".join(str(exc).split())) from None
    return deriv.stream_type(command) in deriv.PRIVATE_STREAM_TYPES


def _reference(options: ReferenceOptions) -> ReferenceVenue:
    from tradewire.conformance.deriv import DerivVenue, VenueConfig

    start_ms = round((options.now + options.epoch_offset) * 1000)
    config = options.market if isinstance(options.market, VenueConfig) else VenueConfig()
    config = msgspec.structs.replace(config, seed=options.seed, start_ms=start_ms)
    return DerivVenue(config, now=options.now, faults=options.faults)


def _connections(venue: Any) -> Any:
    return venue.websocket_connection  # WebSocket only (no REST)


def _transcripts() -> VenueAdapter:
    from tradewire.conformance.deriv import DerivTranscripts

    return DerivTranscripts()


def _lines(event: Event, machine: ClientMachine) -> list[str] | None:
    topic = getattr(event, "topic", None)
    if not isinstance(event, deriv.DerivMessage) or topic is None:
        return None  # session events and plain replies: status lines on stderr
    payload = getattr(event, type(event).msg_type, None)
    body = _ENCODER.encode(msgspec.to_builtins(payload, enc_hook=str)).decode()
    return [f"{type(event).__name__} {topic} {body}"]


async def run_demo(seed: int, out: TextIO) -> int:
    from ._cli_demo_deriv import demo

    return await demo(seed, out)


ENTRY = VenueEntry(
    name="deriv",
    title="Deriv",
    client=_client,
    credentials=_credentials,
    subscribe=_subscribe,
    check_topic=_check,
    urls=URLShape(ws_path="/websockets/v3", ws_query=QUERY),
    lines=_lines,
    reference=_reference,
    connections=_connections,
    transcripts=_transcripts,
    demo=("", DEMO_TOKEN),
    secret_only=True,
    run_demo=run_demo,
)
"""Deriv: WebSocket API v3 at ``/websockets/v3`` (the root), ``app_id`` in the query."""
