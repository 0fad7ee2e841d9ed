"""python-deriv-api 0.1.6 (Deriv's own Python client), unmodified, against the reference
Deriv venue over real sockets on 127.0.0.1.

The library pins websockets 10.3, which the test extras do not (they need a newer one),
so the test builds the library's own virtualenv (cached under the temporary directory,
keyed by the pinned versions and the Python version, so a second run is fast) and runs
``deriv_api_script.py`` in it as a subprocess.  The venue is served by the sync binding's
thread.  The script runs ``ping``, ``time``, ``website_status``, ``active_symbols``,
``authorize`` with a bad token and the demo token, a ``ticks`` and a ``ticks_history``
stream, ``proposal`` + ``buy``, ``portfolio``, ``forget_all``, a proposal stream and its
``forget``, an error (``InvalidSymbol``), and a last ``ping`` to show the connection
survived it all (spec 7: the library needs ``req_id``, ``msg_type`` and ``echo_req`` on
every reply, and dies on a frame over 1 MiB).

Seen on the way (client bugs, not the venue's; spec 7.3 lists others): disposing the
last observer of a stream makes the library ``forget`` it by itself, and its
``forget_all`` raises ``KeyError`` for a type one of whose streams it already forgot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import pytest

from tradewire.bindings import sync as tw
from tradewire.bindings._venues import REGISTRY, connection_factory, start_reference
from tradewire.conformance.deriv import DEMO_TOKEN, INDICES

PINNED = "python-deriv-api==0.1.6"
WEBSOCKETS = "websockets==10.3"
SCRIPT = Path(__file__).parent / "deriv_api_script.py"


def _environment() -> Path:
    """The library's virtualenv, built once per pinned versions and Python version."""
    key = f"tradewire-{PINNED}-{WEBSOCKETS}-py{sys.version_info[0]}.{sys.version_info[1]}"
    home = Path(tempfile.gettempdir()) / key.replace("==", "-")
    python = home / "bin" / "python"
    if python.exists() and (home / "ready").exists():
        return python
    building = Path(tempfile.mkdtemp(prefix=f"{key}-build-"))
    venv.EnvBuilder(with_pip=True).create(building)
    done = subprocess.run(
        [str(building / "bin" / "python"), "-m", "pip", "install", "-q", PINNED, WEBSOCKETS],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        pytest.fail(f"could not install {PINNED}: {done.stderr[-2000:]}")
    (building / "ready").write_text("ok")
    shutil.rmtree(home, ignore_errors=True)
    try:
        # the interpreter finds its environment by pyvenv.cfg beside it, so the renamed
        # folder works for ``python script.py`` (its console scripts are not used)
        os.rename(building, home)
    except OSError:  # another run got there first
        shutil.rmtree(building, ignore_errors=True)
    if not (home / "ready").exists():
        pytest.fail(f"could not prepare {home}")
    return python


@pytest.mark.slow
def test_python_deriv_api_runs_against_the_reference_venue() -> None:
    python = _environment()
    deriv = REGISTRY["deriv"]
    venue = start_reference(deriv, now=time.monotonic(), epoch_offset=tw.epoch_offset())
    with tw.serve(connection_factory(deriv, venue), on_events=venue.on_events, app=venue) as server:
        endpoint = f"ws://127.0.0.1:{server.port}"  # the library keeps only a literal ws://
        done = subprocess.run(
            [str(python), str(SCRIPT), endpoint, DEMO_TOKEN],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ping"] == "pong"
    assert seen["still_alive"] == "pong"
    assert abs(seen["time"] - time.time()) < 10
    assert seen["site_status"] == "up"
    assert seen["symbols"] == [i.symbol for i in INDICES]
    assert seen["bad_token"] == "InvalidToken"
    assert seen["loginid"] == "VRTC1000001"
    assert seen["echo_token"] == "<not shown>"
    assert seen["ticks"] == ["R_50", "R_50"]
    assert len(seen["tick_subscription"]) >= 32
    assert seen["history"] == ["history", "tick"]
    assert seen["history_prices"] == 5
    assert seen["payout"] == 19.55
    assert seen["portfolio"] == [seen["contract_id"]]
    assert seen["forget_all"] == 2  # the ticks and the tick-history streams
    assert seen["proposal_stream"] == ["proposal", "proposal"]
    assert seen["forget"] == 1
    assert seen["error"] == "InvalidSymbol"
