"""``tradewire stream``: the console script in a subprocess against the reference Deribit
venue served by the sync binding in this process (a thread), on 127.0.0.1.  Every wait is
bounded: line reads, subprocess exits, the server's view of the close."""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import msgspec
import pytest
import trustme

from tradewire.bindings import _cli_stream
from tradewire.bindings import sync as tw
from tradewire.bindings._cli_stream_format import data_json, json_line, status_line
from tradewire.conformance.deribit import DeribitVenue
from tradewire.protocol import MASK, ConnectionLost, RequestFailed, WebSocketClosed
from tradewire.protocol.deribit import AuthClientCredentials, BookData

from .reference_venue import CLIENT_ID, SECRET, RequestLog, reference_venue

BOOK = "book.BTC-PERPETUAL.100ms"
RAW_BOOK = "book.ETH-PERPETUAL.raw"
SCRIPT = Path(sys.executable).with_name("tradewire")
NO_CREDENTIALS = {
    key: value for key, value in os.environ.items() if not key.startswith("TRADEWIRE_")
}


def command(*args: str) -> list[str]:
    """The console script (as installed), or the same entry point through Python."""
    if SCRIPT.exists():
        return [str(SCRIPT), "stream", *args]
    code = "import sys; from tradewire.bindings.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, "stream", *args]


BOOK_LINE = re.compile(
    r"book book\.BTC-PERPETUAL\.100ms bid (?:\d+(?:\.\d+)?x\d+(?:\.\d+)?|-) "
    r"ask (?:\d+(?:\.\d+)?x\d+(?:\.\d+)?|-)"
)


def start(faults: str | None = None) -> tuple[DeribitVenue, RequestLog]:
    return reference_venue(time.monotonic(), tw.epoch_offset(), faults=faults)


@pytest.fixture
def venue() -> Iterator[tuple[RequestLog, tw.Server]]:
    venue, log = start()
    with tw.serve(log.factory, on_events=log.on_events, app=venue) as server:
        yield log, server


