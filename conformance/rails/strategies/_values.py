"""Names and values of the Rails wire: markets, streams, decimals as exact strings, ids."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import strategies as st

from tradewire.protocol.rails import MARKET_ALL, STREAMS

__all__ = [
    "client_request_ids",
    "decimal_strings",
    "market_names",
    "order_ids",
    "sides",
    "stream_lists",
    "timestamps",
]

_COINS = ("BTC", "ETH", "SOL", "XRP", "DOGE")
_QUOTES = ("USD", "USDT", "USDC")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def market_names(*, all_markets: bool = False) -> st.SearchStrategy[str]:
    """``BASE-QUOTE`` names (``BTC-USDT``); ``all_markets``: ``ALL`` too."""
    names = st.builds(lambda b, q: f"{b}-{q}", st.sampled_from(_COINS), st.sampled_from(_QUOTES))
    return names | st.just(MARKET_ALL) if all_markets else names


def stream_lists(*, min_size: int = 1) -> st.SearchStrategy[tuple[str, ...]]:
    """Distinct stream names, in any order."""
    return st.lists(st.sampled_from(STREAMS), min_size=min_size, max_size=4, unique=True).map(tuple)


def sides() -> st.SearchStrategy[str]:
    return st.sampled_from(("buy", "sell"))


def decimal_strings(
    *, places: int = 8, min_value: str = "0.00000001", max_value: str = "1000000"
) -> st.SearchStrategy[str]:
    """Positive decimals as the venue writes them: exact, no exponent, no trailing zeros."""

    def text(value: Decimal) -> str:
        out = format(value, "f")
        return out.rstrip("0").rstrip(".") if "." in out else out

    return st.decimals(
        min_value=Decimal(min_value), max_value=Decimal(max_value), places=places,
        allow_nan=False, allow_infinity=False,
    ).filter(lambda d: d > 0).map(text)  # fmt: skip


def client_request_ids() -> st.SearchStrategy[str]:
    """UUID strings (``clientRequestId`` must be a UUID, spec 2)."""
    return st.integers(0, 2**128 - 1).map(lambda n: str(uuid.UUID(int=n, version=4)))


def order_ids() -> st.SearchStrategy[str]:
    """26-character ULID-style order ids (spec 4.1)."""
    return st.lists(st.sampled_from(_CROCKFORD), min_size=26, max_size=26).map("".join)


def timestamps() -> st.SearchStrategy[int]:
    """Epoch milliseconds."""
    return st.integers(1_700_000_000_000, 1_900_000_000_000)
