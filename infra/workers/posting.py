"""The posting workflow: follows the log and posts the journal entry of every invoice, credit note,
payment, discount and credit application (domain/journal.py), in log order.

Each entry is posted on its own stream, named by its deterministic id (`JE-<kind>-<id>`), and a
stream that holds its entry records nothing more: replaying the log, a crash between posting and
saving the tracking position, a rebuild or a second process after a lock change post nothing twice.
An entry's causation is the source event (`event:<stream>:<version>`); its date is the source's
business date (issued_on, received_on, on), else the day the source was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from domain import journal
from infra import commands
from infra.eventstore.codec import Recorded
from infra.ledger.unitofwork import Context
from infra.readside.tracking import ensure_tables, read_position, save_position
from infra.workers.workflows import ParkingFollower


def entry_of(record: Recorded, accounts: journal.Accounts) -> journal.JournalEntryPosted | None:
    """The entry a recorded event posts (None: it posts nothing)."""
    return journal.entry_for(record.event, accounts, record.meta.occurred_at.date())


class Posting(ParkingFollower):
    name = "workflow:journal"

    def __init__(self, app: commands.Application, engine: sa.Engine, accounts: journal.Accounts) -> None:
        self.app = app
        self.engine = engine
        self.accounts = accounts
        self.posted = 0  # entries this follower recorded (a repeat records nothing and is not counted)
        ensure_tables(engine)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.name)

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        for record in records:
            if record.topic not in journal.POSTED_TOPICS:
                continue
            readable, entry = self._readable(record, lambda r: entry_of(r, self.accounts))
            if not readable or entry is None:
                continue
            ctx = Context(
                actor=self.name,
                correlation_id=record.meta.correlation_id,
                causation_id=f"event:{record.stream_id}:{record.version}",
            )
            self._act(record, lambda ctx=ctx, entry=entry: self._post(ctx, entry))
        with self.engine.begin() as conn:
            save_position(conn, self.name, upto)

    def _post(self, ctx: Context, entry: journal.JournalEntryPosted) -> None:
        if self.app.execute(ctx, journal.PostJournalEntry(entry)).result is not None:
            self.posted += 1
