"""Suite-wide settings.

Hypothesis runs derandomized by default, so a run on a clean checkout (CI) explores the
same examples every time and a red CI always means a real regression, not a lucky
draw; ``deadline=None`` because timings on a shared 2-core machine are not what these
properties are about.  Set ``TRADEWIRE_HYPOTHESIS=explore`` for fresh random examples
(and hypothesis' example database) when hunting bugs locally.

"spec N.N" in a test means section N.N of ``docs/venues/deribit.md`` (the only venue with
tests so far; a test of another venue names its own file).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile("explore" if os.environ.get("TRADEWIRE_HYPOTHESIS") == "explore" else "ci")
