"""The WebSocket stacks, client and server, through an in-memory link on a fake clock."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.conformance._echo import CloseMe, EchoClient, EchoServer, Heard, Note, Push, Say
from tradewire.conformance._link import MemoryLink
from tradewire.protocol import (
    AcceptUpgrade,
    Backoff,
    CloseRequest,
    ConnectionDead,
    ConnectionLost,
    Handshake,
    LocalProtocolError,
    MessageRejected,
    RejectUpgrade,
    RemoteProtocolError,
    RequestFailed,
    RequestSucceeded,
    UpgradeRequest,
)
from tradewire.protocol.transport._frames import OP_TEXT, encode_frame
from tradewire.protocol.transport._websocket import (
    Connected,
    ReconnectDue,
    ReconnectScheduled,
    StackState,
    UpgradeAccepted,
    UpgradeRefused,
    UpgradeRejected,
    WebSocketClosed,
)
from tradewire.protocol.transport._ws_client import WebSocketClientStack
from tradewire.protocol.transport._ws_server import WebSocketServerStack


def make_link(
    *,
    handshake: Handshake | None = None,
    refuse: int | None = None,
    subprotocol: str | None = None,
    client_kwargs: dict[str, object] | None = None,
    server_kwargs: dict[str, object] | None = None,
) -> tuple[MemoryLink, EchoClient, list[EchoServer]]:
    machine = EchoClient(handshake=handshake)
    client = WebSocketClientStack(
        machine, host="venue.test", rng=random.Random(7), **(client_kwargs or {})
    )
    servers: list[EchoServer] = []

    def factory() -> WebSocketServerStack:
        server = EchoServer(refuse=refuse, subprotocol=subprotocol)
        servers.append(server)
        return WebSocketServerStack(server, peer="127.0.0.1", **(server_kwargs or {}))

    link = MemoryLink(client, factory)
    return link, machine, servers


def of_type(events: list[object], kind: type) -> list[object]:
    return [e for e in events if isinstance(e, kind)]


def server_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """An unmasked frame as a server writes it."""
    first = (0x80 if fin else 0) | opcode
    if len(payload) < 126:
        return struct.pack("!BB", first, len(payload)) + payload
    return struct.pack("!BBH", first, 126, len(payload)) + payload


def test_upgrade_carries_path_query_subprotocols_and_headers() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.e30.sig"
    handshake = Handshake(
        path="/ws",
        query=(("market", "BTC-USDT"), ("subscriptions", "orders,trades")),
        subprotocols=(f"authorization#{jwt}",),
        headers=(("X-Client", "tradewire-tests"),),
    )
    link, machine, servers = make_link(handshake=handshake, subprotocol=f"authorization#{jwt}")
    link.pump()
    request = servers[0].upgrade
    assert request is not None
    assert request.path == "/ws"
    assert request.query == (("market", "BTC-USDT"), ("subscriptions", "orders,trades"))
    assert request.subprotocols == (f"authorization#{jwt}",)
    assert request.header("x-client") == "tradewire-tests"
    assert request.header("host") == "venue.test"
    assert request.peer == "127.0.0.1"
    connected = of_type(link.client_events, Connected)
    assert connected == [Connected(subprotocol="authorization#<redacted>", attempt=0)]
    assert link.client.subprotocol == f"authorization#{jwt}"
    assert link.client.state is StackState.OPEN
    assert machine.connected
    assert of_type(link.server_events, UpgradeAccepted)
    # The credential in the subprotocol does not leak through repr.
    assert jwt not in repr(handshake)
    assert jwt not in repr(request)


def test_messages_flow_both_ways_and_resolve_requests() -> None:
    link, _machine, _servers = make_link()
    link.pump()
    request_id = link.client.send(Say(text="hello"), link.now)
    link.pump()
    assert Heard(text="hello") in link.server_events
    done = of_type(link.client_events, RequestSucceeded)
    assert len(done) == 1
    assert done[0].request_id == request_id  # type: ignore[attr-defined]
    assert done[0].result == "hello"  # type: ignore[attr-defined]


def test_notifications_arrive_in_order() -> None:
    link, _, _ = make_link()
    link.pump()
    link.client.send(Push(count=50), link.now)
    link.pump()
    notes = of_type(link.client_events, Note)
    assert [n.index for n in notes] == list(range(50))  # type: ignore[attr-defined]


def test_requests_sent_before_the_upgrade_go_out_once_open() -> None:
    link, _machine, _ = make_link()
    # EchoClient only queues while connected; the stack must not lose what it queues.
    link.client.connection_made(link.now)
    link.dials += 1
    assert link.client.state is StackState.CONNECTING
    link.client.data_to_send()  # the upgrade request is in flight, nobody answers
    assert link.client.next_deadline() == pytest.approx(link.now + 10.0)


def test_keepalive_pings_are_answered_and_keep_the_connection() -> None:
    link, _, _ = make_link(client_kwargs={"ping_interval": 5.0, "ping_timeout": 3.0})
    link.pump()
    before = link.bytes_to_server
    link.advance(60.0)
    assert link.client.state is StackState.OPEN
    assert not of_type(link.client_events, ConnectionDead)
    assert link.bytes_to_server - before >= 12 * 10  # twelve masked pings went out
    assert len(link.servers) == 1


def test_silent_peer_is_declared_dead_then_reconnected() -> None:
    link, machine, _ = make_link(client_kwargs={"ping_interval": 5.0, "ping_timeout": 3.0})
    link.pump()
    machine.table.default_timeout = 30.0  # outlives the keepalive verdict
    pending = link.client.send(Say(text="lost in the void"), link.now)
    link.blackhole = True  # the socket stays open; nothing gets through either way
    link.advance(8.0)
    dead = of_type(link.client_events, ConnectionDead)
    assert len(dead) == 1
    assert "no pong within 3s" in dead[0].reason  # type: ignore[attr-defined]
    failed = of_type(link.client_events, RequestFailed)
    assert [f.request_id for f in failed] == [pending]  # type: ignore[attr-defined]
    assert isinstance(failed[0].error, ConnectionLost)  # type: ignore[attr-defined]
    closed = of_type(link.client_events, WebSocketClosed)
    assert closed == [WebSocketClosed(code=1006, reason="", by="transport")]
    assert of_type(link.client_events, ReconnectScheduled)
    link.blackhole = False
    link.advance(60.0)
    assert link.client.state is StackState.OPEN
    assert [c.attempt for c in of_type(link.client_events, Connected)] == [0, 1]  # type: ignore[attr-defined]
    assert machine.connects == 2


def test_server_answers_pings_and_client_answers_server_pings() -> None:
    link, _, _ = make_link(
        client_kwargs={"ping_interval": None},
        server_kwargs={"ping_interval": 2.0, "ping_timeout": 1.0},
    )
    link.pump()
    link.advance(20.0)
    assert link.server is not None
    assert link.server.state is StackState.OPEN
    assert not of_type(link.server_events, ConnectionDead)


def test_upgrade_timeout_declares_connection_dead() -> None:
    link, _, _ = make_link()
    link.blackhole = True
    link.advance(10.5)
    dead = of_type(link.client_events, ConnectionDead)
    assert len(dead) == 1
    assert "upgrade" in dead[0].reason  # type: ignore[attr-defined]
    assert len(of_type(link.client_events, ReconnectScheduled)) == 1
    assert link.dials == 2  # the stack redialled after its backoff


@pytest.mark.parametrize("code", [4000, 1001, 1011, 3000])
def test_close_code_from_server_is_surfaced_then_client_reconnects(code: int) -> None:
    link, machine, servers = make_link()
    link.pump()
    link.client.send(CloseMe(code=code), link.now)
    link.pump()
    closed = of_type(link.client_events, WebSocketClosed)
    assert closed == [WebSocketClosed(code=code, reason="asked to", by="remote")]
    scheduled = of_type(link.client_events, ReconnectScheduled)
    assert len(scheduled) == 1
    assert servers[0].lost
    link.advance(scheduled[0].delay)  # type: ignore[attr-defined]
    assert of_type(link.client_events, ReconnectDue)
    assert link.client.state is StackState.OPEN
    assert machine.connects == 2


def test_client_close_is_final() -> None:
    link, machine, _servers = make_link()
    link.pump()
    link.client.close(link.now, code=1000, reason="bye")
    link.pump()
    assert of_type(link.client_events, WebSocketClosed) == [
        WebSocketClosed(code=1000, reason="bye", by="local")
    ]
    assert of_type(link.server_events, WebSocketClosed) == [
        WebSocketClosed(code=1000, reason="bye", by="remote")
    ]
    assert link.client.state is StackState.CLOSED
    link.advance(120.0)
    assert len(link.servers) == 1
    assert not machine.connected


def test_oversize_message_is_a_remote_protocol_error_with_1009() -> None:
    link, _, _ = make_link(client_kwargs={"max_message_size": 100})
    link.pump()
    link.inject(server_frame(0x1, b'{"note": "' + b"x" * 200 + b'"}'))
    assert len(link.errors) == 1
    side, error = link.errors[0]
    assert side == "client"
    assert error.close_code == 1009
    assert "max_message_size=100" in str(error)
    closed = of_type(link.client_events, WebSocketClosed)
    assert closed == [WebSocketClosed(code=1009, reason="", by="local")]


def test_fragmented_message_is_reassembled_and_counted_against_the_bound() -> None:
    link, _, _ = make_link(client_kwargs={"max_message_size": 30})
    link.pump()
    link.inject(server_frame(0x1, b'{"no', fin=False) + server_frame(0x0, b'te": 7}'))
    assert of_type(link.client_events, Note) == [Note(index=7)]
    link.inject(server_frame(0x1, b"x" * 20, fin=False) + server_frame(0x0, b"y" * 20))
    assert [e.close_code for _, e in link.errors] == [1009]


def test_malformed_json_is_rejected_and_the_connection_stays_open() -> None:
    link, _, _ = make_link()
    link.pump()
    link.inject(server_frame(0x1, b"{not json"))
    rejected = of_type(link.client_events, MessageRejected)
    assert len(rejected) == 1
    assert rejected[0].data == b"{not json"  # type: ignore[attr-defined]
    assert link.client.state is StackState.OPEN
    link.client.send(Say(text="still here"), link.now)
    link.pump()
    assert of_type(link.client_events, RequestSucceeded)


def test_garbage_bytes_close_with_protocol_error() -> None:
    link, _, _ = make_link()
    link.pump()
    link.inject(b"\x0f\xff garbage")
    assert [(side, e.close_code) for side, e in link.errors] == [("client", 1002)]
    assert link.client.state is StackState.BACKOFF


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=5))
def test_any_bytes_give_events_or_remote_protocol_error(data: bytes, cuts: list[int]) -> None:
    for opened in (True, False):
        machine = EchoClient()
        stack = WebSocketClientStack(machine, host="h", rng=random.Random(1))
        stack.connection_made(0.0)
        if opened:
            server = WebSocketServerStack(EchoServer())
            server.connection_made(0.0)
            server.receive_data(stack.data_to_send(), 0.0)
            stack.receive_data(server.data_to_send(), 0.0)
            assert stack.state is StackState.OPEN
        points = sorted({min(c, len(data)) for c in cuts})
        pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
        for piece in pieces:
            try:
                stack.receive_data(piece, 1.0)
            except RemoteProtocolError:
                assert stack.should_close_transport
                break
        stack.events()
        stack.connection_lost(2.0)
        assert stack.state in (StackState.BACKOFF, StackState.CLOSED)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_server_stack_survives_any_bytes(data: bytes) -> None:
    server = WebSocketServerStack(EchoServer())
    server.connection_made(0.0)
    try:
        server.receive_data(data, 0.0)
    except RemoteProtocolError:
        assert server.should_close_transport
    server.events()
    server.connection_lost(1.0)
    assert server.state is StackState.CLOSED


@pytest.mark.parametrize(("status", "retrying"), [(401, False), (403, False), (429, True)])
def test_refused_upgrade(status: int, retrying: bool) -> None:
    link, machine, _ = make_link(refuse=status)
    link.pump()
    rejected = of_type(link.client_events, UpgradeRejected)
    assert len(rejected) == 1
    assert rejected[0].status == status  # type: ignore[attr-defined]
    assert rejected[0].body == b"go away"  # type: ignore[attr-defined]
    assert rejected[0].retrying is retrying  # type: ignore[attr-defined]
    assert of_type(link.server_events, UpgradeRefused)
    assert not machine.connected
    expected = StackState.BACKOFF if retrying else StackState.CLOSED
    assert link.client.state is expected


def test_plain_http_request_to_server_stack_gets_400() -> None:
    server = WebSocketServerStack(EchoServer())
    server.connection_made(0.0)
    with pytest.raises(RemoteProtocolError):
        server.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.0)
    assert server.data_to_send().startswith(b"HTTP/1.1 400 ")
    assert server.should_close_transport


def test_server_must_echo_an_offered_subprotocol() -> None:
    link, _, _ = make_link(subprotocol="not-offered")
    with pytest.raises(LocalProtocolError, match="subprotocol"):
        link.pump()


def test_backoff_grows_while_dials_fail_and_resets_after_a_stable_connection() -> None:
    link, _, _ = make_link(
        client_kwargs={
            "backoff": Backoff(random.Random(3), initial=1.0, maximum=8.0, minimum=0.0),
            "backoff_reset_after": 10.0,
        }
    )
    link.refuse_dials = True
    link.advance(120.0)
    delays = [e.delay for e in of_type(link.client_events, ReconnectScheduled)]  # type: ignore[attr-defined]
    assert len(delays) >= 10
    ceilings = [min(8.0, 2.0**i) for i in range(len(delays))]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    link.refuse_dials = False
    link.client_events.clear()
    link.advance(30.0)
    assert link.client.state is StackState.OPEN
    assert link.client.backoff.attempt > 0
    link.advance(15.0)  # stays up past backoff_reset_after
    link.drop()
    assert link.client.backoff.attempt == 1  # reset, then one delay handed out


@pytest.mark.parametrize("planned", [True, False])
def test_a_planned_close_reconnects_at_the_first_delay_whatever_failed_before(
    planned: bool,
) -> None:
    # Rails closes on purpose to carry a renewed token: that is no failure to back off from.
    link, machine, _ = make_link(
        client_kwargs={
            "backoff": Backoff(random.Random(3), initial=1.0, maximum=8.0, minimum=0.0),
            "backoff_reset_after": 1000.0,
        }
    )
    link.refuse_dials = True
    link.advance(60.0)
    link.refuse_dials = False
    link.advance(30.0)
    assert link.client.state is StackState.OPEN
    grown = link.client.backoff.attempt
    assert grown > 3
    link.client_events.clear()
    machine.close_request = CloseRequest(code=1000, reason="renewing", planned=planned)
    link.client.handle_timer(link.now)  # as when a machine asks from its own timer
    link.advance(0.5)
    (scheduled,) = of_type(link.client_events, ReconnectScheduled)
    if planned:
        assert link.client.backoff.attempt == 1  # reset, then the first delay
        assert scheduled.delay <= 1.0  # type: ignore[attr-defined]
    else:
        assert link.client.backoff.attempt == grown + 1


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(LocalProtocolError, match="ping_interval"):
        WebSocketClientStack(EchoClient(), host="h", rng=random.Random(), ping_interval=0)
    with pytest.raises(LocalProtocolError, match="host"):
        WebSocketClientStack(EchoClient(), host="", rng=random.Random())
    with pytest.raises(LocalProtocolError, match="max_message_size"):
        WebSocketServerStack(EchoServer(), max_message_size=-1)
    stack = WebSocketClientStack(EchoClient(), host="h", rng=random.Random())
    stack.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match="expected state dial"):
        stack.connection_made(0.0)


def test_seeded_rng_makes_frames_replayable() -> None:
    def frames(seed: int) -> bytes:
        link, _, _ = make_link()
        link.client._mask_rng = random.Random(seed)
        link.pump()
        link.client.send(Say(text="same bytes"), link.now)
        return link.client.data_to_send()

    assert frames(5) == frames(5)
    assert frames(5) != frames(6)


def test_frames_in_the_same_read_as_the_upgrade_request_are_not_lost() -> None:
    # wsproto's server drops frame bytes that share a read with the request head; the
    # stack must feed them once the upgrade is accepted, whatever the split.
    client = WebSocketClientStack(EchoClient(), host="h", rng=random.Random(1))
    client.connection_made(0.0)
    head = client.data_to_send()
    frame = encode_frame(OP_TEXT, b'{"id": 1, "say": "first"}', random.Random(2))
    stream = head + frame
    for cut in range(len(head) - 3, len(stream) + 1):
        machine = EchoServer()
        server = WebSocketServerStack(machine)
        server.connection_made(0.0)
        server.receive_data(stream[:cut], 0.0)
        if cut < len(stream):
            server.receive_data(stream[cut:], 0.0)
        assert Heard(text="first") in server.events(), cut


class PingCountingServer(EchoServer):
    """An echo server that counts the client's control-frame pings as liveness."""

    def __init__(self) -> None:
        super().__init__()
        self.pinged: list[float] = []

    def ping_received(self, now: float) -> None:
        self.pinged.append(now)


