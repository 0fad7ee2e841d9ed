"""The options of ``deriv.ClientProtocol``, checked once (a ``SessionOptions``).

Defaults, and why:

* ``token=None``: no ``authorize``; public calls and streams only (private ones are
  refused with :class:`LocalProtocolError`).  A ``str`` is wrapped in a
  :class:`~tradewire.protocol.Secret`: it never shows in a ``repr``, a log line or an
  event.
* ``app_id=1089``: the public testing id of Deriv's docs (spec 3.1); register your own.
* ``language="EN"``, ``brand=""``: the ``l`` and ``brand`` query parameters, as the
  official clients send them (``brand`` present and empty, spec 1.1).
* ``new_api=False``: legacy v3 field names; ``True`` sends the New API's renames
  (``proposal.symbol`` as ``underlying_symbol``, spec 5.2).
* ``ping_interval=30.0``, ``pong_timeout=5.0``: ``{"ping": 1}`` every 30 s and a dead
  connection after 5 s without the pong, as @deriv/deriv-api does (spec 2); ``None``
  turns pings off (then nothing keeps an idle connection open past the venue's
  2-minute idle close).
* ``rate_limits=DEFAULT_RATE_LIMITS``: pacing within the published budgets (spec 6.2,
  ``_client_limits``); ``None`` turns pacing off.
* ``request_timeout=10.0`` and the bounds: as every ``SessionOptions``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from .._secrets import Secret
from ..session import SessionOptions, bad_option, seconds
from ._client_limits import DEFAULT_RATE_LIMITS, RateLimits

__all__ = ["ClientOptions"]

_TOKEN = re.compile(r"^[\w\-]{1,128}$")


class ClientOptions(SessionOptions, frozen=True, kw_only=True):
    """Every option of the Deriv client machine (see the module docstring)."""

    token: Secret | None = None
    app_id: int = 1089
    language: str = "EN"
    brand: str = ""
    path: str = "/websockets/v3"
    new_api: bool = False
    ping_interval: float | None = 30.0
    pong_timeout: float = 5.0
    rate_limits: RateLimits | None = DEFAULT_RATE_LIMITS

    def __post_init__(self) -> None:
        super().__post_init__()
        token: Any = self.token
        if isinstance(token, str):
            token = Secret(token)
            msgspec.structs.force_setattr(self, "token", token)
        if token is not None and (
            not isinstance(token, Secret) or not _TOKEN.match(token.reveal())
        ):
            raise bad_option("token", r"None or a token matching ^[\w\-]{1,128}$", "<token>")
        app_id = self.app_id
        if isinstance(app_id, bool) or not isinstance(app_id, int) or app_id < 1:
            raise bad_option("app_id", "a positive int", app_id)
        if not isinstance(self.language, str) or not re.match(r"^[A-Za-z_]{2,5}$", self.language):
            raise bad_option("language", "a language code such as 'EN'", self.language)
        if not isinstance(self.brand, str) or not re.match(r"^[a-z]*$", self.brand):
            raise bad_option("brand", "'' or a lower-case brand name", self.brand)
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise bad_option("path", "a path starting with '/'", self.path)
        if not isinstance(self.new_api, bool):
            raise bad_option("new_api", "a bool", self.new_api)
        if self.ping_interval is not None:
            msgspec.structs.force_setattr(
                self, "ping_interval", seconds("ping_interval", self.ping_interval)
            )
        msgspec.structs.force_setattr(
            self, "pong_timeout", seconds("pong_timeout", self.pong_timeout)
        )
        if self.rate_limits is not None and not isinstance(self.rate_limits, RateLimits):
            raise bad_option("rate_limits", "None or RateLimits", self.rate_limits)

    def __repr__(self) -> str:
        return (
            f"ClientOptions(token={'<set>' if self.token is not None else None}, "
            f"app_id={self.app_id}, new_api={self.new_api}, ping_interval={self.ping_interval})"
        )
