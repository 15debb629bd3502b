"""Verifications asked for over HTTP: their state is kept in `o2c_verifications`, so any process
of the service answers `GET /v1/admin/verify/{id}` and a finished report survives a restart."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from infra.eventstore.store import EventStore
from infra.readside.projection import Projection
from infra.readside.tables import verifications
from infra.readside.verify import verify

log = logging.getLogger("o2c.verify")


class Verifications:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine  # the table is made with the read side's own (infra/readside/tables.py)

    def open(self) -> str:
        """A new verification, running."""
        verification_id = f"vf_{uuid.uuid4().hex}"
        with self.engine.begin() as conn:
            conn.execute(
                verifications.insert().values(
                    verification_id=verification_id, status="running", started_at=datetime.now(UTC)
                )
            )
        return verification_id

    def run(self, verification_id: str, projections: Sequence[Projection], store: EventStore) -> None:
        """Verify and record the report (a failure is recorded as a done verification with its error)."""
        position: int | None = None
        report: dict[str, Any] = {"read_models": {}}
        try:
            position, reports = verify(projections, store)
            report["read_models"] = {name: r.as_dict() for name, r in reports.items()}
        except Exception as exc:
            log.exception("verification %s failed", verification_id)
            report["error"] = f"{type(exc).__name__}: {exc}"
        with self.engine.begin() as conn:
            conn.execute(
                verifications.update()
                .where(verifications.c.verification_id == verification_id)
                .values(status="done", position=position, report=json.dumps(report))
            )

    def get(self, verification_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(verifications).where(verifications.c.verification_id == verification_id)
            ).first()
        if row is None:
            return None
        report = json.loads(row.report) if row.report else {"read_models": {}}
        return {
            "verification_id": row.verification_id,
            "status": row.status,
            "position": row.position,
            "read_models": report["read_models"],
            "error": report.get("error"),
        }
