"""Expected receipts: supply announced for a date, changed, closed, and received against."""

from __future__ import annotations

from datetime import date

from domain import expected
from domain.errors import (
    BelowReceivedError,
    DuplicateIdError,
    ExpectedReceiptClosedError,
    InvalidRequestError,
    NotFoundError,
)
from domain.expected import (
    CUT_TO_RECEIVED,
    RECEIVED_IN_FULL,
    ChangeExpectedReceipt,
    CloseExpectedReceipt,
    CreateExpectedReceipt,
    ExpectedReceipt,
    ExpectedReceiptChanged,
    ExpectedReceiptClosed,
    ExpectedReceiptCreated,
    ExpectedReceiptReceived,
    ReceiveAgainstExpected,
)
from domain.transfer import TransferReceived
from domain.values import MAX_QTY
from tests.spec import spec

MAR_10 = date(2026, 3, 10)
MAR_12 = date(2026, 3, 12)
FACTS = {"expected_id": "EXP-1", "warehouse_id": "W-A", "sku": "NUT-4"}

receipts = spec(expected.decider, "EXP-1")

CREATE = CreateExpectedReceipt("EXP-1", "W-A", "NUT-4", 10, MAR_10, reference="PO-881")
CREATED = ExpectedReceiptCreated(**FACTS, qty=10, expected_on=MAR_10, reference="PO-881")


def receipt(receipt_id: str, qty: int, wh: str = "W-A", sku: str = "NUT-4") -> ReceiveAgainstExpected:
    return ReceiveAgainstExpected("EXP-1", receipt_id, wh, sku, qty)


def received(receipt_id: str, receipt_qty: int, qty: int, total: int, open_: int) -> ExpectedReceiptReceived:
    return ExpectedReceiptReceived(
        **FACTS, receipt_id=receipt_id, receipt_qty=receipt_qty, qty=qty, received=total, open=open_
    )


def closed(reason: str, dropped: int, total: int) -> ExpectedReceiptClosed:
    return ExpectedReceiptClosed(**FACTS, reason=reason, dropped=dropped, received=total)


R4 = received("R-1", 4, 4, 4, 6)


# --- create -------------------------------------------------------------------------------


def test_an_expected_receipt_is_created_open_with_all_of_its_qty_expected() -> None:
    state = receipts.when(CREATE).then(CREATED)
    assert state is not None
    assert (state.qty, state.received, state.open, state.status, state.expected_on) == (10, 0, 10, "open", MAR_10)
    assert (state.warehouse_id, state.sku, state.reference) == ("W-A", "NUT-4", "PO-881")


def test_the_reference_is_optional() -> None:
    receipts.when(CreateExpectedReceipt("EXP-1", "W-A", "NUT-4", 10, MAR_10)).then(
        ExpectedReceiptCreated(**FACTS, qty=10, expected_on=MAR_10, reference=None)
    )


def test_a_qty_outside_1_to_the_limit_is_invalid() -> None:
    for qty in (0, -1, MAX_QTY + 1):
        error = receipts.when(CreateExpectedReceipt("EXP-1", "W-A", "NUT-4", qty, MAR_10)).then_raises(
            InvalidRequestError, errors=[{"field": "qty", "message": f"must be 1-{MAX_QTY}"}]
        )
        assert (error.category, error.code) == ("rejected", "invalid_request")


def test_a_reference_with_control_characters_or_too_long_is_invalid() -> None:
    for reference in ("PO\n1", "", "x" * 201):
        receipts.when(CreateExpectedReceipt("EXP-1", "W-A", "NUT-4", 1, MAR_10, reference)).then_raises(
            InvalidRequestError
        )


def test_the_same_create_again_records_nothing_even_after_changes_and_receipts() -> None:
    receipts.given(CREATED).when(CREATE).then()
    moved = ExpectedReceiptChanged(
        **FACTS, expected_on=MAR_12, qty=10, previous_expected_on=MAR_10, previous_qty=10, received=0, open=10
    )
    receipts.given(CREATED, moved, R4).when(CREATE).then()


