"""Suite-wide settings.

Hypothesis runs derandomized by default, so a run on a clean checkout (CI) explores the
same examples every time and a red CI always means a real regression, not a lucky
draw; ``deadline=None`` because timings on a shared 2-core machine are not what these
properties are about.  Set ``TRADEWIRE_HYPOTHESIS=explore`` for fresh random examples
(and hypothesis' example database) when hunting bugs locally.

"spec N.N" in a test means section N.N of ``docs/venues/deribit.md``, unless the test
names another venue's file (a Deriv test names ``docs/venues/deriv.md``, and so on).

Every hypothesis test (``@given`` or a rule-based state machine) is marked
``property`` at collection, so ``pytest -m property`` selects the property and fuzz
tests.  CI runs them once more in explore mode (``.ci/run``): with
``--hypothesis-seed=N`` printed, and ``TRADEWIRE_EXPLORE_BUDGET`` seconds, the tests
run in an order shuffled by that seed and those not started when the budget is spent
are skipped, so the pass stays bounded and the same command reproduces it.

Derandomized does not mean the same examples everywhere: hypothesis mines constants
from local source files, so an editable and a regular install draw differently.  A
case a test must always cover is an ``@example`` or an explicit loop, or the strategy
is built so that most draws produce it, never left to the draw.

The habit for every venue's tests: a property or differential test says what its
examples did with ``hypothesis.event()`` (how many requests, which answers, where a
frame was split ...), and whoever writes it checks with ``pytest -m property
--hypothesis-show-statistics`` that most examples do the interesting thing.
"""

from __future__ import annotations

import os
import random
import time

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", deadline=None)
EXPLORE = os.environ.get("TRADEWIRE_HYPOTHESIS") == "explore"
settings.load_profile("explore" if EXPLORE else "ci")

#: Seconds the explore pass may start tests for (0: no budget).
BUDGET = float(os.environ.get("TRADEWIRE_EXPLORE_BUDGET") or 0) if EXPLORE else 0.0
_started = time.monotonic()
_skipped: list[str] = []


@pytest.hookimpl(tryfirst=True)  # before -m selects by the marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # hypothesis sets this on @given tests and on a state machine's runTest
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)
    if BUDGET:
        # which tests the budget leaves out depends on the seed, not on file order
        random.Random(config.getoption("--hypothesis-seed")).shuffle(items)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if BUDGET and time.monotonic() - _started > BUDGET:
        _skipped.append(item.nodeid)
        pytest.skip(f"explore budget of {BUDGET:g} s spent")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if BUDGET:
        seed = terminalreporter.config.getoption("--hypothesis-seed")
        terminalreporter.write_line(
            f"explore pass (seed {seed}): {len(_skipped)} tests not started within the "
            f"budget of {BUDGET:g} s, after {time.monotonic() - _started:.0f} s"
        )
