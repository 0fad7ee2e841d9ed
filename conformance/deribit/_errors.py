"""The Deribit error of each market refusal: code and message (spec 7.1).

The market names a refusal by a venue-neutral ``reason``
(:class:`~tradewire.conformance.market.MarketError`); the Deribit venue answers it with
the code of :data:`REASON_CODES` and the short message of the protocol's error table,
with the refusal's detail after a space (``price_too_high 63000.0``, as spec 7.1 shows).
Why each refusal gets the code it gets is in the docstring of
``tradewire.conformance.market._errors``; where spec 5.2 and 5.3 leave a code open
(cancelling an order that is no longer open), ``not_open_order`` is 11044.
"""

from __future__ import annotations

from typing import Any

from tradewire.protocol.deribit._errors import ERROR_MESSAGES

from ..market import MarketError

__all__ = ["REASON_CODES", "refusal"]

REASON_CODES: dict[str, int] = {
    "qty_too_low": 10002,
    "order_not_found": 10004,
    "price_too_low": 10005,
    "price_too_high": 10007,
    "not_enough_funds": 10009,
    "invalid_or_unsupported_instrument": 10020,
    "invalid_amount": 10021,
    "invalid_price": 10023,
    "non_integer_contract_amount": 10027,
    "not_implemented": 10033,
    "price_wrong_tick": 10043,
    "invalid_arguments": 11029,
    "other_reject": 11030,
    "not_open_order": 11044,
    "post_only_reject": 11054,
    "post_only_not_allowed": 11055,
    "orderbook_closed": 13019,
}
"""Every reason the market raises, with its Deribit code (spec 7.1)."""


def refusal(error: MarketError) -> tuple[int, str, Any]:
    """``(code, message, data)`` of the Deribit error answering ``error``."""
    code = REASON_CODES[error.reason]
    base = ERROR_MESSAGES.get(code, error.reason)
    message = f"{base} {error.detail}" if error.detail else base
    return code, message, error.data
