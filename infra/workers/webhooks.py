"""The webhook workflow: a follower that turns each public event into pending deliveries, and a
sender that makes the attempts that are due (docs/decisions/0022-webhooks.md).

The follower writes the deliveries and its tracking position in one transaction: a crash repeats
a batch (the rows exist, nothing is written twice) and never skips one. The sender takes due
deliveries in log order; each webhook's are sent one after another, webhooks side by side, and a
failed attempt only reschedules its own delivery, so it never holds later ones back."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from infra import tracing
from infra.adapters.webhooks import AttemptResult, WebhookSender
from infra.clock import Clock
from infra.eventstore.codec import Recorded
from infra.eventstore.feed import read_feed
from infra.eventstore.store import EventStore
from infra.readside.tracking import ensure_tables, read_position, save_position
from infra.settings import Settings
from infra.workers.leader import Leadership
from infra.workers.runner import BackgroundLoop
from infra.workers.webhook_store import Hook, WebhookStore

log = logging.getLogger("o2c.webhooks")
NAME = "workflow:webhooks"
PARALLEL = 4  # webhooks sent to side by side (each holds a database connection while it records)


class WebhookDeliveries:
    """Follower: a pending delivery per matching enabled webhook for every public event."""

    name = NAME

    def __init__(
        self,
        hooks: WebhookStore,
        engine: sa.Engine,
        clock: Callable[[], Clock] = Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.hooks = hooks
        self.engine = engine
        self.clock = clock
        self.wake = wake
        ensure_tables(engine)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.name)

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        with self.engine.begin() as conn:
            written = self.hooks.record_deliveries(conn, records, self.hooks.hooks(conn), self.clock().now())
            save_position(conn, self.name, upto)
        if written:
            self.wake()


def body_of(store: EventStore, position: int) -> tuple[str | None, str | None]:
    """The event at `position` as its CloudEvent, exactly as `GET /v1/events` shows it, and its trace."""
    events, _ = read_feed(store, position - 1, 1)
    if not events or int(events[0]["position"]) != position:
        return None, None
    return json.dumps(events[0], separators=(",", ":")), events[0].get("traceparent")


class WebhookWorker(BackgroundLoop):
    """Makes every due attempt, records it, and schedules the next per the retry schedule."""

    thread_name = "o2c-webhooks"

    def __init__(
        self,
        hooks: WebhookStore,
        store: EventStore,
        settings: Settings,
        clock: Callable[[], Clock],
        leadership: Leadership | None = None,
        sender: WebhookSender | None = None,
        poll: float = 0.25,
    ) -> None:
        super().__init__()
        self.hooks = hooks
        self.store = store
        self.settings = settings
        self.clock = clock
        self.leadership = leadership
        self.sender = sender or WebhookSender(settings.webhook_timeout, settings.webhook_allow_private)
        self.poll = poll
        self.attempted = 0
        self._pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="o2c-webhook")

    def run_due(self) -> int:
        """One pass over what is due now; returns the attempts made."""
        if self.leadership is not None and NAME not in self.leadership.refresh():
            return 0
        due = self.hooks.due(self.clock().now(), limit=500)
        by_hook: dict[str, list[tuple[Hook, dict[str, Any]]]] = defaultdict(list)
        for hook, delivery in due:
            by_hook[hook.webhook_id].append((hook, delivery))
        made = sum(self._pool.map(self._send_all, by_hook.values()))
        self.attempted += made
        return made

    def _send_all(self, items: list[tuple[Hook, dict[str, Any]]]) -> int:
        made = 0
        for hook, delivery in items:
            if self._stop.is_set():
                break
            try:
                status = self._attempt(hook, delivery)
            except Exception:  # the store is away, or a bug: this delivery stays pending and is tried again
                log.exception("webhook attempt could not be recorded", extra={"webhook_id": hook.webhook_id})
                break
            made += 1
            if status == "gone":
                break  # the webhook is disabled: its other deliveries wait
        return made

    def _attempt(self, hook: Hook, delivery: dict[str, Any]) -> str:
        body, parent = body_of(self.store, int(delivery["position"]))
        now = self.clock().now()
        if body is None:  # cannot happen for a public event; recorded rather than retried for ever
            result = AttemptResult(None, 0, "the event is not in the feed")
        else:
            with tracing.span(
                "webhook attempt", parent, kind="client", o2c__webhook_id=hook.webhook_id, url__full=hook.url
            ) as span:
                secrets = hook.signing_secrets(now)
                result = self.sender.send(hook.url, secrets, delivery["delivery_id"], body, span.traceparent)
                span.set("http.response.status_code", result.status_code)
                if not result.succeeded:
                    span.error(result.error or "failed")
        status = self.hooks.record_attempt(hook, delivery, now, result, self.settings.webhook_retry_schedule)
        facts = {
            "webhook_id": hook.webhook_id,
            "delivery_id": delivery["delivery_id"],
            "position": delivery["position"],
            "status_code": result.status_code,
            "status": status,
        }
        if result.succeeded:
            log.info("webhook delivered", extra=facts)
        else:
            log.warning("webhook attempt failed", extra={**facts, "error": result.error})
        return "gone" if result.gone else status

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_due()
            except Exception:
                log.exception("webhook pass failed")
            self._wake.wait(self.poll)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.sender.close()
