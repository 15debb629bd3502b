"""POST /v1/inventory/reconciliations (API.md, Reconciliation): an outside snapshot against on hand,
`complete`, `apply` (counts, reservations untouched), idempotency, and bad input that records nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.http import line, ok, place, problem, read, receive

PATH = "/v1/inventory/reconciliations"


def _stock(api: Api) -> int:
    """W-A: BOLT-10 10 on hand (4 reserved by SO-1), NUT-4 50. W-B: NUT-4 7."""
    receive(api, "R-1", "W-A", "BOLT-10", 10)
    receive(api, "R-2", "W-A", "NUT-4", 50)
    receive(api, "R-3", "W-B", "NUT-4", 7)
    position: int = ok(place(api, "SO-1", [line("BOLT-10", 4)]))["position"]
    return position


def _body(rid: str, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    return {"reconciliation_id": rid, "warehouse_id": "W-A", "lines": [line(s, q) for s, q in lines], **extra}


def _on_hand(api: Api, sku: str, position: int) -> dict[str, Any]:
    atp = read(api, f"/v1/atp/{sku}", position, warehouse_id="W-A")
    return {k: atp[k] for k in ("on_hand", "reserved", "available")}


def test_a_snapshot_is_compared_with_on_hand_and_nothing_changes_without_apply(seeded: Api) -> None:
    api = seeded
    _stock(api)
    answer = ok(api.post(PATH, _body("REC-1", [("BOLT-10", 10), ("NUT-4", 45)])))
    assert {k: v for k, v in answer.items() if k != "position"} == {
        "reconciliation_id": "REC-1",
        "warehouse_id": "W-A",
        "lines": [
            {"sku": "BOLT-10", "external_qty": 10, "on_hand": 10, "difference": 0},
            {"sku": "NUT-4", "external_qty": 45, "on_hand": 50, "difference": -5},
        ],
        "matched": 1,
        "mismatched": 1,
        "applied": False,
    }
    assert _on_hand(api, "NUT-4", answer["position"])["on_hand"] == 50
    history = read(api, "/v1/inventory/W-A/NUT-4/history", answer["position"])["events"]
    assert [e["type"] for e in history] == ["StockReceived"]


def test_complete_lists_what_is_on_hand_but_missing_from_the_snapshot(seeded: Api) -> None:
    api = seeded
    _stock(api)
    answer = ok(api.post(PATH, _body("REC-1", [("BOLT-10", 10)], complete=True)))
    assert answer["lines"] == [
        {"sku": "BOLT-10", "external_qty": 10, "on_hand": 10, "difference": 0},
        {"sku": "NUT-4", "external_qty": 0, "on_hand": 50, "difference": -50},
    ]
    assert (answer["matched"], answer["mismatched"]) == (1, 1)
    empty = ok(api.post(PATH, {"reconciliation_id": "REC-2", "warehouse_id": "W-B", "lines": [], "complete": True}))
    assert empty["lines"] == [{"sku": "NUT-4", "external_qty": 0, "on_hand": 7, "difference": -7}]
    partial = ok(api.post(PATH, {"reconciliation_id": "REC-3", "warehouse_id": "W-B", "lines": []}))
    assert (partial["lines"], partial["matched"], partial["mismatched"]) == ([], 0, 0)


def test_apply_counts_the_mismatches_in_one_write_and_leaves_reservations_alone(seeded: Api) -> None:
    api = seeded
    _stock(api)
    answer = ok(api.post(PATH, _body("REC-1", [("BOLT-10", 3), ("NUT-4", 50)], apply=True)))
    assert answer["lines"][0] == {"sku": "BOLT-10", "external_qty": 3, "on_hand": 10, "difference": -7}
    assert (answer["matched"], answer["mismatched"], answer["applied"]) == (1, 1, True)
    position = answer["position"]
    assert _on_hand(api, "BOLT-10", position) == {"on_hand": 3, "reserved": 4, "available": -1}
    assert _on_hand(api, "NUT-4", position)["on_hand"] == 50
    history = read(api, "/v1/inventory/W-A/BOLT-10/history", position)["events"]
    counted = [e for e in history if e["type"] == "StockCounted"]
    assert [(e["data"]["counted_qty"], e["data"]["qty_delta"], e["position"]) for e in counted] == [(3, -7, position)]
    nut = read(api, "/v1/inventory/W-A/NUT-4/history", position)["events"]
    assert "StockCounted" not in [e["type"] for e in nut]  # a matched SKU is not counted
    over = read(api, "/v1/ops/signals", position)["over_allocated"]
    assert over == [{"sku": "BOLT-10", "warehouse_id": "W-A", "on_hand": 3, "reserved": 4, "over_by": 1}]
    same = ok(api.post(PATH, _body("REC-2", [("BOLT-10", 3)], apply=True)))
    assert (same["mismatched"], same["applied"]) == (0, False)  # nothing left to count


def test_apply_with_complete_counts_a_missing_sku_to_zero(seeded: Api) -> None:
    api = seeded
    _stock(api)
    answer = ok(api.post(PATH, _body("REC-1", [("BOLT-10", 10)], complete=True, apply=True)))
    assert answer["applied"] is True
    assert _on_hand(api, "NUT-4", answer["position"])["on_hand"] == 0
    assert _on_hand(api, "BOLT-10", answer["position"])["on_hand"] == 10


def test_the_same_reconciliation_gets_its_first_answer_and_another_payload_409(seeded: Api) -> None:
    api = seeded
    _stock(api)
    first = api.post(PATH, _body("REC-1", [("NUT-4", 45)]))
    ok(first)
    receive(api, "R-9", "W-A", "NUT-4", 5)  # on hand moves; the answer of REC-1 does not
    again = api.post(PATH, _body("REC-1", [("NUT-4", 45)]))
    assert (again.status_code, again.content) == (201, first.content)
    applied = ok(api.post(PATH, _body("REC-2", [("NUT-4", 45)], apply=True)))
    replay = api.post(PATH, _body("REC-2", [("NUT-4", 45)], apply=True))
    assert replay.json() == applied
    history = read(api, "/v1/inventory/W-A/NUT-4/history", applied["position"])["events"]
    assert [e["type"] for e in history].count("StockCounted") == 1
    problem(api.post(PATH, _body("REC-1", [("NUT-4", 46)])), 409, "duplicate_id")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (_body("REC-X", [("BOLT-10", 1)]) | {"warehouse_id": "W-NOPE"}, 422, "unknown_warehouse"),
        (_body("REC-X", [("BOLT-10", 1), ("GHOST-1", 2)], apply=True), 422, "unknown_sku"),
        (_body("REC-X", [("BOLT-10", 1), ("BOLT-10", 2)], apply=True), 422, "invalid_request"),
        (_body("REC-X", [("BOLT-10", -1)], apply=True), 422, "invalid_request"),
        (_body("REC-X", [("BOLT-10", 1)], apply="yes"), 422, "invalid_request"),
        ({"warehouse_id": "W-A", "lines": []}, 422, "invalid_request"),
    ],
    ids=["unknown warehouse", "unknown sku", "duplicate sku", "negative qty", "apply not a boolean", "no id"],
)
def test_bad_input_is_a_problem_and_records_nothing(seeded: Api, body: dict[str, Any], status: int, code: str) -> None:
    api = seeded
    position = _stock(api)
    head = read(api, "/v1/events", position, after=0, limit=1000)["events"]
    found = problem(api.post(PATH, body), status, code)
    assert "Traceback" not in str(found)
    after = read(api, "/v1/events", position, after=0, limit=1000)["events"]
    assert len(after) == len(head)
    retried = ok(api.post(PATH, _body("REC-X", [("BOLT-10", 1)], apply=True)))  # the id was not taken
    assert retried["applied"] is True


def test_a_long_snapshot_with_one_unknown_sku_is_422(seeded: Api) -> None:
    api = seeded
    _stock(api)
    many = _body("REC-MANY", [("BOLT-10", 10)] + [(f"SKU-{i:06d}", 1) for i in range(2_000)])
    problem(api.post(PATH, many), 422, "unknown_sku")  # judged whole: one unknown SKU refuses it all
