"""Every event and command class is a frozen, keyword-only msgspec Struct."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import msgspec
import pytest

from tradewire import protocol
from tradewire.protocol import Command, Event, LocalProtocolError, require, require_choice


def all_subclasses(base: type) -> set[type]:
    for info in pkgutil.walk_packages(protocol.__path__, protocol.__name__ + "."):
        importlib.import_module(info.name)
    found: set[type] = set()
    stack = [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("tradewire."):
                found.add(sub)
            stack.append(sub)
    return found


@pytest.mark.parametrize("base", [Event, Command])
def test_subclasses_are_frozen_and_keyword_only(base: type) -> None:
    classes = all_subclasses(base)
    assert classes, "no subclasses found"
    for cls in classes:
        assert issubclass(cls, msgspec.Struct)
        assert cls.__struct_config__.frozen, cls
        for parameter in inspect.signature(cls).parameters.values():
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (cls, parameter.name)


def test_require_helpers_name_the_argument_and_choices() -> None:
    with pytest.raises(LocalProtocolError, match="invalid interval: expected seconds >= 10"):
        require(False, "interval", "seconds >= 10")
    with pytest.raises(LocalProtocolError, match="accepted values: 'raw', '100ms'"):
        require_choice("50ms", "interval", ("raw", "100ms"))
    require_choice("raw", "interval", ("raw", "100ms"))
