"""Gap-free number sequences (invoices, credit notes): each number goes to one document, in order."""

from __future__ import annotations

from domain.events import Event, register


class NumberAssigned(Event, frozen=True, kw_only=True):
    """The next number of a gap-free sequence went to a document."""

    sequence: str
    number: int
    document_id: str


register(NumberAssigned)


def evolve_sequence(state: int, event: Event) -> int:
    return event.number if isinstance(event, NumberAssigned) else state


def next_number(state: int, sequence: str, document_id: str) -> tuple[int, list[Event]]:
    number = state + 1
    return number, [NumberAssigned(sequence=sequence, number=number, document_id=document_id)]
