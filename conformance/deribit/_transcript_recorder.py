"""The Deribit recorder: a recording ``ClientProtocol`` whose header pins what varies.

The ids and nonces the session draws are kept, so the header lets a replay draw the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.protocol import CounterIds, Event
from tradewire.protocol.deribit import DEFAULT_RATE_LIMITS, ClientOptions, ClientProtocol

from .._transcripts import MASK, PSEUDO_EVENTS, Header, Recorder
from ._transcript_adapter import _OPTION_NAMES, DeribitTranscripts

__all__ = ["STRICT_EVENTS", "VENUE_VERSION", "DeribitRecorder"]

VENUE_VERSION = "v2"

STRICT_EVENTS: tuple[str, ...] = (
    "Authenticated",
    "AuthenticationFailed",
    "BookGap",
    "BookResynced",
    "BookCrossed",
    "HeartbeatTimeout",
    "HeartbeatUnavailable",
    "LoggedOut",
    "UnmatchedError",
    "RequestSucceeded",
    "RequestFailed",
    "SubscriptionActive",
    "SubscriptionRejected",
    "SubscriptionEnded",
    *PSEUDO_EVENTS,
)
"""What a Deribit recording expects and checks exhaustively: every event the client
reports about its session (requests, subscriptions, auth, liveness, books), not the
channel notifications, which the ``in`` lines already hold."""


class _Drawn:
    """Wraps an id or nonce source and keeps what it returned."""

    def __init__(self, source: Callable[[], Any]) -> None:
        self.source = source
        self.values: list[Any] = []

    def __call__(self) -> Any:
        value = self.source()
        self.values.append(value)
        return value


def _ids_json(drawn: _Drawn, counter_start: int | None) -> Any:
    values = drawn.values
    if counter_start is not None and values == list(
        range(counter_start, counter_start + len(values))
    ):
        return counter_start
    return values


def _redact_auth(value: Any) -> Any:
    """``out`` value with the secret and the signature of ``public/auth`` masked."""
    if isinstance(value, dict) and value.get("method") == "public/auth":
        params = value.get("params")
        if isinstance(params, dict):
            hidden = {k: MASK for k in ("client_secret", "signature") if k in params}
            if hidden:
                return {**value, "params": {**params, **hidden}}
    return value


class DeribitRecorder(Recorder):
    """Record a ``ClientProtocol`` session (see the module docstring).

    Takes the ``ClientProtocol`` options; ``ids`` and ``nonces`` sources are wrapped so
    the values the session draws are pinned in the header.  ``include_secret=False``
    (the default) leaves the API secret out of the file and masks it, and the
    signature, in ``out`` lines; ``True`` keeps both, for test keys, so replay is byte
    for byte.  ``expect_notifications`` also writes an ``expect`` line per channel
    notification (by default only :data:`STRICT_EVENTS` get one)::

        recorder = DeribitRecorder(credentials=creds, description="my flow")
        stack = WebSocketClientStack(recorder.machine, host=..., rng=random.Random(1))
        ...  # drive the stack
        text = recorder.dumps()
    """

    def __init__(
        self,
        *,
        description: str | None = None,
        server: str | None = None,
        library: str | None = None,
        include_secret: bool = False,
        expect_notifications: bool = False,
        **options: Any,
    ) -> None:
        checked = ClientOptions(**options)
        user_ids = options.get("ids")
        self._ids = _Drawn(user_ids if user_ids is not None else CounterIds())
        self._counter_start = 1 if user_ids is None else None
        user_nonces = options.get("nonces")
        self._nonces = _Drawn(user_nonces) if user_nonces is not None else None
        self.client = ClientProtocol(**{**options, "ids": self._ids, "nonces": self._nonces})
        self.options = checked
        self.include_secret = include_secret
        self._meta = {"description": description, "server": server, "library": library}
        wanted = frozenset(STRICT_EVENTS)

        def expects(event: Event) -> bool:
            return expect_notifications or type(event).__name__ in wanted

        super().__init__(
            self.client,
            DeribitTranscripts(),
            self._header,
            expects=expects,
            redact=None if include_secret else _redact_auth,
        )

    def _header(self) -> Header:
        options = self.options
        client: dict[str, Any] = {}
        creds = options.credentials
        if creds is None:
            client["credentials"] = None
        else:
            client["credentials"] = {
                "client_id": creds.client_id,
                "client_secret": creds.client_secret.reveal() if self.include_secret else None,
                "grant_type": creds.grant_type,
                "data": creds.data,
            }
        client["scope"] = options.scope
        client["ids"] = _ids_json(self._ids, self._counter_start)
        client["nonces"] = None if self._nonces is None else list(self._nonces.values)
        client["epoch_offset"] = options.epoch_offset
        for name in _OPTION_NAMES:
            client[name] = getattr(options, name)
        limits = options.rate_limits
        if limits is None:
            client["rate_limits"] = None
        elif limits == DEFAULT_RATE_LIMITS:
            client["rate_limits"] = "default"
        else:
            client["rate_limits"] = msgspec.to_builtins(limits)
        return Header(
            venue="deribit",
            venue_version=VENUE_VERSION,
            server=self._meta["server"],
            library=self._meta["library"],
            description=self._meta["description"],
            client=client,
            strict=STRICT_EVENTS,
        )
