"""tradewire.conformance: faithful local venues for testing your own message handling.

Pure like :mod:`tradewire.protocol`: simulated markets, reference venues, fault plans,
transcripts and hypothesis strategies, all driven by injected time and seeded RNGs.
"""
