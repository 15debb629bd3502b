"""The durable state of webhooks, in the event store's own database: the webhooks themselves, one
delivery row per (webhook, event) and one row per attempt.

Webhooks are configuration, not business facts, so they are rows, not events: they must not appear in
the feed they deliver (docs/decisions/0022-webhooks.md). A delivery row is written in the same
transaction that moves the delivery workflow's tracking position, so an event is never skipped; an
attempt is recorded after the call, so a crash in between repeats it (at least once)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from domain.values import format_timestamp
from infra.eventstore.codec import INTERNAL_TOPICS, Recorded
from infra.eventstore.feed import event_id
from infra.workers.webhook_tables import attempts, deliveries, ensure_webhook_tables, webhooks

ROTATION_GRACE = timedelta(hours=24)  # the old secret still signs for this long after a rotation
OVERDUE = timedelta(seconds=60)  # a pending delivery this far past its next attempt counts as failing


def _ts(value: float | None) -> str | None:
    return None if value is None else format_timestamp(datetime.fromtimestamp(value, UTC))


def matches(event_types: Sequence[str], topic: str) -> bool:
    return "*" in event_types or topic in event_types


@dataclass(frozen=True)
class Hook:
    """A webhook as the delivery workflow needs it."""

    webhook_id: str
    url: str
    event_types: tuple[str, ...]
    status: str
    after_position: int
    secret: str
    previous_secret: str | None
    previous_until: float | None

    def signing_secrets(self, now: datetime) -> list[str]:
        old = self.previous_secret
        if old and self.previous_until is not None and self.previous_until > now.timestamp():
            return [self.secret, old]
        return [self.secret]


def _hook(row: Any) -> Hook:
    return Hook(
        row.webhook_id,
        row.url,
        tuple(json.loads(row.event_types)),
        row.status,
        row.after_position,
        row.secret,
        row.previous_secret,
        row.previous_until,
    )


def webhook_view(row: Any) -> dict[str, Any]:
    """A webhook as the API shows it: never its secret."""
    return {
        "webhook_id": row.webhook_id,
        "url": row.url,
        "event_types": json.loads(row.event_types),
        "description": row.description,
        "status": row.status,
        "disabled_reason": row.disabled_reason,
        "created_at": _ts(row.created_at),
    }


class WebhookStore:
    """Webhooks, their deliveries and attempts: every read and write of the three tables."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        ensure_webhook_tables(engine)

    # --- the webhooks ----------------------------------------------------------------------------

    def create(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """Insert a webhook; None when its id exists."""
        values = {**row, "event_types": json.dumps(list(row["event_types"]))}
        try:
            with self.engine.begin() as conn:
                conn.execute(webhooks.insert().values(**values))
        except sa.exc.IntegrityError:
            return None
        return self.get(row["webhook_id"])

    def get(self, webhook_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(webhooks).where(webhooks.c.webhook_id == webhook_id)).first()
        return None if row is None else webhook_view(row)

    def listed(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        query = sa.select(webhooks).order_by(webhooks.c.webhook_id).limit(limit)
        if after is not None:
            query = query.where(webhooks.c.webhook_id > after)
        with self.engine.connect() as conn:
            return [webhook_view(r) for r in conn.execute(query)]

    def update(self, webhook_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        values = dict(changes)
        if "event_types" in values:
            values["event_types"] = json.dumps(list(values["event_types"]))
        with self.engine.begin() as conn:
            done = conn.execute(webhooks.update().where(webhooks.c.webhook_id == webhook_id).values(**values))
        return self.get(webhook_id) if done.rowcount else None

    def rotate(self, webhook_id: str, secret: str, now: datetime) -> bool:
        """The new secret signs from now on; the current one goes on signing beside it for 24 h."""
        with self.engine.begin() as conn:
            current = conn.execute(
                sa.select(webhooks.c.secret).where(webhooks.c.webhook_id == webhook_id).with_for_update()
            ).scalar()
            if current is None:
                return False
            until = (now + ROTATION_GRACE).timestamp()
            conn.execute(
                webhooks.update()
                .where(webhooks.c.webhook_id == webhook_id)
                .values(secret=secret, previous_secret=current, previous_until=until)
            )
        return True

    def delete(self, webhook_id: str) -> bool:
        with self.engine.begin() as conn:
            conn.execute(attempts.delete().where(attempts.c.webhook_id == webhook_id))
            conn.execute(deliveries.delete().where(deliveries.c.webhook_id == webhook_id))
            done = conn.execute(webhooks.delete().where(webhooks.c.webhook_id == webhook_id))
        return bool(done.rowcount)

    def hooks(self, conn: sa.Connection, enabled_only: bool = True) -> list[Hook]:
        query = sa.select(webhooks)
        if enabled_only:
            query = query.where(webhooks.c.status == "enabled")
        return [_hook(r) for r in conn.execute(query)]

    def hook(self, webhook_id: str) -> Hook | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(webhooks).where(webhooks.c.webhook_id == webhook_id)).first()
        return None if row is None else _hook(row)

    # --- deliveries ------------------------------------------------------------------------------

    def record_deliveries(
        self, conn: sa.Connection, records: Iterable[Recorded], hooks: Sequence[Hook], now: datetime
    ) -> int:
        """A pending delivery per enabled webhook for each public event after its creation that it
        asked for; rows that exist already (a batch done again) are left alone. Returns rows written."""
        wanted: list[dict[str, Any]] = []
        for record in records:
            if record.topic in INTERNAL_TOPICS or record.position is None:
                continue
            for hook in hooks:
                if record.position > hook.after_position and matches(hook.event_types, record.topic):
                    wanted.append(self._pending(hook.webhook_id, record, now.timestamp()))
        if not wanted:
            return 0
        low, high = min(w["position"] for w in wanted), max(w["position"] for w in wanted)
        have = {
            (r.webhook_id, r.delivery_id)
            for r in conn.execute(
                sa.select(deliveries.c.webhook_id, deliveries.c.delivery_id).where(
                    deliveries.c.position.between(low, high)
                )
            )
        }
        fresh = [w for w in wanted if (w["webhook_id"], w["delivery_id"]) not in have]
        if fresh:
            conn.execute(deliveries.insert(), fresh)
        return len(fresh)

    @staticmethod
    def _pending(webhook_id: str, record: Recorded, now: float | None) -> dict[str, Any]:
        return {
            "webhook_id": webhook_id,
            "delivery_id": event_id(record),
            "event_type": record.topic,
            "position": record.position,
            "status": "pending",
            "tries": 0,
            "next_attempt_at": now,  # due from then on (a delivery not tried by a minute later is overdue)
        }

    def send_again(self, webhook_id: str, records: Iterable[Recorded], hook: Hook, now: datetime) -> int:
        """Replay: every matching public event of `records` becomes (again) a pending delivery due now."""
        count = 0
        with self.engine.begin() as conn:
            for record in records:
                if record.topic in INTERNAL_TOPICS or not matches(hook.event_types, record.topic):
                    continue
                row = self._pending(webhook_id, record, now.timestamp())
                where = (deliveries.c.webhook_id == webhook_id, deliveries.c.delivery_id == row["delivery_id"])
                done = conn.execute(
                    deliveries.update()
                    .where(*where)
                    .values(status="pending", tries=0, next_attempt_at=row["next_attempt_at"])
                )
                if not done.rowcount:
                    conn.execute(deliveries.insert().values(**row))
                count += 1
        return count

    def retry(self, webhook_id: str, delivery_id: str, now: datetime) -> dict[str, Any] | None:
        """Send a delivery again now, with a fresh round of attempts."""
        where = (deliveries.c.webhook_id == webhook_id, deliveries.c.delivery_id == delivery_id)
        with self.engine.begin() as conn:
            done = conn.execute(
                deliveries.update().where(*where).values(status="pending", tries=0, next_attempt_at=now.timestamp())
            )
        return self.delivery(webhook_id, delivery_id) if done.rowcount else None

    def due(self, now: datetime, limit: int) -> list[tuple[Hook, dict[str, Any]]]:
        """Pending deliveries of enabled webhooks whose next attempt is due, in log order."""
        query = (
            sa.select(
                webhooks,
                deliveries.c.delivery_id,
                deliveries.c.position,
                deliveries.c.tries,
                deliveries.c.event_type,
            )
            .join(webhooks, webhooks.c.webhook_id == deliveries.c.webhook_id)
            .where(
                deliveries.c.status == "pending",
                webhooks.c.status == "enabled",
                sa.or_(deliveries.c.next_attempt_at.is_(None), deliveries.c.next_attempt_at <= now.timestamp()),
            )
            .order_by(deliveries.c.position)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            (
                _hook(r),
                {"delivery_id": r.delivery_id, "position": r.position, "tries": r.tries, "event_type": r.event_type},
            )
            for r in rows
        ]

    def record_attempt(
        self,
        hook: Hook,
        delivery: dict[str, Any],
        at: datetime,
        result: Any,
        schedule: Sequence[float],
    ) -> str:
        """The attempt and what follows from it, in one transaction; returns the delivery's new status."""
        tries = int(delivery["tries"]) + 1
        next_at: float | None = None
        if result.succeeded:
            status = "succeeded"
        elif result.gone or tries > len(schedule):
            status = "failed"
        else:
            status = "pending"
            delay = max(schedule[tries - 1], result.retry_after or 0.0)
            next_at = at.timestamp() + delay
        where = (deliveries.c.webhook_id == hook.webhook_id, deliveries.c.delivery_id == delivery["delivery_id"])
        with self.engine.begin() as conn:
            n = conn.execute(
                sa.select(sa.func.count())
                .select_from(attempts)
                .where(attempts.c.webhook_id == hook.webhook_id, attempts.c.delivery_id == delivery["delivery_id"])
            ).scalar_one()
            conn.execute(
                attempts.insert().values(
                    webhook_id=hook.webhook_id,
                    delivery_id=delivery["delivery_id"],
                    n=n + 1,
                    at=at.timestamp(),
                    status_code=result.status_code,
                    duration_ms=result.duration_ms,
                    error=result.error,
                )
            )
            conn.execute(
                deliveries.update()
                .where(*where, deliveries.c.status == "pending")
                .values(status=status, tries=tries, next_attempt_at=next_at)
            )
            if result.gone:
                reason = f"the receiver answered 410 Gone at {format_timestamp(at)}"
                conn.execute(
                    webhooks.update()
                    .where(webhooks.c.webhook_id == hook.webhook_id)
                    .values(status="disabled", disabled_reason=reason)
                )
        return status

    def delivery(self, webhook_id: str, delivery_id: str) -> dict[str, Any] | None:
        found = self.deliveries(webhook_id, None, None, 1, delivery_id=delivery_id)
        return found[0] if found else None

    def deliveries(
        self, webhook_id: str, status: str | None, after: int | None, limit: int, delivery_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Deliveries of a webhook in log order, each with its attempts."""
        query = sa.select(deliveries).where(deliveries.c.webhook_id == webhook_id)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        if after is not None:
            query = query.where(deliveries.c.position > after)
        if delivery_id is not None:
            query = query.where(deliveries.c.delivery_id == delivery_id)
        query = query.order_by(deliveries.c.position).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            ids = [r.delivery_id for r in rows]
            tried: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
            if ids:
                for a in conn.execute(
                    sa.select(attempts)
                    .where(attempts.c.webhook_id == webhook_id, attempts.c.delivery_id.in_(ids))
                    .order_by(attempts.c.delivery_id, attempts.c.n)
                ):
                    tried[a.delivery_id].append(
                        {"at": _ts(a.at), "status_code": a.status_code, "duration_ms": a.duration_ms, "error": a.error}
                    )
        return [
            {
                "delivery_id": r.delivery_id,
                "event_id": r.delivery_id,
                "event_type": r.event_type,
                "position": r.position,
                "status": r.status,
                "attempts": tried[r.delivery_id],
                "next_attempt_at": _ts(r.next_attempt_at) if r.status == "pending" else None,
            }
            for r in rows
        ]

    # --- signals and metrics ---------------------------------------------------------------------

    def failing(self, now: datetime) -> list[dict[str, Any]]:
        """Enabled webhooks with a failed delivery or a pending one overdue: {webhook_id, url, failed, overdue}."""
        late = (now - OVERDUE).timestamp()
        failed = sa.func.sum(sa.case((deliveries.c.status == "failed", 1), else_=0))
        overdue = sa.func.sum(
            sa.case(((deliveries.c.status == "pending") & (deliveries.c.next_attempt_at < late), 1), else_=0)
        )
        query = (
            sa.select(webhooks.c.webhook_id, webhooks.c.url, failed.label("failed"), overdue.label("overdue"))
            .join(deliveries, deliveries.c.webhook_id == webhooks.c.webhook_id)
            .where(webhooks.c.status == "enabled")
            .group_by(webhooks.c.webhook_id, webhooks.c.url)
            .order_by(webhooks.c.webhook_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {"webhook_id": r.webhook_id, "url": r.url, "failed": int(r.failed or 0), "overdue": int(r.overdue or 0)}
            for r in rows
            if (r.failed or 0) or (r.overdue or 0)
        ]

    def outcomes(self) -> dict[tuple[str, str], int]:
        """Deliveries by (webhook, outcome): pending, succeeded, failed."""
        query = sa.select(deliveries.c.webhook_id, deliveries.c.status, sa.func.count()).group_by(
            deliveries.c.webhook_id, deliveries.c.status
        )
        with self.engine.connect() as conn:
            return {(w, s): int(n) for w, s, n in conn.execute(query)}