def test_another_create_under_the_same_id_is_a_duplicate() -> None:
    others = [
        CreateExpectedReceipt("EXP-1", "W-B", "NUT-4", 10, MAR_10, "PO-881"),
        CreateExpectedReceipt("EXP-1", "W-A", "BOLT-10", 10, MAR_10, "PO-881"),
        CreateExpectedReceipt("EXP-1", "W-A", "NUT-4", 11, MAR_10, "PO-881"),
        CreateExpectedReceipt("EXP-1", "W-A", "NUT-4", 10, MAR_12, "PO-881"),
        CreateExpectedReceipt("EXP-1", "W-A", "NUT-4", 10, MAR_10, None),
    ]
    for other in others:
        error = receipts.given(CREATED).when(other).then_raises(DuplicateIdError, expected_id="EXP-1")
        assert (error.category, error.code) == ("conflict", "duplicate_id")


# --- change -------------------------------------------------------------------------------


def changed(on: date, qty: int, prev_on: date = MAR_10, prev_qty: int = 10, total: int = 0) -> ExpectedReceiptChanged:
    return ExpectedReceiptChanged(
        **FACTS,
        expected_on=on,
        qty=qty,
        previous_expected_on=prev_on,
        previous_qty=prev_qty,
        received=total,
        open=qty - total,
    )


def test_a_change_moves_the_date_the_qty_or_both() -> None:
    state = receipts.given(CREATED).when(ChangeExpectedReceipt("EXP-1", expected_on=MAR_12)).then(changed(MAR_12, 10))
    assert state is not None and (state.expected_on, state.open) == (MAR_12, 10)
    state = receipts.given(CREATED).when(ChangeExpectedReceipt("EXP-1", qty=7)).then(changed(MAR_10, 7))
    assert state is not None and state.open == 7
    receipts.given(CREATED).when(ChangeExpectedReceipt("EXP-1", MAR_12, 12)).then(changed(MAR_12, 12))


def test_a_change_to_what_it_already_says_records_nothing() -> None:
    receipts.given(CREATED).when(ChangeExpectedReceipt("EXP-1", MAR_10, 10)).then()


def test_a_change_keeps_what_was_received_and_says_what_stays_open() -> None:
    state = receipts.given(CREATED, R4).when(ChangeExpectedReceipt("EXP-1", qty=8)).then(changed(MAR_10, 8, total=4))
    assert state is not None and (state.received, state.open) == (4, 4)


def test_a_qty_below_what_was_received_is_refused_with_its_facts() -> None:
    error = (
        receipts.given(CREATED, R4)
        .when(ChangeExpectedReceipt("EXP-1", qty=3))
        .then_raises(BelowReceivedError, expected_id="EXP-1", received=4, requested=3)
    )
    assert (error.category, error.code) == ("conflict", "below_received")


def test_a_qty_cut_to_what_was_received_leaves_nothing_open_so_it_closes() -> None:
    state = (
        receipts.given(CREATED, R4)
        .when(ChangeExpectedReceipt("EXP-1", qty=4))
        .then(changed(MAR_10, 4, total=4), closed(CUT_TO_RECEIVED, 0, 4))
    )
    assert state is not None and (state.status, state.open, state.qty) == ("closed", 0, 4)


def test_a_change_with_nothing_to_change_or_a_bad_qty_is_invalid() -> None:
    receipts.given(CREATED).when(ChangeExpectedReceipt("EXP-1")).then_raises(InvalidRequestError)
    receipts.given(CREATED).when(ChangeExpectedReceipt("EXP-1", qty=0)).then_raises(
        InvalidRequestError, errors=[{"field": "qty", "message": f"must be 1-{MAX_QTY}"}]
    )


def test_a_closed_expected_receipt_takes_no_changes() -> None:
    error = (
        receipts.given(CREATED, closed("supplier cancelled", 10, 0))
        .when(ChangeExpectedReceipt("EXP-1", expected_on=MAR_12))
        .then_raises(ExpectedReceiptClosedError, expected_id="EXP-1", reason="supplier cancelled")
    )
    assert (error.category, error.code) == ("conflict", "expected_receipt_closed")


