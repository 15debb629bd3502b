"""Given-when-then specs for deciders, as Emmett's DeciderSpecification:
`spec(decider).given(*events).when(Command(...)).then(*events)` or `.then_raises(Error, **facts)`.

The older form `given(evolve, initial, *events).when(lambda state: ...)` still works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any, Generic, TypeVar

import pytest

from domain.decider import Decider
from domain.errors import DomainError
from domain.events import Event

C = TypeVar("C")
S = TypeVar("S")
E = TypeVar("E", bound=DomainError)

__all__ = ["Decider", "Given", "Spec", "When", "given", "spec"]


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


@dataclass(frozen=True)
class DeciderGiven(Generic[C, S]):
    decider: Decider[C, S]
    state: S

    def when(self, command: C) -> When[S]:
        """The decider is asked `command` in the given state."""
        return When(Given(self.decider.evolve, self.state), lambda state: self.decider.decide(command, state))


@dataclass(frozen=True)
class Spec(Generic[C, S]):
    decider: Decider[C, S]
    key: str = ""

    def given(self, *events: Event) -> DeciderGiven[C, S]:
        """The stream `key` holds these events (none: it is new)."""
        return DeciderGiven(self.decider, self.decider.fold(self.key, events))

    def when(self, command: C) -> When[S]:
        """Shorthand for `given().when(command)`: the command meets a new stream."""
        return self.given().when(command)


def spec(decider: Decider[C, S], key: str = "") -> Spec[C, S]:
    """Specs for one aggregate; `key` is its stream's business key (where initial_state needs it)."""
    return Spec(decider, key)
