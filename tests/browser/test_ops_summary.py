"""GET /ops (the page, without a key) and GET /v1/ops/summary (the figures it draws), over HTTP on
both stores, without a browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api import ops
from infra.service import Service
from tests.conftest import Api, wait_until
from tests.http import line, ok, place, problem, receive


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def place_line(api: Api, order_id: str, sku: str, qty: int) -> int:
    """Place an order of one line for C1; the command's position."""
    return int(ok(place(api, order_id, [line(sku, qty)]))["position"])


def summary(api: Api, position: int, **params: Any) -> dict[str, Any]:
    return ok(api.get("/v1/ops/summary", min_position=position, **params), 200)


def test_the_ops_page_is_served_without_a_key_and_loads_nothing_from_elsewhere(api: Api) -> None:
    r = api.client.get("/ops")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in r.headers["content-security-policy"]
    page = r.text
    assert "<title>o2c operations</title>" in page and "sessionStorage" in page
    # no script, style, image or font from another origin: the machine has no internet
    assert re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page) == []
    assert re.findall(r"@import|url\(\s*['\"]?(?:https?:)?//", page) == []
    assert [u for u in re.findall(r"https?://[^\s\"'<>]+", page) if u != "http://www.w3.org/2000/svg"] == []
    for path in (
        "/v1/ops/summary",
        "/v1/ops/kpis",
        "/v1/ops/signals",
        "/v1/atp?skus=",
        "/v1/admin/dead-letters",
        "/retry",
    ):
        assert path in page


def test_the_summary_needs_a_read_key_and_answers_bad_parameters_with_a_problem(seeded: Api) -> None:
    api = seeded
    writer = service(api).keys.create("webshop", frozenset({"orders:write"}))
    assert wait_until(lambda: api.get("/v1/ops/summary", key=writer).status_code == 403, timeout=5)
    problem(api.get("/v1/ops/summary", key=writer), 403, "forbidden")
    problem(api.client.get("/v1/ops/summary"), 401, "unauthenticated")
    for params in ({"minutes": 0}, {"minutes": 121}, {"minutes": "ten"}, {"top": 0}, {"top": 51}, {"min_position": -1}):
        r = api.get("/v1/ops/summary", **params)
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert {"type", "title", "status", "detail", "code"} <= set(r.json()), r.text


def test_the_summary_counts_intake_status_mix_top_skus_and_backorders_by_age(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", "BOLT-10", 10)
    receive(api, "R-2", "W-B", "NUT-4", 100)
    place_line(api, "SO-1", "BOLT-10", 4)  # allocated
    place_line(api, "SO-2", "BOLT-10", 8)  # 6 allocated, 2 backordered
    place_line(api, "SO-3", "NUT-4", 50)  # allocated
    place_line(api, "SO-4", "NUT-4", 1)
    position = int(ok(api.post("/v1/orders/SO-4/cancel", {"reason": "changed mind"}), 200)["position"])

    body = summary(api, position)
    assert body["position"] >= position and body["generated_at"].endswith("Z")
    intake = body["intake"]
    assert (intake["minutes"], intake["orders"], intake["complete"], intake["rate_per_minute"]) == (10, 4, True, 0.4)
    assert len(intake["per_minute"]) == 10 and sum(intake["per_minute"]) == 4
    assert sum(intake["per_minute"][-2:]) == 4  # all in this minute (or the one before, across a minute turn)
    assert body["order_status"] == {
        "credit_hold": 0,
        "backordered": 1,
        "allocated": 2,
        "partially_shipped": 0,
        "shipped": 0,
        "delivered": 0,
        "cancelled": 1,
    }
    assert body["orders_total"] == 4
    assert body["top_skus"] == [
        {"sku": "NUT-4", "reserved": 50, "on_hand": 100},
        {"sku": "BOLT-10", "reserved": 10, "on_hand": 10},
    ]
    assert summary(api, position, top=1)["top_skus"] == [{"sku": "NUT-4", "reserved": 50, "on_hand": 100}]
    assert [(b["bucket"], b["lines"], b["qty"]) for b in body["backorders_by_age"]] == [
        ("lt_1h", 1, 2),
        ("1h_1d", 0, 0),
        ("1d_7d", 0, 0),
        ("ge_7d", 0, 0),
    ]
    five = summary(api, position, minutes=5)["intake"]
    assert (len(five["per_minute"]), five["orders"], five["rate_per_minute"]) == (5, 4, 0.8)


@pytest.mark.parametrize(
    ("later", "bucket"),
    [(timedelta(hours=2), "1h_1d"), (timedelta(days=3), "1d_7d"), (timedelta(days=8), "ge_7d")],
    ids=["2 hours", "3 days", "8 days"],
)
def test_backorders_move_to_older_age_buckets_as_time_passes(seeded: Api, later: timedelta, bucket: str) -> None:
    api = seeded
    position = place_line(api, "SO-1", "BOLT-10", 3)  # nothing on hand: all 3 backordered
    summary(api, position)  # the read models have caught up
    ages = ops.backorders_by_age(service(api).read, datetime.now(UTC) + later)
    assert [(b["bucket"], b["lines"], b["qty"]) for b in ages if b["lines"]] == [(bucket, 1, 3)]


def test_intake_places_orders_in_the_minute_they_were_accepted_and_forgets_them_after_the_window(
    seeded: Api,
) -> None:
    api = seeded
    position = place_line(api, "SO-1", "NUT-4", 1)
    position = max(position, place_line(api, "SO-2", "NUT-4", 1))
    summary(api, position)
    read = service(api).read
    now = datetime.now(UTC)
    in_seven = ops.intake(read, now + timedelta(minutes=7, seconds=1), 10)
    assert sum(in_seven["per_minute"][2:4]) == 2 and in_seven["orders"] == 2  # 7 minutes ago, 3rd/4th bucket
    gone = ops.intake(read, now + timedelta(minutes=11), 10)
    assert (gone["orders"], gone["per_minute"], gone["rate_per_minute"]) == (0, [0] * 10, 0.0)


def test_intake_reads_the_newest_orders_page_by_page_and_says_when_it_stopped_short(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = seeded
    position = 0
    for i in range(5):
        position = max(position, place_line(api, f"SO-{i}", "NUT-4", 1))
    summary(api, position)
    read = service(api).read
    monkeypatch.setattr(ops, "SCAN_PAGE", 2)
    monkeypatch.setattr(ops, "SCAN_CAP", 100)
    whole = ops.intake(read, datetime.now(UTC), 10)
    assert (whole["orders"], whole["complete"], whole["rate_per_minute"]) == (5, True, 0.5)
    monkeypatch.setattr(ops, "SCAN_CAP", 4)
    short = ops.intake(read, datetime.now(UTC), 10)
    assert (short["orders"], short["complete"]) == (4, False)
    assert short["rate_per_minute"] > 0.4  # over the seconds those 4 orders span, not the whole 10 minutes
