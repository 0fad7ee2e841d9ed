"""``currencycom.RESTClient``: the REST API, client side (spec 4.4, 5), sans-IO.

A small translator between the typed commands and the core HTTP types; it sends nothing
itself.  :meth:`RESTClient.request` turns a command into an
:class:`~tradewire.protocol.HTTPRequest` for any binding's ``http_client`` (or an
:class:`~tradewire.protocol.HTTPClientStack`), :meth:`RESTClient.response` turns the
response into the same ``RequestSucceeded`` / ``RequestFailed`` a WebSocket request
resolves with::

    rest = RESTClient(credentials=Credentials(api_key=..., secret=...))
    command = GetAccount()
    response = await http.request(rest.request(command, time.time()))
    outcome = rest.response(command, response)

Routes: ``GET /api/{version}/{path}`` (``version`` ``v2`` by default, as ccxt uses), the
order commands as ``POST`` / ``DELETE /api/{version}/order`` (spec 4.3: REST names the
order ``/order`` with an HTTP verb where the WebSocket says ``order/create`` /
``order/cancel``).  A private command is signed the Binance way (spec 4.4, 5): its
parameters in the order the command lists them, then ``timestamp`` (epoch ms of ``now +
epoch_offset``) and ``recvWindow``, HMAC-SHA256 over that query string as sent, appended
as ``signature``, the key in ``X-MBX-APIKEY``; a POST carries the signed query as a form
body.  Outcomes: a ``{code, msg}`` body (any status) is the typed
:class:`CurrencycomError`; a body that does not fit the command's result type is
:class:`~tradewire.protocol.session.MalformedResult`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._errors import LocalProtocolError
from .._events import RequestFailed, RequestSucceeded
from ..session import MalformedResult
from ..transport._http import HTTPRequest, HTTPResponse
from ._codec import Credentials
from ._commands import CancelOrder, CreateOrder, GetTicker, Request, VenueRequest
from ._errors import error_for
from ._results import Ticker24h
from ._signing import js_string, rest_query, rest_signature

__all__ = ["RESTClient"]


class _Error(msgspec.Struct):
    code: int | str
    msg: str = ""


class RESTClient:
    """See the module docstring; ``recv_window`` (ms, at most 60000) goes with signed
    requests (ccxt sends 5000)."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        epoch_offset: float = 0.0,
        recv_window: int = 5000,
        version: str = "v2",
        ids: Any = None,
    ) -> None:
        if version not in ("v1", "v2"):
            raise LocalProtocolError(f"invalid version {version!r}: accepted values: 'v1', 'v2'")
        self.credentials = credentials
        self.epoch_offset = epoch_offset
        self.recv_window = recv_window
        self.version = version
        self._next = 0

    def route(self, command: VenueRequest | Request) -> tuple[str, str, dict[str, Any], bool]:
        """``(method, path, params, private)`` of ``command``."""
        if isinstance(command, Request):
            name = command.destination.removeprefix("/").removeprefix("api/")
            name = name.partition("/")[2] if name.startswith(("v1/", "v2/")) else name
            return "GET", f"/api/{self.version}/{name}", dict(command.payload), command.private
        method = "GET"
        path = command.destination_path
        if isinstance(command, CreateOrder):
            method, path = "POST", "order"
        elif isinstance(command, CancelOrder):
            method, path = "DELETE", "order"
        return method, f"/api/{self.version}/{path}", command.payload(), command.private

    def request(self, command: VenueRequest | Request, now: float) -> HTTPRequest:
        """The HTTP request for ``command`` at ``now`` (signed when private)."""
        if not isinstance(command, VenueRequest | Request):
            raise LocalProtocolError(
                f"invalid command: {type(command).__name__}; REST takes the typed requests "
                "and Request (subscriptions are WebSocket only)"
            )
        method, path, params, private = self.route(command)
        pairs = [(k, v) for k, v in params.items() if v is not None]
        if not private:
            query = tuple((k, js_string(v)) for k, v in pairs)
            return HTTPRequest(method=method, path=path, query=query)
        credentials = self.credentials
        if credentials is None:
            raise LocalProtocolError(f"{path} is signed: pass credentials")
        pairs += [
            ("timestamp", round((now + self.epoch_offset) * 1000)),
            ("recvWindow", self.recv_window),
        ]
        text = rest_query(pairs)
        signed = f"{text}&signature={rest_signature(credentials.secret.reveal(), text)}"
        headers: tuple[tuple[str, str], ...] = (("X-MBX-APIKEY", credentials.api_key),)
        if method == "POST":
            headers += (("Content-Type", "application/x-www-form-urlencoded"),)
            return HTTPRequest(method=method, path=path, headers=headers, body=signed.encode())
        query = tuple((k, js_string(v)) for k, v in pairs)
        query += (("signature", signed.rpartition("=")[2]),)
        return HTTPRequest(method=method, path=path, query=query, headers=headers)

    def response(
        self, command: VenueRequest | Request, response: HTTPResponse, request_id: int = 0
    ) -> RequestSucceeded | RequestFailed:
        """The outcome of ``response`` to ``command``."""
        try:
            raw = msgspec.json.decode(response.body)
        except msgspec.DecodeError:
            error = MalformedResult(f"HTTP {response.status}: the body is not JSON")
            return RequestFailed(request_id=request_id, command=command, error=error)
        if isinstance(raw, dict) and "code" in raw and "msg" in raw and raw["code"] not in (0, "0"):
            problem = msgspec.convert(raw, _Error)
            failure = error_for(problem.code, problem.msg)
            return RequestFailed(request_id=request_id, command=command, error=failure)
        if response.status >= 400:
            error = MalformedResult(f"HTTP {response.status} without an error body")
            return RequestFailed(request_id=request_id, command=command, error=error)
        try:
            if isinstance(command, GetTicker) and isinstance(raw, dict):
                result: Any = msgspec.convert(raw, Ticker24h)
            elif isinstance(command, VenueRequest) and command.result_type is not Any:
                result = msgspec.convert(raw, command.result_type)
            else:
                result = raw
        except msgspec.ValidationError as exc:
            error = MalformedResult(f"unexpected answer to {type(command).__name__}: {exc}")
            return RequestFailed(request_id=request_id, command=command, error=error)
        return RequestSucceeded(request_id=request_id, command=command, result=result)
