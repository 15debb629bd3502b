"""A read-model table made by an older spec gets the columns the spec has gained."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa

from domain import order
from infra.eventstore.engine import make_engine
from infra.readside.tables import Tables
from projections.kpi_tallies import order_tally
from projections.kpis import KPIS
from projections.orders import ORDERS
from tests.conftest import make_settings
from tests.projections.fold import fold, table
from tests.projections.test_kpis import allocated, placed

D0 = Decimal("0")


def cancelled(order_id: str) -> order.OrderCancelled:
    return order.OrderCancelled(order_id=order_id, customer_id="C1", reason="test", lines=[], amount=D0)


def test_a_table_made_before_a_column_was_added_gains_it_with_its_index(database_url: str) -> None:
    engine = make_engine(make_settings(database_url))
    table = ORDERS.tables[0]
    older = replace(
        ORDERS, tables=(replace(table, columns=tuple(c for c in table.columns if c.name != "customer_po")),)
    )
    try:
        with engine.begin() as conn:
            Tables(older, 7).create(conn)
            conn.execute(
                sa.text(
                    "INSERT INTO rm_orders_7 (order_id, customer_id, status, seq, total, doc) "
                    "VALUES ('SO-1', 'C1', 'allocated', 1, '1.00', '{}')"
                )
            )
        with engine.begin() as conn:
            Tables(ORDERS, 7).create(conn)
            Tables(ORDERS, 7).create(conn)  # twice: nothing left to add
        inspector = sa.inspect(engine)
        assert "customer_po" in {c["name"] for c in inspector.get_columns("rm_orders_7")}
        assert any(i["column_names"] == ["customer_po"] for i in inspector.get_indexes("rm_orders_7"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT order_id, customer_po FROM rm_orders_7")).all() == [("SO-1", None)]
    finally:
        with engine.begin() as conn:
            Tables(ORDERS, 7).drop(conn)
        engine.dispose()


def test_a_tally_table_made_beside_its_filled_source_is_filled_from_its_rows(database_url: str) -> None:
    engine = make_engine(make_settings(database_url))
    older = replace(KPIS, tables=tuple(t for t in KPIS.tables if t.source is None))
    events = [placed("SO-1", A=3, B=2), allocated("SO-1", A=3, B=1), placed("SO-2", "edi", A=1), cancelled("SO-2")]
    orders = fold(table(KPIS.tables, "kpi_orders"), events)
    try:
        with engine.begin() as conn:
            Tables(older, 7).create(conn)
            conn.execute(Tables(older, 7)["kpi_orders"].insert(), list(orders.values()))
        with engine.begin() as conn:
            Tables(KPIS, 7).create(conn)
            Tables(KPIS, 7).create(conn)  # twice: filled once
        expected: dict[tuple[object, ...], int] = {}
        for row in orders.values():
            for key, n in order_tally(row).items():
                expected[key] = expected.get(key, 0) + n
        with engine.connect() as conn:
            found = conn.execute(sa.select(Tables(KPIS, 7)["kpi_order_tally"])).all()
            assert {tuple(r[:4]): r[4] for r in found} == expected
            assert (
                expected[("orders", "2026-03", "web", 0)] == 1 and expected[("cancelled", "2026-03-02", "edi", 0)] == 1
            )
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(Tables(KPIS, 7)["kpi_invoice_tally"])).scalar() == 0
            )
    finally:
        with engine.begin() as conn:
            Tables(KPIS, 7).drop(conn)
        engine.dispose()
