"""The soak command (``python -m benchmarks.soak``): every venue with a reference venue
has an entry, a book without sequence numbers is judged against the venue's recent
states, and each venue's entry runs end to end (briefly, no faults) against its
reference venue on loopback."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository's benchmarks/
from benchmarks import soak
from benchmarks._soak_history import KEEP, BookHistory
from tradewire.bindings._venues import reference_names


def test_every_reference_venue_has_a_soak_entry() -> None:
    assert sorted(soak.VENUES) == sorted(reference_names())


def test_the_readme_lists_every_soak_venue() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("The soak runs")
    paragraph = readme[start : readme.index("```", start)]
    for name in soak.VENUES:
        assert f"`{name}`" in paragraph, name
    assert "python -m benchmarks.soak --venue" in readme[start:]


def test_the_history_keeps_each_distinct_state_after_a_publish() -> None:
    book = {"bids": [(1.0, 2.0)], "asks": [(3.0, 4.0)]}
    published: list[int] = []
    history = BookHistory({"b": lambda: (list(book["bids"]), list(book["asks"]))})
    publish = history.after(published.append)
    publish(1)  # nothing changed: nothing kept
    book["bids"] = [(1.5, 1.0)]
    publish(2)
    assert published == [1, 2]
    assert history("b") == [([(1.0, 2.0)], [(3.0, 4.0)]), ([(1.5, 1.0)], [(3.0, 4.0)])]
    for n in range(KEEP + 5):
        book["asks"] = [(4.0 + n, 1.0)]
        history.record()
    assert len(history("b")) == KEEP
    assert history("b")[-1] == ([(1.5, 1.0)], [(4.0 + KEEP + 4, 1.0)])


class _Served:
    ws_url = "ws://unused"

    def __init__(self, states: list[Any]) -> None:
        self.states = states

    def book(self, channel: str) -> tuple[int, list[Any], list[Any]]:
        raise AssertionError("a sequenced comparison of an unsequenced venue")

    def history(self, channel: str) -> list[Any]:
        return self.states


@pytest.mark.parametrize(
    ("mine", "outcome"),
    [
        (([(2.0, 1.0)], [(3.0, 1.0)]), "match"),  # the venue's current state
        (([(1.0, 1.0)], [(3.0, 1.0)]), "in flight"),  # an older one: a change in flight
        (([(1.0, 1.0)], [(3.0, 9.0)]), "mismatch"),  # none of them
    ],
)
def test_an_unsequenced_book_is_judged_against_the_recent_states(
    mine: tuple[list[Any], list[Any]], outcome: str
) -> None:
    states = [([(1.0, 1.0)], [(3.0, 1.0)]), ([(2.0, 1.0)], [(3.0, 1.0)])]
    kit = dataclasses.replace(
        soak.VENUES["currencycom"],
        client=lambda index, served: object(),
        client_book=lambda machine, channel: (False, mine[0], mine[1]),
    )
    tally = soak.Tally()
    client = soak.SoakClient(kit, _Served(states), 0, tally)
    client.seen["depth:BTC/USD"] = 0
    client._compare("depth:BTC/USD")
    assert (tally.compared, tally.skipped, tally.mismatched) == {
        "match": (1, 0, 0),
        "in flight": (0, 1, 0),
        "mismatch": (1, 0, 1),
    }[outcome]


def test_a_stale_book_is_not_compared() -> None:
    kit = dataclasses.replace(
        soak.VENUES["rails"],
        client=lambda index, served: object(),
        client_book=lambda machine, channel: (True, [], []),
    )
    tally = soak.Tally()
    client = soak.SoakClient(kit, _Served([([(1.0, 1.0)], [])]), 0, tally)
    client.seen["BTC-USD"] = 0
    client._compare("BTC-USD")
    assert (tally.compared, tally.skipped, tally.mismatched) == (0, 0, 0)


@pytest.mark.parametrize("venue", ["deriv", "currencycom", "rails"])
def test_each_venue_soaks_end_to_end(venue: str, capsys: pytest.CaptureFixture[str]) -> None:
    # A few seconds, no faults: the entry serves, connects (Rails: its token over HTTP
    # first), subscribes, asks public and private requests and compares books.
    argv = ["--venue", venue, "--clients", "2", "--minutes", "0.06", "--faults", ""]
    assert soak.main(argv) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "PASS  every request resolved" in out
    assert " 0 failed (-), 0 unresolved" in out
    if venue == "deriv":
        assert "n/a   books" in out
    else:
        assert "PASS  books equal the venue's" in out
