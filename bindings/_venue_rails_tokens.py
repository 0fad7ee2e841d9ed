"""Rails' access token over HTTP, for the three bindings: fetch one, keep one fresh.

The Rails client machine does no I/O: it asks for a token (``TokenWanted``,
``token_wanted``, ``token_due``) and takes one (``UseToken``).  These helpers do the HTTP
round trip with the binding's own ``http_client`` (``POST /api/v1/token`` built by
``rails.TokenClient``) and give the token to the machine:

* :func:`fetch_token` (asyncio or trio, whichever runs the caller) and
  :func:`fetch_token_sync`: one token, or the typed error
  (``rails.InvalidCredentials``, ``rails.TooManyRequests``, ...);
* :func:`connect` (async) and :func:`connect_sync`: fetch a token, hand it to the
  machine, open the binding's client, and keep the token fresh while the block runs: a
  keeper (a task, or a thread for the sync binding) fetches a new token whenever the
  machine wants one (at 80% of the old one's life, after a 401 at the upgrade, when
  the venue refuses it) and sends it with ``UseToken``; the machine reconnects with it
  and restores every stream.  A token request that fails is tried again after 1, 2,
  4 ... 30 seconds (the endpoint allows 20 a minute).

Times: the machine runs in epoch seconds under every binding's ``connect``, so the
first token, given before connecting, is stamped with ``time.time()``.
"""

from __future__ import annotations

import contextlib
import importlib
import ssl as _ssl
import threading
import time
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import anyio
import sniffio

from tradewire.protocol import RemoteProtocolError, RequestFailure, Secret
from tradewire.protocol.rails import AccessToken, ClientProtocol, TokenClient

__all__ = ["KEEPER_POLL", "connect", "connect_sync", "fetch_token", "fetch_token_sync"]

KEEPER_POLL = 1.0
"""Seconds between the keeper's looks at the machine (it wants a token, or not)."""
_RETRY_FIRST, _RETRY_MAX = 1.0, 30.0
_TOKEN_ERRORS = (RequestFailure, RemoteProtocolError, OSError)


def _binding(binding: ModuleType | str | None) -> ModuleType:
    if isinstance(binding, ModuleType):
        return binding
    name = binding if binding is not None else sniffio.current_async_library()
    if name not in ("asyncio", "trio"):
        raise ValueError(f"invalid binding {name!r}: expected 'asyncio' or 'trio'")
    return importlib.import_module(f"tradewire.bindings.{name}")


def _tokens(api_key: str | TokenClient, api_secret: str | Secret | None) -> TokenClient:
    if isinstance(api_key, TokenClient):
        return api_key
    if api_secret is None:
        raise ValueError("invalid api_secret: a secret is needed with an API key")
    return TokenClient(api_key, api_secret)


async def fetch_token(
    http_url: str,
    api_key: str | TokenClient,
    api_secret: str | Secret | None = None,
    *,
    ssl: _ssl.SSLContext | None = None,
    binding: ModuleType | str | None = None,
    timeout: float = 10.0,
) -> AccessToken:
    """One token from ``http_url`` (``https://host``; the path is the endpoint's)."""
    tokens = _tokens(api_key, api_secret)
    async with _binding(binding).http_client(http_url, ssl=ssl) as http:
        response = await http.request(tokens.request(), timeout=timeout)
    return tokens.token(response)


