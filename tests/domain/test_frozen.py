"""domain.frozen.replace gives what dataclasses.replace gives, for every state class it is used on."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import domain.account
import domain.backorders
import domain.expected
import domain.inventory.state
import domain.invoice.state
import domain.order.state
from domain import frozen
from domain.order.state import Line, Order

MODULES = [
    domain.account,
    domain.backorders,
    domain.expected,
    domain.inventory.state,
    domain.invoice.state,
    domain.order.state,
]


def state_classes() -> list[type]:
    return [
        cls
        for module in MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__ and dataclasses.is_dataclass(cls)
    ]


@pytest.mark.parametrize("cls", state_classes(), ids=lambda c: c.__qualname__)
def test_every_state_class_it_copies_is_a_plain_frozen_dataclass(cls: type) -> None:
    """What replace relies on: __init__ only assigns the fields (no __post_init__, InitVar or slots)
    and nothing else is kept in the instance's __dict__ (no cached_property)."""
    assert vars(sys.modules[cls.__module__])["replace"] is frozen.replace
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert not hasattr(cls, "__post_init__")
    assert "__slots__" not in cls.__dict__
    assert not any("InitVar" in str(v) for v in cls.__annotations__.values())  # annotations are text here
    assert not any(isinstance(v, functools.cached_property) for v in vars(cls).values())


def test_it_equals_dataclasses_replace_and_leaves_the_original_as_it_was() -> None:
    line = Line("L1", "BOLT-10", 5, Decimal("8.50"), allocations={"W-A": 5})
    state = Order("SO-1", "C1", "web", None, False, datetime(2026, 12, 1, tzinfo=UTC), (line,))
    for obj, changes in [
        (line, {"shipped": 2, "allocations": {"W-A": 3}}),
        (state, {"on_hold": True}),
        (state, {"lines": (), "cancelled": True}),
    ]:
        fast = frozen.replace(obj, **changes)
        assert fast == dataclasses.replace(obj, **changes)
        assert type(fast) is type(obj)
        assert obj != fast
    assert line.shipped == 0 and state.on_hold is False


def test_a_name_that_is_no_field_is_a_type_error() -> None:
    line = Line("L1", "BOLT-10", 5, Decimal("8.50"))
    with pytest.raises(TypeError, match="no field"):
        frozen.replace(line, shiped=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.replace(line, shipped=1).shipped = 2  # type: ignore[misc]
