"""Webhook management and the delivery log (API.md "Webhooks (scope admin)"); the delivery itself is
the webhook workflow's (infra/workers/webhooks.py)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from api.deps import Waits
from api.errors import ProblemError, invalid
from api.models import NO_BODY, EmptyRequest
from api.openapi import answers
from api.reference import MAX_POSITION, IdPath, MinPosition
from api.tenancy import FORBIDDEN, tenant
from api.webhook_models import (
    CreateWebhookRequest,
    Delivery,
    DeliveryList,
    DeliveryStatus,
    PutWebhookRequest,
    Replay,
    ReplayRequest,
    Secret,
    WebhookCreated,
    WebhookList,
    WebhookResource,
)
from domain.errors import DuplicateIdError, NotFoundError
from domain.values import ID_PATTERN
from infra.adapters.webhooks import UrlNotAllowedError, check_url, new_secret
from infra.service import Service
from infra.workers.webhook_store import WebhookStore

ADMIN = tenant("admin", FORBIDDEN)
Limit = Annotated[int, Parameter(ge=1, le=1000)]
REPLAY_BATCH = 1000


def _hooks(service: Service) -> WebhookStore:
    if service.webhooks is None:
        service.webhooks = WebhookStore(service.engine)
    return service.webhooks


async def _allowed(service: Service, url: str) -> None:
    try:
        await anyio.to_thread.run_sync(check_url, url, service.settings.webhook_allow_private)
    except UrlNotAllowedError as exc:
        raise ProblemError(
            422, "webhook_url_not_allowed", "The webhook URL is not allowed", f"{url}: {exc}", url=url
        ) from None


def _missing(webhook_id: str) -> NotFoundError:
    return NotFoundError(f"Webhook {webhook_id} does not exist", webhook_id=webhook_id)


def _wake(service: Service) -> None:
    if service.webhook_worker is not None:
        service.webhook_worker.wake()


class WebhooksController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]

    @post("/", opt=ADMIN, operation_id="CreateWebhook", status_code=201, responses=answers(WebhookCreated))
    async def create(self, service: NamedDependency[Service], data: JSONBody[CreateWebhookRequest]) -> WebhookCreated:
        await _allowed(service, data.url)
        secret = new_secret()
        now = service.clock.now()
        head = await anyio.to_thread.run_sync(service.store.head)
        row = {
            "webhook_id": data.webhook_id,
            "url": data.url,
            "event_types": data.event_types,
            "description": data.description,
            "status": "enabled",
            "secret": secret,
            "created_at": now.timestamp(),
            "after_position": head,
        }
        made = await anyio.to_thread.run_sync(_hooks(service).create, row)
        if made is None:
            raise DuplicateIdError(f"Webhook {data.webhook_id} exists", webhook_id=data.webhook_id)
        position = await anyio.to_thread.run_sync(service.store.public_head)
        return WebhookCreated(**made, secret=secret, position=position)

    @get("/", opt=ADMIN, operation_id="ListWebhooks")
    async def list_webhooks(
        self,
        service: NamedDependency[Service],
        waits: NamedDependency[Waits],
        after: Annotated[str | None, Parameter(pattern=ID_PATTERN, max_length=64, required=False)] = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> WebhookList:
        await waits.for_log(min_position)
        rows = await anyio.to_thread.run_sync(_hooks(service).listed, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return WebhookList([WebhookResource(**r) for r in rows], rows[-1]["webhook_id"] if more else None)

    @get("/{webhook_id:str}", opt=ADMIN, operation_id="GetWebhook")
    async def get_webhook(
        self,
        service: NamedDependency[Service],
        waits: NamedDependency[Waits],
        webhook_id: IdPath,
        min_position: MinPosition = None,
    ) -> WebhookResource:
        await waits.for_log(min_position)
        row = await anyio.to_thread.run_sync(_hooks(service).get, webhook_id)
        if row is None:
            raise _missing(webhook_id)
        return WebhookResource(**row)

    @put("/{webhook_id:str}", opt=ADMIN, operation_id="ReplaceWebhook")
    async def replace(
        self, service: NamedDependency[Service], webhook_id: IdPath, data: JSONBody[PutWebhookRequest]
    ) -> WebhookResource:
        await _allowed(service, data.url)
        changes: dict[str, Any] = {
            "url": data.url,
            "event_types": data.event_types,
            "description": data.description,
            "status": data.status,
        }
        if data.status == "enabled":
            changes["disabled_reason"] = None
        row = await anyio.to_thread.run_sync(_hooks(service).update, webhook_id, changes)
        if row is None:
            raise _missing(webhook_id)
        _wake(service)
        return WebhookResource(**row)

    @delete("/{webhook_id:str}", opt=ADMIN, operation_id="DeleteWebhook", status_code=204)
    async def remove(self, service: NamedDependency[Service], webhook_id: IdPath) -> None:
        if not await anyio.to_thread.run_sync(_hooks(service).delete, webhook_id):
            raise _missing(webhook_id)

    @post("/{webhook_id:str}/rotate-secret", opt=ADMIN, operation_id="RotateWebhookSecret", status_code=200)
    async def rotate(
        self, service: NamedDependency[Service], webhook_id: IdPath, data: JSONBody[EmptyRequest] = NO_BODY
    ) -> Secret:
        secret = new_secret()
        if not await anyio.to_thread.run_sync(_hooks(service).rotate, webhook_id, secret, service.clock.now()):
            raise _missing(webhook_id)
        return Secret(secret)

    @get("/{webhook_id:str}/deliveries", opt=ADMIN, operation_id="ListWebhookDeliveries")
    async def deliveries(
        self,
        service: NamedDependency[Service],
        waits: NamedDependency[Waits],
        webhook_id: IdPath,
        status: Annotated[DeliveryStatus | None, Parameter(required=False)] = None,
        after: Annotated[int | None, Parameter(ge=0, le=MAX_POSITION, required=False)] = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> DeliveryList:
        await waits.for_log(min_position)
        hooks = _hooks(service)
        if await anyio.to_thread.run_sync(hooks.get, webhook_id) is None:
            raise _missing(webhook_id)
        rows = await anyio.to_thread.run_sync(hooks.deliveries, webhook_id, status, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        items = [Delivery(**{**r, "attempts": r["attempts"]}) for r in rows]
        return DeliveryList(items, rows[-1]["position"] if more else None)

    @post(
        "/{webhook_id:str}/deliveries/{delivery_id:str}/retry",
        opt=ADMIN,
        operation_id="RetryWebhookDelivery",
        status_code=202,
    )
    async def retry(
        self,
        service: NamedDependency[Service],
        webhook_id: IdPath,
        delivery_id: IdPath,
        data: JSONBody[EmptyRequest] = NO_BODY,
    ) -> Delivery:
        found = await anyio.to_thread.run_sync(_hooks(service).retry, webhook_id, delivery_id, service.clock.now())
        if found is None:
            raise NotFoundError(
                f"Webhook {webhook_id} has no delivery {delivery_id}", webhook_id=webhook_id, delivery_id=delivery_id
            )
        _wake(service)
        return Delivery(**found)

    @post(
        "/{webhook_id:str}/replay",
        opt=ADMIN,
        operation_id="ReplayWebhook",
        status_code=202,
        responses=answers(Replay, 202),
    )
    async def replay(
        self, service: NamedDependency[Service], webhook_id: IdPath, data: JSONBody[ReplayRequest]
    ) -> Replay:
        hooks = _hooks(service)
        hook = await anyio.to_thread.run_sync(hooks.hook, webhook_id)
        if hook is None:
            raise _missing(webhook_id)
        head = await anyio.to_thread.run_sync(service.store.head)
        until = head if data.until is None else min(data.until, head)
        if data.until is not None and data.until < data.after:
            raise invalid([{"field": "until", "message": "must not be before after"}])

        def queue() -> int:
            count, cursor, now = 0, data.after, service.clock.now()
            while cursor < until:
                records = [r for r in service.store.read(cursor, REPLAY_BATCH) if (r.position or 0) <= until]
                if not records:
                    break
                count += hooks.send_again(webhook_id, records, hook, now)
                cursor = records[-1].position or until
            return count

        count = await anyio.to_thread.run_sync(queue)
        _wake(service)
        return Replay(webhook_id, data.after, until, count)
