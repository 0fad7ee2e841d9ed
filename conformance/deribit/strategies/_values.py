"""Plain values the other strategies draw from: times, sizes, prices, text, tokens.

Kept apart from the names and messages that use them so that each grammar module reads
as the spec's rules only; every strategy here is built once (``functools.cache``).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from tradewire.protocol.deribit import MAX_LABEL_LENGTH

__all__ = [
    "_FIRST_MS",
    "_LAST_MS",
    "_amounts",
    "_choice",
    "_client_ids",
    "_floats",
    "_labels",
    "_maybe",
    "_order_ids",
    "_prices",
    "_scopes",
    "_text",
    "_timestamps",
    "_token",
]

T = TypeVar("T")
_FIRST_MS = 1_577_836_800_000  # 2020-01-01
_LAST_MS = 2_082_758_400_000  # 2036-01-01


@functools.cache
def _timestamps() -> st.SearchStrategy[int]:
    """Epoch milliseconds, 2020 to 2035."""
    return st.integers(_FIRST_MS, _LAST_MS)


@functools.cache
def _amounts() -> st.SearchStrategy[float]:
    """Positive sizes: whole contracts (USD, multiples of 10) or coin fractions."""
    return st.one_of(
        st.integers(1, 100_000).map(lambda n: n * 10.0),
        st.integers(1, 10_000_000).map(lambda n: n / 1000),
        st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False),
    )


@functools.cache
def _prices() -> st.SearchStrategy[float]:
    """Positive prices on common tick grids, and some arbitrary ones."""
    return st.one_of(
        st.integers(1, 400_000).map(lambda n: n * 0.5),
        st.integers(1, 1_000_000).map(lambda n: n / 10_000),
        st.floats(min_value=1e-8, max_value=1e7, allow_nan=False, allow_infinity=False),
    )


@functools.cache
def _floats(low: float = -1e9, high: float = 1e9) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


@functools.cache
def _text(min_size: int = 1, max_size: int = 32) -> st.SearchStrategy[str]:
    """Text, including non-ASCII, never a lone surrogate (not encodable as UTF-8)."""
    return st.text(st.characters(codec="utf-8"), min_size=min_size, max_size=max_size)


@functools.cache
def _token() -> st.SearchStrategy[str]:
    """An opaque token shaped like Deribit's ``<ms>.<8 chars>.<base64url>``."""
    alphabet = string.ascii_letters + string.digits + "-_"
    return st.builds(
        lambda ms, a, b: f"{ms}.{a}.{b}",
        _timestamps(),
        st.text(alphabet, min_size=8, max_size=8),
        st.text(alphabet, min_size=16, max_size=43),
    )


@functools.cache
def _labels(max_size: int = MAX_LABEL_LENGTH) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=max_size),
        _text(1, max_size),
    )


@functools.cache
def _scopes() -> st.SearchStrategy[str]:
    session = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=16)
    parts = st.sampled_from(
        (
            "connection",
            "mainaccount",
            "account:read",
            "trade:read_write",
            "wallet:none",
            "block_trade:read",
            "expires:600",
        )
    )
    return st.one_of(
        session.map(lambda s: f"session:{s}"),
        st.lists(parts, min_size=1, max_size=4, unique=True).map(" ".join),
    )


@functools.cache
def _maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


@functools.cache
def _choice(values: Sequence[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(tuple(values))


@functools.cache
def _order_ids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(1, 10**10).map(str),
        st.builds(
            lambda p, n: f"{p}-{n}", st.sampled_from(("USR", "ETH", "USDC")), st.integers(1, 10**9)
        ),
    )


@functools.cache
def _client_ids() -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=16)
