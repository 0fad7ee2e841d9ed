"""The engine's view of instruments: :class:`Contract`, and :class:`Catalog`, what a venue
hands the market.

The market is venue-neutral: it does not know which instruments a venue lists, how they
are named or what their fees are.  A venue builds a :class:`Catalog` (its instruments as
:class:`Instrument` records, its currencies, its published index names) and passes it to
:class:`~tradewire.conformance.market.Market`; the Deribit one is
``tradewire.conformance.deribit.deribit_catalog``.

:class:`Contract` is the engine's view of one instrument: the :class:`Instrument`
record plus its price and amount grids as integers (prices in ticks, amounts in lots),
so matching and book keys are exact.
"""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec

from ._records import Currency, Instrument

__all__ = ["Catalog", "Contract", "Listing"]

_EPSILON = 1e-9


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument and the price walk that drives it (a key of
    ``MarketConfig.start_prices``, e.g. ``"btc_usd"``)."""

    instrument: Instrument
    underlying: str


class Catalog(msgspec.Struct, frozen=True, kw_only=True):
    """What a venue lists, as data: instruments in a fixed order (the order ticks visit
    them in), currencies, and the index names it publishes, each mapped to the walk it
    follows (``{"btc_usdc": "btc_usd"}``: USDC taken at par)."""

    listings: tuple[Listing, ...]
    currencies: tuple[Currency, ...] = ()
    indexes: dict[str, str] = msgspec.field(default_factory=dict)

    def walks(self) -> list[str]:
        """Every price walk the catalog needs, sorted (the order a tick draws them in)."""
        return sorted({item.underlying for item in self.listings} | set(self.indexes.values()))


def _places(step: float) -> int:
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class Contract:
    """One instrument as the engine sees it: facts, grids and lifecycle state.

    Prices are integer *units* of ``tick_size``; a unit count is on the grid when every
    ``tick_size_steps`` entry below the price divides it.  Amounts are integer *lots* of
    ``amount_step``.
    """

    __slots__ = (
        "call",
        "expiry_ms",
        "fee_currency",
        "index",
        "instrument",
        "inverse",
        "kind",
        "lot",
        "lot_places",
        "min_lots",
        "name",
        "perpetual",
        "price_places",
        "settlement",
        "steps",
        "strike",
        "tick",
        "underlying",
    )

    def __init__(self, instrument: Instrument, underlying: str) -> None:
        self.instrument = instrument
        self.name = instrument.instrument_name
        self.kind = instrument.kind
        self.underlying = underlying  # the walk driving it: "btc_usd" or "eth_usd"
        self.index = instrument.price_index
        self.inverse = instrument.instrument_type == "reversed"
        self.perpetual = instrument.settlement_period == "perpetual"
        self.expiry_ms = (
            instrument.expiration_timestamp
            if instrument.kind != "spot" and not self.perpetual
            else None
        )
        self.strike = instrument.strike
        self.call = instrument.option_type == "call"
        self.settlement = instrument.settlement_currency or instrument.quote_currency
        self.fee_currency = self.settlement
        self.tick = instrument.tick_size
        self.price_places = _places(self.tick)
        self.steps = tuple(
            (round(s.above_price / self.tick), round(s.tick_size / self.tick))
            for s in instrument.tick_size_steps
        )
        self.lot = instrument.amount_step
        self.lot_places = _places(self.lot)
        self.min_lots = round(instrument.min_trade_amount / self.lot)

    def __repr__(self) -> str:
        return f"Contract({self.name!r})"

    @property
    def active(self) -> bool:
        return self.instrument.is_active

    def close(self) -> None:
        """Mark the instrument expired (``is_active`` false)."""
        self.instrument = msgspec.structs.replace(self.instrument, is_active=False)

    # -- prices ----------------------------------------------------------------------

    def snap_down(self, units: int) -> int:
        """The highest grid price at or below ``units`` ticks (steps must nest, as
        Deribit's do: each coarser step is a multiple of the finer ones)."""
        for above, step in reversed(self.steps):
            if units > above:
                return units - units % step
        return units

    def snap_up(self, units: int) -> int:
        """The lowest grid price at or above ``units`` ticks."""
        for above, step in reversed(self.steps):
            if units > above:
                rest = units % step
                return units + step - rest if rest else units
        return units

    def on_grid(self, units: int) -> bool:
        return units > 0 and self.snap_down(units) == units

    def units_of(self, price: float) -> int | None:
        """``price`` in ticks, or ``None`` when it is not on the tick grid."""
        units = round(price / self.tick)
        if abs(units * self.tick - price) > _EPSILON * max(1.0, abs(price)):
            return None
        return units if self.on_grid(units) else None

    def price(self, units: int) -> float:
        return round(units * self.tick, self.price_places)

    def below(self, units: int) -> int:
        """The highest grid price strictly below ``units`` (0 when there is none)."""
        return max(0, self.snap_down(units - 1))

    def above(self, units: int) -> int:
        """The lowest grid price strictly above ``units``."""
        return self.snap_up(max(1, units + 1))

    def floor_units(self, price: float) -> int:
        """The highest grid price at or below ``price`` (0 when there is none)."""
        return max(0, self.snap_down(math.floor(price / self.tick + _EPSILON)))

    def ceil_units(self, price: float) -> int:
        """The lowest grid price at or above ``price``."""
        return self.snap_up(max(1, math.ceil(price / self.tick - _EPSILON)))

    # -- amounts ---------------------------------------------------------------------

    def lots_of(self, amount: float) -> int | None:
        """``amount`` in lots, or ``None`` when it is not a whole number of lots."""
        lots = round(amount / self.lot)
        if abs(lots * self.lot - amount) > _EPSILON * max(1.0, abs(amount)):
            return None
        return lots

    def amount(self, lots: int) -> float:
        return round(lots * self.lot, self.lot_places)

    def contracts(self, lots: int) -> float:
        return round(lots * self.lot / self.instrument.contract_size, 8)
