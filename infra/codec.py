"""How domain events are stored: a JSON envelope of metadata and the event's facts.

The topic is the event class name; Decimal stays Decimal (encoded as a string, decoded by type).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

import domain.backorders
import domain.catalog
import domain.customer
import domain.inventory
import domain.order
import domain.shipment
import domain.transfer  # noqa: F401
from domain.events import EVENT_TYPES, Event


class Meta(msgspec.Struct, frozen=True, kw_only=True):
    """What every recorded event carries besides its facts."""

    kind: str
    key: str
    occurred_at: datetime
    actor: str
    correlation_id: str
    causation_id: str


class CommandRecorded(Event, frozen=True, kw_only=True):
    """The outcome of a command, kept to answer a repeat (idempotency key or business id)."""

    scope: str
    key: str
    fingerprint: str
    status: int
    body: str  # the JSON response, without `position`


EVENT_TYPES["CommandRecorded"] = CommandRecorded
INTERNAL_TOPICS = frozenset({"CommandRecorded"})


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """An event as read back from the store."""

    stream_id: UUID
    version: int
    topic: str
    meta: Meta
    event: Event
    position: int | None = None


_encoder = msgspec.json.Encoder(decimal_format="string")
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}


class _Envelope(msgspec.Struct, frozen=True, kw_only=True):
    meta: Meta
    data: msgspec.Raw


def encode(meta: Meta, event: Event) -> bytes:
    return _encoder.encode({"meta": meta, "data": event})


def decode(topic: str, state: bytes) -> tuple[Meta, Event]:
    envelope = msgspec.json.decode(state, type=_Envelope)
    decoder = _decoders.get(topic)
    if decoder is None:
        decoder = _decoders[topic] = msgspec.json.Decoder(EVENT_TYPES[topic])
    return envelope.meta, decoder.decode(envelope.data)


def event_data(event: Event) -> dict[str, Any]:
    """The event's facts as JSON-ready builtins (money as strings)."""
    return msgspec.to_builtins(event)  # type: ignore[no-any-return]
