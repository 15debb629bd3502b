from tests.conftest import Api


def test_an_order_allocates_across_warehouses_most_available_first(seeded: Api) -> None:
    api = seeded
    for rid, wh, qty in (("R-1", "W-A", 6), ("R-2", "W-B", 6), ("R-3", "W-C", 2)):
        r = api.post(
            "/v1/inventory/receipts", {"receipt_id": rid, "warehouse_id": wh, "lines": [{"sku": "BOLT-10", "qty": qty}]}
        )
        assert r.status_code == 201, r.text
    r = api.post(
        "/v1/orders",
        {"order_id": "SO-1", "customer_id": "C1", "channel": "web", "lines": [{"sku": "BOLT-10", "qty": 9}]},
    )
    assert r.status_code == 201, r.text
    line = r.json()["lines"][0]
    assert line["allocations"] == [{"warehouse_id": "W-A", "qty": 6}, {"warehouse_id": "W-B", "qty": 3}]
    atp = api.get("/v1/atp/BOLT-10").json()
    assert (atp["on_hand"], atp["reserved"], atp["available"]) == (14, 9, 5)
