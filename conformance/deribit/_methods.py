"""The requests the venue answers: market data, trading and account methods on the market.

Every :class:`RequestReceived` the protocol machines hand out (over WebSocket or HTTP) is
answered here: :meth:`Methods.answer` returns the result and the market events the call
caused (to fan out), or raises :class:`Refusal` with the Deribit error.  A refusal by the
market (:class:`MarketError`) keeps its code, message and data (spec 5, 7.1).

=============================================== ===========================================
method                                          market
=============================================== ===========================================
``public/get_instruments`` (no params: ``any``) ``instruments(currency, kind, expired)``
``public/get_currencies``                       ``currencies()``
``public/get_order_book`` (``_by_instrument_id``) ``ticker`` + ``book`` (``depth`` levels a
                                                side, all when not given)
``public/ticker``                               ``ticker``
``public/get_index_price``                      ``index_price`` (unknown name: -32602)
``public/get_index_price_names``                the market's index names
``public/get_last_trades_by_instrument``        ``last_trades`` (seq/time filters,
                                                ``count`` default 10, ``asc`` oldest first,
                                                ``desc``/``default`` newest first)
``public/status``                               ``{"locked": "false", "locked_indices": []}``
``private/buy`` / ``sell``                      ``place`` (``valid_until`` passed: 13888)
``private/edit`` / ``edit_by_label``            ``edit`` / ``edit_by_label``
``private/cancel``                              ``cancel``
``private/cancel_all*``, ``cancel_by_label``    ``cancel_all`` (a count, or with
                                                ``detailed`` one report per currency)
``private/get_open_orders*``                    ``open_orders``
``private/get_order_state``                     ``order``
``private/get_order_history_by_*``              ``order_history`` (newest first, ``count``
                                                default 20)
``private/get_user_trades_by_*``                ``user_trades`` (newest first, ``count``
                                                default 10; ``{trades, has_more}``)
``private/get_positions`` / ``get_position``    ``positions`` / ``position``
``private/get_account_summary``                 ``portfolio`` (+ identity, ``limits`` and
                                                ``fees`` with ``extended``)
``private/get_account_summaries``               the account's identity and ``summaries``,
                                                one per currency (ccxt's ``fetch_balance``)
the methods of spec 8.2's table                 see ``_methods_history``: book summaries,
                                                trades by currency, historical volatility,
                                                one instrument, funding, candles,
                                                subaccounts, settlements, a deposit address
=============================================== ===========================================

Choices where the spec is open: the market account of a request is its Deribit account
id (as a string), so every key of one account trades one book of orders; scopes are
enforced (13021 ``forbidden``): placing, editing and cancelling need
``trade:read_write``, order and trade queries ``trade:read``, positions and summaries
``account:read``; parameters the market does not model (``advanced``,
``linked_order_type``, ``otoco_config``, ``display_amount``, ``mmp``, trigger fields on
an edit) are refused with 10033 ``not_implemented`` naming the param, rather than ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from tradewire.protocol.deribit import (
    CancelReport,
    Currency,
    Instrument,
    Order,
    OrderResult,
    PlatformStatus,
    Position,
    PublicTrade,
    Ticker,
    TradesPage,
    UserTrade,
)
from tradewire.protocol.deribit import _commands as c
from tradewire.protocol.deribit import _commands_market as cm
from tradewire.protocol.deribit import _commands_trading as ct
from tradewire.protocol.deribit.server import (
    RequestReceived,
    ServerState,
)

from .. import market as mk
from ._answers import Answer, Refusal, int_param, invalid, require, text_param
from ._errors import refusal
from ._methods_history import HistoryMethods
from ._wire import convert, index_price_result, order_book, summary

__all__ = ["Answer", "Methods", "Refusal"]


class Methods:
    """Answers requests on ``market`` (see the module docstring).

    ``cod_cancelled`` holds the ids of orders cancelled by cancel-on-disconnect, whose
    records report ``cancel_reason: "cancel_on_disconnect"`` (spec 5.5).
    """

    def __init__(
        self,
        market: mk.Market,
        state: ServerState,
        cod_cancelled: Mapping[str, None],
    ) -> None:
        self.market = market
        self.state = state
        self.cod_cancelled = cod_cancelled
        self._currencies = tuple(cur.currency for cur in market.currencies())
        self._by_id: dict[int, str] = {}
        self._handlers: dict[type[Any], Callable[[Any, RequestReceived, float], Answer]] = {
            cm.GetInstruments: self._instruments,
            cm.GetCurrencies: self._get_currencies,
            cm.GetOrderBook: self._order_book,
            cm.GetOrderBookByInstrumentId: self._order_book_by_id,
            cm.GetTicker: self._ticker,
            cm.GetIndexPrice: self._index_price,
            cm.GetLastTradesByInstrument: self._last_trades,
            c.Status: self._status,
            ct.Buy: self._place,
            ct.Sell: self._place,
            ct.Edit: self._edit,
            ct.EditByLabel: self._edit,
            ct.Cancel: self._cancel,
            ct.CancelAll: self._cancel_many,
            ct.CancelAllByCurrency: self._cancel_many,
            ct.CancelAllByInstrument: self._cancel_many,
            ct.CancelAllByKindOrType: self._cancel_many,
            ct.CancelByLabel: self._cancel_many,
            ct.GetOpenOrders: self._open_orders,
            ct.GetOpenOrdersByCurrency: self._open_orders,
            ct.GetOpenOrdersByInstrument: self._open_orders,
            ct.GetOpenOrdersByLabel: self._open_orders,
            ct.GetOrderState: self._order_state,
            ct.GetPositions: self._positions,
            ct.GetPosition: self._position,
            ct.GetAccountSummary: self._account_summary,
        }
        self._generic: dict[str, Callable[[Mapping[str, Any], RequestReceived], Answer]] = {
            "public/get_index_price_names": self._index_names,
            "private/get_user_trades_by_instrument": self._user_trades,
            "private/get_user_trades_by_currency": self._user_trades,
            "private/get_order_history_by_instrument": self._order_history,
            "private/get_order_history_by_currency": self._order_history,
            "private/get_account_summaries": self._account_summaries,
            **HistoryMethods(market).table(),
        }

    def answer(self, event: RequestReceived, now: float) -> Answer:
        """Answer ``event``; :class:`Refusal` for an error."""
        command = event.command
        try:
            if isinstance(command, c.GenericRequest):
                generic = self._generic.get(command.method)
                if generic is None:
                    raise Refusal(-32601)
                return generic(command.params, event)
            handler = self._handlers.get(type(command))
            if handler is None:
                raise Refusal(10033, {"reason": f"{command.method} is not modelled"})
            return handler(command, event, now)
        except mk.MarketError as exc:
            code, message, data = refusal(exc)
            raise Refusal(code, data, message) from None

    # -- records --------------------------------------------------------------------------

    def order(self, record: mk.Order) -> Order:
        """The wire order; a cancel-on-disconnect cancel says so (spec 5.5)."""
        wire = convert(record, Order)
        if record.order_id in self.cod_cancelled and record.order_state == "cancelled":
            wire = msgspec.structs.replace(wire, cancel_reason="cancel_on_disconnect")
        return wire

    @staticmethod
    def account(event: RequestReceived) -> str:
        """The market account of an authenticated request."""
        assert event.account_id is not None  # private methods need auth
        return str(event.account_id)

    # -- public ---------------------------------------------------------------------------

    def _instruments(self, command: cm.GetInstruments, _: RequestReceived, __: float) -> Answer:
        currency = None if command.currency == "any" else command.currency
        found = self.market.instruments(currency, command.kind, expired=bool(command.expired))
        return Answer(result=[convert(i, Instrument) for i in found])

    def _get_currencies(self, _: Any, __: RequestReceived, ___: float) -> Answer:
        return Answer(result=[convert(cur, Currency) for cur in self.market.currencies()])

    def _book(self, name: str, depth: int | None) -> Answer:
        market = self.market
        return Answer(result=order_book(market.ticker(name), market.book(name), depth))

    def _order_book(self, command: cm.GetOrderBook, _: RequestReceived, __: float) -> Answer:
        return self._book(command.instrument_name, command.depth)

    def _order_book_by_id(
        self, command: cm.GetOrderBookByInstrumentId, _: RequestReceived, __: float
    ) -> Answer:
        if not self._by_id:
            for expired in (False, True):
                for instrument in self.market.instruments(expired=expired):
                    self._by_id[instrument.instrument_id] = instrument.instrument_name
        name = self._by_id.get(command.instrument_id)
        if name is None:
            raise Refusal(10020)
        return self._book(name, command.depth)

    def _ticker(self, command: cm.GetTicker, _: RequestReceived, __: float) -> Answer:
        return Answer(result=convert(self.market.ticker(command.instrument_name), Ticker))

    def _index_price(self, command: cm.GetIndexPrice, _: RequestReceived, __: float) -> Answer:
        try:
            record = self.market.index_price(command.index_name)
        except KeyError:
            raise invalid("index_name", "unknown index") from None
        return Answer(result=index_price_result(record))

    def _index_names(self, _: Mapping[str, Any], __: RequestReceived) -> Answer:
        return Answer(result=self.market.index_names())

    def _last_trades(
        self, command: cm.GetLastTradesByInstrument, _: RequestReceived, __: float
    ) -> Answer:
        trades = self.market.last_trades(command.instrument_name, mk.MAX_PUBLIC_TRADES)
        kept = [
            t
            for t in trades
            if (command.start_seq is None or t.trade_seq >= command.start_seq)
            and (command.end_seq is None or t.trade_seq <= command.end_seq)
            and (command.start_timestamp is None or t.timestamp >= command.start_timestamp)
            and (command.end_timestamp is None or t.timestamp <= command.end_timestamp)
        ]
        if command.sorting != "asc":
            kept.reverse()
        count = command.count or 10
        page = [convert(t, PublicTrade) for t in kept[:count]]
        return Answer(result=TradesPage(trades=page, has_more=len(kept) > count))

    def _status(self, _: Any, __: RequestReceived, ___: float) -> Answer:
        return Answer(result=PlatformStatus(locked="false", locked_indices=[]))

    # -- trading --------------------------------------------------------------------------

    def _check_valid_until(self, valid_until: int | None, now: float) -> None:
        if valid_until is not None and self.state.epoch_ms(now) > valid_until:
            raise Refusal(13888)

    @staticmethod
    def _unmodelled(command: Any, names: Sequence[str]) -> None:
        for name in names:
            value = getattr(command, name, None)
            if value is not None and value is not False:
                raise Refusal(10033, {"reason": "not modelled by this venue", "param": name})

    def _execution(self, execution: mk.Execution) -> OrderResult:
        return OrderResult(
            order=self.order(execution.order),
            trades=[convert(t, UserTrade) for t in execution.trades],
        )

    def _place(self, command: ct.PlaceOrder, event: RequestReceived, now: float) -> Answer:
        require(event, "trade", 2)
        self._unmodelled(
            command,
            ("advanced", "linked_order_type", "otoco_config", "display_amount", "mmp"),
        )
        self._check_valid_until(command.valid_until, now)
        direction = "buy" if isinstance(command, ct.Buy) else "sell"
        execution = self.market.place(
            self.account(event),
            command.instrument_name,
            direction,
            now,
            amount=command.amount,
            contracts=command.contracts,
            type=command.type or "limit",
            price=command.price,
            time_in_force=command.time_in_force or "good_til_cancelled",
            label=command.label or "",
            post_only=bool(command.post_only),
            reject_post_only=bool(command.reject_post_only),
            reduce_only=bool(command.reduce_only),
        )
        return Answer(
            result=self._execution(execution),
            events=execution.events,
            placed=execution.order.order_id,
        )

    def _edit(
        self, command: ct.Edit | ct.EditByLabel, event: RequestReceived, now: float
    ) -> Answer:
        require(event, "trade", 2)
        self._unmodelled(
            command, ("advanced", "trigger_price", "trigger_offset", "display_amount", "mmp")
        )
        self._check_valid_until(command.valid_until, now)
        changes: dict[str, Any] = {
            "amount": command.amount,
            "contracts": command.contracts,
            "price": command.price,
            "post_only": command.post_only,
            "reject_post_only": command.reject_post_only,
            "reduce_only": command.reduce_only,
        }
        account = self.account(event)
        if isinstance(command, ct.Edit):
            execution = self.market.edit(account, command.order_id, now, **changes)
        else:
            execution = self.market.edit_by_label(
                account, command.label, command.instrument_name, now, **changes
            )
        return Answer(result=self._execution(execution), events=execution.events)

    def _cancel(self, command: ct.Cancel, event: RequestReceived, now: float) -> Answer:
        require(event, "trade", 2)
        cancelled = self.market.cancel(self.account(event), command.order_id, now)
        return Answer(result=self.order(cancelled.orders[0]), events=cancelled.events)

    def _cancel_many(self, command: Any, event: RequestReceived, now: float) -> Answer:
        require(event, "trade", 2)
        filters: dict[str, Any] = {}
        if isinstance(command, ct.CancelAllByCurrency | ct.CancelAllByKindOrType):
            filters = {"currency": command.currency, "kind": command.kind}
        elif isinstance(command, ct.CancelAllByInstrument):
            filters = {"instrument_name": command.instrument_name}
        elif isinstance(command, ct.CancelByLabel):
            filters = {"label": command.label, "currency": command.currency}
        order_type = getattr(command, "type", None) or "all"
        cancelled = self.market.cancel_all(self.account(event), now, type=order_type, **filters)
        if not getattr(command, "detailed", None):
            return Answer(result=len(cancelled.orders), events=cancelled.events)
        reports: dict[str, list[Order]] = {}
        for record in cancelled.orders:
            currency = self.market.instrument(record.instrument_name).currency
            reports.setdefault(currency, []).append(self.order(record))
        result = [
            CancelReport(currency=currency, type="limit", result=orders)
            for currency, orders in reports.items()
        ]
        return Answer(result=result, events=cancelled.events)

    # -- queries --------------------------------------------------------------------------

    def _open_orders(self, command: Any, event: RequestReceived, _: float) -> Answer:
        require(event, "trade", 1)
        filters: dict[str, Any] = {"type": getattr(command, "type", None) or "all"}
        if isinstance(command, ct.GetOpenOrders | ct.GetOpenOrdersByCurrency):
            filters["kind"] = command.kind
        if isinstance(command, ct.GetOpenOrdersByCurrency | ct.GetOpenOrdersByLabel):
            filters["currency"] = command.currency
        if isinstance(command, ct.GetOpenOrdersByInstrument):
            filters["instrument_name"] = command.instrument_name
        if isinstance(command, ct.GetOpenOrdersByLabel):
            filters["label"] = command.label
        orders = self.market.open_orders(self.account(event), **filters)
        return Answer(result=[self.order(o) for o in orders])

    def _order_state(self, command: ct.GetOrderState, event: RequestReceived, _: float) -> Answer:
        require(event, "trade", 1)
        return Answer(result=self.order(self.market.order(self.account(event), command.order_id)))

    def _filtered(self, records: Sequence[Any], params: Mapping[str, Any]) -> list[Any]:
        """Records of an instrument, or of a currency (and ``kind``), newest first."""
        instrument = params.get("instrument_name")
        if instrument is not None:
            kept = [r for r in records if r.instrument_name == instrument]
        else:
            currency = text_param(params, "currency")
            kind = params.get("kind") or "any"
            kept = []
            for record in records:
                facts = self.market.instrument(record.instrument_name)
                if currency in ("any", facts.currency) and kind in ("any", facts.kind):
                    kept.append(record)
        kept.reverse()
        return kept

    def _user_trades(self, params: Mapping[str, Any], event: RequestReceived) -> Answer:
        require(event, "trade", 1)
        kept = self._filtered(self.market.user_trades(self.account(event)), params)
        count = int_param(params, "count", 10)
        page = [convert(t, UserTrade) for t in kept[:count]]
        return Answer(result={"trades": page, "has_more": len(kept) > count})

    def _order_history(self, params: Mapping[str, Any], event: RequestReceived) -> Answer:
        require(event, "trade", 1)
        kept = self._filtered(self.market.order_history(self.account(event)), params)
        count = int_param(params, "count", 20)
        return Answer(result=[self.order(o) for o in kept[:count]])

    def _positions(self, command: ct.GetPositions, event: RequestReceived, _: float) -> Answer:
        require(event, "account", 1)
        positions = self.market.positions(self.account(event), command.currency, command.kind)
        return Answer(result=[convert(p, Position) for p in positions])

    def _position(self, command: ct.GetPosition, event: RequestReceived, _: float) -> Answer:
        require(event, "account", 1)
        record = self.market.position(self.account(event), command.instrument_name)
        return Answer(result=convert(record, Position))

    def _account_summaries(self, params: Mapping[str, Any], event: RequestReceived) -> Answer:
        require(event, "account", 1)
        account = self.account(event)
        username = event.client_id or account
        summaries = [
            summary(self.market.portfolio(account, currency)) for currency in self._currencies
        ]
        first = self.market.portfolio(account, self._currencies[0])
        result = {
            "id": event.account_id,
            "username": username,
            "email": f"{username}@tradewire.invalid",
            "system_name": username,
            "type": "main",
            "creation_timestamp": first.creation_timestamp,
            "summaries": summaries,
        }
        return Answer(result=result)

    def _account_summary(
        self, command: ct.GetAccountSummary, event: RequestReceived, _: float
    ) -> Answer:
        require(event, "account", 1)
        if command.currency not in self._currencies:
            raise invalid("currency", f"expected one of {', '.join(self._currencies)}")
        account = self.account(event)
        portfolio = self.market.portfolio(account, command.currency)
        result = summary(
            portfolio,
            extended=bool(command.extended),
            account_id=event.account_id or 0,
            username=event.client_id or account,
        )
        return Answer(result=result)
