"""Verifications asked for over HTTP (or by `o2c verify` beside a running service): their state is
kept in `o2c_verifications`, so any process of the service answers `GET /v1/admin/verify/{id}` and a
finished report survives a restart.

A request only records a `pending` row. The process that feeds every read model (the one holding
their locks on PostgreSQL; the one process on SQLite) claims it (`pending` -> `running`, one UPDATE
that only one process can win) and runs it there, pinning the live rows under the projections' own
locks (infra/readside/verify.py). If nobody claims it within `GRACE` seconds (the read models are fed
by several processes, or by none), the process that took the request claims and runs it itself, with
capture and recheck. `pending` is answered as `running`: the API names only running and done."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from infra.eventstore.store import EventStore
from infra.readside.projection import Projection
from infra.readside.tables import verifications
from infra.readside.verify import Progress, verify

log = logging.getLogger("o2c.verify")

GRACE = 5.0  # seconds a pending verification waits for the process that feeds the read models
PROGRESS_EVERY = 0.5  # seconds between progress writes while running


class Verifications:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine  # the table is made with the read side's own (infra/readside/tables.py)

    def open(self) -> str:
        """A new verification, pending until a process claims it."""
        verification_id = f"vf_{uuid.uuid4().hex}"
        with self.engine.begin() as conn:
            conn.execute(
                verifications.insert().values(
                    verification_id=verification_id, status="pending", started_at=datetime.now(UTC)
                )
            )
        return verification_id

    def pending(self) -> list[str]:
        """Verifications nobody has claimed yet, oldest first."""
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(verifications.c.verification_id)
                .where(verifications.c.status == "pending")
                .order_by(verifications.c.started_at)
            )
            return list(found.scalars())

    def claim(self, verification_id: str, by: str) -> bool:
        """Take a pending verification to run it here; False when another process took it first."""
        with self.engine.begin() as conn:
            claimed = conn.execute(
                verifications.update()
                .where(verifications.c.verification_id == verification_id, verifications.c.status == "pending")
                .values(status="running", report=json.dumps({"read_models": {}, "runs_in": by}))
            )
        return claimed.rowcount == 1

    def run(
        self,
        verification_id: str,
        projections: Sequence[Projection],
        store: EventStore,
        by: str = "",
        also: Progress | None = None,
    ) -> None:
        """Verify and record the report (a failure is recorded as a done verification with its error);
        the position reached is written to the row as it goes (for `o2c verify` watching from afar)."""
        position: int | None = None
        report: dict[str, Any] = {"read_models": {}, "runs_in": by}
        try:
            note = self._progress(verification_id, by)

            def progress(reached: int, target: int) -> None:
                note(reached, target)
                if also is not None:
                    also(reached, target)

            position, reports = verify(projections, store, progress)
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

    def _progress(self, verification_id: str, by: str) -> Progress:
        last = [0.0]

        def note(reached: int, target: int) -> None:
            if time.monotonic() - last[0] < PROGRESS_EVERY and reached < target:
                return
            last[0] = time.monotonic()
            text = json.dumps({"read_models": {}, "runs_in": by, "progress": [reached, target]})
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        verifications.update()
                        .where(verifications.c.verification_id == verification_id, verifications.c.status == "running")
                        .values(report=text)
                    )
            except sa.exc.SQLAlchemyError:  # progress is a courtesy: the verification goes on
                log.warning("could not record the progress of %s", verification_id, exc_info=True)

        return note

    def run_unless_claimed(
        self,
        verification_id: str,
        projections: Sequence[Projection],
        store: EventStore,
        by: str,
        grace: float | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """The asking process's fallback: wait `grace` seconds for the feeding process to claim it,
        else claim and run it here."""
        deadline = time.monotonic() + (GRACE if grace is None else grace)
        while time.monotonic() < deadline and not stopping():
            found = self.get(verification_id)
            if found is None or found["status"] != "running" or found["runs_in"] is not None:
                return  # claimed (or gone)
            time.sleep(0.1)
        if self.claim(verification_id, by):
            log.info("no process feeding every read model took verification %s: running it in %s", verification_id, by)
            self.run(verification_id, projections, store, by)

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
            "status": "done" if row.status == "done" else "running",  # pending is running to the API
            "position": row.position,
            "read_models": report["read_models"],
            "error": report.get("error"),
            "runs_in": report.get("runs_in"),  # None while pending
            "progress": report.get("progress"),
        }
