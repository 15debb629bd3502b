"""The global event feed as CloudEvents 1.0 JSON."""

from __future__ import annotations

from typing import Any
from uuid import uuid5

from domain.values import format_timestamp
from infra.eventstore.codec import INTERNAL_TOPICS, Recorded, event_data
from infra.eventstore.store import EventStore
from infra.eventstore.streams import NAMESPACE

PUBLIC_KIND = {"position": "inventory", "backorders": "backorders"}


def subject(record: Recorded) -> str:
    kind, key = record.meta.kind, record.meta.key
    if kind == "position":
        sku, _, warehouse_id = key.partition("@")
        return f"inventory/{warehouse_id}/{sku}"
    return f"{PUBLIC_KIND.get(kind, kind)}/{key}"


def event_id(record: Recorded) -> str:
    return str(uuid5(NAMESPACE, f"{record.stream_id}:{record.version}"))


def cloud_event(record: Recorded) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id(record),
        "source": "/o2c",
        "type": f"o2c.{record.topic}",
        "subject": subject(record),
        "time": format_timestamp(record.meta.occurred_at),
        "datacontenttype": "application/json",
        "position": record.position,
        "actor": record.meta.actor,
        "correlationid": record.meta.correlation_id,
        "causationid": record.meta.causation_id,
        "data": event_data(record.event),
    }


def read_feed(store: EventStore, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Public events after `after`; `next_after` moves past internal records too."""
    records = store.read(after, limit)
    events = [cloud_event(r) for r in records if r.topic not in INTERNAL_TOPICS]
    next_after = records[-1].position if records else after
    return events, next_after
