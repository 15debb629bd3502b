"""Tracking rows: the last log position each projection or workflow has fully processed."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
tracking = sa.Table(
    "o2c_tracking",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)


def ensure_tables(engine: sa.Engine) -> None:
    metadata.create_all(engine)


def read_position(conn: sa.Connection, name: str) -> int:
    value = conn.execute(sa.select(tracking.c.position).where(tracking.c.name == name)).scalar()
    return int(value or 0)


def save_position(conn: sa.Connection, name: str, position: int) -> None:
    updated = conn.execute(tracking.update().where(tracking.c.name == name).values(position=position))
    if not updated.rowcount:
        conn.execute(tracking.insert().values(name=name, position=position))
