"""Adapters at the side of the core: the tax engine client, API keys, structured logs, Prometheus metrics."""
