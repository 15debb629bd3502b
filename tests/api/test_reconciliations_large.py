"""Large reconciliations (API.md, Reconciliation; README): up to 50,000 lines within an 8 MiB body are
answered, past either limit 413 `payload_too_large` with nothing recorded, in both forms."""

from __future__ import annotations

import json
from decimal import Decimal

from api.models import MAX_SNAPSHOT_LINES
from api.reconciliations import MAX_SNAPSHOT_BODY
from domain import catalog
from infra import commands
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from tests.api.test_reconciliations_csv import PATH, csv_post
from tests.conftest import Api, wait_until
from tests.http import ok, problem, read, receive

MANY = 5_000


def _many_skus(api: Api, n: int) -> list[str]:
    """n products with 7 on hand at W-A, written through the ledger in two commands (HTTP would take minutes)."""
    service: Service = api.client.app.state.service  # type: ignore[union-attr]
    skus = [f"BULK-{i:05d}" for i in range(n)]
    ctx = Context(actor="test", correlation_id="bulk", causation_id="test")

    def products(uow: UnitOfWork) -> None:
        for sku in skus:
            commands.put_product(uow, catalog.PutProduct(sku, sku, Decimal("1.00"), "EA"))

    service.ledger.run(ctx, products)
    service.ledger.run(ctx, lambda uow: commands.receive_stock(uow, "R-BULK", "W-A", [(s, 7) for s in skus]))
    return skus


def _events(api: Api, position: int) -> int:
    return len(read(api, "/v1/events", position, after=0, limit=1000)["events"])


def test_many_lines_are_answered_in_both_forms_and_applied_in_one_write(seeded: Api) -> None:
    api = seeded
    skus = _many_skus(api, MANY)
    lines = [(sku, 8 if i % 10 == 0 else 7) for i, sku in enumerate(skus)]
    body = {"reconciliation_id": "REC-J", "warehouse_id": "W-A", "lines": [{"sku": s, "qty": q} for s, q in lines]}
    answer = ok(api.post(PATH, body))
    assert (len(answer["lines"]), answer["matched"], answer["mismatched"]) == (MANY, MANY * 9 // 10, MANY // 10)
    assert answer["lines"][0] == {"sku": "BULK-00000", "external_qty": 8, "on_hand": 7, "difference": 1}
    csv = "sku,qty\n" + "".join(f"{s},{q}\n" for s, q in lines)
    applied = ok(csv_post(api, csv, reconciliation_id="REC-C", apply="true"))
    assert (applied["mismatched"], applied["applied"]) == (MANY // 10, True)
    caught_up = lambda: api.get("/v1/atp/BULK-00000", min_position=applied["position"]).status_code == 200  # noqa: E731
    assert wait_until(caught_up, timeout=60)  # 5,000 counts for the read models to take in
    for sku, counted in (("BULK-00000", True), ("BULK-00001", False), (skus[-10], True)):
        history = read(api, f"/v1/inventory/W-A/{sku}/history", applied["position"])["events"]
        assert ("StockCounted" in [e["type"] for e in history]) is counted, sku
        assert read(api, f"/v1/atp/{sku}", applied["position"], warehouse_id="W-A")["on_hand"] == (8 if counted else 7)


def test_a_snapshot_just_past_a_limit_is_413_and_records_nothing(seeded: Api) -> None:
    api = seeded
    position = receive(api, "R-1", "W-A", "BOLT-10", 1)
    before = _events(api, position)
    over = [{"sku": f"SKU-{i:06d}", "qty": 1} for i in range(MAX_SNAPSHOT_LINES + 1)]
    huge = {"reconciliation_id": "REC-L", "warehouse_id": "W-A", "lines": over}
    found = problem(api.post(PATH, huge), 413, "payload_too_large")
    assert "50,000 lines" in found["detail"]
    csv = "sku,qty\n" + "".join(f"SKU-{i:06d},1\n" for i in range(MAX_SNAPSHOT_LINES + 1))
    problem(csv_post(api, csv, reconciliation_id="REC-L"), 413, "payload_too_large")
    body = json.dumps({"reconciliation_id": "REC-L", "warehouse_id": "W-A", "lines": []}).encode()
    padded = body[:-1] + b" " * (MAX_SNAPSHOT_BODY - len(body) + 1) + b"}"  # valid JSON, one byte too long
    assert len(padded) == MAX_SNAPSHOT_BODY + 1
    raw = api.client.post(PATH, content=padded, headers=api.headers({"Content-Type": "application/json"}))
    assert "8 MiB" in problem(raw, 413, "payload_too_large")["detail"]
    assert _events(api, position) == before
    fits = body[:-1] + b" " * (MAX_SNAPSHOT_BODY - len(body)) + b"}"  # exactly at the limit: answered
    exact = api.client.post(PATH, content=fits, headers=api.headers({"Content-Type": "application/json"}))
    assert ok(exact)["lines"] == []
