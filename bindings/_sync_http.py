"""The sync HTTP client: :func:`http_client` and :class:`HTTPClient`."""

from __future__ import annotations

import ssl as _ssl
from types import TracebackType
from typing import Any

from tradewire.protocol import HTTPClientStack, HTTPRequest, HTTPResponse

from ._client import ClientCore, outcome
from ._common import client_ssl_context, parse_http_url
from ._session import Session
from ._sync_client import _Base, epoch_offset
from ._sync_driver import _ClientReactor

__all__ = ["HTTPClient", "http_client"]


class HTTPClient(_Base):
    """An HTTP/1.1 client with keep-alive (see :func:`http_client`)."""

    def __init__(self, reactor: _ClientReactor) -> None:
        super().__init__(reactor)
        stack = reactor.session.stack
        assert isinstance(stack, HTTPClientStack)
        self.stack: HTTPClientStack = stack

    def request(self, request: HTTPRequest, *, timeout: float | None = None) -> HTTPResponse:
        """Send ``request``; return the response (any status) or raise its failure."""
        event = self._call(lambda now: self._session.http_request(request, now, timeout), None)
        response = outcome(event)
        assert isinstance(response, HTTPResponse)
        return response

    def close(self) -> None:
        self._shutdown()

    def __enter__(self) -> HTTPClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def http_client(
    base_url: str,
    *,
    ssl: _ssl.SSLContext | None = None,
    open_timeout: float = 10.0,
    **stack_options: Any,
) -> HTTPClient:
    """An HTTP client for ``base_url`` (scheme, host, port); close it or use ``with``."""
    endpoint = parse_http_url(base_url)
    context = client_ssl_context(endpoint, ssl)
    stack = HTTPClientStack(host=endpoint.host_header, **stack_options)
    core = ClientCore(keep_unclaimed=False)
    session = Session(
        stack, core, endpoint, context, open_timeout=open_timeout, epoch_offset=epoch_offset()
    )
    reactor = _ClientReactor(session)
    reactor.thread.start()
    return HTTPClient(reactor)
