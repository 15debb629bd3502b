"""The application service: each command loads what it needs, asks the aggregates to decide,
and records their events in the unit of work (saved atomically by the ledger).

One module per area; this package is the one door to them: api/ and the workflows hand a command
value to `Application.execute` (infra/commands/application.py) and get back a domain result.
"""

from __future__ import annotations

from infra.commands.application import Application
from infra.commands.backorders import fill_backorders, serve_the_queue_first
from infra.commands.billing import (
    ReturnInput,
    fail_tax,
    invoice_id_for,
    issue_invoice,
    open_invoice,
    receive_payment,
    receive_proof,
    record_return,
    retry_dead_letter,
)
from infra.commands.changes import AddLineInput, ChangeOrderInput, change_order
from infra.commands.fulfilment import ShipInput, deliver, ship
from infra.commands.inventory import adjust_stock, count_stock, receive_stock, receive_transfer, start_transfer
from infra.commands.messages import (
    AdjustStock,
    CancelOrder,
    Counted,
    CountStock,
    FailTax,
    FillBackorders,
    IssueInvoice,
    OpenInvoice,
    ReceivePayment,
    ReceiveProof,
    ReceiveStock,
    ReceiveTransfer,
    Reconcile,
    Reconciled,
    RecordDelivery,
    ReleaseHold,
    RetryDeadLetter,
    Shipped,
    StartTransfer,
)
from infra.commands.orders import OrderLineInput, PlaceOrderInput, cancel_order, place_order, release_hold
from infra.commands.receivables import Applied, ApplyCredit, RunDunning
from infra.commands.reference import put_customer, put_product, put_warehouse, set_contract_price

__all__ = [
    "AddLineInput",
    "AdjustStock",
    "Application",
    "Applied",
    "ApplyCredit",
    "CancelOrder",
    "ChangeOrderInput",
    "CountStock",
    "Counted",
    "FailTax",
    "FillBackorders",
    "IssueInvoice",
    "OpenInvoice",
    "OrderLineInput",
    "PlaceOrderInput",
    "ReceivePayment",
    "ReceiveProof",
    "ReceiveStock",
    "ReceiveTransfer",
    "Reconcile",
    "Reconciled",
    "RecordDelivery",
    "ReleaseHold",
    "RetryDeadLetter",
    "ReturnInput",
    "RunDunning",
    "ShipInput",
    "Shipped",
    "StartTransfer",
    "adjust_stock",
    "cancel_order",
    "change_order",
    "count_stock",
    "deliver",
    "fail_tax",
    "fill_backorders",
    "invoice_id_for",
    "issue_invoice",
    "open_invoice",
    "place_order",
    "put_customer",
    "put_product",
    "put_warehouse",
    "receive_payment",
    "receive_proof",
    "receive_stock",
    "receive_transfer",
    "record_return",
    "release_hold",
    "retry_dead_letter",
    "serve_the_queue_first",
    "set_contract_price",
    "ship",
    "start_transfer",
]
