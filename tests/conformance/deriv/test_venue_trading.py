"""The reference Deriv venue with tradewire's own client: market data, proposals, buy,
open-contract streams, sell, settlement, and the account calls (spec 4, 5)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradewire.conformance.deriv import INDICES, PAST_TICKS, READ_ONLY_TOKEN
from tradewire.protocol import SubscriptionEnded
from tradewire.protocol import deriv as d

sys.path.append(str(Path(__file__).parent))
import itertools

from support_deriv_venue import Client, make_harness

CALL = d.Proposal(
    contract_type="CALL",
    currency="USD",
    symbol="R_100",
    amount=10,
    basis="stake",
    duration=5,
    duration_unit="t",
)
MULT = d.Proposal(
    contract_type="MULTUP",
    currency="USD",
    symbol="1HZ100V",
    amount=20,
    basis="stake",
    multiplier=100,
    limit_order={"take_profit": 1000},
)


def session(**options: object) -> Client:
    harness = make_harness()
    client = Client(harness, **options)  # type: ignore[arg-type]
    harness.advance(0.5)
    return client


def test_public_data() -> None:
    client = session(token=None)
    symbols = client.call(d.ActiveSymbols())
    assert [s.symbol for s in symbols] == [i.symbol for i in INDICES]
    assert symbols[2].pip == 0.0001
    offers = client.call(d.ContractsFor(contracts_for="R_50"))
    assert {o.contract_type for o in offers.available} == {"CALL", "PUT", "MULTUP", "MULTDOWN"}
    history = client.call(d.TicksHistory(ticks_history="R_50", count=10))
    assert len(history.history.prices) == 10
    assert history.pip_size == 4
    assert history.history.times == sorted(history.history.times)
    candles = client.call(
        d.TicksHistory(ticks_history="R_50", style="candles", granularity=60, count=5)
    )
    assert isinstance(candles, d.CandlesMessage)
    assert len(candles.candles) == 5
    assert client.call(d.Time()) == client.harness.venue.epoch(client.harness.now)
    with pytest.raises(d.InvalidSymbol):
        client.call(d.ContractsFor(contracts_for="R_XX"))


def test_tick_streams_tick_on_their_period_and_history_has_a_past() -> None:
    client = session(token=None)
    client.call(
        d.Subscribe(
            streams=["ticks.R_50", "ticks.1HZ100V", "ticks_history.R_10", "candles.R_25.60"]
        )
    )
    client.harness.advance(10.0)
    ticks = client.of(d.TickMessage)
    epochs = {
        topic: [t.tick.epoch for t in ticks if t.topic == topic]
        for topic in ("ticks.R_50", "ticks.1HZ100V")
    }
    r50, fast = epochs["ticks.R_50"], epochs["ticks.1HZ100V"]
    assert {b - a for a, b in itertools.pairwise(r50[1:])} == {2}
    assert {b - a for a, b in itertools.pairwise(fast[1:])} == {1}
    (history,) = client.of(d.HistoryMessage)
    assert len(history.history.prices) == PAST_TICKS  # born with a past
    ohlc = client.of(d.OhlcMessage)
    assert ohlc
    assert all(o.topic == "candles.R_25.60" and isinstance(o.ohlc.close, str) for o in ohlc)


def test_proposal_buy_open_contract_stream_and_sell() -> None:
    client = session()
    client.call(d.Subscribe(streams=[CALL, "balance", "transaction"]))
    client.harness.advance(2.5)
    proposals = client.of(d.ProposalMessage)
    assert len(proposals) >= 2
    assert proposals[-1].proposal.payout == 19.55
    proposal_id = proposals[-1].proposal.id
    assert proposal_id == proposals[-1].subscription.id  # type: ignore[union-attr]
    bought = client.call(d.Buy(buy=proposal_id, price=10))
    assert bought.buy_price == 10
    assert bought.balance_after == 9990
    assert [e.topic for e in client.of(SubscriptionEnded)] == [d.topic_of(CALL)]  # consumed
    with pytest.raises(d.InvalidContractProposal):
        client.call(d.Buy(buy=proposal_id, price=10))
    client.call(d.Subscribe(streams=[f"proposal_open_contract.{bought.contract_id}"]))
    client.harness.advance(3.0)
    updates = [
        m
        for m in client.of(d.OpenContractMessage)
        if m.proposal_open_contract.contract_id == bought.contract_id
    ]
    assert updates
    assert updates[-1].proposal_open_contract.is_sold == 0
    sold = client.call(d.Sell(sell=bought.contract_id, price=0))
    assert sold.contract_id == bought.contract_id
    assert sold.reference_id == bought.transaction_id
    client.harness.advance(3.0)
    last = [
        m
        for m in client.of(d.OpenContractMessage)
        if m.proposal_open_contract.contract_id == bought.contract_id
    ][-1]
    assert last.proposal_open_contract.is_sold == 1
    assert last.proposal_open_contract.status == "sold"
    assert f"proposal_open_contract.{bought.contract_id}" in [
        e.topic for e in client.of(SubscriptionEnded)
    ]
    transactions = [
        m.transaction.action for m in client.of(d.TransactionMessage) if m.transaction.action
    ]
    assert transactions == ["buy", "sell"]
    balances = [m.balance.balance for m in client.of(d.BalanceMessage)]
    assert balances[0] == 10_000
    assert balances[-1] == sold.balance_after
    statement = client.call(d.Statement())
    assert [t.action_type for t in statement.transactions] == ["sell", "buy"]
    table = client.call(d.ProfitTable())
    assert table.transactions[0].contract_id == bought.contract_id
    assert client.call(d.Portfolio()).contracts == []


def test_a_rise_fall_contract_settles_by_itself() -> None:
    client = session()
    quote = client.call(
        d.Proposal(
            contract_type="PUT",
            currency="USD",
            symbol="1HZ10V",
            amount=5,
            basis="stake",
            duration=2,
            duration_unit="t",
        )
    )
    bought = client.call(d.Buy(buy=quote.id, price=5))
    assert [c.contract_id for c in client.call(d.Portfolio()).contracts] == [bought.contract_id]
    client.harness.advance(4.0)
    assert client.call(d.Portfolio()).contracts == []
    (line,) = client.call(d.ProfitTable()).transactions
    assert line.sell_price in (0.0, bought.payout)


def test_multipliers_and_pricing_refusals() -> None:
    client = session()
    quote = client.call(MULT)
    assert quote.multiplier == 100
    assert quote.commission == 1.0
    bought = client.call(d.Buy(buy=quote.id, price=20))
    client.harness.advance(2.0)
    contract = client.call(d.ProposalOpenContract(contract_id=bought.contract_id))
    assert contract.multiplier == 100
    assert contract.status == "open"
    with pytest.raises(d.ContractBuyValidationError) as refused:
        client.call(
            d.Proposal(
                contract_type="MULTUP", currency="USD", symbol="R_50", amount=10, multiplier=7
            )
        )
    assert refused.value.details["field"] == "multiplier"
    with pytest.raises(d.OfferingsValidationError):
        client.call(
            d.Proposal(
                contract_type="ONETOUCH",
                currency="USD",
                symbol="R_50",
                amount=10,
                duration=5,
                duration_unit="t",
            )
        )
    with pytest.raises(d.PriceMoved):
        client.call(d.Buy(buy=client.call(CALL).id, price=1))
    with pytest.raises(d.InsufficientBalance):
        client.call(
            d.Buy(
                buy=client.call(
                    d.Proposal(
                        contract_type="CALL",
                        currency="USD",
                        symbol="R_50",
                        amount=20_000,
                        duration=5,
                        duration_unit="t",
                    )
                ).id,
                price=20_000,
            )
        )


def test_all_open_contracts_stream_and_scopes() -> None:
    client = session()
    client.call(d.Subscribe(streams=["proposal_open_contract"]))
    first = client.of(d.OpenContractMessage)
    assert first[0].proposal_open_contract.contract_id is None  # none open yet
    client.call(d.Buy(buy=client.call(CALL).id, price=10))
    client.harness.advance(2.0)
    assert any(
        m.topic == "proposal_open_contract" and m.proposal_open_contract.contract_id
        for m in client.of(d.OpenContractMessage)
    )
    reader = Client(client.harness, token=READ_ONLY_TOKEN, seed=9)
    client.harness.advance(0.5)
    with pytest.raises(d.PermissionDenied):
        reader.call(d.Buy(buy=reader.call(CALL).id, price=10))
    assert reader.call(d.Portfolio()).contracts == []
