"""No secret in an event: what a stack keeps of the peer's bytes is redacted first.

:func:`redact` works on text (a message cut at a size limit is not JSON any more), so a
truncated ``public/auth`` answer, whose token is cut before its closing quote, is the
case that matters; it is tested through the Deribit client in a WebSocket client stack,
on the fast path and on wsproto's, and through the unit itself.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct

import pytest

from tradewire.conformance import EchoClient
from tradewire.protocol import (
    MASK,
    Event,
    MessageRejected,
    WebSocketClientStack,
    is_secret_name,
    redact,
)
from tradewire.protocol.deribit import ClientProtocol, Credentials
from tradewire.protocol.transport._websocket import UpgradeRejected

ACCESS = "1582628593469.1MbQ-J_4.CBP-OqOwm_FBdMYj4cRK2dMXyHPfBtXGpzLxhWg31nHu3H_Q60FpE5Tz"
REFRESH = "1582628593469.1GP4rQd0.A9Wa78o5kFRIUP49mScaD1CqHgiK50HOl2VA6kCtWa8"
SECRET = "tradewire-demo-secret-value"

AUTH_ANSWER = (
    '{"jsonrpc":"2.0","id":%d,"result":{"access_token":"%s","expires_in":31536000,'
    '"refresh_token":"%s","scope":"connection mainaccount","token_type":"bearer"},'
    '"usIn":1,"usOut":2,"usDiff":1,"testnet":false}'
)


def test_a_json_member_is_masked_even_cut_before_its_closing_quote() -> None:
    whole = AUTH_ANSWER % (1, ACCESS, REFRESH)
    for cut in range(len(whole)):
        text = whole[:cut]
        redacted = redact(text)
        assert ACCESS[:12] not in redacted, cut
        assert REFRESH[:12] not in redacted, cut
        assert redact(text.encode()) == redacted.encode()
    assert redact(whole).count(MASK) == 2
    assert '"expires_in":31536000' in redact(whole)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ('{"params":{"client_id":"abc","client_secret" : "%s"}}', SECRET),
        ('{"signature":"%s","nonce":"n1"}', SECRET),
        ('{"apiKey":"%s"}', SECRET),
        ('{"api_secret":"%s"}', SECRET),
        ('{"password":"%s"}', SECRET),
        ('{"data":"{\\"access_token\\":\\"%s\\"}"}', SECRET),  # JSON inside a string
        ('{"token":"%s\\/more"}', SECRET),  # an escape inside the value
        ("GET /api/v2/public/auth?client_id=a&client_secret=%s&x=1 HTTP/1.1", SECRET),
        ("illegal header line: bytearray(b'Authorization : Bearer %s')", SECRET),
        ("Authorization: deri-hmac-sha256 id=a,ts=1,sig=%s,nonce=z\r\nHost: h", SECRET),
    ],
)
def test_credentials_in_their_usual_shapes_are_masked(text: str, hidden: str) -> None:
    redacted = redact(text % hidden)
    assert hidden not in redacted
    assert MASK in redacted


def test_other_text_is_left_alone() -> None:
    text = '{"jsonrpc":"2.0","id":7,"result":{"instrument_name":"BTC-PERPETUAL","price":1.5}}'
    assert redact(text) == text
    assert redact(b"\xff\xfe not utf-8") == b"\xff\xfe not utf-8"
    assert is_secret_name("client_secret")
    assert is_secret_name("X-API-KEY")
    assert not is_secret_name("instrument_name")


# -- through the stacks -------------------------------------------------------------------


def server_frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    if len(payload) < 126:
        return struct.pack("!BB", first, len(payload)) + payload
    return struct.pack("!BBH", first, 126, len(payload)) + payload


def accepted(stack: WebSocketClientStack) -> None:
    """Answer the stack's upgrade request with a 101."""
    request = stack.data_to_send()
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    stack.receive_data(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n",
        0.0,
    )


def rejected(events: list[Event]) -> list[MessageRejected]:
    return [e for e in events if isinstance(e, MessageRejected)]


@pytest.mark.parametrize("fast_path", [True, False])
@pytest.mark.parametrize("fragmented", [False, True])
def test_a_truncated_auth_answer_leaves_no_token_in_the_event(
    fast_path: bool, fragmented: bool
) -> None:
    machine = ClientProtocol(
        credentials=Credentials(
            client_id="demo", client_secret=SECRET, grant_type="client_credentials"
        )
    )
    stack = WebSocketClientStack(
        machine, host="www.deribit.test", rng=random.Random(1), fast_path=fast_path
    )
    stack.connection_made(0.0)
    accepted(stack)
    stack.data_to_send()  # the auth request
    answer = (AUTH_ANSWER % (1, ACCESS, REFRESH)).encode()
    cut = answer[: answer.index(REFRESH.encode()) + 20]  # the refresh token cut in two
    if fragmented:
        wire = server_frame(cut[:100], fin=False) + server_frame(cut[100:], opcode=0x0)
    else:
        wire = server_frame(cut)
    stack.receive_data(wire, 0.1)
    events = stack.events()
    (event,) = rejected(events)
    for shown in (event.data, event.reason.encode(), repr(event).encode(), repr(events).encode()):
        assert ACCESS.encode()[:12] not in shown
        assert REFRESH.encode()[:12] not in shown
    assert b'"access_token":"' + MASK.encode() in event.data
    assert len(event.data) <= 512


def test_a_refusal_body_and_cookie_are_redacted() -> None:
    stack = WebSocketClientStack(EchoClient(), host="venue.test", rng=random.Random(1))
    stack.connection_made(0.0)
    stack.data_to_send()
    body = b'{"error":"expired","access_token":"%s"}' % ACCESS.encode()
    stack.receive_data(
        b"HTTP/1.1 401 Unauthorized\r\nSet-Cookie: session=%s\r\nContent-Length: %d\r\n\r\n%s"
        % (ACCESS.encode(), len(body), body),
        0.1,
    )
    (event,) = [e for e in stack.events() if isinstance(e, UpgradeRejected)]
    assert event.status == 401
    assert ACCESS.encode() not in event.body
    assert ACCESS not in repr(event)
    assert dict(event.headers)["set-cookie"] == MASK
