"""The event store: one ordered log of every stream (SQLite or PostgreSQL), how events are encoded, the feed."""
