"""Deriv transcripts: record a ``deriv.ClientProtocol`` session, replay it, the canonical flows.

The format and the runner are venue-neutral (:mod:`tradewire.conformance._transcripts`);
this is Deriv's part:

* :class:`DerivTranscripts`, the adapter.  The header's ``client`` object is the
  ``ClientProtocol`` configuration with what varies pinned::

    "client": {"token": "tradewire-demo-token", "app_id": 1089, "ids": 1,
               "rate_limits": "default", "ping_interval": 30.0, "pong_timeout": 5.0,
               "new_api": false, "request_timeout": 10.0, ...}

  ``ids`` is the first id of a counter or the list drawn; ``rate_limits`` is
  ``"default"`` or ``null``; ``token_redacted: true`` means the token was left out: the
  replay authorizes with a stand-in and ``out`` lines hold ``"<redacted>"`` where it was.
  Streams in ``Subscribe`` / ``Unsubscribe`` lines are written as their topics;
* :class:`DerivRecorder`: a recording client; drive :attr:`~DerivRecorder.machine`;
* :func:`replay_transcript`, :func:`transcript_file`;
* :data:`CANONICAL_FLOWS`, recorded against the reference venue in a harness:
  ``authorize_ticks_reconnect`` (authorize, tick and tick-history streams and the balance
  stream, a dropped connection, authorize again, the same streams with new ids),
  ``proposal_buy_sell`` (a proposal stream, buy it, the open-contract stream, sell, the
  final message), ``forget_all`` (``forget`` of one stream, ``forget_all`` of a type),
  ``errors`` (an unknown symbol, a bad stake, an unknown proposal, an unrecognised call,
  a refused token).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import msgspec

from tradewire.protocol import Command, CounterIds, Event, WebSocketClientStack
from tradewire.protocol import deriv as d

from .._transcripts import MASK, PSEUDO_EVENTS, Header, Recorder, ReplayReport, Transcript, replay
from ._config import DEMO_TOKEN, VenueConfig
from ._harness import VenueHarness
from ._venue import DerivVenue

__all__ = [
    "CANONICAL_FLOWS",
    "STRICT_EVENTS",
    "TRANSCRIPTS",
    "DerivRecorder",
    "DerivTranscripts",
    "replay_transcript",
    "transcript_file",
]

STAND_IN = "redacted-token"
_OPTIONS = (
    "app_id",
    "language",
    "brand",
    "path",
    "new_api",
    "ping_interval",
    "pong_timeout",
    "request_timeout",
    "max_pending",
    "max_outbound",
    "max_events",
    "max_subscriptions",
)
_KEYS = frozenset({"token", "token_redacted", "ids", "rate_limits", *_OPTIONS})
_COMMANDS: dict[str, type[Command]] = {cls.__name__: cls for cls in d.COMMANDS.values()}
_COMMANDS.update({cls.__name__: cls for cls in (d.Subscribe, d.Unsubscribe, d.GenericCommand)})

STRICT_EVENTS: tuple[str, ...] = (
    "Authorized",
    "AuthenticationFailed",
    "PongTimeout",
    "UnmatchedError",
    "RequestSucceeded",
    "RequestFailed",
    "SubscriptionActive",
    "SubscriptionRejected",
    "SubscriptionEnded",
    *PSEUDO_EVENTS,
)
"""Events a Deriv recording expects exhaustively (stream messages are in the ``in`` lines)."""


def _reveal(obj: Any) -> Any:
    reveal = getattr(obj, "reveal", None)
    if reveal is not None:
        return reveal()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


class _Replayed:
    def __init__(self, values: list[Any]) -> None:
        self.values = list(values)
        self.next = 0

    def __call__(self) -> Any:
        if self.next >= len(self.values):
            raise ValueError("the transcript's recorded ids are used up")
        value = self.values[self.next]
        self.next += 1
        return value


class DerivTranscripts:
    """The Deriv :class:`~tradewire.conformance._transcripts.VenueAdapter`."""

    venue = "deriv"

    def build_client(self, header: Header) -> d.ClientProtocol:
        config = header.client
        unknown = sorted(set(config) - _KEYS)
        if unknown:
            raise ValueError(f"unknown client option {unknown[0]!r}")
        kwargs: dict[str, Any] = {k: config[k] for k in _OPTIONS if k in config}
        kwargs["token"] = STAND_IN if self.redacted(header) else config.get("token")
        ids = config.get("ids", 1)
        if isinstance(ids, int) and not isinstance(ids, bool):
            kwargs["ids"] = CounterIds(ids)
        elif isinstance(ids, list):
            kwargs["ids"] = _Replayed(ids)
        else:
            raise ValueError("ids must be the first id of a counter or a list of ids")
        limits = config.get("rate_limits", "default")
        kwargs["rate_limits"] = d.DEFAULT_RATE_LIMITS if limits == "default" else None
        try:
            return d.ClientProtocol(**kwargs)
        except (msgspec.ValidationError, TypeError) as exc:
            raise ValueError(str(exc)) from None

    def decode_command(self, name: str, fields: dict[str, Any]) -> Command:
        command_type = _COMMANDS.get(name)
        if command_type is None:
            raise ValueError(f"unknown command type {name!r}")
        try:
            command: Command = msgspec.convert(fields, command_type, dec_hook=d.dec_hook)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None
        return command

    def encode_command(self, command: Command) -> tuple[str, dict[str, Any]]:
        if isinstance(command, d.Subscribe | d.Unsubscribe):
            streams = [s if isinstance(s, str) else d.topic_of(s) for s in command.streams]
            return type(command).__name__, {"streams": streams}
        fields: dict[str, Any] = msgspec.to_builtins(command, enc_hook=_reveal)
        return type(command).__name__, fields

    def redacted(self, header: Header) -> bool:
        return header.client.get("token_redacted") is True


def _redact(value: Any) -> Any:
    if isinstance(value, dict) and "authorize" in value:
        return {**value, "authorize": MASK}
    return value


class _Drawn:
    def __init__(self) -> None:
        self.source = CounterIds()
        self.values: list[Any] = []

    def __call__(self) -> Any:
        value = self.source()
        self.values.append(value)
        return value


class DerivRecorder(Recorder):
    """Record a ``deriv.ClientProtocol`` session (see the module docstring).

    Takes the ``ClientProtocol`` options; ``include_token=False`` leaves the token out of
    the file (``out`` lines hold ``"<redacted>"``); the demo token of the reference venue
    may be kept (``True``) so replay is byte for byte.
    """

    def __init__(
        self,
        *,
        description: str | None = None,
        server: str | None = None,
        include_token: bool = False,
        **options: Any,
    ) -> None:
        self.options = d.ClientOptions(**options)
        self._ids = _Drawn()
        self.client = d.ClientProtocol(**{**options, "ids": self._ids})
        self.include_token = include_token
        self._meta = (description, server)
        wanted = frozenset(STRICT_EVENTS)

        def expects(event: Event) -> bool:
            return type(event).__name__ in wanted

        super().__init__(
            self.client,
            DerivTranscripts(),
            self._header,
            expects=expects,
            redact=None if include_token else _redact,
        )

    def _header(self) -> Header:
        options = self.options
        client: dict[str, Any] = {}
        token = options.token
        client["token"] = token.reveal() if token is not None and self.include_token else None
        client["token_redacted"] = token is not None and not self.include_token
        values = self._ids.values
        client["ids"] = 1 if values == list(range(1, len(values) + 1)) else values
        client["rate_limits"] = "default" if options.rate_limits == d.DEFAULT_RATE_LIMITS else None
        for name in _OPTIONS:
            client[name] = getattr(options, name)
        return Header(
            venue="deriv",
            venue_version="v3",
            server=self._meta[1],
            library=None,
            description=self._meta[0],
            client=client,
            strict=STRICT_EVENTS,
        )


def replay_transcript(text: str | bytes | Transcript) -> ReplayReport:
    """Replay Deriv transcript ``text`` against a fresh ``deriv.ClientProtocol``."""
    return replay(text, DerivTranscripts())


# -- the canonical flows ---------------------------------------------------------------------

START = 1000.0


class _Flow:
    def __init__(self, description: str, **options: Any) -> None:
        self.venue = DerivVenue(VenueConfig(seed=5), now=START)
        self.harness = VenueHarness(self.venue)
        options.setdefault("token", DEMO_TOKEN)
        self.recorder = DerivRecorder(
            description=description,
            server="tradewire reference venue (DerivVenue), seed 5",
            include_token=True,
            **options,
        )
        self.stack = WebSocketClientStack(
            self.recorder.machine, host="ws.derivws.test", rng=random.Random(7), ping_interval=None
        )
        self.link = self.harness.connect(self.stack)
        self.seen: list[Event] = []

    def send(self, command: Command) -> None:
        self.stack.send(command, self.harness.now)
        self.harness.pump()

    def advance(self, seconds: float) -> None:
        self.harness.advance(seconds)

    def last(self, kind: type[Any]) -> Any:
        self.seen.extend(self.link.take_client_events())
        found = [e for e in self.seen if isinstance(e, kind)]
        return found[-1]

    def result(self, kind: type[Any]) -> Any:
        from tradewire.protocol import RequestSucceeded

        self.seen.extend(self.link.take_client_events())
        done = [
            e.result
            for e in self.seen
            if isinstance(e, RequestSucceeded) and isinstance(e.result, kind)
        ]
        return done[-1]


_CALL = d.Proposal(
    contract_type="CALL",
    currency="USD",
    symbol="R_100",
    amount=10,
    basis="stake",
    duration=5,
    duration_unit="t",
)


def record_authorize_ticks_reconnect() -> str:
    flow = _Flow(
        "authorize, ticks, ticks_history and balance streams, a dropped connection, "
        "authorize again, the same streams with new ids"
    )
    flow.advance(0.2)
    flow.send(d.Subscribe(streams=["ticks.R_50", "ticks_history.1HZ100V", "balance"]))
    flow.advance(3.0)
    flow.send(d.Time())
    flow.venue.inject(max(flow.venue.sockets), "disconnect", flow.harness.now)
    flow.advance(4.0)
    return flow.recorder.dumps()


def record_proposal_buy_sell() -> str:
    flow = _Flow("a proposal stream, buy it, the open-contract stream, sell, the final message")
    flow.advance(0.2)
    flow.send(d.Subscribe(streams=[_CALL]))
    flow.advance(2.0)
    proposal = flow.last(d.ProposalMessage).proposal
    flow.send(d.Buy(buy=proposal.id, price=proposal.ask_price))
    flow.advance(0.1)
    contract_id = flow.result(d.BuyResult).contract_id
    flow.send(d.Subscribe(streams=[f"proposal_open_contract.{contract_id}"]))
    flow.advance(2.0)
    flow.send(d.Sell(sell=contract_id, price=0))
    flow.advance(2.0)
    return flow.recorder.dumps()


def record_forget_all() -> str:
    flow = _Flow("forget one stream, then forget_all of a type", token=None)
    flow.advance(0.2)
    flow.send(d.Subscribe(streams=["ticks.R_10", "ticks.R_25", "candles.R_50.60"]))
    flow.advance(2.0)
    flow.send(d.Unsubscribe(streams=["ticks.R_10"]))
    flow.advance(0.5)
    flow.send(d.ForgetAll(forget_all=["ticks", "candles"]))
    flow.advance(2.0)
    return flow.recorder.dumps()


def record_errors() -> str:
    flow = _Flow(
        "errors: an unknown symbol, a bad stake, an unknown proposal, an unrecognised call, "
        "a refused token",
        token="not-a-known-token",
    )
    flow.advance(0.2)
    flow.send(d.Subscribe(streams=["ticks.R_XX"]))
    flow.send(
        d.Proposal(
            contract_type="CALL",
            currency="USD",
            symbol="R_50",
            amount=0.01,
            duration=5,
            duration_unit="t",
        )
    )
    flow.send(d.GenericCommand(call="no_such_call"))
    flow.send(d.Portfolio())
    flow.advance(1.0)
    return flow.recorder.dumps()


CANONICAL_FLOWS: Mapping[str, Callable[[], str]] = {
    "authorize_ticks_reconnect": record_authorize_ticks_reconnect,
    "proposal_buy_sell": record_proposal_buy_sell,
    "forget_all": record_forget_all,
    "errors": record_errors,
}

TRANSCRIPTS = "transcripts"


def transcript_file(name: str) -> Traversable:
    """The checked-in recording of canonical flow ``name``."""
    if name not in CANONICAL_FLOWS:
        raise KeyError(f"unknown flow {name!r}; known: {', '.join(CANONICAL_FLOWS)}")
    return files(__package__ or "tradewire.conformance.deriv") / TRANSCRIPTS / f"{name}.jsonl"
