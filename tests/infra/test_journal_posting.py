"""The posting workflow on the real stores: it follows the log and posts one balanced entry per invoice,
credit note, payment, discount and credit application, on the source's day, caused by the source event;
replays, a second follower and rebuilds post nothing twice; the entries are in the event feed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from domain.invoice.events import DiscountTaken
from domain.journal import JournalEntryPosted, balanced
from domain.payment import Allocation, CreditApplied
from domain.values import ZERO
from infra import commands
from infra.eventstore.feed import read_feed
from infra.ledger.kinds import INVOICE, JOURNAL, PAYMENT
from infra.readside.rebuild import rebuild
from infra.readside.tracking import save_position
from infra.service import Service
from infra.workers.posting import Posting
from infra.workers.runner import Runner
from tests.infra.readside import (
    make_runner,
    make_tax_worker,
    run,
    seed_reference,
    service,
    settle,
    snapshot,
)

SKUS = {"S1": "10.00"}
CUSTOMERS = {"C1": "100000.00"}


def journal_events(svc: Service) -> list[JournalEntryPosted]:
    return [r.event for r in svc.store.read(0, 100_000) if isinstance(r.event, JournalEntryPosted)]  # type: ignore[misc]


def sell(svc: Service, n: int, qty: int) -> None:
    """Receive, order and ship `qty` of S1 (order SO-n, shipment SH-n, invoice INV-SH-n)."""
    now = datetime.now(UTC)
    run(svc, lambda uow: commands.receive_stock(uow, f"R-{n}", "W-A", [("S1", qty)]))
    line = commands.OrderLineInput("1", "S1", qty, None)
    order = commands.PlaceOrderInput(f"SO-{n}", "C1", "web", "W-A", True, (line,), now)
    run(svc, lambda uow: commands.place_order(uow, order))
    shipped = commands.ShipInput(f"SH-{n}", f"SO-{n}", "W-A", (("S1", qty),), None, None, D("5.00"), now)
    run(svc, lambda uow: commands.ship(uow, shipped))


def story(svc: Service, runner: Runner) -> None:
    """Two invoices, a payment that overpays, a return credited on a paid invoice, then a discount
    and a credit application recorded as the receivables side records them."""
    tax = make_tax_worker(svc)
    sell(svc, 1, 3)
    sell(svc, 2, 1)
    settle(runner, tax)
    run(svc, lambda uow: commands.receive_payment(uow, "PAY-1", "C1", D("60.00"), None))
    ret = commands.ReturnInput("RMA-1", "SO-1", "W-A", (("S1", 1),), True)
    run(svc, lambda uow: commands.record_return(uow, ret))
    taken = DiscountTaken(
        invoice_id="INV-SH-2", customer_id="C1", payment_id="PAY-1", amount=D("0.30"), on=date(2026, 12, 4)
    )
    run(svc, lambda uow: uow.record(INVOICE, "INV-SH-2", [taken]))
    used = CreditApplied(
        application_id="APP-1",
        customer_id="C1",
        applied=[Allocation(invoice_id="INV-SH-2", amount=D("1.00"))],
        amount=D("1.00"),
        on=date(2026, 12, 5),
    )
    run(svc, lambda uow: uow.record(PAYMENT, "APP-1", [used]))
    settle(runner, tax)


def test_every_source_posts_one_balanced_entry_in_log_order(database_url: str) -> None:
    with service(database_url, tax_rates={"CA": D("0.0725")}) as svc:
        seed_reference(svc, SKUS, CUSTOMERS)
        runner = make_runner(svc, journal=True)
        story(svc, runner)
        posted = journal_events(svc)
        assert [e.entry_id for e in posted] == [
            "JE-invoice-INV-SH-1",
            "JE-invoice-INV-SH-2",
            "JE-payment-PAY-1",
            "JE-credit_note-CN-RMA-1",
            "JE-discount-INV-SH-2",
            "JE-credit_application-APP-1",
        ]
        assert all(balanced(e) for e in posted)
        by_id = {e.entry_id: e for e in posted}
        # 3 x 10.00 + 5.00 freight, tax 7.25% of 35.00 = 2.54 (half-up): 37.54
        lines = [(ln.account, ln.debit, ln.credit) for ln in by_id["JE-invoice-INV-SH-1"].lines]
        assert lines == [
            ("1200", D("37.54"), ZERO),
            ("4000", ZERO, D("30.00")),
            ("4100", ZERO, D("5.00")),
            ("2200", ZERO, D("2.54")),
        ]
        # 60.00 pays INV-SH-1 (37.54) and INV-SH-2 (15.00 + tax 1.09 = 16.09); 6.37 is unapplied
        lines = [(ln.account, ln.debit, ln.credit) for ln in by_id["JE-payment-PAY-1"].lines]
        assert lines == [("1000", D("60.00"), ZERO), ("1200", ZERO, D("53.63")), ("2300", ZERO, D("6.37"))]
        # the returned unit's invoice is paid: the whole note (10.00 + 0.73 tax) is unapplied credit
        lines = [(ln.account, ln.debit, ln.credit) for ln in by_id["JE-credit_note-CN-RMA-1"].lines]
        assert lines == [("4000", D("10.00"), ZERO), ("2200", D("0.73"), ZERO), ("2300", ZERO, D("10.73"))]
        assert by_id["JE-discount-INV-SH-2"].posted_on == date(2026, 12, 4)
        assert by_id["JE-credit_application-APP-1"].posted_on == date(2026, 12, 5)


def test_entries_are_caused_by_their_source_and_are_in_the_feed(database_url: str) -> None:
    with service(database_url, tax_rates={"CA": D("0.0725")}) as svc:
        seed_reference(svc, SKUS, CUSTOMERS)
        story(svc, make_runner(svc, journal=True))
        records = svc.store.read(0, 100_000)
        sources = {f"event:{r.stream_id}:{r.version}": r for r in records}
        for r in records:
            if r.topic != "JournalEntryPosted":
                continue
            assert r.meta.actor == "workflow:journal"
            source = sources[r.meta.causation_id]
            assert r.meta.correlation_id == source.meta.correlation_id
            assert r.position > source.position  # type: ignore[operator]
            assert r.meta.kind == "journal" and r.meta.key == r.event.entry_id  # type: ignore[attr-defined]
        feed, _ = read_feed(svc.store, 0, 10_000)
        entries = [e for e in feed if e["type"] == "o2c.JournalEntryPosted"]
        assert [e["subject"] for e in entries][:1] == ["journal/JE-invoice-INV-SH-1"]
        assert entries[0]["data"]["source"] == {"kind": "invoice", "id": "INV-SH-1"}
        assert entries[0]["data"]["lines"][0] == {"account": "1200", "debit": "37.54", "credit": "0.00"}


def test_a_replay_a_second_follower_and_a_rebuild_post_nothing_twice(database_url: str) -> None:
    with service(database_url, tax_rates={"CA": D("0.0725")}) as svc:
        seed_reference(svc, SKUS, CUSTOMERS)
        runner = make_runner(svc, journal=True)
        story(svc, runner)
        before = [e.entry_id for e in journal_events(svc)]
        rows = snapshot(svc, ("journal",))
        head = svc.store.head()

        posting = next(f for f in runner.followers if isinstance(f, Posting))
        with svc.engine.begin() as conn:  # as after a crash before the tracking row moved: from the start
            save_position(conn, posting.name, 0)
        posting.posted = 0
        settle(runner)
        again = Posting(svc.app, svc.engine, svc.settings.accounts)  # another process taking the lock over
        with svc.engine.begin() as conn:
            save_position(conn, again.name, 0)
        settle(Runner(svc.store, [again], 7))
        assert (posting.posted, again.posted) == (0, 0)
        assert svc.store.head() == head and [e.entry_id for e in journal_events(svc)] == before

        rebuild(svc.read["journal"])
        assert snapshot(svc, ("journal",)) == rows
        entry, version = svc.ledger.load(JOURNAL, "JE-payment-PAY-1")
        assert version == 1 and entry is not None and entry.source.id == "PAY-1"
