"""Rails transcripts: the adapter (a ``ClientProtocol`` from a header) and the recorder.

The format and the runner are venue-neutral (:mod:`tradewire.conformance._transcripts`).
The header's ``client`` object is the ``rails.ClientProtocol`` configuration with what
would vary pinned::

    "client": {"market": "BTC-USD", "ids": ["0b1e...", ...], "token": "<redacted>",
               "token_expires_in": 1800.0, "subscriptions": ["publicOrderBook"],
               "renew_fraction": 0.8, "token_wait": 60.0, "ping_interval": 30.0,
               "pong_timeout": 10.0, "order_rate": 90.0, "cancel_confirmed": true,
               "legacy_requests": false, "path": "/", "request_timeout": 10.0, ...}

``ids`` is the list of ``clientRequestId`` values the session drew (UUIDs from its
source).  Tokens never appear: the header's ``token`` and a ``UseToken`` line's
``token`` are ``"<redacted>"`` (a replay gives the machine a stand-in: the token only
ever goes into the upgrade request, which a transcript does not hold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.protocol import Command, Event, Secret
from tradewire.protocol.rails import (
    CancelOrder,
    ClientOptions,
    ClientProtocol,
    CreateOrder,
    EmitPublicOrderBook,
    EmitPublicTrades,
    GenericRequest,
    ModifyOrder,
    Ping,
    Subscribe,
    Unsubscribe,
    UseToken,
)

from .._transcripts import MASK, PSEUDO_EVENTS, Header, Recorder, ReplayReport, Transcript, replay

__all__ = [
    "STRICT_EVENTS",
    "VENUE_VERSION",
    "RailsRecorder",
    "RailsTranscripts",
    "replay_transcript",
]

VENUE_VERSION = "websocket-v2"

STRICT_EVENTS: tuple[str, ...] = (
    "RequestSucceeded",
    "RequestFailed",
    "RequestAccepted",
    "SubscriptionActive",
    "SubscriptionRejected",
    "SubscriptionEnded",
    "BookResynced",
    "BookCrossed",
    "TokenWanted",
    "UpgradeRefused",
    "PongTimeout",
    "HeartbeatTimeout",
    *PSEUDO_EVENTS,
)
"""What a Rails recording expects and checks exhaustively: every event about the
session (requests and their 202s, subscriptions, books, the token, liveness), not the
stream messages, which the ``in`` lines already hold."""

_COMMANDS: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (
        CancelOrder,
        CreateOrder,
        EmitPublicOrderBook,
        EmitPublicTrades,
        GenericRequest,
        ModifyOrder,
        Ping,
        Subscribe,
        Unsubscribe,
        UseToken,
    )
}
_OPTION_NAMES = (
    "market",
    "token_expires_in",
    "renew_fraction",
    "token_wait",
    "subscriptions",
    "ping_interval",
    "pong_timeout",
    "order_rate",
    "cancel_confirmed",
    "legacy_requests",
    "path",
    "request_timeout",
    "maintain_books",
    "max_book_levels",
    "max_pending",
    "max_outbound",
    "max_events",
    "max_subscriptions",
)
_CLIENT_KEYS = frozenset({"ids", "token", *_OPTION_NAMES})
_STAND_IN = "replayed.token.stand-in"


class _Replayed:
    """Returns the ids a recorded session drew, in order."""

    def __init__(self, values: list[Any]) -> None:
        self.values = list(values)
        self.next = 0

    def __call__(self) -> Any:
        if self.next >= len(self.values):
            raise ValueError("the transcript's recorded ids are used up")
        value = self.values[self.next]
        self.next += 1
        return value


class _Drawn:
    """Wraps an id source and keeps what it returned."""

    def __init__(self, source: Callable[[], Any]) -> None:
        self.source = source
        self.values: list[Any] = []

    def __call__(self) -> Any:
        value = self.source()
        self.values.append(value)
        return value


def _client_options(config: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(config) - _CLIENT_KEYS)
    if unknown:
        raise ValueError(f"unknown client option {unknown[0]!r}")
    options: dict[str, Any] = {name: config[name] for name in _OPTION_NAMES if name in config}
    if "subscriptions" in options:
        options["subscriptions"] = tuple(options["subscriptions"])
    ids = config.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be the list of clientRequestIds the session drew")
    options["ids"] = _Replayed(ids)
    token = config.get("token")
    options["token"] = None if token is None else Secret(_STAND_IN)
    return options


class RailsTranscripts:
    """The Rails :class:`~tradewire.conformance._transcripts.VenueAdapter`."""

    venue = "rails"

    def build_client(self, header: Header) -> ClientProtocol:
        try:
            return ClientProtocol(**_client_options(header.client))
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None

    def decode_command(self, name: str, fields: dict[str, Any]) -> Command:
        command_type = _COMMANDS.get(name)
        if command_type is None:
            raise ValueError(f"unknown command type {name!r}")
        if command_type is UseToken and fields.get("token") == MASK:
            fields = {**fields, "token": _STAND_IN}
        try:
            return msgspec.convert(fields, command_type, dec_hook=_dec_hook)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None

    def encode_command(self, command: Command) -> tuple[str, dict[str, Any]]:
        fields: dict[str, Any] = msgspec.to_builtins(command, enc_hook=_masked)
        return type(command).__name__, fields

    def redacted(self, header: Header) -> bool:
        return False  # no credential is ever in a Rails message


def _masked(obj: Any) -> Any:
    if isinstance(obj, Secret):
        return MASK
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is Secret and isinstance(value, str):
        return Secret(value)
    raise NotImplementedError(f"cannot decode {kind!r}")


class RailsRecorder(Recorder):
    """Record a ``rails.ClientProtocol`` session; takes its options (``ids`` is
    required, as for the machine, and the ids it draws are pinned in the header)::

        recorder = RailsRecorder(market="BTC-USD", ids=UuidIds(random.Random(1)))
        stack = WebSocketClientStack(recorder.machine, host=..., rng=random.Random(1))
        ...  # drive the stack; give it a token with UseToken
        text = recorder.dumps()
    """

    def __init__(
        self,
        *,
        description: str | None = None,
        server: str | None = None,
        library: str | None = None,
        expect_notifications: bool = False,
        **options: Any,
    ) -> None:
        self.options = ClientOptions(**options)
        assert self.options.ids is not None
        self._ids = _Drawn(self.options.ids)
        self.client = ClientProtocol(**{**options, "ids": self._ids})
        self._meta = {"description": description, "server": server, "library": library}
        wanted = frozenset(STRICT_EVENTS)

        def expects(event: Event) -> bool:
            return expect_notifications or type(event).__name__ in wanted

        super().__init__(self.client, RailsTranscripts(), self._header, expects=expects)

    def _header(self) -> Header:
        options = self.options
        client: dict[str, Any] = {"ids": list(self._ids.values)}
        client["token"] = None if options.token is None else MASK
        for name in _OPTION_NAMES:
            value = getattr(options, name)
            client[name] = list(value) if isinstance(value, tuple) else value
        return Header(
            venue="rails",
            venue_version=VENUE_VERSION,
            server=self._meta["server"],
            library=self._meta["library"],
            description=self._meta["description"],
            client=client,
            strict=STRICT_EVENTS,
        )


def replay_transcript(text: str | bytes | Transcript) -> ReplayReport:
    """Replay Rails transcript ``text`` against a fresh ``ClientProtocol``.

    Raises :class:`~tradewire.conformance._transcripts.TranscriptError` when the text is
    not a Rails transcript; a difference is the report's ``mismatch``.
    """
    return replay(text, RailsTranscripts())
