"""The venue registry: one table for ``tradewire serve | stream | replay | demo`` and the
pytest plugin, the common stream line format, and a new venue joining by one entry."""

from __future__ import annotations

import argparse
import asyncio
import io
import textwrap

import msgspec
import pytest
from support.echo_venue import ECHO

from tradewire.bindings import _cli_replay, _cli_serve, _cli_stream, _venues, pytest_plugin
from tradewire.bindings._venue_spec import book_line, number, ticker_line, trade_line
from tradewire.bindings._venues import REGISTRY, entry, served
from tradewire.bindings.cli import build_parser
from tradewire.conformance.deribit import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DeribitTranscripts
from tradewire.protocol import LocalProtocolError, Secret, deribit
from tradewire.protocol.deribit.server import (
    encode_notification,
    encode_result,
)

pytest_plugins = ["pytester"]

DERIBIT = REGISTRY["deribit"]
BOOK = "book.BTC-PERPETUAL.100ms"


# -- the table --------------------------------------------------------------------------------


def test_every_command_and_the_plugin_read_the_one_registry() -> None:
    _, subparsers = build_parser()
    for command in ("serve", "stream"):
        (venue_arg,) = [a for a in subparsers[command]._actions if a.dest == "venue"]
        assert venue_arg.help == "accepted: deribit, deriv"
    assert isinstance(_cli_replay.adapter("deribit"), DeribitTranscripts)
    assert pytest_plugin.fixture_name(DERIBIT) in vars(pytest_plugin)  # deribit_venue
    assert entry("deribit") is DERIBIT
    with pytest.raises(
        LocalProtocolError, match="unknown venue 'kraken'; accepted: deribit, deriv"
    ):
        entry("kraken")


def test_the_deribit_entry() -> None:
    assert DERIBIT.demo == (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    assert DERIBIT.urls.ws_url("127.0.0.1", 9) == "ws://127.0.0.1:9/ws/api/v2"
    assert DERIBIT.urls.ws_url("::1", 9, secure=True) == "wss://[::1]:9/ws/api/v2"
    assert DERIBIT.urls.http_url("127.0.0.1", 9) == "http://127.0.0.1:9"
    credentials = DERIBIT.credentials("key", Secret("s"))
    machine = DERIBIT.client(credentials=credentials, maintain_books=True)
    assert isinstance(machine, deribit.ClientProtocol)
    assert DERIBIT.subscribe([BOOK]) == deribit.Subscribe(channels=[BOOK])
    assert DERIBIT.check_topic(BOOK) is False
    assert DERIBIT.check_topic("book.BTC-PERPETUAL.raw") is True
    for bad in ("book.BTC-PERPETUAL.1s", "bogus.channel", "book.BTC-PERPETUAL.100ms\nx"):
        with pytest.raises(LocalProtocolError) as info:
            DERIBIT.check_topic(bad)
        message = str(info.value)
        assert "\n" not in message
        assert repr(bad) in message or repr(bad.split(".")[-1]) in message


# -- the line format ----------------------------------------------------------------------------


def test_the_common_line_format() -> None:
    assert (
        book_line("b", (60000.0, 10.0), (60000.5, 0.001)) == "book b bid 60000x10 ask 60000.5x0.001"
    )
    assert book_line("b", None, (1e-05, 3.0)) == "book b bid - ask 0.00001x3"
    assert trade_line("t", "sell", 3000.05, 2.0) == "trade t sell 3000.05x2"
    assert ticker_line("k", (1.0, 2.0), None, None) == "ticker k bid 1x2 ask - last -"
    assert [number(x) for x in (0.1 + 0.2, 123456789.5, 1e16)] == [
        "0.30000000000000004",
        "123456789.5",
        "10000000000000000",
    ]


def _fed(*frames: bytes) -> list[tuple[object, list[str] | None]]:
    """A Deribit client machine maintaining books, subscribed to BOOK, fed ``frames``:
    each event with its stream lines, taken as the stream takes them (at once)."""
    machine = deribit.ClientProtocol(maintain_books=True)
    machine.connection_made(1.0)
    machine.send(deribit.Subscribe(channels=[BOOK]), 1.0)
    sent = [msgspec.json.decode(m) for m in machine.messages_to_send()]
    for request in sent:  # set_heartbeat, subscribe: each answered
        answer = [BOOK] if request["method"].endswith("subscribe") else "ok"
        machine.receive_message(encode_result(request["id"], answer, us_in=1, us_out=2), 1.0)
    machine.events()
    seen: list[tuple[object, list[str] | None]] = []
    for frame in frames:
        machine.receive_message(frame, 1.0)
        seen += [(event, DERIBIT.lines(event, machine)) for event in machine.events()]
    return seen


def _book(
    change_id: int, prev: int | None, bids: list[list[object]], asks: list[list[object]]
) -> bytes:
    data: dict[str, object] = {
        "type": "snapshot" if prev is None else "change",
        "instrument_name": "BTC-PERPETUAL",
        "timestamp": 1_700_000_000_000 + change_id,
        "change_id": change_id,
        "bids": bids,
        "asks": asks,
    }
    if prev is not None:
        data["prev_change_id"] = prev
    return encode_notification(BOOK, data)


def test_a_book_line_shows_the_maintained_books_best_levels_not_a_changes_first_row() -> None:
    snapshot = _book(10, None, [["new", 100.0, 5.0], ["new", 99.0, 7.0]], [["new", 101.0, 2.0]])
    # the change's first row is a deep bid; the best bid is still 100 x 5
    change = _book(11, 10, [["change", 98.0, 4.0]], [["new", 100.5, 1.0]])
    gap = _book(13, 12, [["delete", 100.0, 0.0]], [])  # 12 never came: a gap
    seen = _fed(snapshot, change, gap)
    lines = [lines for event, lines in seen if isinstance(event, deribit.BookUpdate)]
    assert lines[0] == [f"book {BOOK} bid 100x5 ask 101x2"]
    assert lines[1] == [f"book {BOOK} bid 100x5 ask 100.5x1"]
    assert lines[2:] in ([], [[]])  # stale after the gap: no line until a snapshot
    gaps = [lines for event, lines in seen if isinstance(event, deribit.BookGap)]
    assert gaps == [None]  # a session event: a status line on stderr


def test_trade_and_ticker_lines() -> None:
    trades = deribit.TradesUpdate(
        channel="trades.BTC-PERPETUAL.100ms",
        data=[
            msgspec.convert(
                {
                    "trade_id": "1", "trade_seq": 1, "timestamp": 1, "tick_direction": 0,
                    "price": 60000.5, "mark_price": 60000.0, "index_price": 60000.0,
                    "instrument_name": "BTC-PERPETUAL", "direction": side, "amount": 10.0,
                },
                deribit.PublicTrade,
            )
            for side in ("buy", "sell")
        ],
    )  # fmt: skip
    machine = deribit.ClientProtocol()
    assert DERIBIT.lines(trades, machine) == [
        "trade trades.BTC-PERPETUAL.100ms buy 60000.5x10",
        "trade trades.BTC-PERPETUAL.100ms sell 60000.5x10",
    ]


# -- a new venue is one entry ---------------------------------------------------------------------


@pytest.fixture
def with_echo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_venues, "ENTRIES", (*_venues.ENTRIES, ECHO))
    monkeypatch.setitem(_venues.REGISTRY, "echo", ECHO)


