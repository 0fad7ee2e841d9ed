"""Venue answers: each command's typed result, error codes, response envelopes.

:func:`results` knows which model answers which command; :func:`responses` wraps a
result or an error in an envelope as the venue writes it.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from hypothesis import strategies as st

from tradewire.protocol import RequestId
from tradewire.protocol._secrets import enc_hook
from tradewire.protocol.deribit import (
    COD_SCOPES,
    ERROR_MESSAGES,
    Auth,
    Buy,
    Cancel,
    CancelAll,
    CancelAllByCurrency,
    CancelAllByInstrument,
    CancelAllByKindOrType,
    CancelByLabel,
    CancelOnDisconnectState,
    CancelReport,
    Currency,
    DeribitCommand,
    Edit,
    EditByLabel,
    ErrorResponse,
    ExchangeToken,
    ForkToken,
    GetAccountSummary,
    GetCancelOnDisconnect,
    GetCurrencies,
    GetIndexPrice,
    GetInstruments,
    GetLastTradesByInstrument,
    GetOpenOrders,
    GetOpenOrdersByCurrency,
    GetOpenOrdersByInstrument,
    GetOpenOrdersByLabel,
    GetOrderBook,
    GetOrderBookByInstrumentId,
    GetOrderState,
    GetPosition,
    GetPositions,
    GetTicker,
    GetTime,
    Hello,
    IndexPrice,
    OrderBookSnapshot,
    OrderResult,
    PlatformStatus,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PublicSubscribe,
    PublicUnsubscribe,
    Response,
    RpcError,
    Sell,
    Status,
    Test,
    TradesPage,
    VersionResult,
    WithdrawalPriority,
    error_for,
)

from ._commands import commands
from ._models import (
    account_summaries,
    auth_results,
    instruments,
    orders,
    positions,
    public_trades,
    tickers,
    user_trades,
)
from ._names import currencies, index_names, instrument_names, request_ids
from ._samples import ResponseSample
from ._values import (
    _FIRST_MS,
    _LAST_MS,
    _amounts,
    _choice,
    _floats,
    _maybe,
    _prices,
    _text,
    _timestamps,
)

__all__ = ["error_codes", "responses", "results"]


@functools.cache
def _currency_details() -> st.SearchStrategy[Currency]:
    return st.builds(
        Currency,
        currency=currencies(),
        currency_long=_text(1, 24),
        coin_type=_maybe(st.sampled_from(("BITCOIN", "ETHER", "USDC"))),
        fee_precision=_maybe(st.integers(0, 12)),
        withdrawal_fee=_maybe(_floats(0, 1)),
        withdrawal_priorities=_maybe(
            st.lists(
                st.builds(WithdrawalPriority, name=_text(1, 12), value=_floats(0, 10)), max_size=3
            )
        ),
    )


@st.composite
def _book_snapshot(draw: st.DrawFn) -> OrderBookSnapshot:
    ticker = draw(tickers())
    bids = draw(st.lists(st.tuples(_prices(), _amounts()), max_size=5))
    asks = draw(st.lists(st.tuples(_prices(), _amounts()), max_size=5))
    return OrderBookSnapshot(
        **msgspec.structs.asdict(ticker),
        change_id=draw(st.integers(1, 10**10)),
        bids=bids,
        asks=asks,
    )


@functools.cache
def _cancel_counts() -> st.SearchStrategy[Any]:
    report = st.builds(
        CancelReport,
        currency=currencies(),
        type=st.sampled_from(("currency", "instrument", "kind")),
        instrument_name=_maybe(instrument_names()),
        result=_maybe(st.lists(orders(), max_size=2)),
        error=_maybe(st.builds(RpcError, code=st.just(10004), message=st.just("order_not_found"))),
    )
    return st.one_of(st.integers(0, 10_000), st.lists(report, max_size=3))


def results(command: DeribitCommand) -> st.SearchStrategy[Any]:
    """Results of ``command``'s ``result_type`` as the venue would send them (wire
    models, or ``"ok"``, counts, channel lists); what ``decode_result`` must give back.

    Subscribe answers list some of the requested channels in a new order (the venue
    drops bad ones silently and reorders, spec 3.1).
    """
    if isinstance(
        command, PublicSubscribe | PrivateSubscribe | PublicUnsubscribe | PrivateUnsubscribe
    ):
        channels = list(command.channels)
        return st.lists(st.sampled_from(channels), unique=True, max_size=len(channels))
    kind = type(command)
    simple: dict[type[DeribitCommand], st.SearchStrategy[Any]] = {
        Test: st.builds(VersionResult, version=st.sampled_from(("1.2.26", "1.2.31"))),
        Hello: st.builds(VersionResult, version=st.just("1.2.26")),
        GetTime: _timestamps(),
        Status: st.builds(
            PlatformStatus,
            locked=st.one_of(st.booleans(), st.sampled_from(("true", "partial", "false"))),
            locked_indices=_maybe(st.lists(index_names(), max_size=3)),
        ),
        GetInstruments: st.lists(instruments(), max_size=3),
        GetCurrencies: st.lists(_currency_details(), max_size=3),
        GetOrderBook: _book_snapshot(),
        GetOrderBookByInstrumentId: _book_snapshot(),
        GetTicker: tickers(),
        GetIndexPrice: st.builds(
            IndexPrice, index_price=_prices(), estimated_delivery_price=_prices()
        ),
        GetLastTradesByInstrument: st.builds(
            TradesPage, trades=st.lists(public_trades(), max_size=3), has_more=st.booleans()
        ),
        Cancel: orders(),
        GetOrderState: orders(),
        CancelByLabel: st.integers(0, 1000),
        GetOpenOrders: st.lists(orders(), max_size=3),
        GetOpenOrdersByCurrency: st.lists(orders(), max_size=3),
        GetOpenOrdersByInstrument: st.lists(orders(), max_size=3),
        GetOpenOrdersByLabel: st.lists(orders(), max_size=3),
        GetPositions: st.lists(positions(), max_size=3),
        GetPosition: positions(),
        GetAccountSummary: account_summaries(),
        GetCancelOnDisconnect: st.builds(
            CancelOnDisconnectState, scope=_choice(COD_SCOPES), enabled=st.booleans()
        ),
    }
    if kind in simple:
        return simple[kind]
    if isinstance(command, Auth | ExchangeToken | ForkToken):
        return auth_results()
    if isinstance(command, Buy | Sell | Edit | EditByLabel):
        name = getattr(command, "instrument_name", None)
        instrument = st.just(name) if name is not None else None
        return st.builds(
            OrderResult,
            order=orders(instrument),
            trades=st.lists(user_trades(instrument), max_size=3),
        )
    if isinstance(
        command, CancelAll | CancelAllByCurrency | CancelAllByInstrument | CancelAllByKindOrType
    ):
        return _cancel_counts()
    return st.just("ok")  # heartbeat, unsubscribe_all and cancel-on-disconnect switches


# -- responses ------------------------------------------------------------------------

_COMMON_ERRORS = (10028, 13009, 13004, 10004, 11044, 10009, 11050, -32602, -32601, 13778, 10010)


@functools.cache
def error_codes() -> st.SearchStrategy[int]:
    """Documented Deribit error codes (spec 7.1), the ones clients meet most often
    weighted up."""
    return st.one_of(st.sampled_from(_COMMON_ERRORS), st.sampled_from(tuple(ERROR_MESSAGES)))


def _error_data(code: int) -> st.SearchStrategy[Any]:
    if code in (-32602, -32000):
        return st.builds(
            lambda reason, param: {"reason": reason, "param": param},
            st.sampled_from(("must be present", "wrong format", "missing")),
            st.sampled_from(("instrument_name", "amount", "nonce", "price")),
        )
    if code == 11050:
        return st.sampled_from(("invalid json", "invalid request", None))
    if code == 13009:
        return st.one_of(st.none(), st.just({"reason": "invalid_token"}))
    return st.one_of(st.none(), st.just({"reason": "x"}), _floats(0, 1e6), _text(0, 16))


def _envelope(fields: list[tuple[str, Any]]) -> bytes:
    """A response's bytes; ``result`` is kept as the exact encoded bytes (``Raw``)."""
    return msgspec.json.encode(dict(fields))


