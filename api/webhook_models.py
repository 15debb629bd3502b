"""Webhooks: request bodies and answers (API.md "Webhooks (scope admin), to the Standard Webhooks specification")."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from api.models import TEXT_PATTERN, Body, Id, Text
from api.resources import Position, Resource, Time

Url = Annotated[str, Meta(min_length=8, max_length=2000, pattern=r"\A(?i:https?)://[^\s\x00-\x1f\x7f]+\Z")]
EventType = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"\A(\*|[A-Za-z][A-Za-z0-9]*)\Z")]
EventTypes = Annotated[list[EventType], Meta(min_length=1, max_length=200)]
Description = Annotated[str, Meta(max_length=1000, pattern=TEXT_PATTERN)]
Status = Literal["enabled", "disabled"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


class CreateWebhookRequest(Body):
    webhook_id: Id
    url: Url
    event_types: EventTypes
    description: Description | None = None


class PutWebhookRequest(Body):
    url: Url
    event_types: EventTypes
    status: Status
    description: Text | None = None


class ReplayRequest(Body):
    after: Annotated[int, Meta(ge=0, le=2**63 - 1)]
    until: Annotated[int, Meta(ge=0, le=2**63 - 1)] | None = None


class WebhookResource(Resource):
    webhook_id: str
    url: str
    event_types: list[str]
    description: str | None
    status: Status
    disabled_reason: str | None
    created_at: Time


class WebhookCreated(WebhookResource):
    secret: str
    position: Position


class WebhookList(Resource):
    items: list[WebhookResource]
    next_after: str | None


class Secret(Resource):
    secret: str


class Attempt(Resource):
    at: Time
    status_code: int | None
    duration_ms: Annotated[int, Meta(ge=0)]
    error: str | None


class Delivery(Resource):
    delivery_id: str
    event_id: str
    event_type: str
    position: Position
    status: DeliveryStatus
    attempts: list[Attempt]
    next_attempt_at: Time | None


class DeliveryList(Resource):
    items: list[Delivery]
    next_after: int | None


class Replay(Resource):
    webhook_id: str
    after: Position
    until: Position
    deliveries: Annotated[int, Meta(ge=0, description="Matching events queued to be sent again")]
