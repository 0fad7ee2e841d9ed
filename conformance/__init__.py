"""tradewire.conformance: faithful local venues for testing your own message handling.

Pure like :mod:`tradewire.protocol`: simulated markets, reference venues, fault plans,
transcripts and hypothesis strategies, all driven by injected time and seeded RNGs.
"""

from ._echo import CloseMe, EchoClient, EchoServer, Heard, Note, Push, Say
from ._fault_engine import FaultHooks, FaultyMachine, FaultySocket
from ._faults import FAULT_KINDS, Fault, FaultPlan, FaultSpecError
from ._harness import Harness, HTTPLink, ReferenceVenue
from ._link import FakeClock, MemoryLink

__all__ = [
    "FAULT_KINDS",
    "CloseMe",
    "EchoClient",
    "EchoServer",
    "FakeClock",
    "Fault",
    "FaultHooks",
    "FaultPlan",
    "FaultSpecError",
    "FaultySocket",
    "FaultyMachine",
    "HTTPLink",
    "Harness",
    "Heard",
    "MemoryLink",
    "Note",
    "Push",
    "ReferenceVenue",
    "Say",
]
