"""Hypothesis strategies for Rails messages, valid and invalid, for your own tests.

Needs ``hypothesis`` (``pip install 'tradewire[test]'``); nothing else in the package
imports this module.  What they generate follows ``docs/venues/rails.md``: market and
stream names, decimals as exact strings, UUID ``clientRequestId`` values, ULID order
ids, every message the venue sends (with the event ``decode_inbound`` gives for it) and
every request the client sends (with its bytes), and what peers get wrong::

    @given(server_messages())
    def test_my_client_decodes(sample):
        assert decode_inbound(sample.data) == sample.expected

    @given(requests(all_markets=True))
    def test_my_server_reads(sample):
        assert decode_request(sample.data).command == sample.command

    @given(invalid_server_messages())
    def test_refused(sample):
        with pytest.raises(RemoteProtocolError):
            decode_inbound(sample.data)

What is here: :func:`market_names`, :func:`stream_lists`, :func:`sides`,
:func:`decimal_strings`, :func:`client_request_ids`, :func:`order_ids`,
:func:`timestamps`; :func:`book_deltas`, :func:`book_snapshots`, :func:`public_trades`,
:func:`user_trades`, :func:`orders`, :func:`order_messages`, :func:`server_messages`;
:func:`commands`, :func:`requests`; :func:`invalid_server_messages`,
:func:`invalid_requests`, :func:`with_unknown_fields`.
"""

from ._invalid import (
    INVALID_MESSAGE_KINDS,
    InvalidMessage,
    invalid_requests,
    invalid_server_messages,
    with_unknown_fields,
)
from ._messages import (
    PushSample,
    RequestSample,
    book_deltas,
    book_snapshots,
    commands,
    order_messages,
    orders,
    public_trades,
    requests,
    server_messages,
    user_trades,
)
from ._values import (
    client_request_ids,
    decimal_strings,
    market_names,
    order_ids,
    sides,
    stream_lists,
    timestamps,
)

__all__ = [
    "INVALID_MESSAGE_KINDS",
    "InvalidMessage",
    "PushSample",
    "RequestSample",
    "book_deltas",
    "book_snapshots",
    "client_request_ids",
    "commands",
    "decimal_strings",
    "invalid_requests",
    "invalid_server_messages",
    "market_names",
    "order_ids",
    "order_messages",
    "orders",
    "public_trades",
    "requests",
    "server_messages",
    "sides",
    "stream_lists",
    "timestamps",
    "user_trades",
    "with_unknown_fields",
]
