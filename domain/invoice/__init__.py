"""Invoice and credit note: built from what shipped (or was returned), taxed, numbered, paid.

`events` holds what is stored, `state` the document (`evolve_invoice`), `tax` the tax arithmetic,
`decide` the rules and the commands. Numbers come from domain.sequence (re-exported here:
`NumberAssigned`, `evolve_sequence`, `next_number`). Every public name is re-exported: `invoice.X`.
"""

from domain.decider import Decider
from domain.invoice.decide import (
    ApplyPayment,
    CreditInvoice,
    InvoiceCommand,
    IssueInvoice,
    OpenInvoice,
    ReceiveProof,
    RecordTaxFailure,
    RetryDeadLetter,
    apply_payment,
    awaits_tax,
    credit,
    decide,
    fail_tax,
    issue,
    lines_for_shipment,
    open_for_shipment,
    open_invoice,
    receive_proof,
    request_retry,
    take_discount,
)
from domain.invoice.events import (
    CreditNoteIssued,
    DiscountTaken,
    InvoiceCredited,
    InvoiceDeadLettered,
    InvoiceIssued,
    InvoiceLine,
    InvoiceOpened,
    InvoiceRetryRequested,
    PaymentApplied,
    ShipmentProofReceived,
    TaxAttemptFailed,
)
from domain.invoice.state import Invoice, Kind, evolve_invoice, initial_state
from domain.invoice.tax import RATE_PLACES, effective_rate, round_tax, tax_from_rate
from domain.sequence import NumberAssigned, evolve_sequence, next_number

decider: Decider[InvoiceCommand, Invoice | None] = Decider(decide, evolve_invoice, initial_state)

__all__ = [
    "RATE_PLACES",
    "ApplyPayment",
    "CreditInvoice",
    "CreditNoteIssued",
    "DiscountTaken",
    "Invoice",
    "InvoiceCommand",
    "InvoiceCredited",
    "InvoiceDeadLettered",
    "InvoiceIssued",
    "InvoiceLine",
    "InvoiceOpened",
    "InvoiceRetryRequested",
    "IssueInvoice",
    "Kind",
    "NumberAssigned",
    "OpenInvoice",
    "PaymentApplied",
    "ReceiveProof",
    "RecordTaxFailure",
    "RetryDeadLetter",
    "ShipmentProofReceived",
    "TaxAttemptFailed",
    "apply_payment",
    "awaits_tax",
    "credit",
    "decide",
    "decider",
    "effective_rate",
    "evolve_invoice",
    "evolve_sequence",
    "fail_tax",
    "initial_state",
    "issue",
    "lines_for_shipment",
    "next_number",
    "open_for_shipment",
    "open_invoice",
    "receive_proof",
    "request_retry",
    "round_tax",
    "take_discount",
    "tax_from_rate",
]
