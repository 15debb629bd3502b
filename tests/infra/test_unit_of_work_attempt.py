"""`UnitOfWork.attempt`: part of a command all or nothing. A refused part leaves no queued event and no
changed or newly loaded stream behind; the parts around it are saved in the same write (both stores)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain import inventory
from domain.errors import InvalidRequestError
from infra.ledger.kinds import POSITION, position_key
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from tests.conftest import make_settings

CTX = Context(actor="test", correlation_id="c", causation_id="c")


@pytest.fixture
def svc(database_url: str) -> Iterator[Service]:
    service = Service.start(make_settings(database_url, group_commit=False))
    yield service
    service.close()


def received(uow: UnitOfWork, sku: str, qty: int, receipt: str) -> inventory.Position:
    event = inventory.StockReceived(sku=sku, warehouse_id="W", receipt_id=receipt, qty=qty)
    state: inventory.Position = uow.record(POSITION, position_key(sku, "W"), [event])
    return state


def test_a_refused_part_is_undone_and_the_rest_saved_together(svc: Service) -> None:
    def handle(uow: UnitOfWork) -> tuple[int, int]:
        received(uow, "A", 1, "R-1")

        def refused() -> None:
            received(uow, "A", 5, "R-2")  # a stream loaded before, changed
            received(uow, "B", 7, "R-3")  # a stream first loaded here
            raise InvalidRequestError("no")

        with pytest.raises(InvalidRequestError):
            uow.attempt(refused)
        assert uow.get(POSITION, position_key("A", "W")).on_hand == 1
        assert uow.version(POSITION, position_key("A", "W")) == 1
        assert len(uow.pending) == 1
        kept = uow.attempt(lambda: received(uow, "A", 2, "R-4"))
        return kept.on_hand, uow.version(POSITION, position_key("A", "W"))

    outcome = svc.ledger.run(CTX, handle)
    assert outcome.result == (3, 2)
    a, version = svc.ledger.load(POSITION, position_key("A", "W"))
    b, b_version = svc.ledger.load(POSITION, position_key("B", "W"))
    assert (a.on_hand, version, b.on_hand, b_version) == (3, 2, 0, 0)
