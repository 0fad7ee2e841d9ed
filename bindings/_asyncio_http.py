"""The asyncio HTTP client: :func:`http_client` and :class:`HTTPClient`."""

from __future__ import annotations

import asyncio
import ssl as _ssl
from collections.abc import Callable
from types import TracebackType
from typing import Any

from tradewire.protocol import Event, HTTPClientStack, HTTPRequest, HTTPResponse

from ._asyncio_client import epoch_offset
from ._asyncio_driver import _Driver
from ._asyncio_link import _FutureWaiter
from ._client import ClientCore, outcome
from ._common import client_ssl_context, parse_http_url
from ._session import Session

__all__ = ["HTTPClient", "http_client"]


class HTTPClient:
    """An HTTP/1.1 client with keep-alive (see :func:`http_client`)."""

    def __init__(self, driver: _Driver) -> None:
        self._driver = driver
        self._loop = driver.loop
        self._session = driver.session
        stack = driver.session.stack
        assert isinstance(stack, HTTPClientStack)
        self.stack: HTTPClientStack = stack

    async def request(self, request: HTTPRequest, *, timeout: float | None = None) -> HTTPResponse:
        """Send ``request``; return the response (any status) or raise its failure.

        ``timeout`` replaces the stack's ``default_timeout`` for this request.
        """
        now = self._loop.time()
        request_id = self._session.http_request(request, now, timeout)
        future: asyncio.Future[Event] = self._loop.create_future()
        self._session.core.register(request_id, _FutureWaiter(future))
        self._driver.step(now)
        try:
            event = await future
        except asyncio.CancelledError:
            self._session.core.abandon(request_id)
            raise
        response = outcome(event)
        assert isinstance(response, HTTPResponse)
        return response

    async def close(self) -> None:
        self._driver.close()
        await self._driver.wait_finished()

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class _HTTPConnect:
    def __init__(self, make: Callable[[], _Driver]) -> None:
        self._make = make
        self._client: HTTPClient | None = None

    async def __aenter__(self) -> HTTPClient:
        driver = self._make()
        driver.start()
        self._client = HTTPClient(driver)
        return self._client

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.close()


def http_client(
    base_url: str,
    *,
    ssl: _ssl.SSLContext | None = None,
    open_timeout: float = 10.0,
    **stack_options: Any,
) -> _HTTPConnect:
    """``async with http_client("https://host") as http``: keep-alive HTTP/1.1 requests.

    ``base_url`` is scheme, host and port only; each :class:`HTTPRequest` carries its
    full path.  ``stack_options`` go to :class:`~tradewire.protocol.HTTPClientStack`.
    The stack runs in epoch seconds, as ``connect()``'s machines do.
    """
    endpoint = parse_http_url(base_url)
    context = client_ssl_context(endpoint, ssl)

    def make() -> _Driver:
        stack = HTTPClientStack(host=endpoint.host_header, **stack_options)
        core = ClientCore(keep_unclaimed=False)
        session = Session(
            stack, core, endpoint, context, open_timeout=open_timeout, epoch_offset=epoch_offset()
        )
        return _Driver(session)

    return _HTTPConnect(make)
