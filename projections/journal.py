"""The journal: every posted entry (for GET /v1/journal), and per account and day the debits and
credits posted (for the trial balance as of any date: the sum of the days up to it).

Dates are ISO `YYYY-MM-DD` strings, which compare as text in the same order as the dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import msgspec

from domain import journal
from domain.events import Event
from domain.journal import JournalEntryPosted
from domain.values import ZERO, add, format_money, sum_money
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec

_EVENTS = (JournalEntryPosted,)
_decoder = msgspec.json.Decoder(JournalEntryPosted)


def decode_entry(doc: str) -> JournalEntryPosted:
    return _decoder.decode(doc)


def entry_keys(event: Event) -> list[Key]:
    return [(event.entry_id,)] if isinstance(event, JournalEntryPosted) else []


def evolve_entry(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    if row is not None or not isinstance(event, JournalEntryPosted):
        return row  # an entry is posted once; its stream holds nothing else
    return {
        "entry_id": event.entry_id,
        "seq": info.position,
        "posted_on": event.posted_on.isoformat(),
        "customer_id": event.customer_id,
        "source_kind": event.source.kind,
        "source_id": event.source.id,
        "doc": msgspec.json.encode(event).decode(),
    }


def day_keys(event: Event) -> list[Key]:
    if not isinstance(event, JournalEntryPosted):
        return []
    on = event.posted_on.isoformat()
    return list(dict.fromkeys((line.account, on) for line in event.lines))


def evolve_day(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    if not isinstance(event, JournalEntryPosted):
        return row
    row = dict(row) if row else {"account": key[0], "posted_on": key[1], "debit": ZERO, "credit": ZERO}
    for line in event.lines:
        if line.account == key[0]:
            row["debit"] = add(Decimal(row["debit"]), line.debit)
            row["credit"] = add(Decimal(row["credit"]), line.credit)
    return row


def entry_view(entry: JournalEntryPosted) -> dict[str, object]:
    """An entry as GET /v1/journal answers it (money as 2-place strings)."""
    return {
        "entry_id": entry.entry_id,
        "posted_on": entry.posted_on.isoformat(),
        "source": {"kind": entry.source.kind, "id": entry.source.id},
        "customer_id": entry.customer_id,
        "memo": entry.memo,
        "lines": [
            {"account": ln.account, "debit": format_money(ln.debit), "credit": format_money(ln.credit)}
            for ln in entry.lines
        ],
    }


@dataclass(frozen=True)
class AccountTotal:
    account: str
    role: str | None  # the account's role in the chart; None for an account the chart no longer names
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return journal.balance_of(self.debit, self.credit)


def trial_balance(days: list[Row], accounts: journal.Accounts) -> list[AccountTotal]:
    """Per account, what these days hold: every account of the chart (zero when nothing is posted to
    it) and any other account posted to, by account number."""
    roles = {number: role for role, number in accounts.by_role().items()}
    sums: dict[str, tuple[Decimal, Decimal]] = dict.fromkeys(roles, (ZERO, ZERO))
    for day in days:
        debit, credit = sums.get(day["account"], (ZERO, ZERO))
        sums[day["account"]] = (add(debit, Decimal(day["debit"])), add(credit, Decimal(day["credit"])))
    return [AccountTotal(account, roles.get(account), d, c) for account, (d, c) in sorted(sums.items())]


def trial_balance_view(totals: list[AccountTotal], as_of: str, currency: str) -> dict[str, object]:
    """The trial balance as GET /v1/journal/trial-balance answers it; totals are the columns' sums."""
    return {
        "as_of": as_of,
        "currency": currency,
        "accounts": [
            {
                "account": t.account,
                "role": t.role,
                "debit": format_money(t.debit),
                "credit": format_money(t.credit),
                "balance": format_money(t.balance),
            }
            for t in totals
        ],
        "totals": {
            "debit": format_money(sum_money(t.debit for t in totals)),
            "credit": format_money(sum_money(t.credit for t in totals)),
        },
    }


JOURNAL = ProjectionSpec(
    name="journal",
    tables=(
        TableSpec(
            "journal_entries",
            ("entry_id",),
            (
                Column("entry_id", "str"),
                Column("seq", "int", index=True),
                Column("posted_on", "str", index=True),
                Column("customer_id", "str", index=True),
                Column("source_kind", "str"),
                Column("source_id", "str"),
                Column("doc", "json"),
            ),
            entry_keys,
            evolve_entry,
            _EVENTS,
        ),
        TableSpec(
            "journal_days",
            ("account", "posted_on"),
            (
                Column("account", "str"),
                Column("posted_on", "str", index=True),
                Column("debit", "money"),
                Column("credit", "money"),
            ),
            day_keys,
            evolve_day,
            _EVENTS,
        ),
    ),
)
