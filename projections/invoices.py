"""Invoices and credit notes: status, tax attempts and dead letters, with the full state as a doc."""

from __future__ import annotations

import msgspec

from domain import invoice
from domain.events import Event
from domain.invoice import Invoice
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec

_EVENTS = (
    invoice.InvoiceOpened,
    invoice.ShipmentProofReceived,
    invoice.TaxAttemptFailed,
    invoice.InvoiceDeadLettered,
    invoice.InvoiceRetryRequested,
    invoice.InvoiceIssued,
    invoice.CreditNoteIssued,
    invoice.InvoiceCredited,
    invoice.PaymentApplied,
    invoice.DiscountTaken,
)
_decoder = msgspec.json.Decoder(Invoice)


def invoice_keys(event: Event) -> list[Key]:
    if isinstance(event, _EVENTS):
        return [(event.invoice_id,)]
    return []


def decode_state(doc: str) -> Invoice:
    return _decoder.decode(doc)


def evolve_invoice_row(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    state = (row.get("_state") or decode_state(row["doc"])) if row else None
    state = invoice.evolve_invoice(state, event)
    if state is None:
        return row
    parked_at = row["parked_at"] if row else None
    if isinstance(event, invoice.InvoiceDeadLettered):
        parked_at = info.occurred_at
    return {
        "invoice_id": state.invoice_id,
        "kind": state.kind,
        "number": state.number,
        "order_id": state.order_id,
        "shipment_id": state.shipment_id,
        "customer_id": state.customer_id,
        "status": state.status,
        "attempts": state.attempts,
        "next_attempt_at": state.next_attempt_at,
        "dead_letter": state.dead_letter_open,
        "parked_at": parked_at if state.dead_letter_open else None,
        "seq": row["seq"] if row else info.position,
        "_state": state,
    }


def dump_invoice_row(row: Row) -> Row:
    if "doc" not in row:
        row["doc"] = msgspec.json.encode(row["_state"]).decode()
    return row


INVOICES = ProjectionSpec(
    name="invoices",
    tables=(
        TableSpec(
            "invoices",
            ("invoice_id",),
            (
                Column("invoice_id", "str"),
                Column("kind", "str"),
                Column("number", "int"),
                Column("order_id", "str", index=True),
                Column("shipment_id", "str"),
                Column("customer_id", "str", index=True),
                Column("status", "str", index=True),
                Column("attempts", "int"),
                Column("next_attempt_at", "time"),
                Column("dead_letter", "bool", index=True),
                Column("parked_at", "time"),
                Column("seq", "int", index=True),
                Column("doc", "json"),
            ),
            invoice_keys,
            evolve_invoice_row,
            _EVENTS,
            dump_invoice_row,
        ),
    ),
)
