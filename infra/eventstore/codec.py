"""How domain events are stored: a JSON envelope of metadata and the event's facts.

The topic is the event class name; Decimal stays Decimal (encoded as a string, decoded by type).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec

import domain.apikey
import domain.backorders
import domain.catalog
import domain.customer
import domain.dunning
import domain.expected
import domain.inventory
import domain.journal
import domain.order
import domain.shipment
import domain.terms
import domain.transfer
from domain.events import EVENT_TYPES, Event


class Meta(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What every recorded event carries besides its facts. `traceparent` (W3C) only when the work
    was traced: left out otherwise, so events without it are stored as they always were."""

    kind: str
    key: str
    occurred_at: datetime
    actor: str
    correlation_id: str
    causation_id: str
    traceparent: str | None = None


class CommandRecorded(Event, frozen=True, kw_only=True):
    """The outcome of a command, kept to answer a repeat (idempotency key or business id).

    `reply` is the caller's answer as the caller produced it: opaque text the ledger stores and
    hands back, never reads."""

    schema_version: ClassVar[int] = 2
    scope: str
    key: str
    fingerprint: str
    reply: str
    anchor: str = ""  # the record written last by the same command: its position is the answer's


EVENT_TYPES["CommandRecorded"] = CommandRecorded
# Internal records never appear in the feed (nor give a command's position): idempotency records, and the
# audit trail of API keys (names, scopes and customers of integrations are not for every `read` key).
INTERNAL_TOPICS = frozenset({"CommandRecorded", *(e.__name__ for e in domain.apikey.EVENTS)})


class Recorded:
    """An event as read back from the store. Read from the log, it is decoded on first use, so a
    follower that skips a topic never pays for decoding it."""

    __slots__ = ("_event", "_meta", "_state", "_stream_id", "position", "topic", "version")

    def __init__(
        self,
        *,
        stream_id: UUID | str,
        version: int,
        topic: str,
        meta: Meta | None = None,
        event: Event | None = None,
        position: int | None = None,
        state: bytes | None = None,
    ) -> None:
        self._stream_id = stream_id
        self.version = version
        self.topic = topic
        self.position = position
        self._meta = meta
        self._event = event
        self._state = state

    def _decode(self) -> None:
        assert self._state is not None
        self._meta, self._event = decode(self.topic, self._state)
        self._state = None

    @property
    def meta(self) -> Meta:
        if self._meta is None:
            self._decode()
        assert self._meta is not None
        return self._meta

    @property
    def event(self) -> Event:
        if self._event is None:
            self._decode()
        assert self._event is not None
        return self._event

    @property
    def stream_id(self) -> UUID:
        if not isinstance(self._stream_id, UUID):
            self._stream_id = UUID(self._stream_id)
        return self._stream_id

    def __repr__(self) -> str:
        return f"Recorded(position={self.position}, topic={self.topic}, version={self.version})"


_encoder = msgspec.json.Encoder(decimal_format="string")
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}


class _Envelope(msgspec.Struct, frozen=True, kw_only=True):
    meta: Meta
    data: msgspec.Raw
    v: int = 1  # the event class's schema version when it was recorded


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def register_upcaster(topic: str, from_version: int, upcast: Upcaster) -> None:
    """Teach the codec to read `topic` events recorded at `from_version` as `from_version + 1`.

    An event class that changes shape raises its `schema_version` (a ClassVar) and registers one
    upcaster per step, so the log recorded years ago replays into today's classes."""
    UPCASTERS[(topic, from_version)] = upcast


def _reply_of_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Records of version 1 held an HTTP status and a JSON body; the API's reply text for them is
    `<status> <body>` (api/replies.py), so an old key still replays the bytes it answered first."""
    data = dict(data)
    status, body = data.pop("status"), data.pop("body")
    return {**data, "reply": f"{status} {body}"}


register_upcaster("CommandRecorded", 1, _reply_of_v1)


def schema_version(cls: type[Event]) -> int:
    return int(getattr(cls, "schema_version", 1))


def encode(meta: Meta, event: Event) -> bytes:
    version = schema_version(type(event))
    envelope: dict[str, Any] = {"meta": meta, "data": event}
    if version > 1:
        envelope["v"] = version
    return _encoder.encode(envelope)


def decode(topic: str, state: bytes) -> tuple[Meta, Event]:
    envelope = msgspec.json.decode(state, type=_Envelope)
    cls = EVENT_TYPES[topic]
    current = schema_version(cls)
    if envelope.v < current:
        data: dict[str, Any] = msgspec.json.decode(envelope.data)
        for step in range(envelope.v, current):
            data = UPCASTERS[(topic, step)](data)
        return envelope.meta, msgspec.convert(data, type=cls)
    decoder = _decoders.get(topic)
    if decoder is None:
        decoder = _decoders[topic] = msgspec.json.Decoder(cls)
    return envelope.meta, decoder.decode(envelope.data)


def event_data(event: Event) -> dict[str, Any]:
    """The event's facts as JSON-ready builtins (money as strings)."""
    return msgspec.to_builtins(event)  # type: ignore[no-any-return]
