"""Names of spec 6.5: currencies, underlyings, instruments, indices; request ids.

Instrument names are built with the package's own builders (``option_name`` ...), so
they are what tradewire parses, not a second copy of the grammar.
"""

from __future__ import annotations

import datetime
import functools
import string
from collections.abc import Collection
from decimal import Decimal

from hypothesis import strategies as st

from tradewire.protocol import RequestId
from tradewire.protocol.deribit import future_name, option_name, perpetual_name, spot_name

from ._values import _text

__all__ = ["currencies", "index_names", "instrument_names", "request_ids", "underlyings"]

_COINS = ("BTC", "ETH", "SOL", "XRP", "MATIC", "PAXG", "BNB", "ADA", "DOGE", "AVAX", "LTC")
_QUOTES = ("USDC", "USDT", "EURR")


@functools.cache
def currencies(*, allow_any: bool = False) -> st.SearchStrategy[str]:
    """Upper-case currency codes: the spec's (``BTC``, ``ETH``, ``USDC``, ``USDT``,
    ``EURR``), other listed coins, and made-up ones (the venue adds coins over time);
    ``allow_any`` adds ``"any"`` where a method or channel takes it."""
    codes = st.one_of(
        st.sampled_from(("BTC", "ETH", "USDC", "USDT", "EURR")),
        st.sampled_from(_COINS),
        st.text(string.ascii_uppercase, min_size=2, max_size=6),
    )
    return st.one_of(codes, st.just("any")) if allow_any else codes


@functools.cache
def underlyings(*, linear: bool | None = None) -> st.SearchStrategy[str]:
    """``BTC`` / ``ETH`` (inverse) or ``{BASE}_{QUOTE}`` such as ``SOL_USDC`` (linear)."""
    inverse = st.sampled_from(("BTC", "ETH"))
    pairs = st.builds(
        lambda base, quote: f"{base}_{quote}",
        st.one_of(st.sampled_from(_COINS), st.text(string.ascii_uppercase, min_size=2, max_size=5)),
        st.sampled_from(_QUOTES),
    )
    if linear is None:
        return st.one_of(inverse, pairs)
    return pairs if linear else inverse


@functools.cache
def _expiries() -> st.SearchStrategy[datetime.date]:
    return st.dates(datetime.date(2020, 1, 1), datetime.date(2035, 12, 31))


@functools.cache
def _strikes(linear: bool) -> st.SearchStrategy[Decimal]:
    whole = st.integers(1, 250_000).map(Decimal)
    if not linear:
        return whole
    fractional = st.builds(
        lambda n, places: Decimal(n).scaleb(-places), st.integers(1, 99_999), st.integers(1, 4)
    )
    return st.one_of(whole, fractional)


def instrument_names(
    *,
    kinds: Collection[str] = (
        "perpetual",
        "future",
        "option",
        "spot",
    ),
    linear: bool | None = None,
) -> st.SearchStrategy[str]:
    """Instrument names of spec 6.5, built with the package's own builders.

    Perpetuals (``BTC-PERPETUAL``, ``SOL_USDC-PERPETUAL``), futures (``BTC-5AUG23``: no
    zero padding), options (``BTC-25MAR23-420-C``; linear ones with a ``d`` decimal
    point, ``XRP_USDC-30JUN23-0d625-C``) and spot pairs (``BTC_USDC``).  ``linear``
    restricts the underlying (spot is always linear).
    """
    return _instrument_names(tuple(kinds), linear)


@functools.cache
def _instrument_names(kinds: tuple[str, ...], linear: bool | None) -> st.SearchStrategy[str]:
    branches: list[st.SearchStrategy[str]] = []
    for kind in kinds:
        if kind == "perpetual":
            branches.append(underlyings(linear=linear).map(perpetual_name))
        elif kind == "future":
            branches.append(st.builds(future_name, underlyings(linear=linear), _expiries()))
        elif kind == "option":
            for is_linear in (False, True):
                if linear is None or linear is is_linear:
                    branches.append(
                        st.builds(
                            option_name,
                            underlyings(linear=is_linear),
                            _expiries(),
                            _strikes(is_linear),
                            st.sampled_from(("call", "put")),
                        )
                    )
        elif kind == "spot" and linear is not False:
            branches.append(st.builds(spot_name, st.sampled_from(_COINS), st.sampled_from(_QUOTES)))
        elif kind != "spot":
            raise ValueError(f"invalid kind {kind!r}; accepted: perpetual, future, option, spot")
    if not branches:
        raise ValueError("no instrument can have these kinds and linearity")
    return st.one_of(branches)


@functools.cache
def index_names() -> st.SearchStrategy[str]:
    """Lower-case index names: ``btc_usd``, ``eth_usdc``, ``sol_usdc`` ..."""
    return st.one_of(
        st.sampled_from(("btc_usd", "eth_usd", "btc_usdc", "eth_usdc", "sol_usdc", "eth_btc")),
        st.builds(
            lambda base, quote: f"{base.lower()}_{quote}",
            st.sampled_from(_COINS),
            st.sampled_from(("usd", "usdc", "usdt", "eurr")),
        ),
    )


@functools.cache
def request_ids() -> st.SearchStrategy[RequestId]:
    """JSON-RPC ids as clients send them: counters from 1, large ints, ``"101"``,
    ``"auth_<hex>"`` and other strings."""
    return st.one_of(
        st.integers(1, 10_000),
        st.integers(0, 2**53),
        st.integers(1, 10**6).map(str),
        st.text(string.hexdigits.lower(), min_size=8, max_size=32).map(lambda h: f"auth_{h}"),
        _text(1, 24),
    )
