"""Credit notes for returns: taxed at the originals' rates, applied to the invoices the returned units
were billed on up to their balances, the rest unapplied credit (API.md "Corrections to the first
edition"); exact at every size."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.credit_notes import ReturnedItem, credit_note, credit_originals
from domain.invoice import Invoice, InvoiceCredited, evolve_invoice

D = Decimal


def an_issued_invoice(invoice_id: str, rate: str, total: str, paid: str = "0.00", credited: str = "0.00") -> Invoice:
    return Invoice(
        invoice_id=invoice_id,
        kind="invoice",
        order_id="SO-1",
        shipment_id=invoice_id.removeprefix("INV-"),
        customer_id="C1",
        tax_region="CA",
        lines=(),
        freight=D("0.00"),
        subtotal=D(total),
        tax_rate=D(rate),
        total=D(total),
        number=1,
        paid=D(paid),
        credited=D(credited),
    )


def widgets(qty: int, original: Invoice, price: str = "12.49") -> ReturnedItem:
    return ReturnedItem(sku="WIDGET", line_id="1", qty=qty, unit_price=D(price), original=original)


def every_cent_is_somewhere(note_total: Decimal, applies_to: dict[str, Decimal], unapplied: Decimal) -> bool:
    return sum(applies_to.values(), D("0.00")) + unapplied == -note_total and unapplied >= 0


def test_a_credit_note_is_negative_taxed_at_each_originals_rate_and_rounded_once() -> None:
    first = an_issued_invoice("INV-SH-1", "0.0825", "100.00")
    second = an_issued_invoice("INV-SH-2", "0.05", "100.00")
    items = [
        ReturnedItem(sku="BOLT", line_id="1", qty=3, unit_price=D("8.50"), original=first),  # 25.50, tax 2.10375
        ReturnedItem(sku="NUT", line_id="2", qty=7, unit_price=D("0.25"), original=second),  # 1.75, tax 0.0875
    ]

    note = credit_note("CN-RMA-1", "RMA-1", "SO-1", "C1", 4, items)

    assert [ln.amount for ln in note.lines] == [D("-25.50"), D("-1.75")]
    assert note.subtotal == D("-27.25")
    assert note.tax == D("-2.19")  # 2.19125 rounded once, not 2.10 + 0.09
    assert note.total == D("-29.44")
    assert note.applies_to == {"INV-SH-1": D("27.60"), "INV-SH-2": D("1.84")}
    assert note.unapplied == D("0.00")
    assert sum(note.applies_to.values()) == -note.total
    assert (note.number, note.invoice_id, note.return_id) == (4, "CN-RMA-1", "RMA-1")


def test_a_credit_note_never_takes_an_original_below_a_zero_balance_and_the_rest_is_unapplied() -> None:
    nearly_paid = an_issued_invoice("INV-SH-1", "0.00", "100.00", paid="95.00")
    items = [ReturnedItem(sku="BOLT", line_id="1", qty=2, unit_price=D("8.50"), original=nearly_paid)]

    note = credit_note("CN-RMA-2", "RMA-2", "SO-1", "C1", 1, items)

    assert note.total == D("-17.00")
    assert note.applies_to == {"INV-SH-1": D("5.00")}
    assert note.unapplied == D("12.00")  # the customer's unapplied credit


def test_a_credit_note_for_units_of_a_paid_invoice_is_all_unapplied_credit() -> None:
    """Issue 11: 4 x 12.49 returned from an invoice paid in full; 53.58 must not vanish."""
    paid = an_issued_invoice("INV-SH-1", "0.0725", "61.63", paid="61.63")

    note = credit_note("CN-RMA-1", "RMA-1", "SO-1", "C1", 1, [widgets(4, paid)])

    assert (note.subtotal, note.tax, note.total) == (D("-49.96"), D("-3.62"), D("-53.58"))
    assert note.applies_to == {}
    assert note.unapplied == D("53.58")


def test_what_one_original_cannot_take_goes_to_another_original_of_the_return_with_a_balance() -> None:
    paid = an_issued_invoice("INV-SH-1", "0.0725", "26.79", paid="26.79")
    open_ = an_issued_invoice("INV-SH-2", "0.0725", "26.79")

    note = credit_note("CN-RMA-1", "RMA-1", "SO-1", "C1", 1, [widgets(2, paid), widgets(1, open_)])

    assert note.total == D("-40.19")
    assert note.applies_to == {"INV-SH-2": D("26.79")}  # its own 13.40, then what INV-SH-1 could not take
    assert note.unapplied == D("13.40")
    assert every_cent_is_somewhere(note.total, note.applies_to, note.unapplied)


def test_a_credit_note_applied_to_a_partly_credited_invoice_takes_only_what_is_left() -> None:
    credited = an_issued_invoice("INV-SH-1", "0.0725", "61.63", credited="53.58")  # 8.05 left: freight and tax

    note = credit_note("CN-RMA-2", "RMA-2", "SO-1", "C1", 2, [widgets(1, credited)])

    assert note.total == D("-13.40")
    assert note.applies_to == {"INV-SH-1": D("8.05")}
    assert note.unapplied == D("5.35")


@pytest.mark.parametrize(
    ("balances", "credit", "applied"),
    [
        ({"A": "10.00", "B": "10.00"}, "8.00", {"A": "4.00", "B": "4.00"}),
        ({"A": "0.00", "B": "10.00"}, "8.00", {"B": "8.00"}),
        ({"A": "1.00", "B": "2.00"}, "8.00", {"A": "1.00", "B": "2.00"}),
        ({"A": "0.00", "B": "0.00"}, "8.00", {}),
        ({"A": "3.00", "B": "10.00"}, "8.00", {"A": "3.00", "B": "5.00"}),
    ],
)
def test_each_original_takes_its_share_up_to_its_balance_then_what_others_left(
    balances: dict[str, str], credit: str, applied: dict[str, str]
) -> None:
    shares = {"A": D("4.00"), "B": D("4.00")}
    taken = credit_originals(D(credit), shares, {k: D(v) for k, v in balances.items()})
    assert taken == {k: D(v) for k, v in applied.items()}
    assert all(taken[k] <= D(balances[k]) for k in taken)


def test_crediting_an_invoice_never_takes_its_balance_below_zero() -> None:
    original = an_issued_invoice("INV-SH-1", "0.0725", "61.63", paid="50.00")
    note = credit_note("CN-RMA-1", "RMA-1", "SO-1", "C1", 1, [widgets(4, original)])
    after = evolve_invoice(
        original, InvoiceCredited(invoice_id="INV-SH-1", credit_note_id="CN-RMA-1", amount=note.applies_to["INV-SH-1"])
    )
    assert after is not None and (after.balance, after.credited, after.status) == (D("0.00"), D("11.63"), "paid")
    assert note.unapplied == D("41.95")


def test_a_credit_note_of_500_of_the_largest_lines_is_exact() -> None:
    rate = "0.0725722242"  # an outside engine's effective rate, to 10 places
    line_cents = 1_000_000_000 * 99999999999999
    original = an_issued_invoice("INV-SH-1", rate, str(D(500 * line_cents).scaleb(-2) * 2))
    items = [
        ReturnedItem(sku=f"P{n}", line_id=str(n), qty=1_000_000_000, unit_price=D("999999999999.99"), original=original)
        for n in range(500)
    ]

    note = credit_note("CN-RMA-1", "RMA-1", "SO-1", "C1", 1, items)

    subtotal_cents = 500 * line_cents
    tax_cents, rest = divmod(subtotal_cents * 725722242, 10**10)  # exact tax, in cents and a rest
    tax_cents += 1 if 2 * rest >= 10**10 else 0  # half-up
    assert note.subtotal == -D(subtotal_cents).scaleb(-2)
    assert note.tax == -D(tax_cents).scaleb(-2)
    assert note.total == -D(subtotal_cents + tax_cents).scaleb(-2)
    assert note.applies_to == {"INV-SH-1": -note.total}


def test_a_credit_notes_tax_on_large_amounts_is_exact_before_it_is_rounded_once() -> None:
    # With Decimal's 28 default digits each line's tax is rounded first: ...559.81 instead of ...559.80.
    returned = [(266150758, 43394161743010), (349456712, 85716527318189), (813251999, 24772758494161)]  # qty, cents
    original = an_issued_invoice("INV-SH-1", "0.0725722242", "999999999999999999999999.99")
    items = [
        ReturnedItem(sku=f"P{n}", line_id=str(n), qty=qty, unit_price=D(price).scaleb(-2), original=original)
        for n, (qty, price) in enumerate(returned)
    ]

    note = credit_note("CN-RMA-1", "RMA-1", "SO-1", "C1", 1, items)

    tax_cents, rest = divmod(sum(q * p for q, p in returned) * 725722242, 10**10)
    assert 2 * rest < 10**10
    assert note.tax == -D(tax_cents).scaleb(-2) == D("-44740848942089707559.80")
