"""Given-when-then specs for deciders: `given(evolve, initial, *events).when(decide).then(*events)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any, Generic, TypeVar

import pytest

from domain.errors import DomainError
from domain.events import Event

S = TypeVar("S")
E = TypeVar("E", bound=DomainError)


@dataclass(frozen=True)
class Given(Generic[S]):
    evolve: Callable[[S, Event], S]
    state: S

    def when(self, decide: Callable[[S], list[Event]]) -> When[S]:
        return When(self, decide)


@dataclass(frozen=True)
class When(Generic[S]):
    given: Given[S]
    decide: Callable[[S], list[Event]]

    def then(self, *expected: Event) -> S:
        """The decision records exactly these events (none: nothing changes); returns the state they lead to."""
        recorded = self.decide(self.given.state)
        assert recorded == list(expected)
        return reduce(self.given.evolve, recorded, self.given.state)

    def then_raises(self, error: type[E], **facts: Any) -> E:
        """The decision is rejected with this error carrying these facts."""
        with pytest.raises(error) as caught:
            self.decide(self.given.state)
        for name, value in facts.items():
            assert caught.value.facts.get(name) == value, f"fact {name!r}: {caught.value.facts.get(name)!r}"
        return caught.value


def given(evolve: Callable[[S, Event], S], initial: S, *events: Event) -> Given[S]:
    """The state an aggregate reaches from `initial` through `events`."""
    return Given(evolve, reduce(evolve, events, initial))
