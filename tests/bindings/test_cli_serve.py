"""``tradewire serve``: the console script in a subprocess, on 127.0.0.1.  The test
reads its first line, talks to the venue with tradewire's asyncio client and with
ccxt-style signed HTTP GETs, then stops it with SIGINT or SIGTERM.  Every wait is
bounded: the first line, the client, the exit."""

from __future__ import annotations

import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import anyio
import pytest
import trustme

from tradewire.bindings import asyncio as aio
from tradewire.protocol import HTTPRequest, WebSocketClosed
from tradewire.protocol.deribit import (
    Authenticated,
    BookUpdate,
    ClientProtocol,
    Credentials,
    GetTime,
    Subscribe,
    build_http_authorization,
)

SCRIPT = Path(sys.executable).with_name("tradewire")
FIRST_LINE = re.compile(r"ws://127\.0\.0\.1:(\d+)/ws/api/v2 http://127\.0\.0\.1:(\d+)\n")
BOOK = "book.BTC-PERPETUAL.100ms"


def command(*args: str) -> list[str]:
    """The console script (as installed), or the same entry point through Python."""
    if SCRIPT.exists():
        return [str(SCRIPT), "serve", *args]
    code = "import sys; from tradewire.bindings.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, "serve", *args]


class Served:
    """``tradewire serve`` in a subprocess; stdout lines arrive through a reader thread."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def first_line(self, timeout: float = 15.0) -> str:
        line = self.lines.get(timeout=timeout)
        assert line is not None, f"stdout ended; stderr: {self.stop(signal.SIGKILL)[1]}"
        return line

    def stop(self, signum: int, timeout: float = 10.0) -> tuple[int, str, list[str]]:
        """Send ``signum``; returns the exit code, stderr and the other stdout lines."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=timeout)
            self._reader.join(timeout=timeout)
        assert self.process.stderr is not None
        err = self.process.stderr.read()
        self.process.stderr.close()
        assert self.process.stdout is not None
        self.process.stdout.close()
        rest: list[str] = []
        while not self.lines.empty():
            line = self.lines.get_nowait()
            if line is not None:
                rest.append(line)
        return code, err, rest


async def talk(ws_url: str, http_url: str) -> dict[str, object]:
    """tradewire's client over WebSocket, then ccxt's startup GETs and a signed one."""
    credentials = Credentials(client_id="tradewire-demo", client_secret="tradewire-demo-secret")
    found: dict[str, object] = {}
    with anyio.fail_after(15):
        async with aio.connect(ws_url, ClientProtocol(credentials=credentials)) as client:
            found["time"] = await client.request(GetTime())
            await client.request(Subscribe(channels=[BOOK]))
            events = []
            async for event in client:
                events.append(event)
                if any(isinstance(e, BookUpdate) for e in events) and any(
                    isinstance(e, WebSocketClosed) for e in events
                ):
                    break  # the fault plan drops the first connection after 1 s
            found["events"] = events
            async for event in client:  # ... and the client comes back
                events.append(event)
                if sum(isinstance(e, Authenticated) for e in events) == 2:
                    break
        async with aio.http_client(http_url) as http:
            currencies = await http.request(HTTPRequest.get("/api/v2/public/get_currencies"))
            instruments = await http.request(HTTPRequest.get("/api/v2/public/get_instruments"))
            ms = int(time.time() * 1000)
            target = "/api/v2/private/get_account_summary?currency=BTC"
            header = build_http_authorization(
                "tradewire-demo",
                "tradewire-demo-secret",
                timestamp_ms=ms,
                nonce=str(ms),
                method="GET",
                uri=target,
            )
            summary = await http.request(
                HTTPRequest.get(
                    "/api/v2/private/get_account_summary",
                    {"currency": "BTC"},
                    headers=[("Authorization", header)],
                )
            )
    found["http"] = [currencies, instruments, summary]
    return found


def test_first_line_is_the_address_it_serves_ws_and_http_and_sigint_stops_it() -> None:
    served = Served("deribit", "--seed", "5", "--faults", "disconnect@1s#1")
    try:
        line = served.first_line()
        match = FIRST_LINE.fullmatch(line)
        assert match is not None, line
        assert match.group(1) == match.group(2)  # one port for both
        ws_url, http_url = line.split()
        found = anyio.run(talk, ws_url, http_url)
    finally:
        code, err, rest = served.stop(signal.SIGINT)
    assert code == 0, err
    assert rest == []  # nothing but the first line on stdout
    assert "Traceback" not in err
    assert "demo credentials tradewire-demo / tradewire-demo-secret" in err
    assert "faults: disconnect@1s#1" in err
    assert err.rstrip().endswith("tradewire serve: stopped")
    assert abs(float(found["time"]) - time.time() * 1000) < 10_000  # type: ignore[arg-type]
    events = found["events"]
    assert isinstance(events, list)
    assert any(isinstance(e, BookUpdate) and e.channel == BOOK for e in events)
    assert WebSocketClosed(code=1006, reason="", by="transport") in events  # the fault
    currencies, instruments, summary = found["http"]  # type: ignore[misc]
    assert [r.status for r in (currencies, instruments, summary)] == [200, 200, 200]
    assert {c["currency"] for c in currencies.json()["result"]} >= {"BTC", "ETH"}
    names = {i["instrument_name"] for i in instruments.json()["result"]}
    assert "BTC-PERPETUAL" in names
    assert summary.json()["result"]["currency"] == "BTC"


