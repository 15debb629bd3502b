"""The application service: takes a command value, runs its handler in the ledger (one atomic
write, retried on conflicts, deduplicated), and returns the Outcome with the domain result.

It knows nothing of HTTP: a caller that must answer a repeat byte for byte passes a `reply`
function (result -> text); the ledger records that text with the command and a repeat gets it back.
A new command is a value in infra/commands/messages.py (or the domain's own command), a handler
`(uow, command) -> result` in the module of its area, and one line in `Application._handlers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import anyio.to_thread

from domain import apikey, catalog, customer, price_list, terms, trading_partner
from domain import expected as expected_receipts
from domain import journal as journal_domain
from domain import order as orders_domain
from domain.errors import DomainError
from infra import tracing
from infra.commands import (
    backorders,
    billing,
    changes,
    edi,
    expected,
    fulfilment,
    inventory,
    journal,
    keys,
    lookups,
    messages,
    orders,
    receivables,
    reference,
)
from infra.ledger.kinds import INVOICE, Kind
from infra.ledger.ledger import Ledger
from infra.ledger.refusals import RefusalCounter
from infra.ledger.unitofwork import Context, Dedupe, Handler, Outcome, Reply, UnitOfWork
from infra.settings import Settings

Command = Any  # a command value: one of the keys of Application._handlers
Handle = Callable[[UnitOfWork, Any], Any]


def _receive_stock(uow: UnitOfWork, c: messages.ReceiveStock) -> None:
    expected.count_against_expected(uow, c.receipt_id, c.warehouse_id, c.lines, c.expected_ids)
    inventory.receive_stock(uow, c.receipt_id, c.warehouse_id, c.lines)


def _adjust_stock(uow: UnitOfWork, c: messages.AdjustStock) -> Any:
    return inventory.adjust_stock(uow, c.adjustment_id, c.warehouse_id, c.sku, c.qty_delta, c.reason)


def _count_stock(uow: UnitOfWork, c: messages.CountStock) -> messages.Counted:
    before = lookups.position_of(uow, c.sku, c.warehouse_id).on_hand
    return messages.Counted(before, inventory.count_stock(uow, c.count_id, c.warehouse_id, c.sku, c.counted_qty))


def _start_transfer(uow: UnitOfWork, c: messages.StartTransfer) -> Any:
    return inventory.start_transfer(
        uow, c.transfer_id, c.from_warehouse_id, c.to_warehouse_id, c.sku, c.qty, c.expected_on
    )


def _invoice_of(uow: UnitOfWork, shipment_id: str) -> str | None:
    """The shipment's invoice id once billing has opened it."""
    invoice_id = billing.invoice_id_for(shipment_id)
    return invoice_id if uow.get(INVOICE, invoice_id) is not None else None


def _ship(uow: UnitOfWork, c: fulfilment.ShipInput, by_delivery: bool) -> messages.Shipped:
    state = fulfilment.ship(uow, c)
    # With the delivery trigger the invoice exists from shipment on (awaiting proof), in this write.
    opened = billing.open_invoice(uow, c.shipment_id, needs_proof=True) if by_delivery else None
    return messages.Shipped(state, opened.invoice_id if opened else None)


def _deliver(uow: UnitOfWork, c: messages.RecordDelivery, by_delivery: bool) -> messages.Shipped:
    state = fulfilment.deliver(uow, c.shipment_id, c.delivered_at, c.signed_by)
    if by_delivery and uow.has_events:  # the proof releases the invoice to tax in the same write
        billing.receive_proof(uow, c.shipment_id, c.delivered_at)
    return messages.Shipped(state, _invoice_of(uow, c.shipment_id))


def _receive_payment(uow: UnitOfWork, c: messages.ReceivePayment) -> Any:
    requested = list(c.allocations) if c.allocations is not None else None
    return billing.receive_payment(uow, c.payment_id, c.customer_id, c.amount, requested, c.received_on)


def _issue(uow: UnitOfWork, c: messages.IssueInvoice) -> Any:
    return billing.issue_invoice(uow, c.invoice_id, c.tax, c.rate, c.attempt, c.issued_on)


def _fail_tax(uow: UnitOfWork, c: messages.FailTax) -> None:
    billing.fail_tax(uow, c.invoice_id, c.attempt, c.error, c.next_attempt_at, c.max_attempts)


