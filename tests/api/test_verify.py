"""Verification (API.md, Reconciliation): every read model rebuilt from the log in scratch tables and
compared row by row with the live one at the same position, over HTTP and with `o2c verify`."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from api import cli
from api.app import create_app
from infra.service import Service
from infra.settings import Settings
from tests.conftest import ADMIN_KEY, Api, seed, settle, wait_until
from tests.http import line, ok, place, problem, receive


def _business(api: Api) -> int:
    """A small log that fills every read model: stock, orders (one backordered), a shipment, its invoice
    issued and partly paid (so receivables and the journal hold rows too)."""
    seed(api)
    receive(api, "R-1", "W-A", "BOLT-10", 5)
    receive(api, "R-2", "W-B", "NUT-4", 100)
    ok(place(api, "SO-1", [line("BOLT-10", 3), line("NUT-4", 10)]))
    ok(place(api, "SO-2", [line("BOLT-10", 4)], customer_id="C2", allow_backorder=True))
    shipment = {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 3)]}
    ok(api.post("/v1/shipments", shipment))
    issued = wait_until(lambda: api.get("/v1/invoices/INV-SH-1").json().get("status") == "issued", timeout=20)
    assert issued, api.get("/v1/invoices/INV-SH-1").text  # billing opened it, the tax worker issued it
    position: int = ok(api.post("/v1/payments", {"payment_id": "PAY-1", "customer_id": "C1", "amount": "1.00"}))[
        "position"
    ]
    assert wait_until(lambda: len(ok(api.get("/v1/journal", min_position=position), 200)["items"]) == 2)
    return position


def _verified(api: Api) -> dict[str, Any]:
    started = ok(api.post("/v1/admin/verify"), 202)
    path = f"/v1/admin/verify/{started['verification_id']}"
    done = wait_until(lambda: (b := ok(api.get(path), 200))["status"] == "done" and b, timeout=30)
    assert done, api.get(path).text
    assert done["verification_id"] == started["verification_id"]
    assert done["error"] is None, done["error"]
    result: dict[str, Any] = done
    return result


def _tables(svc: Service) -> set[str]:
    return set(sa.inspect(svc.engine).get_table_names())


def test_verify_finds_nothing_when_the_read_models_match_the_log(api: Api, client: TestClient[Any]) -> None:
    svc: Service = client.app.state.service
    position = _business(api)
    before = _tables(svc)
    report = _verified(api)
    assert report["position"] >= position
    models = report["read_models"]
    assert set(models) == set(svc.read.projections)
    for name, found in models.items():
        assert found["rows"] > 0, name
        assert (found["mismatches"], found["examples"]) == (0, []), (name, found)
        assert found["position"] == report["position"]
    assert _tables(svc) == before  # the scratch tables are gone
    problem(api.get("/v1/admin/verify/vf_nothing"), 404, "not_found")


def _corrupt(svc: Service) -> None:
    """Change one row of each read model behind the service's back (and delete one)."""
    read = svc.read
    with svc.engine.begin() as conn:
        positions = read["atp"].tables["positions"]
        conn.execute(positions.update().where(positions.c.sku == "BOLT-10").values(on_hand=positions.c.on_hand + 7))
        skus = read["atp"].tables["skus"]
        conn.execute(skus.delete().where(skus.c.sku == "NUT-4"))
        orders = read["orders"].tables["orders"]
        conn.execute(orders.update().where(orders.c.order_id == "SO-2").values(status="shipped"))
        balances = read["balances"].tables["balances"]
        conn.execute(balances.update().where(balances.c.customer_id == "C1").values(unbilled="999.00"))
        invoices = read["invoices"].tables["invoices"]
        assert conn.execute(invoices.update().values(customer_id="C-NOBODY")).rowcount == 1
        entries = read["journal"].tables["journal_entries"]
        assert conn.execute(entries.delete().where(entries.c.entry_id == "JE-payment-PAY-1")).rowcount == 1
        ar = read["receivables"].tables["ar_entries"]
        assert conn.execute(ar.update().where(ar.c.kind == "invoice").values(due_date="1999-01-01")).rowcount == 1
        kpi_orders = read["kpis"].tables["kpi_orders"]
        conn.execute(kpi_orders.update().where(kpi_orders.c.order_id == "SO-1").values(filled=0))


def test_verify_names_a_corrupted_row_of_each_read_model(api: Api, client: TestClient[Any]) -> None:
    svc: Service = client.app.state.service
    _business(api)
    settle(svc)
    _corrupt(svc)
    models = _verified(api)["read_models"]
    assert {name: found["mismatches"] for name, found in models.items()} == {
        "atp": 2,
        "orders": 1,
        "balances": 1,
        "invoices": 1,
        "journal": 1,
        "receivables": 1,
        "kpis": 1,
    }
    atp = {e["table"]: e for e in models["atp"]["examples"]}
    assert atp["positions"]["key"] == {"sku": "BOLT-10", "warehouse_id": "W-A"}
    assert atp["positions"]["live"]["on_hand"] == atp["positions"]["rebuilt"]["on_hand"] + 7
    assert atp["skus"] == {"table": "skus", "key": {"sku": "NUT-4"}, "live": None, "rebuilt": atp["skus"]["rebuilt"]}
    assert atp["skus"]["rebuilt"]["name"] == "Nut M4"
    (order,) = models["orders"]["examples"]
    assert order["key"] == {"order_id": "SO-2"}
    assert order["live"]["status"] == "shipped" and order["rebuilt"]["status"] != "shipped"
    (balance,) = models["balances"]["examples"]
    assert balance["key"] == {"customer_id": "C1"} and balance["live"] == {"unbilled": "999.00"}
    (invoice,) = models["invoices"]["examples"]
    assert invoice["live"] == {"customer_id": "C-NOBODY"} and invoice["rebuilt"] == {"customer_id": "C1"}
    (entry,) = models["journal"]["examples"]
    assert entry["key"] == {"entry_id": "JE-payment-PAY-1"} and entry["live"] is None
    (owed,) = models["receivables"]["examples"]
    assert owed["live"] == {"due_date": "1999-01-01"} and owed["rebuilt"]["due_date"] != "1999-01-01"


def test_o2c_verify_exits_1_on_a_corrupted_row(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        _business(api)
        settle(client.app.state.service)
    monkeypatch.setenv("O2C_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2C_ADMIN_KEY", ADMIN_KEY)
    assert cli.main(["verify"]) == 0
    assert "mismatches in" not in capsys.readouterr().err
    svc = Service.start(settings)
    try:
        _corrupt(svc)
    finally:
        svc.close()
    assert cli.main(["verify"]) == 1
    captured = capsys.readouterr()
    assert "mismatches in atp, orders, balances, invoices, journal, receivables" in captured.err
    assert '"C-NOBODY"' in captured.out and '"999.00"' in captured.out