def test_sigterm_stops_it_cleanly() -> None:
    served = Served("deribit", "--port", "0")
    try:
        assert FIRST_LINE.fullmatch(served.first_line())
    finally:
        code, err, _ = served.stop(signal.SIGTERM)
    assert code == 0, err
    assert "Traceback" not in err


def _listening_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["kraken"], 2, "unknown venue 'kraken'; accepted: deribit"),
        (["deribit", "--faults", "bogus@1s"], 2, "item 1 'bogus@1s': unknown kind 'bogus'"),
        (["deribit", "--faults", "gap@2s"], 2, "gap needs a target"),
        (["deribit", "--faults", "disconnect@soon"], 2, "invalid trigger 'soon'"),
        (["deribit", "--faults", "gap:book.NOPE-PERPETUAL.raw"], 2, "no instrument"),
        (["deribit", "--port", "http"], 2, "invalid --port 'http'"),
        (["deribit", "--port", "70000"], 2, "invalid --port '70000'"),
        (["deribit", "--seed", "x"], 2, "invalid --seed 'x'"),
        (["deribit", "--port", "{busy}"], 1, "address already in use"),
    ],
    ids=["venue", "kind", "target", "trigger", "instrument", "port", "range", "seed", "in-use"],
)
def test_bad_arguments_and_a_busy_port_are_one_line(args: list[str], code: int, says: str) -> None:
    busy, port = _listening_port()
    with busy:
        args = [arg.replace("{busy}", str(port)) for arg in args]
        done = subprocess.run(
            command(*args), capture_output=True, text=True, timeout=20, check=False
        )
    assert done.returncode == code
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("tradewire serve: error: ")
    assert says in line


TLS_LINE = re.compile(
    r"wss://127\.0\.0\.1:(\d+)/ws/api/v2 https://127\.0\.0\.1:(\d+)(?: (/\S+/ca\.pem))?\n"
)


async def talk_tls(ws_url: str, http_url: str, context: ssl.SSLContext) -> tuple[int, int]:
    """tradewire's client over wss:// and a GET over https://, trusting ``context``."""
    credentials = Credentials(client_id="tradewire-demo", client_secret="tradewire-demo-secret")
    with anyio.fail_after(15):
        machine = ClientProtocol(credentials=credentials)
        async with aio.connect(ws_url, machine, ssl=context) as client:
            server_ms = await client.request(GetTime())
        async with aio.http_client(http_url, ssl=context) as http:
            response = await http.request(HTTPRequest.get("/api/v2/public/get_time"))
    return int(server_ms), response.status


def test_tls_with_a_certificate_it_makes_names_its_ca_on_the_first_line() -> None:
    served = Served("deribit", "--tls")
    try:
        line = served.first_line()
        match = TLS_LINE.fullmatch(line)
        assert match is not None, line
        ws_url, http_url, ca_file = line.split()
        assert Path(ca_file).is_file()
        trusting = ssl.create_default_context(cafile=ca_file)
        server_ms, status = anyio.run(talk_tls, ws_url, http_url, trusting)
        with pytest.raises(ssl.SSLCertVerificationError):  # the system CAs do not know it
            anyio.run(talk_tls, ws_url, http_url, ssl.create_default_context())
    finally:
        code, err, rest = served.stop(signal.SIGINT)
    assert code == 0, err
    assert rest == []
    assert abs(server_ms - time.time() * 1000) < 10_000
    assert status == 200
    assert not Path(ca_file).parent.exists()  # removed when the venue stops


def test_tls_with_the_users_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(certfile))
    issued.private_key_pem.write_to_path(str(keyfile))
    served = Served("deribit", "--certfile", str(certfile), "--keyfile", str(keyfile))
    try:
        line = served.first_line()
        match = TLS_LINE.fullmatch(line)
        assert match is not None, line
        assert match.group(3) is None  # no CA of its own to name
        ws_url, http_url = line.split()
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        server_ms, status = anyio.run(talk_tls, ws_url, http_url, trusting)
    finally:
        code, err, _ = served.stop(signal.SIGTERM)
    assert code == 0, err
    assert status == 200
    assert abs(server_ms - time.time() * 1000) < 10_000


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["deribit", "--tls", "--certfile", "c.pem"], "--tls makes its own certificate"),
        (["deribit", "--keyfile", "k.pem"], "--keyfile needs --certfile"),
        (["deribit", "--certfile", "/nonexistent/c.pem"], "no such file"),
        (["deribit", "--certfile", "{self}"], "do not load"),
        (["deribit", "--bogus"], "unrecognized arguments: --bogus (usage: tradewire serve"),
        ([], "required: VENUE (usage: tradewire serve"),
        (["deribit", "--port"], "argument --port: expected one argument"),
    ],
    ids=[
        "tls-and-certfile",
        "keyfile-alone",
        "missing-file",
        "not-a-cert",
        "flag",
        "venue",
        "port",
    ],
)
def test_argument_errors_are_one_line_with_serves_usage(args: list[str], says: str) -> None:
    args = [arg.replace("{self}", __file__) for arg in args]
    done = subprocess.run(command(*args), capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("tradewire serve: error: ")
    assert says in line
