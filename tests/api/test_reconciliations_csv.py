"""The CSV form of POST /v1/inventory/reconciliations (`text/csv`, header `sku,qty`, the other fields as
query parameters): the same answers and idempotency as the JSON form, and bad files refused naming the line."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.http import line, ok, place, problem, read, receive

PATH = "/v1/inventory/reconciliations"


def _stock(api: Api) -> int:
    """W-A: BOLT-10 10 on hand (4 reserved by SO-1), NUT-4 50."""
    receive(api, "R-1", "W-A", "BOLT-10", 10)
    receive(api, "R-2", "W-A", "NUT-4", 50)
    position: int = ok(place(api, "SO-1", [line("BOLT-10", 4)]))["position"]
    return position


def csv_post(api: Api, body: bytes | str, content_type: str = "text/csv", **params: Any) -> httpx.Response:
    raw = body.encode() if isinstance(body, str) else body
    query = {"reconciliation_id": "REC-1", "warehouse_id": "W-A", **params}
    query = {k: v for k, v in query.items() if v is not None}
    return api.client.post(PATH, content=raw, params=query, headers=api.headers({"Content-Type": content_type}))


def _events(api: Api, position: int) -> int:
    return len(read(api, "/v1/events", position, after=0, limit=1000)["events"])


def test_the_csv_form_answers_as_the_json_form_and_shares_its_idempotency(seeded: Api) -> None:
    api = seeded
    _stock(api)
    first = csv_post(api, "sku,qty\nBOLT-10,10\nNUT-4,45\n")
    answer = ok(first)
    assert answer["lines"] == [
        {"sku": "BOLT-10", "external_qty": 10, "on_hand": 10, "difference": 0},
        {"sku": "NUT-4", "external_qty": 45, "on_hand": 50, "difference": -5},
    ]
    assert (answer["matched"], answer["mismatched"], answer["applied"]) == (1, 1, False)
    receive(api, "R-9", "W-A", "NUT-4", 5)  # on hand moves; the answer of REC-1 does not
    again = csv_post(api, "sku,qty\r\nBOLT-10,10\r\nNUT-4,45\r\n")  # the same snapshot with CRLF line ends
    assert (again.status_code, again.content) == (201, first.content)
    as_json = {"reconciliation_id": "REC-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 10), line("NUT-4", 45)]}
    same = api.post(PATH, as_json)  # the JSON form of the same request is the same request
    assert (same.status_code, same.content) == (201, first.content)
    problem(csv_post(api, "sku,qty\nBOLT-10,10\nNUT-4,46\n"), 409, "duplicate_id")
    problem(csv_post(api, "sku,qty\nBOLT-10,10\nNUT-4,45\n", apply="true"), 409, "duplicate_id")


def test_apply_and_complete_come_as_query_parameters(seeded: Api) -> None:
    api = seeded
    _stock(api)
    body = '\ufeffsku,qty\n\n"BOLT-10","3"\n\n'  # a byte order mark, quoted fields and blank lines are fine
    answer = ok(csv_post(api, body, "text/csv; charset=utf-8", complete="true", apply="true"))
    assert answer["lines"] == [
        {"sku": "BOLT-10", "external_qty": 3, "on_hand": 10, "difference": -7},
        {"sku": "NUT-4", "external_qty": 0, "on_hand": 50, "difference": -50},
    ]
    assert answer["applied"] is True
    atp = read(api, "/v1/atp/BOLT-10", answer["position"], warehouse_id="W-A")
    assert (atp["on_hand"], atp["reserved"]) == (3, 4)
    history = read(api, "/v1/inventory/W-A/NUT-4/history", answer["position"])["events"]
    assert [e["type"] for e in history] == ["StockReceived", "StockCounted"]
    assert ok(csv_post(api, "sku,qty\n", reconciliation_id="REC-2", apply="false"))["lines"] == []


BAD: list[tuple[str, str, dict[str, Any], int, str, str]] = [
    ("bad header", "sku;qty\nBOLT-10;1\n", {}, 422, "invalid_request", "line 1"),
    ("header in other words", "item,count\nBOLT-10,1\n", {}, 422, "invalid_request", "line 1"),
    ("empty body", "", {}, 422, "invalid_request", "line 1"),
    ("qty not a whole number", "sku,qty\nNUT-4,1\nBOLT-10,2.5\n", {}, 422, "invalid_request", "line 3"),
    ("qty a word", "sku,qty\nBOLT-10,ten\n", {}, 422, "invalid_request", "line 2"),
    ("negative qty", "sku,qty\nBOLT-10,-1\n", {}, 422, "invalid_request", "negative"),
    ("qty over the limit", "sku,qty\nBOLT-10,1000000001\n", {}, 422, "invalid_request", "line 2"),
    ("empty SKU", "sku,qty\nBOLT-10,1\n,2\n", {}, 422, "invalid_request", "line 3"),
    ("duplicate SKU", "sku,qty\nBOLT-10,1\nNUT-4,1\nBOLT-10,2\n", {}, 422, "invalid_request", "first on line 2"),
    ("quoted comma in a SKU", 'sku,qty\n"BOLT,10",1\n', {}, 422, "invalid_request", "SKU 'BOLT,10'"),
    ("three fields", "sku,qty\nBOLT-10,1,2\n", {}, 422, "invalid_request", "got 3"),
    ("unterminated quote", 'sku,qty\n"BOLT-10,1\n', {}, 422, "invalid_request", "not valid CSV"),
    ("unknown SKU", "sku,qty\nBOLT-10,1\nGHOST-1,2\n", {}, 422, "unknown_sku", "GHOST-1 (line 3)"),
    ("unknown warehouse", "sku,qty\nBOLT-10,1\n", {"warehouse_id": "W-NOPE"}, 422, "unknown_warehouse", "W-NOPE"),
    ("no reconciliation_id", "sku,qty\nBOLT-10,1\n", {"reconciliation_id": None}, 422, "invalid_request", "required"),
    ("apply not a boolean", "sku,qty\nBOLT-10,1\n", {"apply": "yes"}, 422, "invalid_request", "true or false"),
    ("a misspelt parameter", "sku,qty\nBOLT-10,1\n", {"aply": "true"}, 422, "invalid_request", "aply"),
]


@pytest.mark.parametrize(("body", "params", "status", "code", "named"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_file_is_refused_naming_the_line_and_records_nothing(
    seeded: Api, body: str, params: dict[str, Any], status: int, code: str, named: str
) -> None:
    api = seeded
    position = _stock(api)
    before = _events(api, position)
    found = problem(csv_post(api, body, **{"apply": "true", **params}), status, code)
    assert named in found["detail"], found
    assert "Traceback" not in str(found)
    assert _events(api, position) == before
    assert ok(csv_post(api, "sku,qty\nBOLT-10,1\n", apply="true"))["applied"] is True  # the id was not taken


def test_other_media_types_and_query_parameters_beside_json_are_refused(seeded: Api) -> None:
    api = seeded
    position = _stock(api)
    before = _events(api, position)
    problem(csv_post(api, "sku,qty\nBOLT-10,1\n", "text/plain"), 415, "unsupported_media_type")
    problem(csv_post(api, "sku,qty\nBOLT-10,1\n", "text/csv; charset=latin-1"), 415, "unsupported_media_type")
    problem(csv_post(api, b"sku,qty\nBOLT-\xe910,1\n"), 422, "invalid_request")  # not UTF-8
    body = {"reconciliation_id": "REC-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 1)]}
    refused = api.client.post(PATH, json=body, params={"apply": "true"}, headers=api.headers())
    assert "apply" in problem(refused, 422, "invalid_request")["detail"]  # never silently ignored
    assert _events(api, position) == before


def test_the_document_shows_both_media_types_and_the_query_parameters(seeded: Api) -> None:
    document = seeded.client.get("/schema/openapi.json").json()
    operation = document["paths"][PATH]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/csv"}
    named = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert {"reconciliation_id", "warehouse_id", "complete", "apply"} <= named
