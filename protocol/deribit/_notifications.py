"""Events for what Deribit pushes: subscription notifications and heartbeats (spec 1.4, 1.5).

A notification is ``{"method": "subscription", "params": {"channel", "data", "label"?}}``.
Each event class here *is* the ``params`` object of one channel family: the codec decodes
a whole message in one typed pass into an envelope whose ``params`` field has the event
type, so the event comes out with no second pass and no copy.  Every event carries
``channel`` exactly as received (ccxt-style routing and the subscription ledger key on
it) and ``label`` when the subscription was made with one (``private/subscribe``).

A channel no typed event covers (``announcements``, ``instrument.state.*``,
``user.access_log``, a family the venue adds later) becomes a generic
:class:`Notification` with its data as plain JSON; never an error.  A message with a
``method`` other than ``subscription`` or ``heartbeat`` becomes :class:`UnknownMessage`.

Heartbeats (``method: "heartbeat"``) are :class:`Heartbeat` (no answer needed) and
:class:`TestRequest` (answer with ``public/test`` or the venue closes with 4000).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._events import Event
from ._channels import ChannelFamily
from ._models_account import AccountSummary, Order, UserChanges, UserTrade
from ._models_market import (
    BookData,
    Candle,
    GroupedBookData,
    IncrementalTicker,
    PerpetualInterest,
    PlatformState,
    PriceIndex,
    PublicTrade,
    Quote,
    Ticker,
)

__all__ = [
    "BookUpdate",
    "ChannelEvent",
    "ChartUpdate",
    "GroupedBookUpdate",
    "Heartbeat",
    "IncrementalTickerUpdate",
    "Notification",
    "PerpetualUpdate",
    "PlatformStateUpdate",
    "PortfolioUpdate",
    "PriceIndexUpdate",
    "QuoteUpdate",
    "TestRequest",
    "TickerUpdate",
    "TradesUpdate",
    "UnknownMessage",
    "UserChangesUpdate",
    "UserOrdersUpdate",
    "UserTradesUpdate",
    "EVENT_TYPES",
]


class ChannelEvent(Event, frozen=True, kw_only=True, repr_omit_defaults=True, gc=False):
    """Base of the subscription notification events: ``channel`` and optional ``label``."""

    channel: str
    label: str | None = None


class BookUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    """``book.{instrument}.{interval}``: a snapshot or a change (spec 3.3, 4)."""

    data: BookData


class GroupedBookUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    """``book.{instrument}.{group}.{depth}.{interval}``: a full window."""

    data: GroupedBookData


class TickerUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: Ticker


class IncrementalTickerUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: IncrementalTicker


class QuoteUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: Quote


class TradesUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    """``trades.*``: an array of trades (spec 3.5)."""

    data: list[PublicTrade]


class ChartUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: Candle


class PriceIndexUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: PriceIndex


class PerpetualUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: PerpetualInterest


class PlatformStateUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    """``platform_state`` and ``platform_state.public_methods_state``."""

    data: PlatformState


class UserOrdersUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    """``user.orders.*``: one order on ``raw`` channels, an array otherwise (spec 3.2)."""

    data: Order | list[Order]

    @property
    def orders(self) -> list[Order]:
        """The orders as a list, whichever shape the channel sends."""
        data = self.data
        return data if isinstance(data, list) else [data]


class UserTradesUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: list[UserTrade]


class UserChangesUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    data: UserChanges


class PortfolioUpdate(ChannelEvent, frozen=True, kw_only=True, gc=False):
    """``user.portfolio.{currency}``: the ``get_account_summary`` fields."""

    data: AccountSummary


class Notification(ChannelEvent, frozen=True, kw_only=True):
    """A notification on a channel without a typed event; ``data`` is plain JSON."""

    data: Any = None


class Heartbeat(Event, tag_field="type", tag="heartbeat", frozen=True, kw_only=True):
    """``{"method": "heartbeat", "params": {"type": "heartbeat"}}``: needs no answer."""


class TestRequest(Event, tag_field="type", tag="test_request", frozen=True, kw_only=True):
    """``{"method": "heartbeat", "params": {"type": "test_request"}}``: call ``public/test``."""

    __test__: ClassVar[bool] = False  # not a pytest test class


class UnknownMessage(Event, frozen=True, kw_only=True):
    """A message with an unknown ``method`` (or heartbeat ``type``); ``params`` is JSON."""

    method: str
    params: Any = None


EVENT_TYPES: dict[ChannelFamily, type[ChannelEvent]] = {
    ChannelFamily.BOOK: BookUpdate,
    ChannelFamily.GROUPED_BOOK: GroupedBookUpdate,
    ChannelFamily.TICKER: TickerUpdate,
    ChannelFamily.INCREMENTAL_TICKER: IncrementalTickerUpdate,
    ChannelFamily.QUOTE: QuoteUpdate,
    ChannelFamily.TRADES: TradesUpdate,
    ChannelFamily.CHART: ChartUpdate,
    ChannelFamily.PRICE_INDEX: PriceIndexUpdate,
    ChannelFamily.PERPETUAL: PerpetualUpdate,
    ChannelFamily.PLATFORM_STATE: PlatformStateUpdate,
    ChannelFamily.PUBLIC_METHODS_STATE: PlatformStateUpdate,
    ChannelFamily.USER_ORDERS: UserOrdersUpdate,
    ChannelFamily.USER_TRADES: UserTradesUpdate,
    ChannelFamily.USER_CHANGES: UserChangesUpdate,
    ChannelFamily.USER_PORTFOLIO: PortfolioUpdate,
}
"""The typed event per channel family; other families give :class:`Notification`."""
