"""Deribit signatures (spec 2.2, 2.3): the published and self-computed vectors, exactly."""

from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.protocol import RemoteProtocolError, Secret
from tradewire.protocol.deribit import (
    AuthClientSignature,
    HmacAuthorization,
    build_http_authorization,
    http_signature,
    http_string_to_sign,
    parse_http_authorization,
    signature,
    string_to_sign,
    verify_http_authorization,
    verify_signature,
)

SECRET = "AMANDASECRECT"
TS = 1576074319000
NONCE = "1iqt2wls"
VECTOR_A = "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"
VECTOR_DATA = "1aaad98e495429a93f535f0531543231bcc52c993995cd81720590c172316bc7"
VECTOR_B = "9bfbc51a2bc372d72cc396cf1a213dc78d42eb74cb7dc272351833ad0de276ab"
VECTOR_POST = "0227126082beff33352b73756e4fa6f16e1988058b1426e9e9a17e4962989e00"
URI_B = "/api/v2/private/get_account_summary?currency=BTC"
POST_BODY = (
    '{"jsonrpc":"2.0","id":1,"method":"private/buy","params":'
    '{"instrument_name":"BTC-PERPETUAL","amount":10,"type":"market"}}'
)


def test_vector_a_websocket_client_signature() -> None:
    assert string_to_sign(TS, NONCE) == "1576074319000\n1iqt2wls\n"
    assert signature(SECRET, TS, NONCE) == VECTOR_A
    assert signature(Secret(SECRET), TS, NONCE, "") == VECTOR_A
    assert verify_signature(SECRET, TS, NONCE, "", VECTOR_A)
    assert verify_signature(SECRET, TS, NONCE, "", VECTOR_A.upper())
    assert not verify_signature(SECRET, TS, NONCE, "x", VECTOR_A)
    assert not verify_signature(SECRET, TS + 1, NONCE, "", VECTOR_A)


def test_self_computed_data_vector() -> None:
    assert string_to_sign(TS, NONCE, "some-data") == "1576074319000\n1iqt2wls\nsome-data"
    assert signature(SECRET, TS, NONCE, "some-data") == VECTOR_DATA


def test_vector_b_http_get() -> None:
    assert http_string_to_sign(TS, NONCE, "get", URI_B) == (
        "1576074319000\n1iqt2wls\nGET\n/api/v2/private/get_account_summary?currency=BTC\n\n"
    )
    assert http_signature(SECRET, TS, NONCE, method="GET", uri=URI_B) == VECTOR_B
    header = build_http_authorization(
        "AMANDA", Secret(SECRET), timestamp_ms=TS, nonce=NONCE, method="GET", uri=URI_B
    )
    assert header == f"deri-hmac-sha256 id=AMANDA,ts={TS},sig={VECTOR_B},nonce={NONCE}"


def test_post_vector_signs_the_body_as_sent() -> None:
    for body in (POST_BODY, POST_BODY.encode()):
        sig = http_signature(SECRET, TS, NONCE, method="POST", uri="/api/v2/private/buy", body=body)
        assert sig == VECTOR_POST
    assert http_string_to_sign(TS, NONCE, "POST", "/api/v2/private/buy", POST_BODY).endswith(
        POST_BODY + "\n"
    )


def test_auth_command_built_from_the_secret_carries_vector_a() -> None:
    command = AuthClientSignature.signed(
        client_id="AMANDA", client_secret=SECRET, timestamp=TS, nonce=NONCE
    )
    assert command.signature == VECTOR_A
    assert command.client_id == "AMANDA"
    assert SECRET not in repr(command)


FIELDS = {"id": "AMANDA", "ts": str(TS), "sig": VECTOR_B, "nonce": NONCE}


@pytest.mark.parametrize("order", list(itertools.permutations(FIELDS)))
@pytest.mark.parametrize("separator", [",", ", ", " , "])
def test_header_parses_in_any_field_order_with_or_without_spaces(
    order: tuple[str, ...], separator: str
) -> None:
    value = "deri-hmac-sha256 " + separator.join(f"{k}={FIELDS[k]}" for k in order)
    parsed = parse_http_authorization(value)
    assert parsed == HmacAuthorization(
        client_id="AMANDA", timestamp=TS, signature=VECTOR_B, nonce=NONCE
    )
    assert verify_http_authorization(parsed, SECRET, "GET", URI_B)
    assert not verify_http_authorization(parsed, SECRET, "GET", URI_B + "&x=1")
    assert not verify_http_authorization(parsed, "wrong", "GET", URI_B)


def test_header_tolerates_case_padding_and_unknown_fields() -> None:
    parsed = parse_http_authorization(
        f"  DERI-HMAC-SHA256 ID = AMANDA , ts={TS},extra=1, sig={VECTOR_B.upper()},nonce={NONCE} "
    )
    assert parsed.client_id == "AMANDA"
    assert verify_http_authorization(parsed, SECRET, "get", URI_B)


def test_header_round_trips_through_its_own_value() -> None:
    auth = HmacAuthorization(client_id="k", timestamp=1, signature="ab", nonce="n")
    assert parse_http_authorization(auth.header_value()) == auth


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Bearer abc", "scheme"),
        (f"deri-hmac-sha256 id=A,ts={TS},sig={VECTOR_B}", "misses nonce"),
        (f"deri-hmac-sha256 id=A,id=B,ts={TS},sig=x,nonce=n", "given twice"),
        ("deri-hmac-sha256 id=A,ts=12x,sig=x,nonce=n", "not an integer"),
        ("deri-hmac-sha256 id=A,ts=-1,sig=x,nonce=n", "not an integer"),
        ("deri-hmac-sha256 id=A,ts,sig=x,nonce=n", "without '='"),
        ("deri-hmac-sha256", "misses id, ts, sig, nonce"),
    ],
)
def test_bad_headers_are_remote_protocol_errors(value: str, problem: str) -> None:
    with pytest.raises(RemoteProtocolError, match=problem):
        parse_http_authorization(value)


@given(st.text(max_size=80))
def test_header_parser_raises_only_remote_protocol_error(value: str) -> None:
    with contextlib.suppress(RemoteProtocolError):
        parse_http_authorization("deri-hmac-sha256 " + value)


@given(
    secret=st.text(min_size=1, max_size=20),
    ts=st.integers(0, 2**53),
    nonce=st.text(max_size=20),
    data=st.text(max_size=20),
)
def test_sign_then_verify(secret: str, ts: int, nonce: str, data: str) -> None:
    sig = signature(secret, ts, nonce, data)
    assert len(sig) == 64
    assert sig == sig.lower()
    assert verify_signature(Secret(secret), ts, nonce, data, sig)
