"""Why the market refused a request: :class:`MarketError`, one venue-neutral ``reason`` each.

The engine is venue-neutral, so a refusal is named by ``reason``, a stable snake_case key
(``"price_wrong_tick"``).  Deribit is the reference venue, so each reason also carries
Deribit's numeric ``code`` and short ``message`` (spec 7.1, the table in
``tradewire.protocol.deribit._errors``); a Deribit venue sends ``code``/``message``/``data``
as they are, another venue maps ``reason`` to its own codes.

Choices where the spec is open (and kept consistent everywhere):

* cancelling or editing an order that is no longer open is ``not_open_order`` (11044),
  never ``already_closed`` (10010): spec 5.2 names 11044 for edits, and 5.3 leaves the
  cancel code open, so one code covers both;
* an order id of another account is ``order_not_found`` (10004), so ids do not leak;
* a reduce-only order that cannot reduce anything is ``other_reject`` (11030) with
  ``data = {"reason": "reduce_only"}``;
* an amount off the contract grid is ``non_integer_contract_amount`` (10027) for futures
  and ``invalid_amount`` (10021) for options and spot;
* order types the reference market does not model (trigger orders) are
  ``not_implemented`` (10033).
"""

from __future__ import annotations

from typing import Any

from tradewire.protocol.deribit._errors import ERROR_MESSAGES

__all__ = ["REASON_CODES", "MarketError"]

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


class MarketError(Exception):
    """The market refused a request; nothing changed.

    ``reason`` is the venue-neutral key, ``code`` and ``message`` are Deribit's (the
    message may carry a detail after a space, as ``price_too_high <limit>`` does in spec
    7.1), ``data`` is extra detail for the error's ``data`` member, or ``None``.
    """

    def __init__(self, reason: str, detail: str = "", data: Any = None) -> None:
        if reason not in REASON_CODES:
            raise ValueError(f"unknown market error reason {reason!r}")
        self.reason = reason
        self.code = REASON_CODES[reason]
        base = ERROR_MESSAGES.get(self.code, reason)
        self.message = f"{base} {detail}" if detail else base
        self.data = data
        super().__init__(f"{self.code}: {self.message}")

    def __repr__(self) -> str:
        return f"MarketError(reason={self.reason!r}, code={self.code}, message={self.message!r})"
