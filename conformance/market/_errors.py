"""Why the market refused a request: :class:`MarketError`, one venue-neutral ``reason`` each.

The engine is venue-neutral, so a refusal is named by ``reason``, a stable snake_case key
(``"price_wrong_tick"``), with an optional ``detail`` (the limit a price broke) and
``data`` for the error's ``data`` member.  A venue maps ``reason`` to its own error codes
and texts (the Deribit venue: ``tradewire.conformance.deribit._errors``).

Choices where a venue's rules are open (and kept consistent everywhere):

* cancelling or editing an order that is no longer open is ``not_open_order``, never
  ``already_closed``;
* an order id of another account is ``order_not_found``, so ids do not leak;
* a reduce-only order that cannot reduce anything is ``other_reject`` with
  ``data = {"reason": "reduce_only"}``;
* an amount off the contract grid is ``non_integer_contract_amount`` for futures and
  ``invalid_amount`` for options and spot;
* order types the reference market does not model (trigger orders) are
  ``not_implemented``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["REASONS", "MarketError"]

REASONS = frozenset(
    {
        "qty_too_low",
        "order_not_found",
        "price_too_low",
        "price_too_high",
        "not_enough_funds",
        "invalid_or_unsupported_instrument",
        "invalid_amount",
        "invalid_price",
        "non_integer_contract_amount",
        "not_implemented",
        "price_wrong_tick",
        "invalid_arguments",
        "other_reject",
        "not_open_order",
        "post_only_reject",
        "post_only_not_allowed",
        "orderbook_closed",
    }
)
"""Every reason the market raises."""


class MarketError(Exception):
    """The market refused a request; nothing changed.

    ``reason`` is the venue-neutral key (one of :data:`REASONS`), ``detail`` an optional
    word or number that goes with it (``price_too_high`` carries the limit), ``data``
    extra detail for the error's ``data`` member, or ``None``.
    """

    def __init__(self, reason: str, detail: str = "", data: Any = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown market error reason {reason!r}")
        self.reason = reason
        self.detail = detail
        self.data = data
        super().__init__(f"{reason} {detail}" if detail else reason)

    def __repr__(self) -> str:
        return f"MarketError(reason={self.reason!r}, detail={self.detail!r}, data={self.data!r})"
