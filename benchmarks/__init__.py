"""tradewire's benchmarks: one command, every number measured against its alternatives.

Run from the repository root (``pip install -e '.[bench]'`` first)::

    python -m benchmarks            # the full run (a few minutes)
    python -m benchmarks --quick    # fewer messages and repeats (under a minute)

It prints one table: medians and min-max over repeated runs, the machine, Python and the
library versions, and the project's performance targets (listed in ``__main__``) as ratios
from the same run with PASS/FAIL.
Nothing here is part of the test suite (no ``test_*`` names; ``benchmarks/`` is outside
``tests/``), and nothing asserts a time.

Modules: ``_messages`` (the realistic Deribit bytes every benchmark shares, and the
hand-written dict handling of the JSON baselines), ``_machine`` (what "through the
machine" means today), ``_timing`` (repeats, medians, the table), ``_server`` (the
loopback venue process), ``bench_decode``, ``bench_book``, ``bench_encode``,
``bench_e2e``, ``bench_memory``; ``__main__`` runs them all.

"spec N.N" here means section N.N of ``docs/venues/deribit.md``.
"""
