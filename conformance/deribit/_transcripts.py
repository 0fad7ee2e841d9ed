"""Deribit transcripts: record a ``ClientProtocol`` session, replay it, the canonical flows.

The format and the runner are venue-neutral (:mod:`tradewire.conformance._transcripts`);
this module is Deribit's part:

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

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import msgspec

from tradewire.protocol import Command, CounterIds, Event, Secret, WebSocketClientStack
from tradewire.protocol.deribit import (
    COMMANDS,
    DEFAULT_RATE_LIMITS,
    Auth,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    Buy,
    Cancel,
    ClientOptions,
    ClientProtocol,
    Credentials,
    Edit,
    GenericRequest,
    GetTicker,
    RateLimits,
    Sell,
    Subscribe,
    Unsubscribe,
    UnsubscribeAll,
    dec_hook,
)

from .._transcripts import (
    MASK,
    PSEUDO_EVENTS,
    Header,
    Recorder,
    ReplayReport,
    Transcript,
    replay,
)
from ..market import MarketConfig
from ._config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ApiClient, VenueConfig
from ._harness import VenueHarness
from ._venue import DeribitVenue

__all__ = [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "TRANSCRIPTS",
    "DeribitRecorder",
    "DeribitTranscripts",
    "replay_transcript",
    "transcript_file",
]

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


# -- pinned sources -----------------------------------------------------------------------


class _Drawn:
    """Wraps an id or nonce source and keeps what it returned."""

    def __init__(self, source: Callable[[], Any]) -> None:
        self.source = source
        self.values: list[Any] = []

    def __call__(self) -> Any:
        value = self.source()
        self.values.append(value)
        return value


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


def _ids_json(drawn: _Drawn, counter_start: int | None) -> Any:
    values = drawn.values
    if counter_start is not None and values == list(
        range(counter_start, counter_start + len(values))
    ):
        return counter_start
    return values


# -- the adapter --------------------------------------------------------------------------


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


# -- the canonical flows ----------------------------------------------------------------

START = 1000.0
"""The flows' clock starts here (the venue's birth, ``MarketConfig.start_ms`` on the
epoch clock)."""

TAKER_ID = "tradewire-taker"
TAKER_SECRET = "tradewire-taker-secret"

_SMALL = MarketConfig(
    seed=11,
    weekly_expiries=1,
    quarterly_expiries=1,
    option_expiries=1,
    option_strikes=1,
    ticker_events=False,
)
BOOK_MARKET = msgspec.structs.replace(_SMALL, maker_levels=3, taker_rate=0.0)
"""Makers re-quote every tick (book changes), nobody trades."""
QUIET_MARKET = msgspec.structs.replace(_SMALL, maker_levels=0, taker_rate=0.0)
"""No makers, no takers: every order in the book is a flow's own."""


class _Flow:
    """One recording: the reference venue in a :class:`VenueHarness`, a recorded client."""

    def __init__(
        self, description: str, market: MarketConfig, *, taker: bool = False, **options: Any
    ) -> None:
        clients: tuple[ApiClient, ...] = (
            ApiClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET),
        )
        if taker:
            clients += (ApiClient(client_id=TAKER_ID, client_secret=TAKER_SECRET),)
        self.venue = DeribitVenue(VenueConfig(market=market, clients=clients), now=START)
        self.harness = VenueHarness(self.venue)
        self.recorder = DeribitRecorder(
            description=description,
            server=f"tradewire reference venue (DeribitVenue), MarketConfig {_market_text(market)}",
            include_secret=True,
            epoch_offset=self.venue.epoch_offset,
            **options,
        )
        self.stack = WebSocketClientStack(
            self.recorder.machine,
            host="www.deribit.test",
            rng=random.Random(7),
            ping_interval=None,
        )
        self.harness.connect(self.stack)

    @property
    def now(self) -> float:
        return self.harness.now

    def send(self, command: Command) -> None:
        self.stack.send(command, self.harness.now)
        self.harness.pump()

    def advance(self, seconds: float) -> None:
        self.harness.advance(seconds)

    def inject(self, fault: str) -> None:
        """A fault on the recorded client's connection (the newest one), now."""
        self.venue.inject(max(self.venue.sockets), fault, self.harness.now)

    def dumps(self) -> str:
        return self.recorder.dumps()


def _market_text(market: MarketConfig) -> str:
    fields = ("seed", "maker_levels", "taker_rate", "start_ms")
    return ", ".join(f"{name}={getattr(market, name)!r}" for name in fields)


def _credentials() -> Credentials:
    return Credentials(client_id=DEMO_CLIENT_ID, client_secret=Secret(DEMO_CLIENT_SECRET))


def record_book_gap_resync() -> str:
    """Auth, a private raw book and a public one, a gap on the raw one, its resync."""
    raw, public = "book.BTC-PERPETUAL.raw", "book.ETH-PERPETUAL.100ms"
    flow = _Flow(
        "auth (client_signature) and set_heartbeat; subscribe to a raw book (private, "
        "after auth) and a 100ms book (public); changes chained by prev_change_id; the "
        "venue skips a change on the raw book: BookGap, that channel alone is "
        "resubscribed (unsubscribe, subscribe), its snapshot ends the stale period "
        "(BookResynced); the other book carries on",
        BOOK_MARKET,
        credentials=_credentials(),
    )
    flow.advance(0.0625)
    flow.send(Subscribe(channels=[raw, public]))
    flow.advance(0.3)
    flow.recorder.comment("the venue skips a sequence number on the next BTC book change")
    flow.inject(f"gap:{raw}")
    flow.advance(0.4)
    return flow.dumps()


