"""The Deribit transcript adapter: a ``ClientProtocol`` from a header, commands as lines.

The header's ``client`` object is described in
:mod:`tradewire.conformance.deribit._transcripts`; replaying needs only this module and
the venue-neutral runner.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.protocol import Command, CounterIds, Secret
from tradewire.protocol.deribit import (
    COMMANDS,
    DEFAULT_RATE_LIMITS,
    Auth,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    ClientProtocol,
    Credentials,
    GenericRequest,
    RateLimits,
    Subscribe,
    Unsubscribe,
    UnsubscribeAll,
    dec_hook,
)

from .._transcripts import MASK, Header, ReplayReport, Transcript, replay

__all__ = ["DeribitTranscripts", "replay_transcript", "_OPTION_NAMES"]

_COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls for cls in COMMANDS.values() if cls is not Auth
}
_COMMAND_TYPES.update(
    {
        cls.__name__: cls
        for cls in (
            AuthClientCredentials,
            AuthClientSignature,
            AuthRefreshToken,
            GenericRequest,
            Subscribe,
            Unsubscribe,
            UnsubscribeAll,
        )
    }
)

_OPTION_NAMES = (
    "request_timeout",
    "heartbeat_interval",
    "heartbeat_grace",
    "refresh_fraction",
    "max_channels_per_request",
    "maintain_books",
    "max_book_levels",
    "max_pending",
    "max_outbound",
    "max_events",
    "max_subscriptions",
)
_CLIENT_KEYS = frozenset(
    {"credentials", "scope", "ids", "nonces", "epoch_offset", "rate_limits", *_OPTION_NAMES}
)


def _reveal(obj: Any) -> Any:
    if isinstance(obj, Secret):
        return obj.reveal()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


class _Replayed:
    """Returns the values a recorded session drew, in order."""

    def __init__(self, values: list[Any], what: str) -> None:
        self.values = list(values)
        self.what = what
        self.next = 0

    def __call__(self) -> Any:
        if self.next >= len(self.values):
            raise ValueError(f"the transcript's recorded {self.what} are used up")
        value = self.values[self.next]
        self.next += 1
        return value


def _client_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(config) - _CLIENT_KEYS)
    if unknown:
        raise ValueError(f"unknown client option {unknown[0]!r}")
    kwargs: dict[str, Any] = {name: config[name] for name in _OPTION_NAMES if name in config}
    creds = config.get("credentials")
    if creds is not None:
        if not isinstance(creds, dict):
            raise ValueError("credentials must be an object")
        secret = creds.get("client_secret")
        fields = {**creds, "client_secret": MASK if secret is None else secret}
        kwargs["credentials"] = msgspec.convert(fields, Credentials, dec_hook=dec_hook)
    if config.get("scope") is not None:
        kwargs["scope"] = config["scope"]
    if "epoch_offset" in config:
        kwargs["epoch_offset"] = config["epoch_offset"]
    ids = config.get("ids", 1)
    if isinstance(ids, int) and not isinstance(ids, bool):
        kwargs["ids"] = CounterIds(ids)
    elif isinstance(ids, list):
        kwargs["ids"] = _Replayed(ids, "ids")
    else:
        raise ValueError("ids must be the first id of a counter or a list of ids")
    nonces = config.get("nonces")
    if isinstance(nonces, list):
        kwargs["nonces"] = _Replayed(nonces, "nonces")
    elif nonces is not None:
        raise ValueError("nonces must be null or a list of strings")
    limits = config.get("rate_limits", "default")
    if limits == "default":
        kwargs["rate_limits"] = DEFAULT_RATE_LIMITS
    elif limits is None:
        kwargs["rate_limits"] = None
    else:
        kwargs["rate_limits"] = msgspec.convert(limits, RateLimits)
    return kwargs


class DeribitTranscripts:
    """The Deribit :class:`~tradewire.conformance._transcripts.VenueAdapter`."""

    venue = "deribit"

    def build_client(self, header: Header) -> ClientProtocol:
        try:
            return ClientProtocol(**_client_kwargs(header.client))
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None

    def decode_command(self, name: str, fields: dict[str, Any]) -> Command:
        command_type = _COMMAND_TYPES.get(name)
        if command_type is None:
            raise ValueError(f"unknown command type {name!r}")
        try:
            command: Command = msgspec.convert(fields, command_type, dec_hook=dec_hook)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None
        return command

    def encode_command(self, command: Command) -> tuple[str, dict[str, Any]]:
        fields: dict[str, Any] = msgspec.to_builtins(command, enc_hook=_reveal)
        return type(command).__name__, fields

    def redacted(self, header: Header) -> bool:
        creds = header.client.get("credentials")
        return isinstance(creds, dict) and creds.get("client_secret") is None


def replay_transcript(text: str | bytes | Transcript) -> ReplayReport:
    """Replay Deribit transcript ``text`` against a fresh ``ClientProtocol``.

    Raises :class:`~tradewire.conformance._transcripts.TranscriptError` when the text is
    not a Deribit transcript; a difference is the report's ``mismatch``::

        report = replay_transcript(path.read_text())
        report.check()  # raises ReplayMismatch naming the line
    """
    return replay(text, DeribitTranscripts())
