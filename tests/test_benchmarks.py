"""``python -m benchmarks`` exits non-zero when a target fails.

Nothing here times anything: the benchmark modules are replaced by fakes that hand
back made-up samples, and what is checked is how ``main`` turns targets into an exit
status.  (Speed itself is measured by ``python -m benchmarks``, never asserted in tests.)
"""

from __future__ import annotations

import importlib
import math
import runpy
import sys
import types
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository's benchmarks/
from benchmarks import __main__ as bench_main
from benchmarks._timing import Result, Target, exit_status

CHANGE = "book change, 20 levels"


def fake_decode(machine_us: float) -> types.ModuleType:
    """A stand-in for ``bench_decode``: rows with the samples given, nothing run."""

    def run(repeats: int, scale: float) -> tuple[list[Result], dict[str, Result]]:
        named = {
            f"{CHANGE}/{label}": Result("decode", label, "us", [value] * 3)
            for label, value in (("machine", machine_us), ("msgspec", 1.0), ("json", 10.0))
        }
        return list(named.values()), named

    def references(rows: list[Result], named: dict[str, Result]) -> dict[str, Result]:
        return {"decode": named[f"{CHANGE}/msgspec"]}

    module = types.ModuleType("benchmarks.bench_decode")
    module.run = run  # type: ignore[attr-defined]
    module.references = references  # type: ignore[attr-defined]
    return module


def target(value: float) -> Target:
    return Target("t", value, value, value, limit=1.3, at_most=True)


def test_the_exit_status_is_1_when_any_target_fails_or_was_not_measured() -> None:
    assert exit_status([]) == 0
    assert exit_status([target(1.0), target(1.3)]) == 0
    assert exit_status([target(1.0), target(1.31)]) == 1
    assert exit_status([target(math.nan)]) == 1  # "not measured" is not a pass
    at_least = Target("t", 2.0, 2.0, 2.0, limit=2.5, at_most=False)
    assert exit_status([at_least]) == 1


@pytest.mark.parametrize(("machine_us", "status"), [(1.2, 0), (2.0, 1)])
def test_main_returns_1_when_a_target_of_the_run_fails(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    machine_us: float,
    status: int,
) -> None:
    monkeypatch.setattr(bench_main, "_load", {"decode": fake_decode(machine_us)}.__getitem__)
    assert bench_main.main(["--quick", "--only", "decode"]) == status
    out, err = capsys.readouterr()
    verdict = "FAIL" if status else "PASS"
    assert f"{verdict}  book change: machine / bare msgspec" in out
    assert ("targets failed: book change: machine / bare msgspec" in err) == bool(status)