def record_order_lifecycle() -> str:
    """Buy, edit, a partial fill by another account, cancel the rest."""
    orders, trades = "user.orders.BTC-PERPETUAL.raw", "user.trades.BTC-PERPETUAL.raw"
    flow = _Flow(
        "auth; subscribe to user.orders and user.trades; buy 100 USD of BTC-PERPETUAL at "
        "59990 (limit, post_only, labelled); edit the price to 59995; another account "
        "sells 40 at market, a partial fill; cancel the rest",
        QUIET_MARKET,
        taker=True,
        credentials=_credentials(),
    )
    taker = ClientProtocol(
        credentials=Credentials(client_id=TAKER_ID, client_secret=Secret(TAKER_SECRET)),
        epoch_offset=flow.venue.epoch_offset,
        heartbeat_interval=None,
    )
    taker_stack = WebSocketClientStack(
        taker, host="www.deribit.test", rng=random.Random(8), ping_interval=None
    )
    flow.harness.connect(taker_stack)
    flow.advance(0.0625)
    flow.send(Subscribe(channels=[orders, trades]))
    flow.advance(0.0625)
    flow.send(
        Buy(
            instrument_name="BTC-PERPETUAL",
            amount=100.0,
            type="limit",
            price=59_990.0,
            label="tw-lifecycle",
            post_only=True,
        )
    )
    flow.advance(0.25)
    order_id = _last_order_id(flow)
    flow.send(Edit(order_id=order_id, amount=100.0, price=59_995.0))
    flow.advance(0.25)
    flow.recorder.comment("another account sells 40 at market into the order")
    taker_stack.send(Sell(instrument_name="BTC-PERPETUAL", amount=40.0, type="market"), flow.now)
    flow.advance(0.25)
    flow.send(Cancel(order_id=order_id))
    flow.advance(0.25)
    return flow.dumps()


def _last_order_id(flow: _Flow) -> str:
    for row in reversed(flow.recorder.rows):
        if row.get("expect") == "RequestSucceeded":
            result = row["fields"].get("result")
            if isinstance(result, dict) and isinstance(result.get("order"), dict):
                order_id = result["order"]["order_id"]
                assert isinstance(order_id, str)
                return order_id
    raise RuntimeError("the venue did not accept the order")  # pragma: no cover


def record_heartbeats() -> str:
    """set_heartbeat; heartbeat and test_request frames, each test_request answered."""
    flow = _Flow(
        "no credentials; set_heartbeat 10 s; the venue sends heartbeat and test_request "
        "frames every 10 s and the client answers each test_request with public/test; no "
        "HeartbeatTimeout",
        QUIET_MARKET,
        heartbeat_interval=10,
    )
    for _ in range(7):
        flow.advance(5.0)
    return flow.dumps()


def record_reconnect() -> str:
    """Connection lost with a request in flight, reconnect, re-auth, exact resubscribe."""
    book, orders = "book.BTC-PERPETUAL.100ms", "user.orders.BTC-PERPETUAL.raw"
    flow = _Flow(
        "auth; subscribe to a public book and a private channel; a ticker request is on "
        "the wire when the venue drops the connection (RequestFailed: ConnectionLost); the "
        "stack reconnects; the client logs in again, resubscribes the public channel at "
        "once and the private one once authenticated, exactly the desired set; the book "
        "starts again from a snapshot (BookResynced)",
        BOOK_MARKET,
        credentials=_credentials(),
    )
    flow.advance(0.0625)
    flow.send(Subscribe(channels=[book, orders]))
    flow.advance(0.2)
    flow.stack.send(GetTicker(instrument_name="BTC-PERPETUAL"), flow.now)
    flow.recorder.comment("the venue drops the connection before it reads the ticker request")
    flow.inject("disconnect")
    flow.advance(0.5)
    return flow.dumps()


CANONICAL_FLOWS: Mapping[str, Callable[[], str]] = {
    "book_gap_resync": record_book_gap_resync,
    "order_lifecycle": record_order_lifecycle,
    "heartbeats": record_heartbeats,
    "reconnect": record_reconnect,
}
"""Name -> a function recording the flow again; ``transcripts/{name}.jsonl`` holds it."""

TRANSCRIPTS = "transcripts"
"""The folder of this package that holds the canonical transcripts."""


def transcript_file(name: str) -> Traversable:
    """The checked-in transcript of canonical flow ``name`` (read it with ``read_text``)."""
    if name not in CANONICAL_FLOWS:
        raise KeyError(f"unknown flow {name!r}; known: {', '.join(CANONICAL_FLOWS)}")
    return files(__package__ or "tradewire.conformance.deribit") / TRANSCRIPTS / f"{name}.jsonl"