def test_changing_or_closing_one_that_does_not_exist_is_not_found() -> None:
    for command in (ChangeExpectedReceipt("EXP-1", qty=3), CloseExpectedReceipt("EXP-1", "gone")):
        error = receipts.when(command).then_raises(NotFoundError, expected_id="EXP-1")
        assert error.category == "not_found"


# --- close --------------------------------------------------------------------------------


def test_closing_gives_up_the_open_rest() -> None:
    state = (
        receipts.given(CREATED, R4)
        .when(CloseExpectedReceipt("EXP-1", "short shipped"))
        .then(closed("short shipped", 6, 4))
    )
    assert state == ExpectedReceipt(
        "EXP-1",
        "W-A",
        "NUT-4",
        10,
        MAR_10,
        "PO-881",
        received=4,
        status="closed",
        close_reason="short shipped",
        receipt_ids=("R-1",),
        created_qty=10,
        created_on=MAR_10,
    )
    assert state.open == 0


def test_closing_twice_records_nothing_the_second_time() -> None:
    receipts.given(CREATED, closed("short", 10, 0)).when(CloseExpectedReceipt("EXP-1", "again")).then()


def test_a_close_reason_must_be_text_without_control_characters() -> None:
    for reason in ("", "a\x00b"):
        receipts.given(CREATED).when(CloseExpectedReceipt("EXP-1", reason)).then_raises(InvalidRequestError)


# --- receiving against it -----------------------------------------------------------------


def test_a_receipt_counts_against_the_open_qty() -> None:
    state = receipts.given(CREATED).when(receipt("R-1", 4)).then(R4)
    assert state is not None and (state.received, state.open, state.status) == (4, 6, "open")


def test_the_receipt_that_brings_the_rest_closes_it() -> None:
    state = (
        receipts.given(CREATED, R4)
        .when(receipt("R-2", 6))
        .then(received("R-2", 6, 6, 10, 0), closed(RECEIVED_IN_FULL, 0, 10))
    )
    assert state is not None and (state.status, state.open, state.received) == ("closed", 0, 10)


def test_a_receipt_over_the_open_qty_counts_only_the_open_part() -> None:
    receipts.given(CREATED, R4).when(receipt("R-2", 9)).then(
        received("R-2", 9, 6, 10, 0), closed(RECEIVED_IN_FULL, 0, 10)
    )


def test_the_same_receipt_counts_once() -> None:
    receipts.given(CREATED, R4).when(receipt("R-1", 4)).then()


def test_a_receipt_after_the_close_counts_nothing_but_is_not_refused() -> None:
    receipts.given(CREATED, closed("short", 10, 0)).when(receipt("R-1", 4)).then()


def test_a_receipt_of_another_sku_or_warehouse_is_invalid() -> None:
    for command in (receipt("R-1", 4, wh="W-B"), receipt("R-1", 4, sku="BOLT-10")):
        error = (
            receipts.given(CREATED)
            .when(command)
            .then_raises(InvalidRequestError, errors=[{"field": "expected_id", "message": "is for NUT-4 at W-A"}])
        )
        assert (error.category, error.code) == ("rejected", "invalid_request")


def test_a_receipt_naming_an_unknown_expected_receipt_is_invalid() -> None:
    receipts.when(receipt("R-1", 4)).then_raises(
        InvalidRequestError, errors=[{"field": "expected_id", "message": "no expected receipt EXP-1"}]
    )


def test_events_of_another_stream_leave_the_state_alone() -> None:
    assert expected.evolve_expected(None, R4) is None
    state = expected.decider.fold("EXP-1", [CREATED])
    other = TransferReceived(transfer_id="T-1", sku="NUT-4", to_warehouse_id="W-A", qty=4)
    assert expected.evolve_expected(state, other) == state
