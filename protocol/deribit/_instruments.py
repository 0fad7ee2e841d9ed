"""Deribit instrument names (spec 6.5): parse them into parts and build them from parts.

=============== =============================== ====================================
kind            example                         template
=============== =============================== ====================================
future          ``BTC-25MAR23``, ``BTC-5AUG23`` ``{UND}-{D}{MMM}{YY}``
perpetual       ``BTC-PERPETUAL``               ``{UND}-PERPETUAL``
option          ``BTC-25MAR23-420-C``           ``{UND}-{D}{MMM}{YY}-{STRIKE}-{C|P}``
linear option   ``XRP_USDC-30JUN23-0d625-C``    the strike uses ``d`` as decimal point
spot            ``BTC_USDC``                    ``{BASE}_{QUOTE}``
=============== =============================== ====================================

The day has one or two digits and no zero padding; the month is the upper-case English
abbreviation; the year has two digits (20YY).  The underlying is a currency (``BTC``) or a
``{BASE}_{QUOTE}`` pair for linear instruments (``BTC_USDC``), in upper-case letters and
digits.  Combo instruments (``BTC-FS-29SEP23_PERP``) are outside this grammar (the spec
leaves them out); :func:`parse_instrument` rejects them, while channel names accept any
instrument-like token because only the venue knows which instruments exist.

Strikes are :class:`decimal.Decimal` so ``0d625`` means exactly 0.625 and a name survives
a parse/build round trip byte for byte.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Literal

import msgspec

from .._errors import LocalProtocolError

__all__ = [
    "InstrumentName",
    "InstrumentKind",
    "future_name",
    "option_name",
    "parse_instrument",
    "perpetual_name",
    "spot_name",
]

InstrumentKind = Literal["future", "perpetual", "option", "spot"]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS, start=1)}
_CURRENCY = r"[A-Z0-9]+"
_UNDERLYING_RE = re.compile(rf"{_CURRENCY}(?:_{_CURRENCY})?")
_CURRENCY_RE = re.compile(_CURRENCY)
_NAME_RE = re.compile(
    rf"(?P<und>{_CURRENCY}(?:_{_CURRENCY})?)-"
    r"(?:(?P<perp>PERPETUAL)"
    r"|(?P<d>[1-9]|[12][0-9]|3[01])(?P<mmm>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
    r"(?P<yy>[0-9]{2})"
    r"(?:-(?P<strike>[0-9]+(?:d[0-9]+)?)-(?P<cp>[CP]))?)"
)
_SPOT_RE = re.compile(rf"(?P<base>{_CURRENCY})_(?P<quote>{_CURRENCY})")


class InstrumentName(msgspec.Struct, frozen=True, kw_only=True):
    """The parts of a Deribit instrument name.

    ``underlying`` is the part before the first ``-`` (``BTC``, ``BTC_USDC``); for spot
    it is the whole name.  ``base`` and ``quote`` split a ``{BASE}_{QUOTE}`` underlying
    (``quote`` is ``None`` for inverse instruments such as ``BTC-PERPETUAL``).
    ``expiry`` is set for futures and options, ``strike`` and ``option_type``
    (``"call"`` / ``"put"``) for options.
    """

    name: str
    kind: InstrumentKind
    underlying: str
    base: str
    quote: str | None = None
    expiry: datetime.date | None = None
    strike: Decimal | None = None
    option_type: Literal["call", "put"] | None = None

    @property
    def linear(self) -> bool:
        """Whether the underlying is a ``{BASE}_{QUOTE}`` pair (linear / spot)."""
        return self.quote is not None


def _invalid(name: str, why: str) -> LocalProtocolError:
    return LocalProtocolError(
        f"invalid instrument name {name!r}: {why}; expected {{UND}}-PERPETUAL, "
        "{UND}-{D}{MMM}{YY}, {UND}-{D}{MMM}{YY}-{STRIKE}-{C|P} or {BASE}_{QUOTE} (spec 6.5)"
    )


def _split_underlying(underlying: str) -> tuple[str, str | None]:
    base, _, quote = underlying.partition("_")
    return base, quote or None


def parse_instrument(name: str) -> InstrumentName:
    """Parse ``name``; raise :class:`LocalProtocolError` if it is not in the 6.5 grammar."""
    if not isinstance(name, str):
        raise LocalProtocolError(f"invalid instrument name: expected a str, got {name!r}")
    spot = _SPOT_RE.fullmatch(name)
    if spot is not None:
        return InstrumentName(
            name=name, kind="spot", underlying=name, base=spot["base"], quote=spot["quote"]
        )
    match = _NAME_RE.fullmatch(name)
    if match is None:
        raise _invalid(name, "no template matches")
    underlying = match["und"]
    base, quote = _split_underlying(underlying)
    if match["perp"]:
        return InstrumentName(
            name=name, kind="perpetual", underlying=underlying, base=base, quote=quote
        )
    try:
        expiry = datetime.date(
            2000 + int(match["yy"]), _MONTH_NUMBER[match["mmm"]], int(match["d"])
        )
    except ValueError as exc:
        raise _invalid(name, "the expiry is not a calendar date") from exc
    if match["strike"] is None:
        return InstrumentName(
            name=name, kind="future", underlying=underlying, base=base, quote=quote, expiry=expiry
        )
    return InstrumentName(
        name=name,
        kind="option",
        underlying=underlying,
        base=base,
        quote=quote,
        expiry=expiry,
        strike=Decimal(match["strike"].replace("d", ".")),
        option_type="call" if match["cp"] == "C" else "put",
    )


def _check_underlying(underlying: str) -> None:
    if not (isinstance(underlying, str) and _UNDERLYING_RE.fullmatch(underlying)):
        raise LocalProtocolError(
            f"invalid underlying: {underlying!r}; expected upper-case letters and digits, "
            "optionally {BASE}_{QUOTE} (e.g. 'BTC', 'BTC_USDC')"
        )


def _format_expiry(expiry: datetime.date) -> str:
    if not isinstance(expiry, datetime.date) or not 2000 <= expiry.year <= 2099:
        raise LocalProtocolError(
            f"invalid expiry: {expiry!r}; expected a datetime.date in the years 2000-2099"
        )
    return f"{expiry.day}{_MONTHS[expiry.month - 1]}{expiry.year % 100:02d}"


def _format_strike(strike: Decimal | int | str) -> str:
    try:
        value = Decimal(strike) if not isinstance(strike, Decimal) else strike
    except (InvalidOperation, TypeError, ValueError):
        value = Decimal("NaN")
    if isinstance(strike, bool) or not value.is_finite() or value < 0:
        raise LocalProtocolError(
            f"invalid strike: {strike!r}; expected a finite number >= 0 (int, str or Decimal)"
        )
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", "d")


def perpetual_name(underlying: str) -> str:
    """``BTC`` -> ``BTC-PERPETUAL``; ``BTC_USDC`` -> ``BTC_USDC-PERPETUAL``."""
    _check_underlying(underlying)
    return f"{underlying}-PERPETUAL"


def future_name(underlying: str, expiry: datetime.date) -> str:
    """``("BTC", date(2023, 8, 5))`` -> ``BTC-5AUG23``."""
    _check_underlying(underlying)
    return f"{underlying}-{_format_expiry(expiry)}"


def option_name(
    underlying: str,
    expiry: datetime.date,
    strike: Decimal | int | str,
    option_type: Literal["call", "put", "C", "P"],
) -> str:
    """``("XRP_USDC", date(2023, 6, 30), Decimal("0.625"), "call")``.

    Gives ``XRP_USDC-30JUN23-0d625-C``: the strike's decimal point becomes ``d``.
    """
    _check_underlying(underlying)
    letters = {"call": "C", "put": "P", "C": "C", "P": "P"}
    if option_type not in letters:
        raise LocalProtocolError(
            f"invalid option_type: {option_type!r}; accepted values: 'call', 'put', 'C', 'P'"
        )
    return f"{underlying}-{_format_expiry(expiry)}-{_format_strike(strike)}-{letters[option_type]}"


def spot_name(base: str, quote: str) -> str:
    """``("BTC", "USDC")`` -> ``BTC_USDC``."""
    for argument, value in (("base", base), ("quote", quote)):
        if not (isinstance(value, str) and _CURRENCY_RE.fullmatch(value)):
            raise LocalProtocolError(
                f"invalid {argument}: {value!r}; expected upper-case letters and digits"
            )
    return f"{base}_{quote}"
