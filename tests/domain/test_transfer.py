"""Transfer: stock of one SKU moving between two warehouses, received once."""

from __future__ import annotations

from datetime import date

import msgspec

from domain import transfer
from domain.errors import AlreadyReceivedError, DuplicateIdError, InvalidRequestError, NotFoundError
from domain.transfer import (
    InitiateTransfer,
    ReceiveTransfer,
    Transfer,
    TransferInitiated,
    TransferReceived,
    evolve_transfer,
)
from tests.spec import given, spec

INITIATED = TransferInitiated(transfer_id="T-1", sku="BOLT-10", from_warehouse_id="W-A", to_warehouse_id="W-B", qty=4)
RECEIVED = TransferReceived(transfer_id="T-1", sku="BOLT-10", to_warehouse_id="W-B", qty=4)


def test_a_transfer_between_two_warehouses_is_initiated() -> None:
    state = (
        given(evolve_transfer, None)
        .when(lambda _: transfer.initiate("T-1", "BOLT-10", "W-A", "W-B", 4))
        .then(INITIATED)
    )
    assert state == Transfer("T-1", "BOLT-10", "W-A", "W-B", 4, received=False)


def test_a_transfer_to_the_same_warehouse_is_rejected() -> None:
    error = (
        given(evolve_transfer, None)
        .when(lambda _: transfer.initiate("T-1", "BOLT-10", "W-A", "W-A", 4))
        .then_raises(
            InvalidRequestError,
            errors=[{"field": "to_warehouse_id", "message": "must differ from from_warehouse_id"}],
        )
    )
    assert (error.category, error.code) == ("rejected", "invalid_request")


def test_receiving_a_transfer_records_what_arrived_where() -> None:
    state = given(evolve_transfer, None, INITIATED).when(transfer.receive).then(RECEIVED)
    assert state is not None and state.received


def test_receiving_a_transfer_twice_is_rejected() -> None:
    error = (
        given(evolve_transfer, None, INITIATED, RECEIVED)
        .when(transfer.receive)
        .then_raises(AlreadyReceivedError, transfer_id="T-1")
    )
    assert (error.category, error.code) == ("conflict", "already_received")


transfers = spec(transfer.decider)


def test_the_decider_initiates_and_receives_a_transfer_once() -> None:
    transfers.when(InitiateTransfer("T-1", "BOLT-10", "W-A", "W-B", 4)).then(INITIATED)
    transfers.given(INITIATED).when(ReceiveTransfer("T-1")).then(RECEIVED)
    transfers.given(INITIATED, RECEIVED).when(ReceiveTransfer("T-1")).then_raises(
        AlreadyReceivedError, transfer_id="T-1"
    )


def test_a_transfer_id_used_before_is_rejected() -> None:
    error = (
        transfers.given(INITIATED)
        .when(InitiateTransfer("T-1", "BOLT-10", "W-A", "W-B", 4))
        .then_raises(DuplicateIdError, transfer_id="T-1")
    )
    assert (error.category, error.detail) == ("conflict", "Transfer T-1 already exists")


def test_receiving_a_transfer_that_does_not_exist_is_not_found() -> None:
    transfers.when(ReceiveTransfer("T-9")).then_raises(NotFoundError, transfer_id="T-9")


def test_a_transfer_may_say_when_it_is_expected_at_its_destination() -> None:
    on = date(2026, 3, 12)
    dated = TransferInitiated(
        transfer_id="T-1", sku="BOLT-10", from_warehouse_id="W-A", to_warehouse_id="W-B", qty=4, expected_on=on
    )
    state = transfers.when(InitiateTransfer("T-1", "BOLT-10", "W-A", "W-B", 4, expected_on=on)).then(dated)
    assert state == Transfer("T-1", "BOLT-10", "W-A", "W-B", 4, received=False, expected_on=on)
    assert transfer.initiate("T-1", "BOLT-10", "W-A", "W-B", 4) == [INITIATED]  # undated by default


def test_a_transfer_recorded_before_expected_on_existed_decodes_undated() -> None:
    old = b'{"transfer_id":"T-1","sku":"BOLT-10","from_warehouse_id":"W-A","to_warehouse_id":"W-B","qty":4}'
    assert msgspec.json.decode(old, type=TransferInitiated) == INITIATED
