"""Typed rejections. Each names the broken rule, carries its facts and its problem code.

`category` says what kind of refusal it is, in the domain's words: the command is not acceptable
as asked (`rejected`), what it names does not exist (`not_found`), or it conflicts with the state
recorded so far (`conflict`). Only the API turns a category into a status code (api/errors.py)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

Category = Literal["rejected", "not_found", "conflict"]
REJECTED: Category = "rejected"
NOT_FOUND: Category = "not_found"
CONFLICT: Category = "conflict"


class DomainError(Exception):
    """A command was rejected by a business rule; nothing is recorded."""

    code = "domain_error"
    category: ClassVar[Category] = REJECTED
    title = "The command was rejected"

    def __init__(self, detail: str, **facts: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.facts = facts


class InvalidRequestError(DomainError):
    code = "invalid_request"
    title = "The request is not valid"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class NotFoundError(DomainError):
    code = "not_found"
    category = NOT_FOUND
    title = "Not found"


class UnknownSkuError(DomainError):
    code = "unknown_sku"
    title = "Unknown SKU"


class UnknownWarehouseError(DomainError):
    code = "unknown_warehouse"
    title = "Unknown warehouse"


class UnknownCustomerError(DomainError):
    code = "unknown_customer"
    title = "Unknown customer"


class UnknownOrderError(DomainError):
    code = "unknown_order"
    title = "Unknown order"


class CustomerBlockedError(DomainError):
    code = "customer_blocked"
    title = "The customer is blocked"


class PriceMismatchError(DomainError):
    code = "price_mismatch"
    title = "Price does not match the customer's price"


class InsufficientStockError(DomainError):
    code = "insufficient_stock"
    category = CONFLICT
    title = "Not enough stock"


class DuplicateIdError(DomainError):
    code = "duplicate_id"
    category = CONFLICT
    title = "The id was already used for a different command"


class AlreadyReceivedError(DomainError):
    code = "already_received"
    category = CONFLICT
    title = "The transfer was already received"


class AlreadyDeliveredError(DomainError):
    code = "already_delivered"
    category = CONFLICT
    title = "The shipment was already delivered with other details"


class OrderShippedError(DomainError):
    code = "order_shipped"
    category = CONFLICT
    title = "The order has shipped in full"


class OrderClosedError(DomainError):
    """A change to an order that is cancelled, shipped or delivered."""

    code = "order_closed"
    category = CONFLICT
    title = "The order is closed"


class UnknownLineError(DomainError):
    code = "unknown_line"
    title = "Unknown order line"


class BelowShippedError(DomainError):
    code = "below_shipped"
    category = CONFLICT
    title = "A line's new quantity is below what has shipped"


class BelowReceivedError(DomainError):
    code = "below_received"
    category = CONFLICT
    title = "An expected receipt's new quantity is below what was received"


class ExpectedReceiptClosedError(DomainError):
    code = "expected_receipt_closed"
    category = CONFLICT
    title = "The expected receipt is closed"


class CreditLimitExceededError(DomainError):
    code = "credit_limit_exceeded"
    category = CONFLICT
    title = "The change would take the customer over the credit limit"


class OrderNotHeldError(DomainError):
    code = "not_on_hold"
    category = CONFLICT
    title = "The order is not on credit hold"


class ExceedsAllocationError(DomainError):
    code = "exceeds_allocation"
    category = CONFLICT
    title = "The shipment exceeds the order's allocation"


class IdempotencyKeyReusedError(DomainError):
    code = "idempotency_key_reused"
    title = "The idempotency key was used with a different request"


class InvalidAllocationError(DomainError):
    code = "invalid_allocation"
    title = "The payment's allocations do not fit"


class ExceedsShippedError(DomainError):
    code = "exceeds_shipped"
    category = CONFLICT
    title = "More is returned than was shipped and not yet returned"


class NotInvoicedError(DomainError):
    code = "not_invoiced"
    category = CONFLICT
    title = "The shipment's invoice is not issued yet"


class NotDeadLetteredError(DomainError):
    code = "not_dead_lettered"
    category = CONFLICT
    title = "The entry is not waiting in the dead-letter list"


class SkuNotFoundError(UnknownSkuError):
    """A query for a SKU that is not in the catalog (404, where a command answers 422)."""

    category = NOT_FOUND


class UnknownUomError(DomainError):
    """An order line names a unit the product is not sold in."""

    code = "unknown_uom"
    title = "Unknown unit of measure"


class UnknownPriceListError(DomainError):
    """A customer names a price list that does not exist."""

    code = "unknown_price_list"
    title = "Unknown price list"


class UnknownPaymentTermsError(DomainError):
    code = "unknown_payment_terms"
    title = "Unknown payment terms"


class PartnerIdentityTakenError(DomainError):
    """A trading partner names the ISA and GS identity another partner already has."""

    code = "partner_identity_taken"
    category = CONFLICT
    title = "Trading partner identity taken"
