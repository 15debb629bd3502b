"""The application's commands as values, and the results that are more than one domain state.

`Application.execute(command, ...)` (infra/commands/application.py) runs each in the ledger. The
reference-data commands are the domain's own values (catalog.PutProduct, customer.PutCustomer, ...);
placing an order, shipping and returning have their inputs in their modules (PlaceOrderInput,
ShipInput, ReturnInput).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain import inventory, payment, shipment


@dataclass(frozen=True)
class ReceiveStock:
    receipt_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]  # (sku, qty)
    expected_ids: tuple[str | None, ...] = ()  # per line: the expected receipt it counts against


@dataclass(frozen=True)
class AdjustStock:
    adjustment_id: str
    warehouse_id: str
    sku: str
    qty_delta: int
    reason: str


@dataclass(frozen=True)
class CountStock:
    count_id: str
    warehouse_id: str
    sku: str
    counted_qty: int


@dataclass(frozen=True)
class Counted:
    """A count's result: the position after it, and what was on hand before."""

    on_hand_before: int
    position: inventory.Position


@dataclass(frozen=True)
class Reconcile:
    """An outside system's stock of one warehouse against on hand; `apply` counts the mismatches."""

    reconciliation_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]  # (sku, outside qty), one line per SKU
    also: tuple[str, ...] = ()  # with `complete`: SKUs that may be on hand here although `lines` leaves them out
    apply: bool = False


@dataclass(frozen=True)
class Reconciled:
    lines: tuple[tuple[str, int, int], ...]  # (sku, outside qty, on hand before)
    applied: bool


@dataclass(frozen=True)
class StartTransfer:
    transfer_id: str
    from_warehouse_id: str
    to_warehouse_id: str
    sku: str
    qty: int
    expected_on: date | None = None  # dated: supply at the destination on that day until received


@dataclass(frozen=True)
class ReceiveTransfer:
    transfer_id: str


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str


@dataclass(frozen=True)
class ReleaseHold:
    order_id: str


@dataclass(frozen=True)
class RecordDelivery:
    shipment_id: str
    delivered_at: datetime
    signed_by: str | None


@dataclass(frozen=True)
class Shipped:
    """A shipment as a command left it, with its invoice's id once billing opened one."""

    shipment: shipment.Shipment
    invoice_id: str | None


@dataclass(frozen=True)
class ReceivePayment:
    payment_id: str
    customer_id: str
    amount: Decimal
    allocations: tuple[payment.Allocation, ...] | None  # None: earliest due invoices first
    received_on: date | None = None  # None only from callers before issue 15


@dataclass(frozen=True)
class RetryDeadLetter:
    invoice_id: str


@dataclass(frozen=True)
class FillBackorders:
    sku: str


@dataclass(frozen=True)
class OpenInvoice:
    shipment_id: str
    needs_proof: bool


@dataclass(frozen=True)
class ReceiveProof:
    shipment_id: str
    delivered_at: datetime


@dataclass(frozen=True)
class IssueInvoice:
    invoice_id: str
    tax: Decimal
    rate: Decimal
    attempt: int
    issued_on: date | None = None  # the service's day of issue (the tax worker's clock)


@dataclass(frozen=True)
class FailTax:
    invoice_id: str
    attempt: int
    error: str
    next_attempt_at: datetime
    max_attempts: int
