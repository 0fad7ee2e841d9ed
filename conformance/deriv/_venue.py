"""The reference Deriv venue: ``deriv.server.ServerProtocol`` driven by synthetic indices.

:class:`DerivVenue` owns a :class:`~tradewire.conformance.market.Market` (the index
walks), the recent ticks, a :class:`~._trading.Book` (proposals, accounts, contracts)
and a ``deriv.server.ServerState`` (tokens, budgets); it builds connections
(:meth:`DerivVenue.websocket_connection`, the fault engine around each machine), answers
what they report (:meth:`DerivVenue.on_events`) and is the timer that ticks the indices
and fans their ticks out to every stream (:meth:`DerivVenue.handle_timer`).

Streams it feeds: ``ticks`` and tick-style ``ticks_history`` (each tick), candle-style
``ticks_history`` (an ``ohlc`` of the open candle on each tick), ``proposal`` (priced
again on each tick of its symbol; ``proposal.id`` is the stream id), open contracts
(each tick of the symbol; a stream of one contract ends after its sold message),
``buy`` with ``subscribe`` (the bought contract), ``balance`` and ``transaction`` (each
buy, sell and settlement of the account).

Pure and deterministic for a seed: time is the caller's ``now``; subscription ids,
prices and the past come from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import msgspec

from tradewire.protocol import Event, LocalProtocolError
from tradewire.protocol.deriv import (
    ActiveSymbols,
    Balance,
    Buy,
    ContractsFor,
    GenericCommand,
    Portfolio,
    ProfitTable,
    Proposal,
    ProposalOpenContract,
    Sell,
    Statement,
    Ticks,
    TicksHistory,
    Transaction,
)
from tradewire.protocol.deriv.server import (
    RequestReceived,
    ServerProtocol,
    ServerState,
    SessionClosed,
    StreamsStopped,
)

from .. import market as mk
from .._fault_engine import FaultySocket
from .._faults import Fault, FaultPlan, with_faults
from .._venue_sockets import VenueSockets, one_fault
from ._catalog import (
    BY_SYMBOL,
    INDICES,
    MAX_TICKS,
    deriv_catalog,
    market_config,
)
from ._catalog import (
    Ticks as TickStore,
)
from ._config import EXTRA_CALLS, TOO_SLOW_REASON, VenueConfig
from ._hooks import DerivFaultHooks
from ._trading import Book, Contract, Refusal

__all__ = ["DerivVenue"]


class _Stream(msgspec.Struct, kw_only=True):
    connection_id: int
    sub_id: str
    kind: str  # ticks, ohlc, proposal, contract, contracts, balance, transaction
    symbol: str | None = None
    account: str | None = None
    granularity: int = 60
    contract_id: int | None = None
    params: Any = None


class DerivVenue:
    """A faithful local Deriv (see the module docstring and :class:`VenueConfig`)."""

    def __init__(
        self,
        config: VenueConfig | None = None,
        *,
        now: float = 0.0,
        faults: FaultPlan | str | None = None,
    ) -> None:
        config = with_faults(config if config is not None else VenueConfig(), faults)
        for fault in config.faults.faults:
            if fault.kind == "gap":
                raise LocalProtocolError(
                    f"invalid fault {fault.spec()!r}: Deriv streams carry no sequence numbers "
                    "(no gap to make)"
                )
        self.config = config
        self.birth = now
        self.start_epoch = config.start_ms // 1000
        self.market = mk.Market(
            market_config(config.seed, config.start_ms, config.walk_scale),
            catalog=deriv_catalog(),
            now=now,
        )
        tokens = {token: account for token, account in config.tokens}
        server = msgspec.structs.replace(
            config.server,
            tokens=tokens,
            epoch_offset=self.start_epoch - now,
            extra_calls=config.server.extra_calls | EXTRA_CALLS,
        )
        self.state = ServerState(server, rng=random.Random(f"{config.seed}/ids"))
        self.ticks = TickStore(config.seed, self.start_epoch)
        self.book = Book(config.seed)
        self.connections = VenueSockets(
            lambda peer: ServerProtocol(self.state, peer=peer),
            DerivFaultHooks(self.state),
            config.faults,
            max_pending_bytes=config.max_pending_bytes,
            too_slow_code=config.too_slow_close_code,
            too_slow_reason=TOO_SLOW_REASON,
        )
        self.sockets = self.connections.sockets  # connection id -> open WebSocket
        self.streams: dict[tuple[int, str], _Stream] = {}
        self._last_epoch = self.start_epoch

    def __repr__(self) -> str:
        return f"DerivVenue(seed={self.config.seed}, websockets={len(self.sockets)})"

    @property
    def epoch_offset(self) -> float:
        return self.state.config.epoch_offset

    def epoch(self, now: float) -> int:
        return int(self.start_epoch + (now - self.birth))

    # -- connections ------------------------------------------------------------------------

    @property
    def accepted(self) -> int:
        """WebSocket connections accepted so far."""
        return self.connections.accepted

    def websocket_connection(self, peer: str | None = None) -> FaultySocket:
        """A WebSocket connection (``/websockets/v3``); ``serve()`` factory."""
        return self.connections.open(peer)

    def http_connection(self, peer: str | None = None) -> Any:
        raise LocalProtocolError("the Deriv venue serves WebSocket only")

    def machine(self, connection_id: int) -> ServerProtocol | None:
        socket = self.sockets.get(connection_id)
        if socket is None:
            return None
        inner = socket.machine.inner
        return inner if isinstance(inner, ServerProtocol) else None

    def inject(self, connection_id: int, fault: Fault | str, now: float) -> None:
        """Apply ``fault`` (its trigger is ignored) to a live WebSocket connection now."""
        self.connections.inject(connection_id, one_fault(fault), now)

    # -- the timer --------------------------------------------------------------------------

    def next_deadline(self) -> float:
        return self.market.next_deadline()

    def handle_timer(self, now: float) -> None:
        """Run the market's due seconds: each index ticks on its period; fan out."""
        for event in self.market.advance(now):
            if not isinstance(event, mk.IndexPrice):
                continue
            epoch = event.timestamp // 1000
            index = BY_SYMBOL.get(event.index_name)
            if index is None or epoch % index.period:
                continue
            quote = round(event.price, index.pip_size)
            self.ticks.add(index.symbol, epoch, quote)
            self._tick(index.symbol, quote, epoch, now)

    def _tick(self, symbol: str, quote: float, epoch: int, now: float) -> None:
        changed = self.book.on_tick(symbol, quote, epoch)
        for stream in list(self.streams.values()):
            if stream.symbol != symbol:
                continue
            if stream.kind == "ticks":
                self._push(
                    stream, self._tick_payload(symbol, quote, epoch, stream.sub_id), now, "tick"
                )
            elif stream.kind == "ohlc":
                self._push(stream, self._ohlc(symbol, stream, epoch), now, "ohlc")
            elif stream.kind == "proposal":
                try:
                    priced = self.book.price(stream.sub_id, stream.params, quote, epoch)
                except Refusal:
                    continue
                priced.connection_id, priced.stream = stream.connection_id, True
                self.book.remember(priced)
                self._push(stream, priced.payload(BY_SYMBOL[symbol], epoch), now, "proposal")
        for contract in changed:
            self._contract_changed(contract, now)

    def _contract_changed(self, contract: Contract, now: float) -> None:
        for stream in list(self.streams.values()):
            if stream.account != contract.account:
                continue
            if stream.kind == "contracts" or (
                stream.kind == "contract" and stream.contract_id == contract.contract_id
            ):
                self._push(stream, contract.payload(stream.sub_id), now, "proposal_open_contract")
                if stream.kind == "contract" and not contract.is_open:
                    self._end(stream)
        if not contract.is_open:
            self._account_changed(contract.account, "sell", contract, now)

    def _account_changed(self, loginid: str, action: str, contract: Contract, now: float) -> None:
        account = self.book.account(loginid)
        for stream in list(self.streams.values()):
            if stream.account != loginid:
                continue
            if stream.kind == "balance":
                payload = {
                    "balance": account.balance,
                    "currency": account.currency,
                    "id": stream.sub_id,
                    "loginid": loginid,
                }
                self._push(stream, payload, now, "balance")
            elif stream.kind == "transaction":
                amount = -contract.buy_price if action == "buy" else (contract.sell_price or 0.0)
                payload = {
                    "action": action,
                    "amount": amount,
                    "balance": account.balance,
                    "contract_id": contract.contract_id,
                    "currency": account.currency,
                    "display_name": BY_SYMBOL[contract.symbol].display_name,
                    "id": stream.sub_id,
                    "longcode": contract.payload(None)["longcode"],
                    "purchase_time": contract.purchase_time,
                    "symbol": contract.symbol,
                    "transaction_id": contract.buy_transaction
                    if action == "buy"
                    else contract.sell_transaction,
                    "transaction_time": contract.sell_time
                    if action != "buy"
                    else contract.purchase_time,
                }
                self._push(stream, payload, now, "transaction")

    def _push(self, stream: _Stream, payload: Any, now: float, msg_type: str) -> None:
        socket = self.sockets.get(stream.connection_id)
        machine = self.machine(stream.connection_id)
        if (
            socket is None
            or machine is None
            or not machine.push(stream.sub_id, payload, now, msg_type=msg_type)
        ):
            self.streams.pop((stream.connection_id, stream.sub_id), None)
            return
        socket.handle_timer(now)  # write what was queued (faults apply here)

    def _end(self, stream: _Stream) -> None:
        self.streams.pop((stream.connection_id, stream.sub_id), None)
        machine = self.machine(stream.connection_id)
        if machine is not None:
            machine.end_stream(stream.sub_id)

    # -- requests ---------------------------------------------------------------------------

    def on_events(self, connection: object, events: Sequence[Event], now: float) -> None:
        """Answer what a connection reported (events carry their connection id)."""
        self.handle_timer(now)
        for event in events:
            if isinstance(event, RequestReceived):
                self._request(event, now)
            elif isinstance(event, StreamsStopped):
                for sub_id in event.ids:
                    self.streams.pop((event.connection_id, sub_id), None)
            elif isinstance(event, SessionClosed):
                for key in [k for k in self.streams if k[0] == event.connection_id]:
                    del self.streams[key]
                self.sockets.pop(event.connection_id, None)

    def on_backlog(self, connection: object, waiting: int, now: float) -> None:
        """A binding reports ``waiting`` unsent bytes on ``connection``: past
        ``max_pending_bytes`` it is closed as too slow."""
        self.connections.backlog(connection, waiting, now)

    def _request(self, event: RequestReceived, now: float) -> None:
        machine = self.machine(event.connection_id)
        socket = self.sockets.get(event.connection_id)
        if machine is None or socket is None or event.request_id not in machine.session.held:
            return
        try:
            self._answer(machine, event, now)
        except Refusal as refusal:
            machine.reply_error(
                event.request_id, refusal.code, now, refusal.message, refusal.details
            )
        socket.handle_timer(now)

    def _open(self, machine: ServerProtocol, event: RequestReceived, **fields: Any) -> _Stream:
        sub_id = machine.open_stream(event.request_id)
        stream = _Stream(connection_id=event.connection_id, sub_id=sub_id, **fields)
        self.streams[(event.connection_id, sub_id)] = stream
        return stream

    def _answer(self, machine: ServerProtocol, event: RequestReceived, now: float) -> None:
        command, epoch, handle = event.command, self.epoch(now), event.request_id
        loginid = event.account.loginid if event.account is not None else None
        if isinstance(command, Ticks):
            symbol = self._symbol(command.ticks)
            last = self.ticks.last(symbol)
            stream = self._open(machine, event, kind="ticks", symbol=symbol)
            machine.push(
                stream.sub_id,
                self._tick_payload(symbol, last.quote, last.epoch, stream.sub_id),
                now,
            )
        elif isinstance(command, TicksHistory):
            self._history(machine, event, command, epoch, now)
        elif isinstance(command, ActiveSymbols):
            machine.reply(handle, self._active_symbols(command.active_symbols == "full"), now)
        elif isinstance(command, ContractsFor):
            machine.reply(
                handle, self._contracts_for(self._symbol(command.contracts_for), epoch), now
            )
        elif isinstance(command, Proposal):
            self._proposal(machine, event, command, epoch, now)
        elif isinstance(command, Buy):
            assert loginid is not None
            self._buy(machine, event, command, loginid, epoch=epoch, now=now)
        elif isinstance(command, Sell):
            assert loginid is not None
            result = self.book.sell(loginid, command.sell, command.price, epoch)
            machine.reply(handle, result, now)
            contract = self.book.contract(loginid, command.sell)
            if contract is not None:
                self._contract_changed(contract, now)
        elif isinstance(command, ProposalOpenContract):
            assert loginid is not None
            self._open_contract(machine, event, command, loginid, now)
        elif isinstance(command, Portfolio):
            assert loginid is not None
            machine.reply(handle, self.book.portfolio(loginid), now)
        elif isinstance(command, ProfitTable):
            assert loginid is not None
            table = self.book.profit_table(
                loginid, command.limit or 50, command.offset or 0, command.sort == "ASC"
            )
            machine.reply(handle, table, now)
        elif isinstance(command, Statement):
            assert loginid is not None
            machine.reply(
                handle, self.book.statement(loginid, command.limit or 100, command.offset or 0), now
            )
        elif isinstance(command, Balance):
            assert loginid is not None
            account = self.book.account(loginid)
            payload: dict[str, Any] = {
                "balance": account.balance,
                "currency": account.currency,
                "loginid": loginid,
            }
            if event.subscribe:
                stream = self._open(machine, event, kind="balance", account=loginid)
                machine.push(stream.sub_id, {**payload, "id": stream.sub_id}, now)
            else:
                machine.reply(handle, payload, now)
        elif isinstance(command, Transaction):
            assert loginid is not None
            stream = self._open(machine, event, kind="transaction", account=loginid)
            machine.push(stream.sub_id, {"id": stream.sub_id}, now)
        elif isinstance(command, GenericCommand):
            self._extra(machine, event, command, epoch, now)
        else:
            raise Refusal("UnrecognisedRequest", "Unrecognised request.")

    def _symbol(self, symbol: str) -> str:
        if symbol not in BY_SYMBOL:
            raise Refusal("InvalidSymbol", f"Symbol {symbol} invalid.")
        return symbol

    def _tick_payload(
        self, symbol: str, quote: float, epoch: int, sub_id: str | None
    ) -> dict[str, Any]:
        index = BY_SYMBOL[symbol]
        spread = index.pip * 10
        body: dict[str, Any] = {
            "ask": round(quote + spread, index.pip_size),
            "bid": round(quote - spread, index.pip_size),
            "epoch": epoch,
            "pip_size": index.pip_size,
            "quote": quote,
            "symbol": symbol,
        }
        if sub_id is not None:
            body["id"] = sub_id
        return body

    def _ohlc(self, symbol: str, stream: _Stream, epoch: int) -> dict[str, Any]:
        index = BY_SYMBOL[symbol]
        granularity = stream.granularity
        open_time = epoch - epoch % granularity
        (candle,) = self.ticks.candles(symbol, granularity, open_time, epoch, 1) or [
            {"open": 0.0, "high": 0.0, "low": 0.0, "close": 0.0}
        ]
        places = index.pip_size
        return {
            "close": f"{candle['close']:.{places}f}",
            "epoch": epoch,
            "granularity": granularity,
            "high": f"{candle['high']:.{places}f}",
            "id": stream.sub_id,
            "low": f"{candle['low']:.{places}f}",
            "open": f"{candle['open']:.{places}f}",
            "open_time": open_time,
            "pip_size": places,
            "symbol": symbol,
        }

    def _history(
        self,
        machine: ServerProtocol,
        event: RequestReceived,
        command: TicksHistory,
        epoch: int,
        now: float,
    ) -> None:
        symbol = self._symbol(command.ticks_history)
        end = epoch if command.end == "latest" else int(command.end)
        count = min(command.count or 1000, MAX_TICKS)
        index = BY_SYMBOL[symbol]
        extra = {"pip_size": index.pip_size}
        if command.candles:
            granularity = command.granularity or 60
            candles = self.ticks.candles(symbol, granularity, command.start, end, count)
            if event.subscribe:
                stream = self._open(
                    machine, event, kind="ohlc", symbol=symbol, granularity=granularity
                )
                machine.push(stream.sub_id, candles, now, msg_type="candles", **extra)
            else:
                machine.reply(event.request_id, candles, now, **extra)
            return
        window = self.ticks.window(symbol, command.start, end, count)
        history = {"prices": [t.quote for t in window], "times": [t.epoch for t in window]}
        if event.subscribe:
            stream = self._open(machine, event, kind="ticks", symbol=symbol)
            machine.push(stream.sub_id, history, now, msg_type="history", **extra)
        else:
            machine.reply(event.request_id, history, now, **extra)

    def _active_symbols(self, full: bool) -> list[dict[str, Any]]:
        items = []
        for order, index in enumerate(INDICES):
            item: dict[str, Any] = {
                "allow_forward_starting": 0,
                "display_name": index.display_name,
                "display_order": order,
                "exchange_is_open": 1,
                "is_trading_suspended": 0,
                "market": "synthetic_index",
                "market_display_name": "Derived",
                "pip": index.pip,
                "subgroup": "synthetics",
                "subgroup_display_name": "Synthetics",
                "submarket": "random_index",
                "submarket_display_name": "Continuous Indices",
                "symbol": index.symbol,
                "symbol_type": "stockindex",
            }
            if self.config.server.new_api:
                item["underlying_symbol"] = item.pop("symbol")
                item["pip_size"] = item.pop("pip")
            if full:
                last = self.ticks.last(index.symbol)
                item.update(
                    {
                        "exchange_name": "RANDOM",
                        "spot": last.quote,
                        "spot_age": "0",
                        "spot_time": str(last.epoch),
                    }
                )
            items.append(item)
        return items

    def _contracts_for(self, symbol: str, epoch: int) -> dict[str, Any]:
        available = []
        for kind, category, display in (
            ("CALL", "callput", "Higher"),
            ("PUT", "callput", "Lower"),
            ("MULTUP", "multiplier", "Multiply Up"),
            ("MULTDOWN", "multiplier", "Multiply Down"),
        ):
            offer: dict[str, Any] = {
                "barrier_category": "euro_atm" if category == "callput" else "american",
                "barriers": 0,
                "contract_category": category,
                "contract_category_display": "Up/Down" if category == "callput" else "Multiplier",
                "contract_display": display,
                "contract_type": kind,
                "exchange_name": "RANDOM",
                "expiry_type": "tick" if category == "callput" else "no_expiry",
                "market": "synthetic_index",
                "max_contract_duration": "10t" if category == "callput" else "",
                "min_contract_duration": "1t" if category == "callput" else "",
                "sentiment": "up" if kind in ("CALL", "MULTUP") else "down",
                "start_type": "spot",
                "submarket": "random_index",
                "underlying_symbol": symbol,
            }
            if category == "multiplier":
                offer["multiplier_range"] = [10, 20, 30, 50, 100]
            available.append(offer)
        last = self.ticks.last(symbol)
        return {
            "available": available,
            "close": epoch + 86400,
            "hit_count": len(available),
            "open": epoch - 86400,
            "spot": last.quote,
        }

    def _proposal(
        self,
        machine: ServerProtocol,
        event: RequestReceived,
        command: Proposal,
        epoch: int,
        now: float,
    ) -> None:
        symbol = self._symbol(command.symbol)
        last = self.ticks.last(symbol)
        index = BY_SYMBOL[symbol]
        if event.subscribe:
            self.book.price("0" * 36, command, last.quote, last.epoch)  # refuse before opening
            stream = self._open(machine, event, kind="proposal", symbol=symbol, params=command)
            priced = self.book.price(stream.sub_id, command, last.quote, last.epoch)
            priced.connection_id, priced.stream = event.connection_id, True
            self.book.remember(priced)
            machine.push(stream.sub_id, priced.payload(index, epoch), now)
            return
        proposal_id = self.state.new_stream_id()
        priced = self.book.price(proposal_id, command, last.quote, last.epoch)
        priced.connection_id = event.connection_id
        self.book.remember(priced)
        machine.reply(event.request_id, priced.payload(index, epoch), now)

    def _buy(
        self,
        machine: ServerProtocol,
        event: RequestReceived,
        command: Buy,
        loginid: str,
        *,
        epoch: int,
        now: float,
    ) -> None:
        if command.buy == "1":
            params = msgspec.convert(command.parameters or {}, Proposal)
            symbol = self._symbol(params.symbol)
            last = self.ticks.last(symbol)
            priced = self.book.price(self.state.new_stream_id(), params, last.quote, last.epoch)
        else:
            found = self.book.proposals.get(command.buy)
            if found is None:
                raise Refusal("InvalidContractProposal", "Unknown contract proposal")
            priced = found
        last = self.ticks.last(priced.params.symbol)
        contract, result = self.book.buy(loginid, priced, command.price, last.quote, epoch)
        if priced.stream and priced.connection_id is not None:
            # the venue consumes a proposal stream when it is bought (spec 1.5)
            stream = self.streams.get((priced.connection_id, priced.id))
            if stream is not None:
                self._end(stream)
        if event.subscribe:
            stream = self._open(
                machine, event, kind="contract", account=loginid, contract_id=contract.contract_id
            )
            machine.push(stream.sub_id, result, now, msg_type="buy")
        else:
            machine.reply(event.request_id, result, now)
        self._account_changed(loginid, "buy", contract, now)
        for other in list(self.streams.values()):
            if other.kind == "contracts" and other.account == loginid:
                self._push(other, contract.payload(other.sub_id), now, "proposal_open_contract")

    def _open_contract(
        self,
        machine: ServerProtocol,
        event: RequestReceived,
        command: ProposalOpenContract,
        loginid: str,
        now: float,
    ) -> None:
        if command.contract_id is None:
            open_contracts = list(self.book.account(loginid).open.values())
            if event.subscribe:
                stream = self._open(machine, event, kind="contracts", account=loginid)
                first = open_contracts[0].payload(stream.sub_id) if open_contracts else {}
                machine.push(stream.sub_id, first, now)
                for each in open_contracts[1:]:
                    machine.push(stream.sub_id, each.payload(stream.sub_id), now)
            else:
                first = open_contracts[0].payload(None) if open_contracts else {}
                machine.reply(event.request_id, first, now)
            return
        contract = self.book.contract(loginid, command.contract_id)
        if contract is None:
            raise Refusal(
                "ContractNotFound" if self.config.server.new_api else "InvalidContractProposal",
                "Contract not found.",
            )
        if event.subscribe and contract.is_open:
            stream = self._open(
                machine, event, kind="contract", account=loginid, contract_id=contract.contract_id
            )
            machine.push(stream.sub_id, contract.payload(stream.sub_id), now)
        else:
            machine.reply(event.request_id, contract.payload(None), now)  # expired: one message

    def _extra(
        self,
        machine: ServerProtocol,
        event: RequestReceived,
        command: GenericCommand,
        epoch: int,
        now: float,
    ) -> None:
        if command.call == "payout_currencies":
            machine.reply(event.request_id, ["USD"], now)
        elif command.call == "trading_times":
            machine.reply(
                event.request_id,
                {
                    "markets": [
                        {
                            "name": "Derived",
                            "submarkets": [
                                {
                                    "name": "Continuous Indices",
                                    "symbols": [
                                        {
                                            "name": i.display_name,
                                            "symbol": i.symbol,
                                            "times": {"open": ["00:00:00"], "close": ["23:59:59"]},
                                        }
                                        for i in INDICES
                                    ],
                                }
                            ],
                        }
                    ]
                },
                now,
            )
        else:
            raise Refusal("UnrecognisedRequest", "Unrecognised request.")
