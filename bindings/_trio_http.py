"""The trio HTTP client: :func:`http_client` and :class:`HTTPClient`."""

from __future__ import annotations

import ssl as _ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from tradewire.protocol import HTTPClientStack, HTTPRequest, HTTPResponse

from ._client import ClientCore, outcome
from ._common import client_ssl_context, parse_http_url
from ._session import Session
from ._trio_client import epoch_offset
from ._trio_driver import _Driver, _session_scope
from ._trio_pipe import _EventWaiter

__all__ = ["HTTPClient", "http_client"]


class HTTPClient:
    """An HTTP/1.1 client with keep-alive (see :func:`http_client`)."""

    def __init__(self, driver: _Driver) -> None:
        self._driver = driver
        self._session = driver.session
        stack = driver.session.stack
        assert isinstance(stack, HTTPClientStack)
        self.stack: HTTPClientStack = stack

    async def request(self, request: HTTPRequest, *, timeout: float | None = None) -> HTTPResponse:
        """Send ``request``; return the response (any status) or raise its failure."""
        now = trio.current_time()
        request_id = self._session.http_request(request, now, timeout)
        waiter = _EventWaiter()
        self._session.core.register(request_id, waiter)
        self._driver.step(now)
        try:
            await waiter.done.wait()
        finally:
            if waiter.event is None:
                self._session.core.abandon(request_id)
        assert waiter.event is not None
        response = outcome(waiter.event)
        assert isinstance(response, HTTPResponse)
        return response


@asynccontextmanager
async def http_client(
    base_url: str,
    *,
    ssl: _ssl.SSLContext | None = None,
    open_timeout: float = 10.0,
    **stack_options: Any,
) -> AsyncIterator[HTTPClient]:
    """``async with http_client("https://host") as http``: as in the asyncio binding."""
    endpoint = parse_http_url(base_url)
    context = client_ssl_context(endpoint, ssl)
    stack = HTTPClientStack(host=endpoint.host_header, **stack_options)
    core = ClientCore(keep_unclaimed=False)
    session = Session(
        stack, core, endpoint, context, open_timeout=open_timeout, epoch_offset=epoch_offset()
    )
    async with _session_scope(session, False) as driver:
        yield HTTPClient(driver)
