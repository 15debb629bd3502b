"""The answers of the EDI routes (API.md "EDI (ANSI X12 004010)")."""

from __future__ import annotations

from typing import Any, Literal

from api.resources import Resource, answer_of


class TradingPartner(Resource):
    partner_id: str
    customer_id: str
    isa_qualifier: str
    isa_id: str
    gs_id: str
    our_isa_qualifier: str
    our_isa_id: str
    our_gs_id: str


class InterchangeTransaction(Resource):
    control_number: str
    status: Literal["accepted", "rejected"]
    order_id: str | None
    problem: dict[str, Any] | None  # the problem document of a rejected set


class Interchange(Resource):
    interchange_control_number: str
    transactions: list[InterchangeTransaction]
    ack_997: str  # the X12 997 functional acknowledgment


TradingPartnerAnswer = answer_of(TradingPartner)
InterchangeAnswer = answer_of(Interchange)
