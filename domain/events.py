"""The base of every domain event: a frozen record of facts, named in the past tense."""

from __future__ import annotations

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """A fact that happened. Subclasses carry everything a reader needs, never references."""


EVENT_TYPES: dict[str, type[Event]] = {}


def register(*classes: type[Event]) -> None:
    """Make event classes known to the codec under their class name (the stored topic)."""
    for cls in classes:
        EVENT_TYPES[cls.__name__] = cls
