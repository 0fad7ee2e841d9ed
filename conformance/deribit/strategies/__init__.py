"""Hypothesis strategies for Deribit messages, valid and invalid, for your own tests.

Needs ``hypothesis`` (``pip install 'tradewire[test]'``); nothing else in the package
imports this module.  Every strategy is pure and composable: pass strategies in, get
strategies out, filter and map them like any other.  What they generate follows
``docs/venues/deribit.md``: names from the grammars of 3.2 and 6.5, requests for every typed
command, results of each command's type, notifications for every channel family with
payloads that look like the venue's (consistent instrument names, tick-aligned prices,
bids below asks, ``change_id`` chains), and messages that are wrong in the ways a
peer gets them wrong.

Names::

    instrument_names(kinds=("option",), linear=True)  # "XRP_USDC-30JUN23-0d625-C"
    channel_names([ChannelFamily.BOOK])               # "book.BTC-5AUG23.raw"
    invalid_channel_names()                           # "book.BTC-PERPETUAL.50ms"

Client to venue (:class:`RequestSample`: the command, its id, the encoded bytes)::

    @given(requests())
    def test_my_server_decodes(sample):
        assert my_server.decode(sample.data) == sample.command

Venue to client (:class:`ResponseSample`, :class:`PushSample`: the bytes and what
``decode_inbound`` must give for them)::

    @given(server_messages())
    def test_my_client_decodes(sample):
        assert decode_inbound(sample.data) == sample.expected

    @given(book_chains(faults=["gap", "duplicate"]))
    def test_gaps(chain):
        for data in chain.messages:
            client.receive_message(data, now)
        assert gaps_seen(client) == list(chain.gaps)

Invalid input (:class:`InvalidMessage` for a client, :class:`InvalidRequest` for a
server, each saying what is wrong and, for a server, what tradewire's
``ServerProtocol`` answers)::

    @given(invalid_server_messages())
    def test_rejected(sample):
        with pytest.raises(RemoteProtocolError):
            decode_inbound(sample.data)

:func:`with_unknown_fields` adds fields the venue might add one day to any valid sample
(a conforming peer ignores them, so the expected value does not change)::

    @given(with_unknown_fields(notifications([ChannelFamily.TICKER])))
    def test_new_fields_are_ignored(sample):
        assert decode_inbound(sample.data) == sample.expected

What is here:

* names: :func:`currencies`, :func:`underlyings`, :func:`instrument_names`,
  :func:`index_names`, :func:`channel_names`, :func:`invalid_channel_names`,
  :func:`request_ids`;
* requests: :func:`command_types`, :func:`commands`, :func:`requests`;
* wire models: :func:`tickers`, :func:`orders`, :func:`public_trades`,
  :func:`user_trades`, :func:`positions`, :func:`account_summaries`,
  :func:`auth_results`, :func:`instruments`, and :func:`results` per command;
* venue messages: :func:`responses`, :func:`error_codes`, :func:`notifications`,
  :func:`heartbeats`, :func:`server_messages`, :func:`book_chains`,
  :func:`with_unknown_fields`;
* invalid input: :func:`invalid_server_messages`, :func:`invalid_requests`.
"""

from ._books import book_chains
from ._channels import channel_names, invalid_channel_names
from ._commands import command_types, commands, requests
from ._invalid_messages import INVALID_MESSAGE_KINDS, invalid_server_messages
from ._invalid_requests import INVALID_REQUEST_KINDS, invalid_requests
from ._models import (
    account_summaries,
    auth_results,
    instruments,
    orders,
    positions,
    public_trades,
    tickers,
    user_trades,
)
from ._names import currencies, index_names, instrument_names, request_ids, underlyings
from ._notifications import heartbeats, notifications, server_messages
from ._responses import error_codes, responses, results
from ._samples import (
    FAULT_KINDS,
    BookChain,
    ChainFault,
    InvalidMessage,
    InvalidRequest,
    PushSample,
    RequestSample,
    ResponseSample,
)
from ._samples import FaultKind as FaultKind  # not in __all__ (as before); for annotations
from ._unknown_fields import with_unknown_fields

__all__ = [
    "FAULT_KINDS",
    "INVALID_MESSAGE_KINDS",
    "INVALID_REQUEST_KINDS",
    "BookChain",
    "ChainFault",
    "InvalidMessage",
    "InvalidRequest",
    "PushSample",
    "RequestSample",
    "ResponseSample",
    "account_summaries",
    "auth_results",
    "book_chains",
    "channel_names",
    "command_types",
    "commands",
    "currencies",
    "error_codes",
    "heartbeats",
    "index_names",
    "instrument_names",
    "instruments",
    "invalid_channel_names",
    "invalid_requests",
    "invalid_server_messages",
    "notifications",
    "orders",
    "positions",
    "public_trades",
    "request_ids",
    "requests",
    "responses",
    "results",
    "server_messages",
    "tickers",
    "underlyings",
    "user_trades",
    "with_unknown_fields",
]
