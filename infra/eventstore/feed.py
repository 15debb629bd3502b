"""The global event feed as CloudEvents 1.0 JSON."""

from __future__ import annotations

import logging
from typing import Any
from uuid import uuid5

from domain.values import format_timestamp
from infra.eventstore.codec import INTERNAL_TOPICS, Recorded, event_data
from infra.eventstore.store import EventStore
from infra.eventstore.streams import NAMESPACE

log = logging.getLogger("o2c.feed")
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
    meta = record.meta
    event = {
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
    if meta.traceparent is not None:  # the CloudEvents distributed-tracing extension
        event["traceparent"] = meta.traceparent
    return event


def undecodable(record: Recorded, exc: Exception) -> dict[str, Any]:
    """An event the service cannot decode (written by a newer or broken version) still has its place
    in the feed: what the log row itself says, no data, and the reason. A reader is never stopped
    at it; the read models park it (docs/decisions/0013)."""
    return {
        "specversion": "1.0",
        "id": event_id(record),
        "source": "/o2c",
        "type": f"o2c.{record.topic}",
        "datacontenttype": "application/json",
        "position": record.position,
        "data": None,
        "o2cerror": f"the stored event cannot be decoded ({type(exc).__name__})",
    }


def _public(record: Recorded) -> dict[str, Any]:
    try:
        return cloud_event(record)
    except Exception as exc:  # noqa: BLE001 - decoding is pure: it fails the same way on every read
        log.error("feed: event at position %s cannot be decoded: %s", record.position, exc)
        return undecodable(record, exc)


def read_feed(store: EventStore, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Public events after `after`; `next_after` moves past internal records too."""
    records = store.read(after, limit)
    events = [_public(r) for r in records if r.topic not in INTERNAL_TOPICS]
    next_after = records[-1].position if records else after
    return events, next_after
