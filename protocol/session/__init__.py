"""tradewire.protocol.session: the venue-neutral machinery of a venue session.

The subscription ledger, rate-limit pacing and the order book.  Nothing here names a
venue: a venue package supplies data and small policy objects, and the pieces here do
the bookkeeping the same way for every venue.
"""

from ._book import OrderBook, Side
from ._ledger import AckOutcome, SubscriptionLedger, TopicState
from ._ratelimit import CreditBucket, Pacer, TokenBucket

__all__ = [
    "AckOutcome",
    "CreditBucket",
    "OrderBook",
    "Pacer",
    "Side",
    "SubscriptionLedger",
    "TokenBucket",
    "TopicState",
]
