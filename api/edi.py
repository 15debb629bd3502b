"""EDI (API.md "EDI (ANSI X12 004010)"): trading partners, an interchange of 850s in, its 997, and the 855,
856 and 810 out. The X12 text is read and written by infra/adapters/x12 (pure); this module resolves the
partner, turns each purchase order into a PlaceOrderInput, and answers (docs/decisions/0025-edi-x12.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.body import EDI_X12, read_edi
from api.commands import CommandGateway, correlation_id, principal_of, problem_body
from api.deps import Waits
from api.edi_resources import (
    Interchange,
    InterchangeAnswer,
    InterchangeTransaction,
    TradingPartner,
    TradingPartnerAnswer,
)
from api.errors import ProblemError
from api.models import PutTradingPartnerRequest
from api.openapi import answers, put_answers
from api.reference import IdPath, MinPosition
from api.security import new_correlation_id
from api.tenancy import FORBIDDEN, INVOICE_PATH, ORDER_PATH, SHIPMENT_PATH, tenant
from domain import invoice, trading_partner
from domain.errors import DomainError, InvalidRequestError, NotFoundError
from domain.values import is_valid_id
from infra import commands
from infra.adapters.x12 import documents
from infra.adapters.x12.purchase_order import read_purchase_order
from infra.adapters.x12.reader import Interchange as X12Interchange
from infra.adapters.x12.reader import X12Error, read_interchange
from infra.commands import edi
from infra.eventstore.store import EventStore
from infra.ledger.kinds import EDI_ORDER, INVOICE, ORDER, PARTNER_IDENTITY, SHIPMENT, TRADING_PARTNER
from infra.ledger.ledger import Ledger
from infra.ledger.unitofwork import Context

X12_ROUTE = {"raw_body": EDI_X12}  # api/openapi.py declares the body as X12 text


def partner_view(p: trading_partner.TradingPartner) -> TradingPartner:
    return TradingPartner(
        p.partner_id, p.customer_id, p.isa_qualifier, p.isa_id, p.gs_id, p.our_isa_qualifier, p.our_isa_id, p.our_gs_id
    )


def invalid_edi(segment: str, position: int, detail: str) -> ProblemError:
    return ProblemError(422, "invalid_edi", "Invalid EDI interchange", detail, segment=segment, position=position)


def _decode(raw: bytes) -> X12Interchange:
    try:
        return read_interchange(raw.decode("latin-1"))  # every byte a character; the reader refuses non-ASCII
    except X12Error as exc:
        raise invalid_edi(exc.segment, exc.position, str(exc)) from None


def _partner_of(ledger: Ledger, x12: X12Interchange) -> trading_partner.TradingPartner:
    """The sending partner (ISA05/ISA06 and GS02, one stream read each), checked against every envelope."""
    first = x12.groups[0]
    identity = trading_partner.identity_key(x12.sender_qualifier, x12.sender_id, first.sender)
    partner_id, _ = ledger.load(PARTNER_IDENTITY, identity)
    partner = ledger.load(TRADING_PARTNER, partner_id)[0] if partner_id is not None else None
    if partner is None:
        raise invalid_edi(
            "ISA",
            1,
            f"No trading partner sends as ISA05/ISA06 {x12.sender_qualifier}/{x12.sender_id} with GS02 {first.sender}",
        )
    if (x12.receiver_qualifier, x12.receiver_id) != (partner.our_isa_qualifier, partner.our_isa_id):
        raise invalid_edi(
            "ISA",
            1,
            f"ISA07/ISA08 {x12.receiver_qualifier}/{x12.receiver_id} is not who we are to {partner.partner_id}",
        )
    for group in x12.groups:
        if group.sender != partner.gs_id or group.receiver != partner.our_gs_id:
            raise invalid_edi(
                "GS",
                group.position,
                f"GS02/GS03 {group.sender}/{group.receiver} do not match partner {partner.partner_id}",
            )
        if group.functional_id != "PO":
            raise invalid_edi(
                "GS", group.position, f"GS01 {group.functional_id}: only purchase orders (PO) are accepted"
            )
    return partner


def _orders(x12: X12Interchange, partner: trading_partner.TradingPartner, at: datetime) -> list[edi.PurchaseOrderSet]:
    found: list[edi.PurchaseOrderSet] = []
    for group in x12.groups:
        for ts in group.sets:
            try:
                po = read_purchase_order(ts, x12.separators)
                order_id = f"{partner.partner_id}-{po.po_number}"
                if not is_valid_id(order_id) or len(order_id) > 64:
                    raise InvalidRequestError(
                        f"BEG03 {po.po_number} does not make an order id",
                        errors=[
                            {
                                "field": "BEG03",
                                "message": "the order id <partner_id>-<BEG03> must be a valid id of at most 64 characters",
                            }
                        ],
                    )
            except DomainError as exc:
                found.append(edi.PurchaseOrderSet(ts.control_number, None, exc))
                continue
            lines = tuple(
                commands.OrderLineInput(str(n), ln.sku, ln.qty, ln.unit_price, None, ln.line_ref, ln.uom)
                for n, ln in enumerate(po.lines, start=1)
            )
            place = commands.PlaceOrderInput(
                order_id=order_id,
                customer_id=partner.customer_id,
                channel="edi",
                warehouse_id=None,
                allow_backorder=True,
                lines=lines,
                accepted_at=at,
                customer_po=po.po_number,
                requested_date=po.requested_date,
                ship_to=po.ship_to,
            )
            found.append(edi.PurchaseOrderSet(ts.control_number, place))
    return found


def _acks(x12: X12Interchange, outcomes: Sequence[edi.SetOutcome]) -> list[documents.GroupAck]:
    accepted = iter(o.order is not None for o in outcomes)
    return [
        documents.GroupAck(
            g.functional_id,
            g.control_number,
            tuple(documents.SetAck(ts.id, ts.control_number, next(accepted)) for ts in g.sets),
        )
        for g in x12.groups
    ]


def _interchange_answer(x12: X12Interchange, at: datetime) -> Any:
    def answer(done: edi.InterchangeReceived) -> tuple[int, Interchange]:
        transactions = [
            InterchangeTransaction(
                o.control_number,
                "accepted" if o.order is not None else "rejected",
                o.order_id,
                problem_body(o.problem) if o.problem is not None else None,
            )
            for o in done.sets
        ]
        ack = documents.functional_ack(done.partner, _acks(x12, done.sets), done.ack_number, at)
        return 200, Interchange(done.interchange_control_number, transactions, ack)

    return answer


def _context(request: Request[Any, Any, Any]) -> Context:
    return Context(principal_of(request).name, correlation_id(request), f"request:{new_correlation_id()}")


def _x12(text: str) -> Response[str]:
    return Response(content=text, media_type=EDI_X12, status_code=200)


def _not_from_partner(what: str) -> NotFoundError:
    return NotFoundError(f"{what} did not come from a trading partner")


class EdiController(Controller):
    path = "/v1"
    tags = ["edi"]

    @put(
        "/trading-partners/{partner_id:str}",
        opt=tenant("catalog:write", FORBIDDEN),
        operation_id="PutTradingPartner",
        responses=put_answers(TradingPartnerAnswer),
    )
    async def put_partner(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        partner_id: IdPath,
        data: JSONBody[PutTradingPartnerRequest],
    ) -> Response[bytes]:
        cmd = trading_partner.PutTradingPartner(
            partner_id,
            data.customer_id,
            data.isa_qualifier,
            data.isa_id,
            data.gs_id,
            data.our_isa_qualifier,
            data.our_isa_id,
            data.our_gs_id,
        )
        return await gateway.execute(request, cmd, data, lambda done: (201 if done[0] else 200, partner_view(done[1])))

    # A partner is our EDI set-up (identities, routing), not the customer's data: closed to portal keys.
    @get("/trading-partners/{partner_id:str}", opt=tenant("read", FORBIDDEN), operation_id="GetTradingPartner")
    async def get_partner(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        partner_id: IdPath,
        min_position: MinPosition = None,
    ) -> TradingPartner:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, TRADING_PARTNER, partner_id)
        if state is None:
            raise NotFoundError(f"Trading partner {partner_id} does not exist", partner_id=partner_id)
        return partner_view(state)

    # An EDI gateway is a back-office integration: portal keys (one customer's) do not post interchanges.
    @post(
        "/edi/x12",
        opt={**tenant("orders:write", FORBIDDEN), **X12_ROUTE},
        operation_id="PostX12Interchange",
        status_code=200,
        responses=answers(InterchangeAnswer, 200),
    )
    async def post_interchange(
        self, request: Request[Any, Any, Any], gateway: NamedDependency[CommandGateway]
    ) -> Response[bytes]:
        x12 = _decode(await read_edi(request))
        partner = await anyio.to_thread.run_sync(_partner_of, gateway.app.ledger, x12)  # one dependency
        at = gateway.clock.now()
        cmd = edi.ReceiveInterchange(partner.partner_id, x12.control_number, tuple(_orders(x12, partner, at)))
        key = {"partner_id": partner.partner_id, "interchange_control_number": x12.control_number}
        business = ("edi-interchange", f"{partner.partner_id}:{x12.control_number}")
        return await gateway.execute(request, cmd, key, _interchange_answer(x12, at), business=business)

    @get(
        "/orders/{order_id:str}/edi/855", opt=tenant("read", ORDER_PATH), operation_id="GetOrder855", media_type=EDI_X12
    )
    async def order_855(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        order_id: IdPath,
        min_position: MinPosition = None,
    ) -> Response[str]:
        await waits.for_log(min_position)
        state, version = await anyio.to_thread.run_sync(ledger.load, ORDER, order_id)
        if state is None:
            raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
        link, partner = await _link(ledger, order_id, f"Order {order_id}")
        control = await _number(request, gateway, partner, f"855:{order_id}:{version}")
        return _x12(documents.order_ack(partner, state, link, control))

    @get(
        "/shipments/{shipment_id:str}/edi/856",
        opt=tenant("read", SHIPMENT_PATH),
        operation_id="GetShipment856",
        media_type=EDI_X12,
    )
    async def shipment_856(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        shipment_id: IdPath,
        min_position: MinPosition = None,
    ) -> Response[str]:
        await waits.for_log(min_position)
        shipment, version = await anyio.to_thread.run_sync(ledger.load, SHIPMENT, shipment_id)
        if shipment is None:
            raise NotFoundError(f"Shipment {shipment_id} does not exist", shipment_id=shipment_id)
        link, partner = await _link(ledger, shipment.order_id, f"Shipment {shipment_id}")
        state, _ = await anyio.to_thread.run_sync(ledger.load, ORDER, shipment.order_id)
        assert state is not None  # a partner's order: the link was recorded with it
        control = await _number(request, gateway, partner, f"856:{shipment_id}:{version}")
        return _x12(documents.ship_notice(partner, shipment, state, link.customer_po, control))

    @get(
        "/invoices/{invoice_id:str}/edi/810",
        opt=tenant("read", INVOICE_PATH),
        operation_id="GetInvoice810",
        media_type=EDI_X12,
    )
    async def invoice_810(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        ledger: NamedDependency[Ledger],
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        invoice_id: IdPath,
        min_position: MinPosition = None,
    ) -> Response[str]:
        await waits.for_log(min_position)
        inv, version = await anyio.to_thread.run_sync(ledger.load, INVOICE, invoice_id)
        if inv is None or inv.kind != "invoice":
            raise NotFoundError(f"Invoice {invoice_id} does not exist", invoice_id=invoice_id)
        link, partner = await _link(ledger, inv.order_id, f"Invoice {invoice_id}")
        if inv.number is None:
            raise NotFoundError(
                f"Invoice {invoice_id} is not issued yet: it has no number to send", invoice_id=invoice_id
            )
        state, _ = await anyio.to_thread.run_sync(ledger.load, ORDER, inv.order_id)
        assert state is not None  # a partner's order: the link was recorded with it
        issued_at = await anyio.to_thread.run_sync(_issued_at, store, invoice_id)
        control = await _number(request, gateway, partner, f"810:{invoice_id}:{version}")
        return _x12(documents.invoice_doc(partner, inv, state, link.customer_po, str(inv.number), issued_at, control))


def _issued_at(store: EventStore, invoice_id: str) -> datetime:
    """When the invoice was issued: the time of its InvoiceIssued record."""
    found = [
        rec.meta.occurred_at
        for rec in store.load(INVOICE.stream_id(invoice_id))
        if isinstance(rec.event, invoice.InvoiceIssued)
    ]
    return found[-1]


async def _link(
    ledger: Ledger, order_id: str, what: str
) -> tuple[trading_partner.PartnerOrderReceived, trading_partner.TradingPartner]:
    link, _ = await anyio.to_thread.run_sync(ledger.load, EDI_ORDER, order_id)
    partner = (await anyio.to_thread.run_sync(ledger.load, TRADING_PARTNER, link.partner_id))[0] if link else None
    if link is None or partner is None:
        raise _not_from_partner(what)
    return link, partner


async def _number(
    request: Request[Any, Any, Any], gateway: CommandGateway, partner: trading_partner.TradingPartner, document: str
) -> int:
    """The document's control number: the one it was given, else the partner's next (recorded)."""
    outcome = await gateway.app.execute_async(_context(request), edi.NumberDocument(partner.partner_id, document))
    assert outcome.result is not None  # decided now, never answered from a record (no dedupe)
    number: int = outcome.result
    return number
