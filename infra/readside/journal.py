"""Journal queries over the journal read model (projections/journal.py): pages of entries in posting
order, and the trial balance as of a day, summed exactly (Decimal) over the per-account days up to it.

`ReadModels` takes these as `JournalReads` (its `engine` and `projections`).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from domain.journal import Accounts, JournalEntryPosted
from infra.readside.projection import Projection
from infra.readside.rowio import rows
from infra.readside.tables import Tables
from infra.readside.tracking import read_position
from projections.journal import AccountTotal, decode_entry, trial_balance


class JournalReads:
    """The journal queries of ReadModels (infra/readside/readmodels.py)."""

    engine: sa.Engine
    projections: dict[str, Projection]

    def _journal_tables(self) -> Tables:
        p = self.projections["journal"]
        p.refresh()  # a rebuild may have swapped in new tables
        return p.tables

    def list_journal(
        self,
        limit: int,
        after: int | None,
        on_or_after: date | None = None,
        on_or_before: date | None = None,
        customers: frozenset[str] | None = None,
    ) -> tuple[list[JournalEntryPosted], int | None]:
        """A page of entries in posting order (the log's), posted within the days given (and of those
        customers, when given: the `customer_id` filter narrowed by api/tenancy.py); the cursor is the
        last entry's `seq`."""
        t = self._journal_tables()["journal_entries"]
        where = [] if customers is None else [t.c.customer_id.in_(sorted(customers))]
        if after is not None:
            where.append(t.c.seq > after)
        if on_or_after is not None:
            where.append(t.c.posted_on >= on_or_after.isoformat())
        if on_or_before is not None:
            where.append(t.c.posted_on <= on_or_before.isoformat())
        query = sa.select(t.c.seq, t.c.doc).where(*where).order_by(t.c.seq).limit(limit + 1)
        with self.engine.connect() as conn:
            found = conn.execute(query).all()
        more = len(found) > limit
        found = found[:limit]
        return [decode_entry(r.doc) for r in found], (found[-1].seq if more and found else None)

    def tracking_position(self, name: str) -> int:
        """How far a follower (the posting workflow) has acted on the log, as committed."""
        with self.engine.connect() as conn:
            return read_position(conn, name)

    def trial_balance(self, as_of: date, accounts: Accounts) -> list[AccountTotal]:
        """Debits and credits per account of every entry posted on or before `as_of`."""
        t = self._journal_tables()["journal_days"]
        with self.engine.connect() as conn:
            days = rows(conn, t, [t.c.posted_on <= as_of.isoformat()])
        return trial_balance(days, accounts)
