"""Typed commands with valid params, and the requests a client sends for them.

One strategy per command class (the table), with the venue's rules for orders, edits
and signed auth spelled out; :func:`requests` pairs a command with an id and its bytes.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable
from typing import Any

import msgspec
from hypothesis import strategies as st

from tradewire.protocol import RequestId
from tradewire.protocol._secrets import Secret
from tradewire.protocol.deribit import (
    ADVANCED,
    CANCEL_TYPES,
    COD_SCOPES,
    KINDS,
    LINKED_ORDER_TYPES,
    MAX_SUBSCRIBE_LABEL_LENGTH,
    MIN_HEARTBEAT_INTERVAL,
    OPEN_ORDER_TYPES,
    ORDER_BOOK_DEPTHS,
    ORDER_TYPES,
    SORTINGS,
    TIME_IN_FORCE,
    TRIGGER_FILL_CONDITIONS,
    TRIGGERS,
    USER_KINDS,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    Buy,
    Cancel,
    CancelAll,
    CancelAllByCurrency,
    CancelAllByInstrument,
    CancelAllByKindOrType,
    CancelByLabel,
    DeribitCommand,
    DisableCancelOnDisconnect,
    DisableHeartbeat,
    Edit,
    EditByLabel,
    EnableCancelOnDisconnect,
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
    Logout,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PrivateUnsubscribeAll,
    PublicSubscribe,
    PublicUnsubscribe,
    PublicUnsubscribeAll,
    Sell,
    SetHeartbeat,
    Status,
    Test,
    encode_request,
)

from ._channels import channel_names
from ._names import currencies, index_names, instrument_names, request_ids
from ._samples import RequestSample
from ._values import (
    _amounts,
    _choice,
    _client_ids,
    _labels,
    _maybe,
    _order_ids,
    _prices,
    _scopes,
    _text,
    _timestamps,
    _token,
)

__all__ = ["command_types", "commands", "requests"]


@functools.cache
def _channel_lists() -> st.SearchStrategy[list[str]]:
    return st.lists(channel_names(), min_size=1, max_size=8, unique=True)


def _build(
    command_type: type[DeribitCommand],
    required: dict[str, st.SearchStrategy[Any]] | None = None,
    optional: dict[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[DeribitCommand]:
    fields = st.fixed_dictionaries(required or {}, optional=optional or {})
    return fields.map(lambda kw: command_type(**kw))


@st.composite
def _place_order(draw: st.DrawFn, command_type: type[Buy | Sell]) -> DeribitCommand:
    order_type = draw(_maybe(_choice(ORDER_TYPES)))
    effective = order_type or "limit"
    fields: dict[str, Any] = {"instrument_name": draw(instrument_names())}
    size = draw(st.sampled_from(("amount", "contracts", "both")))
    if size in ("amount", "both"):
        fields["amount"] = draw(_amounts())
    if size in ("contracts", "both"):
        fields["contracts"] = draw(_amounts())
    if order_type is not None:
        fields["type"] = order_type
    if effective in ("limit", "stop_limit", "take_limit") or draw(st.booleans()):
        fields["price"] = draw(_prices())
    triggered = effective in ("stop_limit", "stop_market", "take_limit", "take_market")
    if triggered or effective == "trailing_stop":
        fields["trigger"] = draw(_choice(TRIGGERS))
    if triggered:
        fields["trigger_price"] = draw(_prices())
    if effective == "trailing_stop":
        fields["trigger_offset"] = draw(_prices())
    post_only = draw(_maybe(st.booleans()))
    if post_only is not None:
        fields["post_only"] = post_only
        if post_only and draw(st.booleans()):
            fields["reject_post_only"] = True
    if post_only:
        tif = draw(_maybe(st.just("good_til_cancelled")))
    else:
        tif = draw(_maybe(_choice(TIME_IN_FORCE)))
    if tif is not None:
        fields["time_in_force"] = tif
    optional = {
        "label": _labels(),
        "max_show": _amounts(),
        "reduce_only": st.booleans(),
        "mmp": st.booleans(),
        "display_amount": _amounts(),
        "advanced": _choice(ADVANCED),
        "valid_until": _timestamps(),
        "linked_order_type": _choice(LINKED_ORDER_TYPES),
        "trigger_fill_condition": _choice(TRIGGER_FILL_CONDITIONS),
    }
    fields.update(draw(st.fixed_dictionaries({}, optional=optional)))
    return command_type(**fields)


def _edit_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "price": _prices(),
        "reduce_only": st.booleans(),
        "advanced": _choice(ADVANCED),
        "trigger_price": _prices(),
        "trigger_offset": _prices(),
        "mmp": st.booleans(),
        "valid_until": _timestamps(),
        "display_amount": _amounts(),
    }


@st.composite
def _edit(draw: st.DrawFn, command_type: type[Edit | EditByLabel]) -> DeribitCommand:
    fields: dict[str, Any] = draw(st.fixed_dictionaries({}, optional=_edit_fields()))
    size = draw(st.sampled_from(("amount", "contracts", "both")))
    if size in ("amount", "both"):
        fields["amount"] = draw(_amounts())
    if size in ("contracts", "both"):
        fields["contracts"] = draw(_amounts())
    post_only = draw(_maybe(st.booleans()))
    if post_only is not None:
        fields["post_only"] = post_only
        if post_only and draw(st.booleans()):
            fields["reject_post_only"] = True
    if command_type is Edit:
        fields["order_id"] = draw(_order_ids())
    else:
        fields["label"] = draw(_labels())
        fields["instrument_name"] = draw(instrument_names())
    return command_type(**fields)


@st.composite
def _signed_auth(draw: st.DrawFn) -> DeribitCommand:
    return AuthClientSignature.signed(
        client_id=draw(_client_ids()),
        client_secret=draw(_text(8, 40)),
        timestamp=draw(_timestamps()),
        nonce=draw(
            st.one_of(st.text(string.ascii_lowercase + string.digits, max_size=16), _text(0, 16))
        ),
        data=draw(st.one_of(st.just(""), _text(0, 32))),
        scope=draw(_maybe(_scopes())),
        state=draw(_maybe(_text(1, 16))),
    )


@functools.cache
def _command_table() -> dict[type[DeribitCommand], st.SearchStrategy[DeribitCommand]]:
    instrument = instrument_names()
    currency = currencies()
    any_currency = currencies(allow_any=True)
    cod = {"scope": _choice(COD_SCOPES)}
    cancel_flags = {"detailed": st.booleans(), "freeze_quotes": st.booleans()}
    auth_extra = {"scope": _scopes(), "state": _text(1, 16)}
    table: dict[type[DeribitCommand], st.SearchStrategy[DeribitCommand]] = {
        SetHeartbeat: _build(SetHeartbeat, {"interval": st.integers(MIN_HEARTBEAT_INTERVAL, 3600)}),
        DisableHeartbeat: _build(DisableHeartbeat),
        Test: _build(Test, optional={"expected_result": st.just("exception")}),
        Hello: _build(Hello, {"client_name": _text(1, 24), "client_version": _text(1, 12)}),
        GetTime: _build(GetTime),
        Status: _build(Status),
        AuthClientCredentials: _build(
            AuthClientCredentials,
            {"client_id": _client_ids(), "client_secret": _text(8, 40)},
            auth_extra,
        ),
        AuthClientSignature: _signed_auth(),
        AuthRefreshToken: _build(AuthRefreshToken, {"refresh_token": _token()}, auth_extra),
        ExchangeToken: _build(
            ExchangeToken,
            {"refresh_token": _token(), "subject_id": st.integers(0, 10**7)},
            {"scope": _scopes()},
        ),
        ForkToken: _build(ForkToken, {"refresh_token": _token(), "session_name": _text(1, 16)}),
        Logout: _build(Logout, optional={"invalidate_token": st.booleans()}),
        PublicSubscribe: _build(PublicSubscribe, {"channels": _channel_lists()}),
        PrivateSubscribe: _build(
            PrivateSubscribe,
            {"channels": _channel_lists()},
            {"label": _labels(MAX_SUBSCRIBE_LABEL_LENGTH)},
        ),
        PublicUnsubscribe: _build(PublicUnsubscribe, {"channels": _channel_lists()}),
        PrivateUnsubscribe: _build(PrivateUnsubscribe, {"channels": _channel_lists()}),
        PublicUnsubscribeAll: _build(PublicUnsubscribeAll),
        PrivateUnsubscribeAll: _build(PrivateUnsubscribeAll),
        GetInstruments: _build(
            GetInstruments,
            optional={"currency": any_currency, "kind": _choice(KINDS), "expired": st.booleans()},
        ),
        GetCurrencies: _build(GetCurrencies),
        GetOrderBook: _build(
            GetOrderBook, {"instrument_name": instrument}, {"depth": _choice(ORDER_BOOK_DEPTHS)}
        ),
        GetOrderBookByInstrumentId: _build(
            GetOrderBookByInstrumentId,
            {"instrument_id": st.integers(0, 10**7)},
            {"depth": _choice(ORDER_BOOK_DEPTHS)},
        ),
        GetTicker: _build(GetTicker, {"instrument_name": instrument}),
        GetIndexPrice: _build(GetIndexPrice, {"index_name": index_names()}),
        GetLastTradesByInstrument: _build(
            GetLastTradesByInstrument,
            {"instrument_name": instrument},
            {
                "start_seq": st.integers(0, 10**9),
                "end_seq": st.integers(0, 10**9),
                "start_timestamp": _timestamps(),
                "end_timestamp": _timestamps(),
                "count": st.integers(1, 1000),
                "sorting": _choice(SORTINGS),
            },
        ),
        Buy: _place_order(Buy),
        Sell: _place_order(Sell),
        Edit: _edit(Edit),
        EditByLabel: _edit(EditByLabel),
        Cancel: _build(Cancel, {"order_id": _order_ids()}),
        CancelAll: _build(CancelAll, optional=cancel_flags),
        CancelAllByCurrency: _build(
            CancelAllByCurrency,
            {"currency": currency},
            {"kind": _choice(USER_KINDS), "type": _choice(CANCEL_TYPES), **cancel_flags},
        ),
        CancelAllByInstrument: _build(
            CancelAllByInstrument,
            {"instrument_name": instrument},
            {"type": _choice(CANCEL_TYPES), "include_combos": st.booleans(), **cancel_flags},
        ),
        CancelAllByKindOrType: _build(
            CancelAllByKindOrType,
            {"currency": st.one_of(any_currency, st.lists(currency, min_size=1, max_size=4))},
            {"kind": _choice(USER_KINDS), "type": _choice(CANCEL_TYPES), **cancel_flags},
        ),
        CancelByLabel: _build(CancelByLabel, {"label": _labels()}, {"currency": currency}),
        GetOpenOrders: _build(
            GetOpenOrders, optional={"kind": _choice(KINDS), "type": _choice(OPEN_ORDER_TYPES)}
        ),
        GetOpenOrdersByCurrency: _build(
            GetOpenOrdersByCurrency,
            {"currency": any_currency},
            {"kind": _choice(KINDS), "type": _choice(OPEN_ORDER_TYPES)},
        ),
        GetOpenOrdersByInstrument: _build(
            GetOpenOrdersByInstrument,
            {"instrument_name": instrument},
            {"type": _choice(OPEN_ORDER_TYPES)},
        ),
        GetOpenOrdersByLabel: _build(
            GetOpenOrdersByLabel, {"currency": currency}, {"label": _labels()}
        ),
        GetOrderState: _build(GetOrderState, {"order_id": _order_ids()}),
        GetPositions: _build(
            GetPositions,
            optional={
                "currency": any_currency,
                "kind": _choice(KINDS),
                "subaccount_id": st.integers(0, 10**7),
            },
        ),
        GetPosition: _build(GetPosition, {"instrument_name": instrument}),
        GetAccountSummary: _build(
            GetAccountSummary,
            {"currency": currency},
            {"subaccount_id": st.integers(0, 10**7), "extended": st.booleans()},
        ),
        EnableCancelOnDisconnect: _build(EnableCancelOnDisconnect, optional=cod),
        DisableCancelOnDisconnect: _build(DisableCancelOnDisconnect, optional=cod),
        GetCancelOnDisconnect: _build(GetCancelOnDisconnect, optional=cod),
    }
    return table


def command_types() -> tuple[type[DeribitCommand], ...]:
    """Every concrete typed command :func:`commands` generates: one class per method of
    ``COMMANDS``, with ``public/auth`` as its three grant types."""
    return tuple(_command_table())


def commands(
    types: Iterable[type[DeribitCommand]] | None = None, *, access_token: bool | None = None
) -> st.SearchStrategy[DeribitCommand]:
    """Typed commands with valid params (each passes its own ``validate``).

    ``types`` restricts the classes (default: :func:`command_types`); ``access_token``
    ``True`` always adds the documented ``access_token`` param, ``False`` never,
    ``None`` sometimes.  Orders respect the venue's rules: a price for limit types, a
    trigger and trigger price for stop and take orders, a trigger offset for trailing
    stops, ``reject_post_only`` only with ``post_only``.
    """
    table = _command_table()
    chosen = list(table) if types is None else list(types)
    unknown = [t.__name__ for t in chosen if t not in table]
    if unknown:
        raise ValueError(f"no strategy for {unknown}; known: {[t.__name__ for t in table]}")
    base = st.one_of([table[t] for t in chosen])
    if access_token is False:
        return base
    token = _token() if access_token else _maybe(_token())

    def add(command: DeribitCommand, value: str | None) -> DeribitCommand:
        if value is None:
            return command
        return msgspec.structs.replace(command, access_token=Secret(value))

    return st.builds(add, base, token)


def requests(
    commands_: st.SearchStrategy[DeribitCommand] | None = None,
    ids: st.SearchStrategy[RequestId] | None = None,
) -> st.SearchStrategy[RequestSample]:
    """:class:`RequestSample` values: a command, an id, the bytes a client sends.

    A server decoding ``data`` must get ``command`` back (``decode_request`` then
    ``decode_params`` with ``command_type_for(method)``).
    """

    def sample(command: DeribitCommand, request_id: RequestId) -> RequestSample:
        return RequestSample(
            command=command, request_id=request_id, data=encode_request(request_id, command)
        )

    return st.builds(
        sample,
        commands_ if commands_ is not None else commands(),
        ids if ids is not None else request_ids(),
    )