@pytest.mark.usefixtures("with_echo")
def test_one_entry_makes_serve_and_stream_take_a_new_venue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, subparsers = build_parser()
    assert "echo" in subparsers["serve"].format_help()
    args = argparse.Namespace(
        venue="echo", host="127.0.0.1", port="0", seed="1", faults="", tls=False,
        certfile=None, keyfile=None,
    )  # fmt: skip
    assert _cli_serve.plan(args).venue is ECHO

    async def serve_and_stream() -> tuple[str, list[str]]:
        async with served(ECHO) as running:
            assert running.url == f"ws://127.0.0.1:{running.port}/ws"
            assert running.http_url is None
            args = argparse.Namespace(
                venue="echo", channels=["notes.3"], url=running.url, json=False, count=3,
                seconds=None, client_id=None, client_secret=None,
            )  # fmt: skip
            out, err = io.StringIO(), io.StringIO()
            checked = _cli_stream.plan(args, {})
            assert await _cli_stream.stream(checked, out, err) == 0
            return out.getvalue(), err.getvalue().splitlines()

    out, err = asyncio.run(serve_and_stream())
    assert out.splitlines() == ["note notes 0", "note notes 1", "note notes 2"]
    assert "tradewire stream: streaming 1 channel(s)" in err
    with pytest.raises(_cli_stream.UsageError, match="invalid topic 'bogus'"):
        _cli_stream.plan(
            argparse.Namespace(
                venue="echo",
                channels=["bogus"],
                url=None,
                json=False,
                count=None,
                seconds=None,
                client_id=None,
                client_secret=None,
            ),
            {},
        )


def test_one_entry_gives_the_plugins_fixture_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        textwrap.dedent(
            """
            from support.echo_venue import ECHO
            from tradewire.bindings import pytest_plugin

            globals().update(pytest_plugin.fixtures([ECHO]))

            def pytest_configure(config):
                pytest_plugin.register_markers(config, [ECHO])
            """
        )
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest
            from tradewire.conformance import Say

            @pytest.fixture(params=["asyncio", "trio"])
            def anyio_backend(request):
                return request.param

            @pytest.mark.anyio
            @pytest.mark.echo_faults("disconnect@5s")
            async def test_the_echo_venue(echo_venue, anyio_backend):
                assert echo_venue.url == f"ws://127.0.0.1:{echo_venue.port}/ws"
                assert echo_venue.faults.spec() == "disconnect@5s"
                assert (echo_venue.client_id, echo_venue.client_secret) == (
                    "echo-demo", "echo-demo-secret"
                )
                async with echo_venue.connect() as client:
                    assert await client.request(Say(text="hi")) == "hi"
                echo_venue.inject("zombie", connection_id=1)
                assert echo_venue.venue.injected == ["zombie"]
            """
        )
    )
    result = pytester.runpytest("-p", "anyio", "-W", "error")
    result.assert_outcomes(passed=2)
