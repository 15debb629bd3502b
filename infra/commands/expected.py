"""Expected supply: expected receipts (create, change, close; receipts count against them) and the
stock that becomes free when one closes. The promise workflow reads their effect on the read side."""

from __future__ import annotations

from domain import expected
from domain.errors import InvalidRequestError
from infra.commands.lookups import require_product, require_warehouse
from infra.ledger.kinds import EXPECTED
from infra.ledger.unitofwork import UnitOfWork


def record_expected(uow: UnitOfWork, command: expected.ExpectedCommand) -> expected.ExpectedReceipt:
    """Decide a command on its expected receipt and record the events (change and close need nothing else)."""
    state = uow.record(EXPECTED, command.expected_id, expected.decide(command, uow.get(EXPECTED, command.expected_id)))
    assert state is not None
    return state


def create_expected(uow: UnitOfWork, cmd: expected.CreateExpectedReceipt) -> expected.ExpectedReceipt:
    require_warehouse(uow, cmd.warehouse_id)
    require_product(uow, cmd.sku)
    return record_expected(uow, cmd)


def count_against_expected(
    uow: UnitOfWork, receipt_id: str, warehouse_id: str, lines: tuple[tuple[str, int], ...], ids: tuple[str | None, ...]
) -> None:
    """Receipt lines that name an expected receipt count against it, up to its open qty; one that
    names another warehouse or SKU, or none that exists, refuses the whole receipt (422)."""
    for i, ((sku, qty), expected_id) in enumerate(zip(lines, ids, strict=False)):
        if expected_id is None:
            continue
        command = expected.ReceiveAgainstExpected(expected_id, receipt_id, warehouse_id, sku, qty)
        try:
            record_expected(uow, command)
        except InvalidRequestError as exc:
            errors = [{**e, "field": f"lines[{i}].{e['field']}"} for e in exc.facts.get("errors", [])]
            raise InvalidRequestError(exc.detail, errors=errors) from None