def fetch_token_sync(
    http_url: str,
    api_key: str | TokenClient,
    api_secret: str | Secret | None = None,
    *,
    ssl: _ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> AccessToken:
    """:func:`fetch_token` with the sync binding."""
    from . import sync

    tokens = _tokens(api_key, api_secret)
    with sync.http_client(http_url, ssl=ssl) as http:
        response = http.request(tokens.request(), timeout=timeout)
    return tokens.token(response)


def _give(machine: ClientProtocol, token: AccessToken) -> None:
    """The first token, before the binding drives the machine (in epoch seconds)."""
    machine.send(token.use(), time.time())
    machine.events()  # its RequestSucceeded: nobody awaits it


@contextlib.asynccontextmanager
async def connect(
    url: str,
    machine: ClientProtocol,
    *,
    http_url: str,
    api_key: str | TokenClient,
    api_secret: str | Secret | None = None,
    ssl: _ssl.SSLContext | None = None,
    http_ssl: _ssl.SSLContext | None = None,
    binding: ModuleType | str | None = None,
    **options: Any,
) -> AsyncIterator[Any]:
    """``async with rails.connect(url, machine, http_url=..., api_key=..., api_secret=...)
    as client``: the binding's client, with a token fetched first and kept fresh."""
    module = _binding(binding)
    tokens = _tokens(api_key, api_secret)
    tls = http_ssl if http_ssl is not None else ssl
    _give(machine, await fetch_token(http_url, tokens, ssl=tls, binding=module))
    fetch = _Fetch(http_url, tokens, tls, module)
    try:
        async with (
            module.connect(url, machine, ssl=ssl, **options) as client,
            anyio.create_task_group() as group,
        ):
            group.start_soon(_keep, client, machine, fetch)
            try:
                yield client
            finally:
                group.cancel_scope.cancel()
    except BaseExceptionGroup as group_error:  # the body's own error comes out as it is
        if len(group_error.exceptions) == 1:
            raise group_error.exceptions[0] from None
        raise


class _Fetch:
    """Where and how the keeper fetches a token."""

    def __init__(
        self, http_url: str, tokens: TokenClient, tls: _ssl.SSLContext | None, module: ModuleType
    ) -> None:
        self.http_url, self.tokens, self.tls, self.module = http_url, tokens, tls, module

    async def __call__(self) -> AccessToken:
        return await fetch_token(self.http_url, self.tokens, ssl=self.tls, binding=self.module)


async def _keep(client: Any, machine: ClientProtocol, fetch: _Fetch) -> None:
    retry = _RETRY_FIRST
    while True:
        if machine.token_wanted:
            try:
                token = await fetch()
            except _TOKEN_ERRORS:
                await anyio.sleep(retry)
                retry = min(retry * 2, _RETRY_MAX)
                continue
            try:
                await client.request(token.use())
            except _TOKEN_ERRORS:  # not taken (a drop in between): fetch another
                await anyio.sleep(retry)
                retry = min(retry * 2, _RETRY_MAX)
                continue
            retry = _RETRY_FIRST
        await anyio.sleep(KEEPER_POLL)


class _SyncClient:
    """The sync binding's client with its keeper thread; ``close`` stops both."""

    def __init__(self, client: Any, stop: threading.Event, keeper: threading.Thread) -> None:
        self.client = client
        self._stop = stop
        self._keeper = keeper

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._stop.set()
        self._keeper.join()
        self.client.close(code, reason)

    def __enter__(self) -> _SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_sync(
    url: str,
    machine: ClientProtocol,
    *,
    http_url: str,
    api_key: str | TokenClient,
    api_secret: str | Secret | None = None,
    ssl: _ssl.SSLContext | None = None,
    http_ssl: _ssl.SSLContext | None = None,
    **options: Any,
) -> Any:
    """:func:`connect` for the sync binding: returns the client (use it in ``with``);
    its keeper is a thread, stopped by ``close``."""
    from . import sync

    tokens = _tokens(api_key, api_secret)
    tls = http_ssl if http_ssl is not None else ssl
    _give(machine, fetch_token_sync(http_url, tokens, ssl=tls))
    client = sync.connect(url, machine, ssl=ssl, **options)
    stop = threading.Event()

    def keep() -> None:
        retry = _RETRY_FIRST
        while not stop.is_set():
            if machine.token_wanted:
                try:
                    token = fetch_token_sync(http_url, tokens, ssl=tls)
                except _TOKEN_ERRORS:
                    stop.wait(retry)
                    retry = min(retry * 2, _RETRY_MAX)
                    continue
                try:
                    client.request(token.use())
                except _TOKEN_ERRORS:  # not taken (a drop in between): fetch another
                    stop.wait(retry)
                    retry = min(retry * 2, _RETRY_MAX)
                    continue
                retry = _RETRY_FIRST
            stop.wait(KEEPER_POLL)

    keeper = threading.Thread(target=keep, name="tradewire-rails-token", daemon=True)
    keeper.start()
    return _SyncClient(client, stop, keeper)