def test_python_dash_m_benchmarks_exits_with_that_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What ``python -m benchmarks --quick --only decode`` runs, in this process, with the
    # decode benchmark replaced by the fake (the module imports it by name when it runs).
    monkeypatch.setitem(sys.modules, "benchmarks.bench_decode", fake_decode(2.0))
    monkeypatch.delitem(sys.modules, "benchmarks.__main__")  # run afresh, as -m does
    monkeypatch.setattr(sys, "argv", ["benchmarks", "--quick", "--only", "decode"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("benchmarks", run_name="__main__")
    assert exit_info.value.code == 1
    assert "FAIL" in capsys.readouterr().out


def test_every_benchmark_is_loaded_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # --only NAME and the lazy import agree: every choice names a bench_<name> module.
    loaded: list[str] = []

    def load(name: str) -> Any:
        loaded.append(name)
        raise LookupError(name)

    monkeypatch.setattr(bench_main, "_load", load)
    for name in bench_main.BENCHMARKS:
        with pytest.raises(LookupError):
            bench_main.main(["--quick", "--only", name])
        assert (Path(bench_main.__file__).parent / f"bench_{name}.py").is_file()
    assert loaded == list(bench_main.BENCHMARKS)


def fake_book(samples: dict[str, float]) -> types.ModuleType:
    """A stand-in for ``bench_book``: ``run_depth`` rows with the samples given (a row
    left out has none, as when it could not run)."""

    def run_depth(repeats: int, scale: float) -> tuple[list[Result], dict[str, Any], Any]:
        named = {
            name: Result("depth", name, "us", [samples[name]] * 3 if name in samples else [])
            for name in (
                "1k/book",
                "1k/dict",
                "100k/book",
                "100k/dict",
                "snapshot/book",
                "snapshot/whole",
                "snapshot/checks",
                "snapshot/dict",
            )
        }
        return list(named.values()), {"depth": named["1k/dict"]}, named

    module = types.ModuleType("benchmarks.bench_book")
    module.run_depth = run_depth  # type: ignore[attr-defined]
    return module


def test_the_book_targets_carry_the_floors_measured_in_the_same_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Under the 100k / 1k target, the plain dict's own ratio; under the snapshot target,
    # the book's own check and its comprehension against the same dicts.
    rows = {"1k/book": 6.0, "1k/dict": 4.0, "100k/book": 18.0, "100k/dict": 10.0}
    rows |= {"snapshot/book": 27.0, "snapshot/whole": 26.0, "snapshot/checks": 21.0}
    monkeypatch.setattr(bench_main, "_load", lambda name: fake_book(rows | {"snapshot/dict": 20.0}))
    targets = {t.name: t for t in bench_main._book_depth(bench_main.QUICK, [], {})}
    depth = targets["book, 20-level change at 100k levels / at 1k"]
    assert (depth.value, depth.passed) == (3.0, False)
    assert depth.note == "the plain dict's own 100k / 1k: 2.50x"
    snapshot = targets["book, 400-level snapshot / building the dicts"]
    assert snapshot.note == (
        "floors: its whole-side check alone: 1.30x, its filtering comprehension alone: 1.05x"
    )
    # A floor row without samples leaves its part out; the target itself still counts.
    del rows["snapshot/whole"]
    monkeypatch.setattr(bench_main, "_load", lambda name: fake_book(rows | {"snapshot/dict": 20.0}))
    targets = {t.name: t for t in bench_main._book_depth(bench_main.QUICK, [], {})}
    snapshot = targets["book, 400-level snapshot / building the dicts"]
    assert snapshot.note == "floors: its filtering comprehension alone: 1.05x"
    assert (snapshot.value, snapshot.passed) == (1.35, True)
    del rows["snapshot/checks"]
    targets = {t.name: t for t in bench_main._book_depth(bench_main.QUICK, [], {})}
    assert targets["book, 400-level snapshot / building the dicts"].note == ""


def test_the_mixed_stream_chains_every_book_channel_and_stays_on_its_channels() -> None:
    # The mixed stream's book changes must chain per channel from that channel's
    # snapshot, or a client machine reports gaps and resyncs instead of decoding.
    from benchmarks._server import MixedStream, mixed_channels, parse_frames
    from tradewire.protocol.deribit import (
        BookUpdate,
        TickerUpdate,
        TradesUpdate,
        decode_inbound,
    )

    buf = bytearray(b"".join(MixedStream().batches(3_000)))
    frames = parse_frames(buf)
    assert len(frames) == 3_000
    assert not buf
    last: dict[str, int] = {}
    kinds: dict[type, int] = {}
    for opcode, payload in frames:
        assert opcode == 0x1
        event = decode_inbound(payload)
        kinds[type(event)] = kinds.get(type(event), 0) + 1
        assert event.channel in mixed_channels()  # type: ignore[attr-defined]
        if isinstance(event, BookUpdate):
            data = event.data
            if data.type == "snapshot":
                assert event.channel not in last
            else:
                assert data.prev_change_id == last[event.channel]
            last[event.channel] = data.change_id
    assert len(last) == 40
    assert set(kinds) == {BookUpdate, TickerUpdate, TradesUpdate}


def fake_venue(kinds: tuple[str, ...], machine_us: float) -> types.ModuleType:
    """A stand-in for ``bench_<venue>``: per kind, the four rows with the samples given."""

    def run(repeats: int, scale: float) -> tuple[list[Result], dict[str, Result]]:
        named = {
            f"{kind}/{key}": Result(kind, key, "us", [value] * 3)
            for kind in kinds
            for key, value in (("machine", machine_us), ("msgspec", 1.0), ("json", 3.0))
        }
        return list(named.values()), named

    module = types.ModuleType("benchmarks.bench_venue")
    module.KINDS = kinds  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize("venue", ["deriv", "rails", "currencycom"])
@pytest.mark.parametrize(("machine_us", "status"), [(1.2, 0), (1.4, 1)])
def test_each_venue_has_its_two_targets_per_kind(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    venue: str,
    machine_us: float,
    status: int,
) -> None:
    module = fake_venue(("kind a", "kind b"), machine_us)
    monkeypatch.setattr(bench_main, "_load", {venue: module}.__getitem__)
    assert bench_main.main(["--quick", "--only", venue]) == status
    out = capsys.readouterr().out
    verdict = "FAIL" if status else "PASS"
    for kind in ("kind a", "kind b"):
        assert f"{verdict}  {venue} {kind}: machine / bare msgspec" in out
        # json.loads at 3.0 against the machine at 1.2 passes (>= 2.5x); at 1.4 it fails
        assert f"{verdict}  {venue} {kind}: json.loads + dict / machine" in out


@pytest.mark.parametrize("venue", ["deriv", "rails", "currencycom"])
def test_each_venue_feed_is_a_stream_its_machine_takes_as_such(venue: str) -> None:
    # What the end-to-end server streams: every frame is an event of the stream's two
    # classes for the micro benchmark's subscribed machine, which asks for nothing more.
    from benchmarks import bench_e2e_venues

    feed = bench_e2e_venues.feed(venue)
    spec = bench_e2e_venues.SPECS[venue]()
    machine = importlib.import_module(f"benchmarks.bench_{venue}").machine()
    for frame in feed.frames:
        machine.receive_message(frame, 1_000.0)
    events = machine.events()
    assert len(events) == len(feed.frames)
    assert all(isinstance(e, spec.events) for e in events)
    for cls in spec.events:  # both kinds (Deriv's hot path gives subclasses, with the topic)
        assert any(isinstance(e, cls) for e in events)
    assert all(e.topic is not None for e in events if hasattr(e, "topic"))
    assert machine.messages_to_send() == []
    assert len(feed.requests) == feed.wanted
    assert all(feed.marker in request for request in feed.requests)
