"""Deribit's JSON-RPC over HTTP through every binding's HTTP client, on real sockets.

``deribit.HTTPClientProtocol`` (pure) turns commands into requests and responses into
typed outcomes; the bindings' ``http_client`` moves them over one kept-alive connection
to the reference venue served by the pytest plugin on 127.0.0.1.  Private calls are
signed with the ``deri-hmac-sha256`` header, then authorised with a Bearer token from
``public/auth``; venue errors arrive as their typed exceptions.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import anyio
import pytest

from tradewire.bindings import sync
from tradewire.bindings.pytest_plugin import ServedDeribit
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import Command, HTTPResponse, LocalProtocolError, RequestFailed, Secret
from tradewire.protocol.deribit import (
    AuthClientCredentials,
    Buy,
    Cancel,
    GetAccountSummary,
    GetInstruments,
    GetOpenOrdersByCurrency,
    GetOrderBook,
    HTTPClientProtocol,
    OrderNotFound,
    Unauthorized,
)

pytestmark = pytest.mark.anyio
QUIET = {"market": MarketConfig(tick_interval=3600.0)}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def outcome(protocol: HTTPClientProtocol, command: Command, response: HTTPResponse) -> Any:
    event = protocol.response(command, response)
    if isinstance(event, RequestFailed):
        raise event.error
    return event.result


def session(venue: ServedDeribit, call: Any) -> None:
    """The calls both kinds of binding make; ``call(protocol, command, post)``."""
    signer = HTTPClientProtocol(credentials=venue.credentials)
    anonymous = HTTPClientProtocol()
    instruments = call(anonymous, GetInstruments(currency="BTC"), False)
    assert "BTC-PERPETUAL" in {i.instrument_name for i in instruments}
    with pytest.raises(LocalProtocolError, match="needs authentication"):
        anonymous.request(GetAccountSummary(currency="BTC"), time.time())
    summary = call(signer, GetAccountSummary(currency="BTC"), False)  # deri-hmac-sha256
    assert summary.currency == "BTC"
    book = call(anonymous, GetOrderBook(instrument_name="BTC-PERPETUAL"), False)
    price = float(int(book.bids[0][0]) - 500)
    placed = call(
        signer, Buy(instrument_name="BTC-PERPETUAL", amount=10, type="limit", price=price), True
    )
    assert placed.order.order_state == "open"
    bearer = HTTPClientProtocol()
    auth = call(
        bearer,
        AuthClientCredentials(client_id=venue.client_id, client_secret=Secret(venue.client_secret)),
        False,
    )
    bearer.use_token(auth)
    open_orders = call(bearer, GetOpenOrdersByCurrency(currency="BTC"), False)
    assert placed.order.order_id in {o.order_id for o in open_orders}
    cancelled = call(bearer, Cancel(order_id=placed.order.order_id), True)
    assert cancelled.order_state == "cancelled"
    with pytest.raises(OrderNotFound):
        call(bearer, Cancel(order_id=placed.order.order_id + "0"), False)
    bearer.use_token("not-a-token")
    with pytest.raises(Unauthorized):
        call(bearer, GetAccountSummary(currency="BTC"), False)


@pytest.mark.parametrize("deribit_venue", [QUIET], indirect=True)
async def test_json_rpc_over_http_through_the_async_binding(deribit_venue: ServedDeribit) -> None:
    binding = importlib.import_module(f"tradewire.bindings.{deribit_venue.backend}")
    with anyio.fail_after(20):
        async with binding.http_client(deribit_venue.http_url) as http:

            def call(protocol: HTTPClientProtocol, command: Command, post: bool) -> Any:
                # The session runs in a worker thread; each request runs on the loop.
                request = protocol.request(command, time.time(), post=post)
                response = anyio.from_thread.run(http.request, request)
                return outcome(protocol, command, response)

            await anyio.to_thread.run_sync(session, deribit_venue, call)
            # Every call went over one kept-alive connection.
            assert len(deribit_venue.server.connections) == 1


@pytest.mark.parametrize("deribit_venue", [QUIET], indirect=True)
async def test_json_rpc_over_http_through_the_sync_binding(deribit_venue: ServedDeribit) -> None:
    def run() -> None:
        with sync.http_client(deribit_venue.http_url) as http:

            def call(protocol: HTTPClientProtocol, command: Command, post: bool) -> Any:
                request = protocol.request(command, time.time(), post=post)
                return outcome(protocol, command, http.request(request, timeout=10))

            session(deribit_venue, call)

    with anyio.fail_after(30):
        await anyio.to_thread.run_sync(run)