@st.composite
def _envelope_times(draw: st.DrawFn) -> tuple[list[tuple[str, Any]], int, int, int, bool]:
    us_in = draw(st.integers(_FIRST_MS * 1000, _LAST_MS * 1000))
    us_out = us_in + draw(st.integers(0, 10**7))
    testnet = draw(st.booleans())
    as_text = draw(st.booleans())
    diff = us_out - us_in

    def show(value: int) -> int | str:
        return str(value) if as_text else value

    extras = [
        ("testnet", testnet),
        ("usIn", show(us_in)),
        ("usOut", show(us_out)),
        ("usDiff", show(diff)),
    ]
    return extras, us_in, us_out, diff, testnet


@st.composite
def responses(
    draw: st.DrawFn,
    commands_: st.SearchStrategy[DeribitCommand] | None = None,
    *,
    errors: bool | None = None,
) -> ResponseSample:
    """:class:`ResponseSample` values: a command's result, or an error with a real code.

    Envelopes as the venue writes them (``testnet``, ``usIn``, ``usOut``, ``usDiff``,
    the times as JSON numbers or, as in some ccxt recordings, strings), keys in the
    documented order or shuffled.  ``errors`` ``True`` / ``False`` gives only errors /
    only results; an error about a request the venue could not parse may have no id.
    ``private/logout`` is never answered, so it gets only errors.
    """
    command = draw(commands_ if commands_ is not None else commands())
    want_error = draw(st.booleans()) if errors is None else errors
    if not command.has_response:
        want_error = True
    extras, us_in, us_out, diff, testnet = draw(_envelope_times())
    if want_error:
        # The two codes for requests the venue could not parse (the only errors that
        # may come without an id) are drawn often, so that case is not a rarity.
        code = draw(st.one_of(st.sampled_from([11050, -32600]), error_codes()))
        message = ERROR_MESSAGES.get(code, "error")
        data = draw(_error_data(code))
        request_id: RequestId | None = draw(request_ids())
        if code in (11050, -32600) and draw(st.booleans()):
            request_id = None
        body: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            body["data"] = data
        head: list[tuple[str, Any]] = [("jsonrpc", "2.0")]
        if request_id is not None:
            head.append(("id", request_id))
        fields = [*head, ("error", body), *extras]
        fields = draw(st.one_of(st.just(fields), st.permutations(fields)))
        expected: Response | ErrorResponse = ErrorResponse(
            id=request_id,
            error=RpcError(code=code, message=message, data=data),
            testnet=testnet,
            us_in=us_in,
            us_out=us_out,
            us_diff=diff,
        )
        return ResponseSample(
            command=command,
            request_id=request_id,
            data=_envelope(fields),
            expected=expected,
            error=error_for(code, message, data),
        )
    result = draw(results(command))
    raw = msgspec.Raw(msgspec.json.encode(result, enc_hook=enc_hook))
    request_id = draw(request_ids())
    fields = [("jsonrpc", "2.0"), ("id", request_id), ("result", raw), *extras]
    fields = draw(st.one_of(st.just(fields), st.permutations(fields)))
    expected = Response(
        id=request_id, result=raw, testnet=testnet, us_in=us_in, us_out=us_out, us_diff=diff
    )
    return ResponseSample(
        command=command,
        request_id=request_id,
        data=_envelope(fields),
        expected=expected,
        result=result,
    )
