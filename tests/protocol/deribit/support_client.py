"""Test support for ``deribit.ClientProtocol``: venue frames, a direct harness, a scripted venue.

* frame builders use the wire layer's server-side encoders (``encode_result`` ...);
* :class:`Harness` drives a :class:`ClientProtocol` directly on a fake clock and keeps
  what it sent (decoded) and what it reported;
* :class:`ScriptedVenue` is a small server machine (the ``ServerMachine`` shape) that
  answers auth (checking the signature), heartbeats, subscriptions with snapshots and a
  few scripted methods, for tests through the real WebSocket stacks and ``MemoryLink``.
  The real ``deribit.ServerProtocol`` is paired with the client elsewhere.

Test files add this folder to ``sys.path`` and import the module as ``support_client``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import msgspec

from tradewire.conformance._link import FakeClock, MemoryLink
from tradewire.protocol import AcceptUpgrade, CloseRequest, Event, RejectUpgrade, UpgradeRequest
from tradewire.protocol.deribit import (
    ClientProtocol,
    Credentials,
    parse_channel,
    verify_signature,
)
from tradewire.protocol.deribit.server import (
    RejectedRequest,
    decode_request,
    encode_error,
    encode_heartbeat,
    encode_notification,
    encode_result,
)
from tradewire.protocol.transport._ws_client import WebSocketClientStack
from tradewire.protocol.transport._ws_server import WebSocketServerStack

START = 1_000.0
KEY = "key-1"
SECRET = "s3cret-value-never-printed"
TEST_REQUEST = encode_heartbeat("test_request")
HEARTBEAT = encode_heartbeat("heartbeat")


def us(now: float) -> int:
    return int(now * 1_000_000)


def result(request_id: int | str | None, value: Any, now: float = START) -> bytes:
    return encode_result(request_id, value, us_in=us(now), us_out=us(now) + 5)


def error(
    request_id: int | str | None, code: int, message: str, data: Any = None, now: float = START
) -> bytes:
    return encode_error(request_id, code, message, data, us_in=us(now), us_out=us(now) + 5)


def auth_result(
    expires_in: int = 900, scope: str = "connection mainaccount", n: int = 1
) -> dict[str, Any]:
    return {
        "access_token": f"access-token-{n}-SECRET",
        "refresh_token": f"refresh-token-{n}-SECRET",
        "expires_in": expires_in,
        "scope": scope,
        "token_type": "bearer",
        "enabled_features": [],
    }


def book(
    channel: str,
    change_id: int,
    prev: int | None = None,
    bids: Iterable[tuple[str, float, float]] = (),
    asks: Iterable[tuple[str, float, float]] = (),
) -> bytes:
    """A ``book.{instrument}.{interval}`` frame: a snapshot when ``prev`` is ``None``."""
    instrument = channel.split(".")[1]
    data: dict[str, Any] = {
        "type": "snapshot" if prev is None else "change",
        "instrument_name": instrument,
        "timestamp": 1554373962454 + change_id,
        "change_id": change_id,
        "bids": [list(b) for b in bids],
        "asks": [list(a) for a in asks],
    }
    if prev is not None:
        data["prev_change_id"] = prev
    return encode_notification(channel, data)


def grouped(
    channel: str, change_id: int, bids: list[list[float]], asks: list[list[float]]
) -> bytes:
    return encode_notification(
        channel,
        {
            "instrument_name": channel.split(".")[1],
            "timestamp": 1554375447971,
            "change_id": change_id,
            "bids": bids,
            "asks": asks,
        },
    )


def credentials(grant: str = "client_signature") -> Credentials:
    return Credentials(client_id=KEY, client_secret=SECRET, grant_type=grant)  # type: ignore[arg-type]


class Sent(NamedTuple):
    """One request as the venue sees it."""

    id: Any
    method: str
    params: dict[str, Any]
    at: float = 0.0


def decode_sent(data: bytes, at: float = 0.0) -> Sent:
    message = msgspec.json.decode(data)
    return Sent(message["id"], message["method"], message.get("params", {}), at)


class Harness:
    """A :class:`ClientProtocol` driven directly on a fake clock."""

    def __init__(self, **kwargs: Any) -> None:
        self.client = ClientProtocol(**kwargs)
        self.now = START
        self.sent: list[Sent] = []
        self.log: list[Sent] = []  # everything ever sent
        self.events: list[Event] = []

    def flush(self) -> None:
        for data in self.client.messages_to_send():
            sent = decode_sent(data, self.now)
            self.sent.append(sent)
            self.log.append(sent)
        self.events.extend(self.client.events())

    def connect(self) -> None:
        self.client.connection_made(self.now)
        self.flush()

    def lose(self) -> None:
        self.client.connection_lost(self.now)
        self.flush()

    def feed(self, data: bytes | str) -> None:
        self.client.receive_message(data, self.now)
        self.flush()

    def send(self, command: Any, **kwargs: Any) -> Any:
        request_id = self.client.send(command, self.now, **kwargs)
        self.flush()
        return request_id

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every deadline on the way."""
        target = self.now + seconds
        for _ in range(100_000):
            deadline = self.client.next_deadline()
            if deadline is None or deadline > target:
                break
            self.now = max(self.now, deadline)
            self.client.handle_timer(self.now)
            self.flush()
        else:  # pragma: no cover
            raise RuntimeError("timer loop")
        self.now = target
        self.client.handle_timer(self.now)
        self.flush()

    def take_sent(self) -> list[Sent]:
        sent, self.sent = self.sent, []
        return sent

    def take_events(self) -> list[Event]:
        self.flush()
        events, self.events = self.events, []
        return events

    def methods(self) -> list[str]:
        return [s.method for s in self.sent]

    def find(self, method: str) -> Sent:
        matches = [s for s in self.sent if s.method == method]
        assert len(matches) == 1, (method, self.sent)
        return matches[0]

    def answer(self, method: str, value: Any) -> Sent:
        """Answer the one pending ``method`` request with ``value`` and forget it."""
        request = self.find(method)
        self.sent.remove(request)
        self.feed(result(request.id, value, self.now))
        return request

    def reply(self, request: Sent, value: Any) -> None:
        self.sent.remove(request)
        self.feed(result(request.id, value, self.now))

    def fail(self, request: Sent, code: int, message: str) -> None:
        self.sent.remove(request)
        self.feed(error(request.id, code, message, now=self.now))

    def login(self, *, expires_in: int = 900, scope: str = "connection mainaccount") -> None:
        """Connect and answer the auth and heartbeat requests."""
        self.connect()
        if any(s.method == "public/auth" for s in self.sent):
            self.answer("public/auth", auth_result(expires_in, scope))
        if any(s.method == "public/set_heartbeat" for s in self.sent):
            self.answer("public/set_heartbeat", "ok")

    def ack_subscriptions(self, drop: Iterable[str] = ()) -> list[str]:
        """Acknowledge every pending (un)subscribe, leaving ``drop`` out; returns channels."""
        dropped = set(drop)
        channels: list[str] = []
        for request in [s for s in self.sent if "subscribe" in s.method]:
            wanted = list(request.params.get("channels", []))
            channels.extend(wanted)
            self.reply(request, [c for c in wanted if c not in dropped])
        return channels

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


