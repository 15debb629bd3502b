"""Throw-away databases for benchmark runs: a temporary SQLite file or PostgreSQL database."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

PG = "postgresql://postgres@127.0.0.1:5432"


@contextmanager
def temp_database(store: str, server: str = PG) -> Iterator[str]:
    """Yield the URL of a new, empty database on `store` (sqlite or postgres); drop it afterwards."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="o2c-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"o2c_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"postgresql+psycopg://{server.split('://', 1)[1]}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