class Application:
    def __init__(self, ledger: Ledger, settings: Settings) -> None:
        self.ledger = ledger
        self.refusals: RefusalCounter | None = None  # counts refused orders outside the log (the service sets it)
        by_delivery = settings.billing_trigger == "delivery"
        self._handlers: dict[type, Handle] = {
            catalog.PutProduct: reference.put_product,
            catalog.PutWarehouse: reference.put_warehouse,
            customer.PutCustomer: reference.put_customer,
            customer.SetContractPrice: reference.set_contract_price,
            price_list.PutPriceList: reference.put_price_list,
            terms.PutPaymentTerms: receivables.put_payment_terms,
            receivables.ApplyCredit: receivables.apply_credit,
            receivables.RunDunning: receivables.run_dunning,
            trading_partner.PutTradingPartner: edi.put_partner,
            edi.ReceiveInterchange: edi.receive_interchange,
            edi.NumberDocument: edi.number_outbound,
            messages.ReceiveStock: _receive_stock,
            expected_receipts.CreateExpectedReceipt: expected.create_expected,
            expected_receipts.ChangeExpectedReceipt: expected.record_expected,
            expected_receipts.CloseExpectedReceipt: expected.record_expected,
            orders_domain.PromiseBackorders: orders.promise_backorders,
            messages.AdjustStock: _adjust_stock,
            messages.CountStock: _count_stock,
            messages.Reconcile: inventory.reconcile,
            messages.StartTransfer: _start_transfer,
            messages.ReceiveTransfer: lambda uow, c: inventory.receive_transfer(uow, c.transfer_id),
            orders.PlaceOrderInput: partial(orders.place_order, overdue_hold_days=settings.overdue_hold_days),
            changes.ChangeOrderInput: changes.change_order,
            messages.CancelOrder: lambda uow, c: orders.cancel_order(uow, c.order_id, c.reason)[0],
            messages.ReleaseHold: lambda uow, c: orders.release_hold(uow, c.order_id),
            fulfilment.ShipInput: partial(_ship, by_delivery=by_delivery),
            messages.RecordDelivery: partial(_deliver, by_delivery=by_delivery),
            billing.ReturnInput: billing.record_return,
            messages.ReceivePayment: _receive_payment,
            messages.RetryDeadLetter: lambda uow, c: billing.retry_dead_letter(uow, c.invoice_id),
            messages.FillBackorders: lambda uow, c: backorders.fill_backorders(uow, c.sku),
            messages.OpenInvoice: lambda uow, c: billing.open_invoice(uow, c.shipment_id, c.needs_proof),
            messages.ReceiveProof: lambda uow, c: billing.receive_proof(uow, c.shipment_id, c.delivered_at),
            messages.IssueInvoice: _issue,
            messages.FailTax: _fail_tax,
            journal_domain.PostJournalEntry: journal.post_entry,
            apikey.CreateApiKey: keys.record_key_change,
            apikey.RotateApiKey: keys.record_key_change,
            apikey.RevokeApiKey: keys.record_key_change,
        }

        # Commands that read thousands of streams: which, so they are read before the shared write (Ledger.warm).
        self._reads: dict[type, Callable[[Any], Sequence[tuple[Kind[Any], Sequence[str]]]]] = {
            messages.Reconcile: inventory.reconcile_reads,
        }

    def handler(self, *commands: Command) -> Handler:
        """The handler deciding these commands in one unit of work, in order (the result is the
        last command's)."""
        handles = [(self._handlers[type(c)], c) for c in commands]

        def handle(uow: UnitOfWork) -> Any:
            result = None
            for run, command in handles:
                result = run(uow, command)
            return result

        return handle

    def execute(
        self, ctx: Context, command: Command, dedupe: Sequence[Dedupe] = (), reply: Reply | None = None
    ) -> Outcome[Any]:
        try:
            if not tracing.enabled():
                return self.ledger.run(ctx, self.handler(command), tuple(dedupe), reply)
            with tracing.span(f"command {type(command).__name__}", ctx.traceparent, o2c__actor=ctx.actor) as span:
                outcome = self.ledger.run(
                    replace(ctx, traceparent=span.traceparent), self.handler(command), tuple(dedupe), reply
                )
                span.set("o2c.position", outcome.position)
                return outcome
        except DomainError as exc:
            self._refused(exc)
            raise

    async def execute_async(
        self, ctx: Context, command: Command, dedupe: Sequence[Dedupe] = (), reply: Reply | None = None
    ) -> Outcome[Any]:
        reads = self._reads.get(type(command))
        if reads is not None:
            await anyio.to_thread.run_sync(self.ledger.warm, reads(command))
        try:
            if not tracing.enabled():
                return await self.ledger.run_async(ctx, self.handler(command), tuple(dedupe), reply)
            with tracing.span(f"command {type(command).__name__}", ctx.traceparent, o2c__actor=ctx.actor) as span:
                traced = replace(ctx, traceparent=span.traceparent)
                outcome = await self.ledger.run_async(traced, self.handler(command), tuple(dedupe), reply)
                span.set("o2c.position", outcome.position)
                return outcome
        except DomainError as exc:
            await anyio.to_thread.run_sync(self._refused, exc)
            raise

    def _refused(self, exc: DomainError) -> None:
        if self.refusals is not None:
            self.refusals.note(exc)

    def execute_together(
        self, ctx: Context, commands: Sequence[Command], dedupe: Sequence[Dedupe] = (), reply: Reply | None = None
    ) -> Outcome[Any]:
        """Several commands as one: one write, all or nothing (loading data sets)."""
        return self.ledger.run(ctx, self.handler(*commands), tuple(dedupe), reply)