class Running:
    """The CLI in a subprocess; its stdout lines arrive through a reader thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=NO_CREDENTIALS if env is None else env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def line(self, timeout: float = 10.0) -> str:
        line = self.lines.get(timeout=timeout)
        assert line is not None, f"stdout ended; stderr: {self.stderr()}"
        return line

    def finish(self, timeout: float = 10.0) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return code

    def stderr(self) -> str:
        assert self.process.stderr is not None
        if self.process.poll() is None:
            return "(still running)"
        return self.process.stderr.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.finish()
        assert self.process.stderr is not None
        self.process.stderr.close()
        assert self.process.stdout is not None
        self.process.stdout.close()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), capture_output=True, text=True, timeout=20, env=env, check=False
    )


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_json_lines_decode_to_book_events_and_sigint_closes_cleanly(
    venue: tuple[RequestLog, tw.Server],
) -> None:
    market, server = venue
    cli = Running("deribit", BOOK, "--url", server.url, "--json")
    try:
        lines = [msgspec.json.decode(cli.line()) for _ in range(5)]
        cli.process.send_signal(signal.SIGINT)
        code = cli.finish()
        stderr = cli.stderr()
    finally:
        cli.close()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert {line["event"] for line in lines} == {"BookUpdate"}
    assert {line["channel"] for line in lines} == {BOOK}
    books = [msgspec.convert(line["data"], BookData) for line in lines]
    assert books[0].is_snapshot
    assert [b.prev_change_id for b in books[1:]] == [b.change_id for b in books[:-1]]
    wait_for(lambda: market.closed)
    assert market.closed == [WebSocketClosed(code=1000, reason="", by="remote")]


def test_count_stops_by_itself_with_readable_lines(venue: tuple[RequestLog, tw.Server]) -> None:
    market, server = venue
    done = run_cli(
        "deribit",
        BOOK,
        BOOK,
        "--url",
        server.url + "/ws/api/v2",
        "--count",
        "3",
        env=NO_CREDENTIALS,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert all(BOOK_LINE.fullmatch(line) for line in lines), lines
    assert "streaming 1 channel(s)" in done.stderr
    wait_for(lambda: market.closed)
    assert market.closed[0].code == 1000


def test_wss_with_credentials_from_the_environment_never_prints_the_secret(
    tmp_path: Path, ca: trustme.CA, server_ssl: ssl.SSLContext
) -> None:
    market, log = start()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    env = dict(
        NO_CREDENTIALS,
        TRADEWIRE_CLIENT_ID=CLIENT_ID,
        TRADEWIRE_CLIENT_SECRET=SECRET,
        SSL_CERT_FILE=str(bundle),  # the default context trusts the test CA
    )
    with tw.serve(log.factory, on_events=log.on_events, app=market, ssl=server_ssl) as s:
        url = f"wss://localhost:{s.port}"
        done = run_cli("deribit", RAW_BOOK, "--url", url, "--json", "--count", "2", env=env)
    assert done.returncode == 0, done.stderr
    events = [msgspec.json.decode(line) for line in done.stdout.splitlines()]
    assert [event["channel"] for event in events] == [RAW_BOOK, RAW_BOOK]
    assert "Authenticated" in done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert log.requests(0)[0] == ("public/auth", "client_signature")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["kraken", BOOK, "--url", "ws://127.0.0.1:9"], 2, "accepted: deribit"),
        (["deribit", BOOK, "--url", "ws://[::1"], 2, "bad --url"),
        (["deribit", BOOK, "--count", "x"], 2, "argument --count: expected a positive"),
        (["deribit", BOOK, "--seconds", "-1"], 2, "argument --seconds: expected seconds"),
        (["deribit", BOOK, "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["deribit"], 2, "required: CHANNEL"),
        (["deribit", "book.BTC-PERPETUAL.1s", "--url", "ws://127.0.0.1:9"], 2, "'1s'"),
        (["deribit", "bogus.channel", "--url", "ws://127.0.0.1:9"], 2, "'bogus.channel'"),
        (["deribit", RAW_BOOK, "--url", "ws://127.0.0.1:9"], 2, "--client-id"),
        (["deribit", BOOK, "--url", "http://127.0.0.1:9"], 2, "ws://, wss://"),
        (["deribit", BOOK, "--url", "ws:///ws/api/v2"], 2, "no host"),
        (["deribit", BOOK, "--url", "ws://me:hunter2@127.0.0.1:9"], 2, "credentials"),
        (["deribit", BOOK, "--url", "ws://127.0.0.1:{closed}"], 1, "connection refused"),
    ],
    ids=[
        "venue",
        "malformed-url",
        "count",
        "seconds",
        "unknown-flag",
        "no-channel",
        "interval",
        "family",
        "private-without-key",
        "scheme",
        "host",
        "url-credentials",
        "refused",
    ],
)
def test_bad_arguments_and_failures_are_one_line(args: list[str], code: int, says: str) -> None:
    args = [arg.replace("{closed}", str(_closed_port())) for arg in args]
    done = run_cli(*args, env=NO_CREDENTIALS)
    assert done.returncode == code
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("tradewire stream: error: ")
    assert says in line
    assert "hunter2" not in line
    assert "_positive" not in line
    assert "ValueError" not in line


def test_without_url_it_streams_from_the_embedded_reference_venue() -> None:
    done = run_cli("deribit", BOOK, "--json", "--count", "3", env=NO_CREDENTIALS)
    assert done.returncode == 0, done.stderr
    events = [msgspec.json.decode(line) for line in done.stdout.splitlines()]
    assert [event["channel"] for event in events] == [BOOK] * 3
    books = [msgspec.convert(event["data"], BookData) for event in events]
    assert books[0].is_snapshot
    assert books[0].instrument_name == "BTC-PERPETUAL"
    assert [b.prev_change_id for b in books[1:]] == [b.change_id for b in books[:-1]]
    assert "streaming 1 channel(s)" in done.stderr
    # the reference venue knows the demo key: private channels stream as well
    env = dict(
        NO_CREDENTIALS,
        TRADEWIRE_CLIENT_ID="tradewire-demo",
        TRADEWIRE_CLIENT_SECRET="tradewire-demo-secret",
    )
    done = run_cli("deribit", RAW_BOOK, "--json", "--count", "2", env=env)
    assert done.returncode == 0, done.stderr
    assert "Authenticated" in done.stderr
    assert [msgspec.json.decode(line)["channel"] for line in done.stdout.splitlines()] == [
        RAW_BOOK
    ] * 2


def test_an_untrusted_certificate_is_one_line(server_ssl: ssl.SSLContext) -> None:
    market, log = start()
    with tw.serve(log.factory, on_events=log.on_events, ssl=server_ssl) as server:
        done = run_cli(
            "deribit", BOOK, "--url", f"wss://localhost:{server.port}", env=NO_CREDENTIALS
        )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "TLS failed with wss://localhost:" in line
    assert "certificate verify failed" in line
    assert market.accepted == 0


def test_seconds_stops_by_itself(venue: tuple[RequestLog, tw.Server]) -> None:
    market, server = venue
    started = time.monotonic()
    done = run_cli("deribit", BOOK, "--url", server.url, "--seconds", "0.5", env=NO_CREDENTIALS)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10
    assert BOOK_LINE.fullmatch(done.stdout.splitlines()[0])
    wait_for(lambda: market.closed)
    assert market.closed[0].code == 1000


def test_secrets_never_print_in_json_or_status_lines() -> None:
    leaky = RequestFailed(
        request_id=7,
        command=AuthClientCredentials(client_id="key", client_secret="TOPSECRET"),
        error=ConnectionLost("gone"),
    )
    line = json_line(leaky)
    assert msgspec.json.decode(line)["command"]["client_secret"] == MASK
    assert msgspec.json.decode(line)["error"] == "ConnectionLost: gone"
    assert "TOPSECRET" not in status_line(leaky)
    assert "TOPSECRET" not in data_json(leaky)


def test_a_refused_upgrade_is_one_line(kit: SimpleNamespace) -> None:
    with tw.serve(kit.VenueServer(refuse=403).factory) as server:
        done = run_cli("deribit", BOOK, "--url", server.url, env=NO_CREDENTIALS)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"tradewire stream: error: ws://127.0.0.1:{server.port} refused")
    assert "HTTP 403" in line


def test_gaps_resyncs_and_reconnects_go_to_stderr_and_only_book_lines_to_stdout() -> None:
    # the venue breaks the book's change_id chain after 0.5 s and drops the connection
    # (no close frame) after 2 s: the stream rides through both
    venue, log = start(faults=f"gap:{BOOK}@0.5s#1,disconnect@2s#1")
    with tw.serve(log.factory, on_events=log.on_events, app=venue) as server:
        done = run_cli("deribit", BOOK, "--url", server.url, "--seconds", "4", env=NO_CREDENTIALS)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines
    assert all(BOOK_LINE.fullmatch(line) for line in lines), lines[:5]
    err = done.stderr
    assert f"BookGap channel='{BOOK}'" in err
    assert f"BookResynced channel='{BOOK}'" in err
    assert "WebSocketClosed code=1006" in err
    assert "Connected subprotocol=None attempt=1" in err
    assert venue.accepted == 2


def test_the_url_path_is_used_and_a_wrong_one_is_a_refused_upgrade() -> None:
    venue, log = start()
    with tw.serve(log.factory, on_events=log.on_events, app=venue) as server:
        wrong = run_cli("deribit", BOOK, "--url", server.url + "/not/the/api", env=NO_CREDENTIALS)
        right = run_cli(
            "deribit", BOOK, "--url", server.url + "/ws/api/v2/", "--count", "1",
            env=NO_CREDENTIALS,
        )  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stdout == ""
    [line] = wrong.stderr.splitlines()
    assert line.startswith(f"tradewire stream: error: ws://127.0.0.1:{server.port} refused")
    assert "HTTP 404" in line
    assert right.returncode == 0, right.stderr
    assert BOOK_LINE.fullmatch(right.stdout.strip())


def test_an_upgrade_that_never_comes_is_timed_out_not_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a listener that takes TCP connections (the kernel's backlog) and never answers
    connect = _cli_stream.aio.connect
    monkeypatch.setattr(_cli_stream.aio, "connect", functools.partial(connect, open_timeout=0.5))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"ws://127.0.0.1:{silent.getsockname()[1]}"
        args = argparse.Namespace(
            venue="deribit", channels=[BOOK], url=url, json=False, count=1, seconds=5.0,
            client_id=None, client_secret=None,
        )  # fmt: skip
        checked = _cli_stream.plan(args, {})
        with pytest.raises(_cli_stream.StreamFailed) as failed:
            asyncio.run(_cli_stream.stream(checked, io.StringIO(), io.StringIO()))
    message = str(failed.value)
    assert message.startswith(f"{url} timed out during the WebSocket upgrade")
    assert "refused" not in message
