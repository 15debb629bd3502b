"""A refusal's facts become problem members, except ones named like the members every problem has."""

from __future__ import annotations

import msgspec

from api.errors import RESERVED, facts_of, problem, status_for
from domain.errors import DomainError, InsufficientStockError, NotFoundError


def test_facts_named_like_problem_members_are_dropped_and_the_rest_kept() -> None:
    exc = DomainError("no", sku="A-1", status="shipped", code="x", type="t", title="T", headers={})
    assert facts_of(exc) == {"sku": "A-1"}
    assert RESERVED == {"type", "title", "status", "detail", "code", "headers"}


def test_a_fact_named_status_cannot_change_the_answer() -> None:
    exc = InsufficientStockError("the order has shipped", status="shipped", order_id="O-1")
    response = problem(status_for(exc), exc.code, exc.title, exc.detail, **facts_of(exc))
    body = msgspec.json.decode(response.content)
    assert response.status_code == 409
    assert body["status"] == 409 and body["code"] == exc.code and body["order_id"] == "O-1"


def test_categories_map_to_their_statuses() -> None:
    assert status_for(DomainError("x")) == 422
    assert status_for(NotFoundError("x")) == 404
    assert status_for(InsufficientStockError("x")) == 409
