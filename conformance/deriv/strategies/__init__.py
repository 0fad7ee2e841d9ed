"""Hypothesis strategies for Deriv messages, valid and invalid, both directions.

For your own client or server (this module needs ``hypothesis``):

* client to venue: :func:`commands` (typed commands), :func:`requests` (valid request
  objects as dicts, as the official clients send them), :func:`invalid_requests`
  (``(request, expected error code)``: each breaks one rule of spec 1.2 / 6.1);
* venue to client: :func:`messages` (valid replies and stream messages as bytes, with
  ``msg_type``, ``echo_req``, ``req_id`` and, on streams, ``subscription.id``),
  :func:`invalid_messages` (bytes a client must survive: not JSON, not an object, no
  ``msg_type``, a known ``msg_type`` whose payload has the wrong type, unknown types);
* :func:`stream_topics` (topics of ``tradewire.protocol.deriv``'s grammar), :func:`symbols`.

Everything is built from the notes' shapes (``docs/venues/deriv.md``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import strategies as st

from tradewire.protocol import deriv as d

__all__ = [
    "SYMBOLS",
    "commands",
    "invalid_messages",
    "invalid_requests",
    "messages",
    "requests",
    "stream_ids",
    "stream_topics",
    "symbols",
]

SYMBOLS = ("R_10", "R_25", "R_50", "R_75", "R_100", "1HZ10V", "1HZ100V")


def symbols() -> st.SearchStrategy[str]:
    return st.sampled_from(SYMBOLS)


def stream_ids() -> st.SearchStrategy[str]:
    """UUID-shaped subscription ids (36 characters)."""
    return st.uuids().map(str)


_amounts = st.floats(min_value=0.35, max_value=50_000, allow_nan=False).map(lambda x: round(x, 2))


def _proposals() -> st.SearchStrategy[d.Proposal]:
    rise_fall = st.builds(
        d.Proposal,
        contract_type=st.sampled_from(["CALL", "PUT"]),
        currency=st.just("USD"),
        symbol=symbols(),
        amount=_amounts,
        basis=st.sampled_from(["stake", "payout"]),
        duration=st.integers(1, 10),
        duration_unit=st.just("t"),
    )
    multipliers = st.builds(
        d.Proposal,
        contract_type=st.sampled_from(["MULTUP", "MULTDOWN"]),
        currency=st.just("USD"),
        symbol=symbols(),
        amount=_amounts,
        basis=st.just("stake"),
        multiplier=st.sampled_from([10, 20, 30, 50, 100]).map(float),
    )
    return st.one_of(rise_fall, multipliers)


def commands() -> st.SearchStrategy[d.DerivCommand]:
    """Valid typed commands of the public and private calls."""
    return st.one_of(
        st.just(d.Ping()),
        st.just(d.Time()),
        st.just(d.WebsiteStatus()),
        st.builds(d.ActiveSymbols, active_symbols=st.sampled_from(["brief", "full"])),
        st.builds(d.ContractsFor, contracts_for=symbols()),
        st.builds(
            d.TicksHistory,
            ticks_history=symbols(),
            count=st.integers(1, 5000),
            style=st.sampled_from(["ticks", "candles"]),
        ),
        _proposals(),
        st.just(d.Portfolio()),
        st.builds(d.Statement, limit=st.integers(1, 999)),
        st.builds(d.ProfitTable, limit=st.integers(1, 500)),
        st.just(d.Balance()),
        st.builds(d.Sell, sell=st.integers(1, 10**12), price=st.just(0.0)),
    )


def stream_topics() -> st.SearchStrategy[str]:
    """Topics of every form (``ticks.R_50``, ``candles.R_50.60``, ``proposal:{...}``)."""
    return st.one_of(
        symbols().map(lambda s: f"ticks.{s}"),
        symbols().map(lambda s: f"ticks_history.{s}"),
        st.tuples(symbols(), st.sampled_from(d.GRANULARITIES)).map(
            lambda t: f"candles.{t[0]}.{t[1]}"
        ),
        st.sampled_from(["balance", "transaction", "website_status", "proposal_open_contract"]),
        st.integers(1, 10**12).map(lambda n: f"proposal_open_contract.{n}"),
        _proposals().map(d.topic_of),
    )


def requests() -> st.SearchStrategy[dict[str, Any]]:
    """Valid request objects, ``req_id`` included, as the wire carries them."""
    return st.tuples(commands(), st.integers(1, 2**31 - 1)).map(
        lambda pair: {**d.request_fields(pair[0]), "req_id": pair[1]}
    )


def invalid_requests() -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """``(request, code)``: a request that breaks one rule and the error it gets."""
    req_id = st.integers(1, 2**31 - 1)
    unknown = st.tuples(
        st.text("abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).filter(
            lambda k: k not in d.COMMANDS and k not in ("payout_currencies", "trading_times")
        ),
        req_id,
    ).map(lambda t: ({t[0]: 1, "req_id": t[1]}, "UnrecognisedRequest"))
    extra_field = st.tuples(requests(), st.sampled_from(["bogus", "limit_order_x", "zzz"])).map(
        lambda t: ({**t[0], t[1]: 1}, "InputValidationFailed")
    )
    wrong_type = st.tuples(symbols(), req_id).map(
        lambda t: (
            {
                "proposal": 1,
                "amount": "ten",
                "basis": "stake",
                "contract_type": "CALL",
                "currency": "USD",
                "symbol": t[0],
                "duration": 5,
                "duration_unit": "t",
                "req_id": t[1],
            },
            "InputValidationFailed",
        )
    )
    bad_enum = req_id.map(
        lambda r: (
            {
                "ticks_history": "R_50",
                "end": "latest",
                "style": "candles",
                "granularity": 61,
                "req_id": r,
            },
            "InputValidationFailed",
        )
    )
    bad_subscribe = st.tuples(symbols(), st.sampled_from([2, -1, "1"])).map(
        lambda t: ({"ticks": t[0], "subscribe": t[1]}, "InputValidationFailed")
    )
    bad_symbol = st.text(min_size=0, max_size=1).map(
        lambda s: ({"ticks": s, "subscribe": 1}, "InputValidationFailed")
    )
    needs_auth = st.sampled_from(["portfolio", "statement", "balance", "profit_table"]).map(
        lambda call: ({call: 1}, "AuthorizationRequired")
    )
    return st.one_of(
        unknown, extra_field, wrong_type, bad_enum, bad_subscribe, bad_symbol, needs_auth
    )


def _envelope(
    msg_type: str, payload: Any, req_id: int, sub: str | None, echo: dict[str, Any]
) -> bytes:
    body: dict[str, Any] = {"echo_req": echo, "msg_type": msg_type, "req_id": req_id}
    if sub is not None:
        body["subscription"] = {"id": sub}
    body[msg_type] = payload
    return msgspec.json.encode(body)


def messages() -> st.SearchStrategy[bytes]:
    """Valid venue messages: replies and stream messages, errors included."""
    req_id = st.integers(1, 2**31 - 1)
    sub = st.one_of(st.none(), stream_ids())
    quote = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)
    ticks = st.builds(
        lambda s, q, e, r, i: _envelope(
            "tick",
            {"epoch": e, "quote": q, "symbol": s, "pip_size": 2, "id": i},
            r,
            i,
            {"ticks": s, "subscribe": 1, "req_id": r},
        ),
        symbols(),
        quote,
        st.integers(0, 2**31),
        req_id,
        stream_ids(),
    )
    proposals = st.builds(
        lambda q, r, i: _envelope(
            "proposal",
            {
                "id": i or "0" * 36,
                "ask_price": 10,
                "payout": round(q, 2),
                "spot": q,
                "spot_time": 1,
                "date_start": 1,
                "longcode": "Win payout if ...",
                "display_value": "10.00",
            },
            r,
            i,
            {"proposal": 1, "req_id": r},
        ),
        quote,
        req_id,
        sub,
    )
    simple = st.builds(
        lambda kind, r: _envelope(kind[0], kind[1], r, None, {kind[0]: 1, "req_id": r}),
        st.sampled_from(
            [
                ("ping", "pong"),
                ("time", 1_700_000_000),
                ("forget", 1),
                ("forget_all", []),
                ("logout", 1),
            ]
        ),
        req_id,
    )
    errors = st.builds(
        lambda code, call, r: msgspec.json.encode(
            {
                "echo_req": {call: 1, "req_id": r},
                "error": {"code": code, "message": "m"},
                "msg_type": call,
                "req_id": r,
            }
        ),
        st.sampled_from(sorted(d.CODES)),
        st.sampled_from(["proposal", "ticks", "buy", "error"]),
        req_id,
    )
    return st.one_of(ticks, proposals, simple, errors)


def invalid_messages() -> st.SearchStrategy[bytes]:
    """Bytes a client must survive (events or ``RemoteProtocolError``, never a crash)."""
    return st.one_of(
        st.binary(max_size=64),
        messages().flatmap(lambda m: st.integers(0, max(0, len(m) - 1)).map(lambda n: m[:n])),
        st.sampled_from(
            [b"[]", b"1", b'"x"', b"null", b"{}", b'{"msg_type":1}', b'{"req_id":"x"}']
        ),
        st.builds(
            lambda kind, r: msgspec.json.encode(
                {"msg_type": kind, "req_id": r, kind: {"unexpected": True}}
            ),
            st.sampled_from(
                ["tick", "proposal", "time", "authorize", "buy", "candles", "forget_all"]
            ),
            st.one_of(st.integers(), st.text(max_size=4), st.none()),
        ),
        st.builds(
            lambda kind, r: msgspec.json.encode({"msg_type": kind, "req_id": r, "echo_req": {}}),
            st.text(max_size=12),
            st.integers(0, 10),
        ),
    )
