"""A read-model table made by an older spec gets the columns the spec has gained."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from infra.eventstore.engine import make_engine
from infra.readside.tables import Tables
from projections.orders import ORDERS
from tests.conftest import make_settings


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