def test_a_control_frame_ping_reaches_a_server_machine_that_asks_for_it() -> None:
    machine = EchoClient()
    client = WebSocketClientStack(
        machine, host="venue.test", rng=random.Random(7), ping_interval=5.0, ping_timeout=3.0
    )
    servers: list[PingCountingServer] = []

    def factory() -> WebSocketServerStack:
        server = PingCountingServer()
        servers.append(server)
        return WebSocketServerStack(server, peer="127.0.0.1")

    link = MemoryLink(client, factory)
    link.pump()
    link.advance(11.0)
    start = link.clock.now - 11.0
    assert servers[0].pinged == [start + 5.0, start + 10.0]
    assert link.client.state is StackState.OPEN  # the pongs came back
    # A machine without the hook is fine too (EchoServer: the other tests).


class _RenewingClient(EchoClient):
    """A client whose handshake carries a token it can renew after a 401."""

    def __init__(self) -> None:
        super().__init__(handshake=Handshake(path="/ws", subprotocols=("authorization#old",)))
        self.refusals: list[tuple[int, float]] = []

    def upgrade_refused(self, status: int, now: float) -> bool:
        self.refusals.append((status, now))
        self._events.append(Note(index=status))
        if status != 401:
            return False
        self.handshake = Handshake(path="/ws", subprotocols=("authorization#new",))
        return True


