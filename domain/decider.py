"""The decider shape every aggregate offers: `decide(command, state)`, `evolve(state, event)` and
`initial_state(key)`, where `key` is the business key of the aggregate's stream."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from typing import Generic, TypeVar

from domain.events import Event

C = TypeVar("C")
S = TypeVar("S")


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    """An aggregate as three pure functions: commands are values, events the only output."""

    decide: Callable[[C, S], list[Event]]
    evolve: Callable[[S, Event], S]
    initial_state: Callable[[str], S]

    def fold(self, key: str, events: Iterable[Event]) -> S:
        """The state of the stream `key` after these events."""
        return reduce(self.evolve, events, self.initial_state(key))