# -- a scripted venue for the WebSocket stacks ---------------------------------------------


class ScriptedVenue:
    """A small Deribit server machine: enough of the venue for client tests.

    ``drop``: channels left out of subscribe acks.  ``auth_error``: answer auth with this
    ``(code, message)``.  ``answers``: method -> result (or callable(params) -> result).
    ``heartbeats``: honour ``set_heartbeat`` with a ``test_request`` every interval, and
    close with 4000 when one stays unanswered for an interval.
    """

    def __init__(
        self,
        *,
        expires_in: int = 900,
        drop: Iterable[str] = (),
        auth_error: tuple[int, str] | None = None,
        answers: dict[str, Any] | None = None,
        heartbeats: bool = True,
        silent: bool = False,
    ) -> None:
        self.expires_in = expires_in
        self.drop = set(drop)
        self.auth_error = auth_error
        self.answers = answers or {}
        self.heartbeats = heartbeats
        self.silent = silent  # read everything, answer nothing
        self.requests: list[Sent] = []
        self.authenticated = False
        self.scope: str | None = None
        self.channels: dict[str, None] = {}
        self.change_ids: dict[str, int] = {}
        self.close_request: CloseRequest | None = None
        self.connected = False
        self.lost = False
        self.interval: int | None = None
        self.next_test: float | None = None
        self.test_deadline: float | None = None
        self._tokens = 0
        self._refresh: set[str] = set()
        self._out: list[bytes] = []
        self._events: list[Event] = []

    # -- the machine shape --------------------------------------------------------------

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        if request.path.rstrip("/") != "/ws/api/v2":
            return RejectUpgrade(status=404, body=b"not found")
        return AcceptUpgrade()

    def connection_made(self, now: float) -> None:
        self.connected = True

    def connection_lost(self, now: float) -> None:
        self.connected = False
        self.lost = True

    def send(self, command: Any, now: float) -> None:
        return None

    def messages_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def next_deadline(self) -> float | None:
        present = [d for d in (self.next_test, self.test_deadline) if d is not None]
        return min(present) if present else None

    def handle_timer(self, now: float) -> None:
        if self.test_deadline is not None and now >= self.test_deadline:
            self.close_request = CloseRequest(code=4000, reason="heartbeat close")
            self.test_deadline = self.next_test = None
            return
        if self.next_test is not None and now >= self.next_test and self.interval is not None:
            self._out.append(TEST_REQUEST)
            self._out.append(HEARTBEAT)
            if self.test_deadline is None:
                self.test_deadline = now + self.interval
            self.next_test = now + self.interval

    # -- requests -----------------------------------------------------------------------

    def receive_message(self, data: bytes | str, now: float) -> None:
        try:
            request = decode_request(data)
        except RejectedRequest as exc:
            self._out.append(error(exc.request_id, exc.error.code, exc.error.message, now=now))
            return
        params: dict[str, Any] = msgspec.json.decode(request.params) if request.params else {}
        self.requests.append(Sent(request.id, request.method, params, now))
        if self.silent:
            return
        handler: Callable[[Any, dict[str, Any], float], None] | None = getattr(
            self, "_" + request.method.replace("/", "_"), None
        )
        if request.method in self.answers:
            answer = self.answers[request.method]
            value = answer(params) if callable(answer) else answer
            if isinstance(value, Exception):
                code, message = value.args
                self._out.append(error(request.id, code, message, now=now))
            else:
                self._out.append(result(request.id, value, now))
        elif handler is not None:
            handler(request.id, params, now)
        else:
            self._out.append(error(request.id, -32601, "Method not found", now=now))

    def push(self, data: bytes) -> None:
        self._out.append(data)

    def _public_auth(self, request_id: Any, params: dict[str, Any], now: float) -> None:
        if self.auth_error is not None:
            self._out.append(error(request_id, *self.auth_error, now=now))
            return
        grant = params.get("grant_type")
        ok = False
        if grant == "client_signature":
            ok = params.get("client_id") == KEY and verify_signature(
                SECRET,
                params["timestamp"],
                params.get("nonce", ""),
                params.get("data", ""),
                params["signature"],
            )
        elif grant == "client_credentials":
            ok = params.get("client_id") == KEY and params.get("client_secret") == SECRET
        elif grant == "refresh_token":
            ok = params.get("refresh_token") in self._refresh
        if not ok:
            self._out.append(error(request_id, 13004, "invalid_credentials", now=now))
            return
        self._tokens += 1
        scope = params.get("scope") or self.scope or "connection"
        self.scope = scope
        value = auth_result(self.expires_in, f"{scope} mainaccount", self._tokens)
        self._refresh.add(value["refresh_token"])
        self.authenticated = True
        self._out.append(result(request_id, value, now))

    def _public_set_heartbeat(self, request_id: Any, params: dict[str, Any], now: float) -> None:
        self._out.append(result(request_id, "ok", now))
        if self.heartbeats:
            self.interval = params["interval"]
            self.next_test = now + params["interval"]

    def _public_test(self, request_id: Any, params: dict[str, Any], now: float) -> None:
        self.test_deadline = None
        self._out.append(result(request_id, {"version": "1.2.26"}, now))

    def _subscribe(
        self, request_id: Any, params: dict[str, Any], now: float, private: bool
    ) -> None:
        channels = params["channels"]
        if private and not self.authenticated:
            self._out.append(error(request_id, 13009, "unauthorized", now=now))
            return
        if not self.authenticated and any(parse_channel(c).needs_auth for c in channels):
            self._out.append(
                error(
                    request_id, 13778, "raw_subscriptions_not_available_for_unauthorized", now=now
                )
            )
            return
        accepted = [c for c in channels if c not in self.drop]
        new = [c for c in accepted if c not in self.channels]
        self.channels.update(dict.fromkeys(accepted))
        self._out.append(result(request_id, list(reversed(accepted)), now))  # reordered, as live
        for channel in new:
            if channel.startswith("book.") and channel.count(".") == 2:
                self.snapshot(channel)

    def _public_subscribe(self, request_id: Any, params: dict[str, Any], now: float) -> None:
        self._subscribe(request_id, params, now, private=False)

    def _private_subscribe(self, request_id: Any, params: dict[str, Any], now: float) -> None:
        self._subscribe(request_id, params, now, private=True)

    def _unsubscribe(self, request_id: Any, params: dict[str, Any], now: float) -> None:
        removed = [c for c in params["channels"] if c in self.channels]
        for channel in removed:
            del self.channels[channel]
        self._out.append(result(request_id, removed, now))

    _public_unsubscribe = _unsubscribe
    _private_unsubscribe = _unsubscribe

    def _private_logout(self, request_id: Any, params: dict[str, Any], now: float) -> None:
        self.close_request = CloseRequest(code=1000, reason="logout")

    # -- books --------------------------------------------------------------------------

    def snapshot(self, channel: str) -> None:
        change_id = self.change_ids.get(channel, 100) + 1
        self.change_ids[channel] = change_id
        self._out.append(
            book(channel, change_id, None, [("new", 100.0, 5.0)], [("new", 101.0, 5.0)])
        )

    def change(self, channel: str, *, skip: int = 0) -> None:
        """The next change on ``channel``; ``skip`` ids lost on the way (a gap)."""
        prev = self.change_ids[channel] + skip
        self.change_ids[channel] = prev + 3  # shared counters jump: never +1
        self._out.append(book(channel, prev + 3, prev, [("change", 100.0, 7.0)], []))


def make_link(
    venue: Callable[[], ScriptedVenue] | None = None, **client_kwargs: Any
) -> tuple[MemoryLink, ClientProtocol, list[ScriptedVenue]]:
    """A client stack around a fresh ClientProtocol, linked to scripted venues."""
    client = ClientProtocol(**client_kwargs)
    stack = WebSocketClientStack(
        client, host="www.deribit.test", rng=random.Random(5), ping_interval=None
    )
    venues: list[ScriptedVenue] = []

    def factory() -> WebSocketServerStack:
        machine = venue() if venue is not None else ScriptedVenue()
        venues.append(machine)
        return WebSocketServerStack(machine, peer="127.0.0.1")  # type: ignore[arg-type]

    link = MemoryLink(stack, factory, clock=FakeClock(START))
    return link, client, venues
