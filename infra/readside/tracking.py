"""Tracking rows: the last log position each projection or workflow has fully processed."""

from __future__ import annotations

import sqlalchemy as sa

from infra.schema import create_missing

metadata = sa.MetaData()
tracking = sa.Table(
    "o2c_tracking",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)


def ensure_tables(engine: sa.Engine) -> None:
    create_missing(engine, metadata)


def read_position(conn: sa.Connection, name: str) -> int:
    value = conn.execute(sa.select(tracking.c.position).where(tracking.c.name == name)).scalar()
    return int(value or 0)


class TrackingConflictError(Exception):
    """Another process moved this tracking row: the batch must not be applied twice."""


def save_position(conn: sa.Connection, name: str, position: int, expected: int | None = None) -> None:
    """Move the tracking row; with `expected`, only from that position (else TrackingConflictError)."""
    query = tracking.update().where(tracking.c.name == name)
    if expected is not None:
        query = query.where(tracking.c.position == expected)
    updated = conn.execute(query.values(position=position))
    if updated.rowcount:
        return
    if expected:  # the row exists but has moved: someone else processed this batch
        raise TrackingConflictError(f"{name} is no longer at {expected}")
    conn.execute(tracking.insert().values(name=name, position=position))
