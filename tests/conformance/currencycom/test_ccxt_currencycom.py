"""A real third-party client against the reference Currency.com venue: ccxt 4.4.64's
``currencycom`` (docs/venues/currencycom.md section 8: the last ccxt release with it),
Python, unmodified, with ``urls.api.public``, ``urls.api.private`` and ``urls.api.ws``
pointed at the venue that the pytest plugin's ``currencycom_venue`` fixture serves on
127.0.0.1 (section 8, 4.4).

The test extras pin ccxt 4.5.90 (for Deribit), which has no ``currencycom``, so this test
builds its own virtualenv with ccxt 4.4.64 (cached in the temp directory, keyed by the
version: a second run reuses it) and runs ``ccxt_currencycom_script.py`` there as a
subprocess: ``load_markets`` (REST: signed ``GET /api/v2/currencies`` and ``GET
/api/v2/exchangeInfo``), ``fetch_balance`` (signed REST ``/api/v2/account``),
``watch_order_book``, ``watch_trades``, ``watch_ohlcv`` (``M1`` echoed back),
``watch_ticker`` (``/api/v1/ticker/24hr`` over the WebSocket), a signed order placed,
listed and cancelled over REST, and ``watch_balance`` (the signed ``/api/v1/account``
over the WebSocket)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import anyio
import pytest

from tradewire.bindings.pytest_plugin import ServedVenue

CCXT = "4.4.64"
SCRIPT = Path(__file__).with_name("ccxt_currencycom_script.py")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.anyio,
    pytest.mark.parametrize("anyio_backend", ["asyncio"]),
]


def ccxt_python() -> Path:
    """The python of a virtualenv with ccxt 4.4.64 (built once per machine)."""
    home = (
        Path(tempfile.gettempdir())
        / f"tradewire-ccxt-{CCXT}-py{sys.version_info[0]}{sys.version_info[1]}"
    )
    python = home / "bin" / "python"
    ready = home / ".ready"
    if not ready.exists():
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(home)], check=True, timeout=300
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"ccxt=={CCXT}"],
            check=True,
            timeout=600,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
        ready.write_text(CCXT)
    return python


async def test_ccxt_4_4_64_currencycom_runs_against_the_reference_venue(
    currencycom_venue: ServedVenue,
) -> None:
    python = await anyio.to_thread.run_sync(ccxt_python)
    url, http = currencycom_venue.url, currencycom_venue.http_url
    assert url.endswith("/connect")
    assert http is not None
    with anyio.fail_after(120):
        done = await anyio.run_process([str(python), str(SCRIPT), url, http], check=False)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    out = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert out["version"] == CCXT
    # SPOT pairs and shares, LEVERAGE markets as X/Y:Y (section 4.4)
    assert {"BTC/USD", "ETH/USD", "AAPL/USD", "BTC/USD:USD", "ETH/USD:USD"} <= set(out["markets"])
    assert out["balance_usd"] == 100_000.0
    (bid, _), (ask, _), levels, stamp = (
        out["book"][0],
        out["book"][1],
        out["book"][2],
        out["book"][3],
    )
    assert 0 < bid < ask
    assert levels > 1
    assert stamp is not None  # the object form of data
    assert out["trades"]
    assert all(t[0] == "BTC/USD" for t in out["trades"])
    assert len(out["ohlcv"]) == 6
    assert out["ohlcv"][1] > 0  # the M1 token echoed
    symbol, tbid, task, _ = out["ticker"]
    assert symbol == "ETH/USD"
    assert 0 < tbid <= task
    order_id, status, order_symbol = out["order"]
    assert status == "open"
    assert order_symbol == "BTC/USD"
    assert out["open"] == [order_id]
    assert out["cancelled"] == "canceled"
    assert out["ws_balance_usd"] == 100_000.0
