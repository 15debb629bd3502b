"""`replace` for the domain's frozen dataclasses, as `dataclasses.replace` answers it but at a fraction
of its cost: evolving an order replaces its lines and itself once per event, and folding the log is
what a rebuild does (the orders read model: 26-28k -> 30.5-32k events/s, bench/RESULTS.md of
2026-12-03; a single decision did not measurably change).

It copies the instance's fields and sets the changed ones, without `dataclasses.replace`'s walk over
the fields and call of `__init__`. That is the same object for a dataclass whose `__init__` only
assigns its fields: no `__post_init__`, no `InitVar`, no slots, no cached properties (which would be
copied stale). The domain's states are such dataclasses; `tests/domain/test_frozen.py` checks that
every class it is used on is one and that both give equal objects.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

_FIELDS: dict[type, frozenset[str]] = {}


def fields_of(cls: type) -> frozenset[str]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = frozenset(f.name for f in dataclasses.fields(cls))
    return names


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the frozen dataclass `obj` with `changes`; a name that is no field is a TypeError."""
    cls = type(obj)
    if not fields_of(cls).issuperset(changes):
        raise TypeError(f"{cls.__name__} has no field {sorted(set(changes) - fields_of(cls))}")
    new = object.__new__(cls)
    state = new.__dict__
    state.update(obj.__dict__)
    state.update(changes)
    return new
