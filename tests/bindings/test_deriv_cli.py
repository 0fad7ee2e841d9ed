"""Deriv in the command line: the registry entry, ``serve``, ``stream`` (a token alone as
the credential), ``replay``, ``demo deriv``, each as a subprocess against 127.0.0.1."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from tradewire.bindings._cli_stream import UsageError, plan
from tradewire.bindings._venues import REGISTRY, entry
from tradewire.protocol import LocalProtocolError, Secret

TW = [sys.executable, "-m", "tradewire.bindings.cli"]


def _args(venue: str, channels: list[str], **extra: object) -> argparse.Namespace:
    fields: dict[str, object] = {
        "venue": venue,
        "channels": channels,
        "url": None,
        "json": False,
        "count": None,
        "seconds": None,
        "client_id": None,
        "client_secret": None,
    }
    fields.update(extra)
    return argparse.Namespace(**fields)


def test_deriv_is_in_the_registry_with_its_topic_check() -> None:
    deriv = entry("deriv", reference=True)
    assert (
        deriv.urls.ws_url("127.0.0.1", 9)
        == "ws://127.0.0.1:9/websockets/v3?app_id=1089&l=EN&brand="
    )
    assert deriv.check_topic("ticks.R_50") is False
    assert deriv.check_topic("balance") is True
    assert deriv.check_topic("proposal_open_contract.12") is True
    with pytest.raises(LocalProtocolError, match="'ticks'"):
        deriv.check_topic("ticks")


def test_a_token_alone_is_a_deriv_credential_but_not_a_deribit_one() -> None:
    checked = plan(_args("deriv", ["balance"], client_secret="tok"), {})
    assert checked.credentials == ("", Secret("tok"))
    from_env = plan(_args("deriv", ["transaction"]), {"TRADEWIRE_CLIENT_SECRET": "tok"})
    assert from_env.credentials is not None
    with pytest.raises(UsageError, match="both a client id and a secret"):
        plan(_args("deribit", ["user.orders.any.any.raw"], client_secret="s"), {})
    with pytest.raises(UsageError, match="needs an authenticated connection"):
        plan(_args("deriv", ["balance"]), {})


def test_stream_prints_ticks_from_the_embedded_venue() -> None:
    done = subprocess.run(
        [*TW, "stream", "deriv", "ticks.1HZ100V", "--count", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("TickMessage ticks.1HZ100V {") for line in lines)


def test_stream_of_a_private_topic_with_the_demo_token() -> None:
    done = subprocess.run(
        [
            *TW,
            "stream",
            "deriv",
            "balance",
            "--count",
            "1",
            "--client-secret",
            "tradewire-demo-token",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("BalanceMessage balance {")
    assert "tradewire-demo-token" not in done.stdout + done.stderr.replace(
        "demo credentials  / tradewire-demo-token", ""
    )


def test_demo_deriv_runs_every_step_and_an_unknown_demo_is_refused() -> None:
    done = subprocess.run(
        [*TW, "demo", "deriv"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "bought contract" in done.stdout
    assert "every stream restored" in done.stdout
    assert done.stdout.rstrip().endswith("tradewire demo: ok")
    refused = subprocess.run(
        [*TW, "demo", "nowhere"], capture_output=True, text=True, timeout=30, check=False
    )
    assert refused.returncode == 2
    assert "invalid choice: 'nowhere'" in refused.stderr


def test_replay_of_the_shipped_deriv_transcripts() -> None:
    from tradewire.conformance.deriv import CANONICAL_FLOWS, transcript_file

    for name in CANONICAL_FLOWS:
        done = subprocess.run(
            [*TW, "replay", str(transcript_file(name))],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ok: deriv transcript" in done.stdout


def test_serve_deriv_prints_its_url_first() -> None:
    with subprocess.Popen(
        [*TW, "serve", "deriv", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline().split()
            assert first[0].startswith("ws://127.0.0.1:")
            assert first[0].endswith("/websockets/v3?app_id=1089&l=EN&brand=")
            assert first[1] == "-"  # no REST
        finally:
            process.terminate()
            process.communicate(timeout=10)
    assert process.returncode == 0
    assert "deriv" in REGISTRY
