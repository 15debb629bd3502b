"""Posting to the journal: each entry on its own stream, named by its deterministic id, posted once."""

from __future__ import annotations

from domain import journal
from infra.ledger.kinds import JOURNAL
from infra.ledger.unitofwork import UnitOfWork


def post_entry(uow: UnitOfWork, cmd: journal.PostJournalEntry) -> journal.JournalEntryPosted | None:
    """Record the entry unless its id is posted already: replays, rebuilds and a second process posting
    the same source all end with the one entry. Returns the entry recorded now (None: posted before)."""
    entry_id = cmd.entry.entry_id
    events = journal.decide(cmd, uow.get(JOURNAL, entry_id))
    uow.record(JOURNAL, entry_id, events)
    return cmd.entry if events else None
