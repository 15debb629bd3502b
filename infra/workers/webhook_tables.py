"""The tables of webhooks (infra/workers/webhook_store.py reads and writes them): the webhooks, one
delivery row per (webhook, event), one row per attempt. Times are unix seconds (the same on every store)."""

from __future__ import annotations

import sqlalchemy as sa

from infra.schema import create_missing

metadata = sa.MetaData()
webhooks = sa.Table(
    "o2c_webhooks",
    metadata,
    sa.Column("webhook_id", sa.String(64), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event_types", sa.Text, nullable=False),  # a JSON list
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("previous_secret", sa.Text, nullable=True),
    sa.Column("previous_until", sa.Float, nullable=True),  # unix seconds the previous secret signs until
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("after_position", sa.BigInteger, nullable=False),  # the log head at creation
)
deliveries = sa.Table(
    "o2c_webhook_deliveries",
    metadata,
    sa.Column("webhook_id", sa.String(64), primary_key=True),
    sa.Column("delivery_id", sa.String(64), primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tries", sa.Integer, nullable=False),  # attempts in the current round (a retry starts a new one)
    sa.Column("next_attempt_at", sa.Float, nullable=True),
    sa.Index("o2c_webhook_deliveries_due", "status", "next_attempt_at"),
    sa.Index("o2c_webhook_deliveries_log", "webhook_id", "position"),
)
attempts = sa.Table(
    "o2c_webhook_attempts",
    metadata,
    sa.Column("webhook_id", sa.String(64), primary_key=True),
    sa.Column("delivery_id", sa.String(64), primary_key=True),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
)
_ensured: set[int] = set()


def ensure_webhook_tables(engine: sa.Engine) -> None:
    if id(engine) in _ensured:
        return
    try:
        create_missing(engine, metadata)
    except sa.exc.DBAPIError:  # another process created them at the same moment
        if not sa.inspect(engine).has_table(attempts.name):
            raise
    _ensured.add(id(engine))