class _TokenServer(EchoServer):
    """Accepts only the subprotocol ``authorization#new`` (echoed), else 401."""

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        if "authorization#new" not in request.subprotocols:
            return RejectUpgrade(status=401, body=b"expired")
        return AcceptUpgrade(subprotocol="authorization#new")


def test_a_refusal_the_machine_can_fix_is_retried_with_its_next_handshake() -> None:
    machine = _RenewingClient()
    client = WebSocketClientStack(machine, host="venue.test", rng=random.Random(7))
    link = MemoryLink(client, lambda: WebSocketServerStack(_TokenServer()))
    link.pump()
    rejected = of_type(link.client_events, UpgradeRejected)
    assert [(e.status, e.retrying) for e in rejected] == [(401, True)]  # type: ignore[attr-defined]
    kinds = [type(e) for e in link.client_events]  # the machine's event follows the stack's
    assert kinds.index(Note) == kinds.index(UpgradeRejected) + 1
    assert machine.refusals == [(401, link.now)]
    assert client.state is StackState.BACKOFF
    link.advance(60.0)
    assert client.state is StackState.OPEN
    assert machine.connected
    assert len(machine.refusals) == 1


def test_a_refusal_the_machine_cannot_fix_stops_the_stack() -> None:
    machine = _RenewingClient()
    client = WebSocketClientStack(machine, host="venue.test", rng=random.Random(7))
    link = MemoryLink(client, lambda: WebSocketServerStack(EchoServer(refuse=403)))
    link.pump()
    rejected = of_type(link.client_events, UpgradeRejected)
    assert [(e.status, e.retrying) for e in rejected] == [(403, False)]  # type: ignore[attr-defined]
    assert machine.refusals == [(403, link.now)]
    assert client.state is StackState.CLOSED


def test_a_token_carried_in_the_subprotocol_never_goes_into_an_event() -> None:
    # Rails: the JWT rides as "authorization#<JWT>", and the server echoes it.
    offered = "authorization#eyJ.SECRET.sig"
    link, _, servers = make_link(
        handshake=Handshake(path="/ws", subprotocols=(offered,)), subprotocol=offered
    )
    link.pump()
    (connected,) = of_type(link.client_events, Connected)
    assert connected.subprotocol == "authorization#<redacted>"  # type: ignore[attr-defined]
    (accepted,) = of_type(link.server_events, UpgradeAccepted)
    assert accepted.subprotocol == "authorization#<redacted>"  # type: ignore[attr-defined]
    assert link.client.subprotocol == offered  # the stack keeps it as it was
    for event in (*link.client_events, *link.server_events):
        assert "SECRET" not in repr(event)
    assert servers[0].upgrade is not None
