"""Per-client rate limits: a token bucket per API key, or per client IP for requests without a valid key.

Configured by O2C_RATE_LIMIT (see infra/settings.py). Over the limit a request is answered 429
`rate_limited` with Retry-After before it reaches a handler (by the edge layer, api/edge.py). Probes and scrapes are never limited.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import anyio.to_thread
import msgspec
from litestar.types import Scope, Send

from api.errors import PROBLEM
from api.security import bearer_token
from infra.service import Service
from infra.settings import RateLimit

EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
MAX_IDLE_BUCKETS = 10_000  # past this many, buckets that have refilled completely are dropped


class TokenBuckets:
    """Buckets by client; not thread-safe: used only from the event loop."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)

    def take(self, client: str) -> float:
        """Take a token for `client`: 0.0 if it got one, else the seconds until it would."""
        now = self.clock()
        tokens, at = self._buckets.get(client, (float(self.limit.burst), now))
        tokens = min(float(self.limit.burst), tokens + (now - at) * self.limit.per_second)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_IDLE_BUCKETS:
                self._prune(now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1.0 - tokens) / self.limit.per_second

    def _prune(self, now: float) -> None:
        full = float(self.limit.burst)
        for client, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.limit.per_second >= full:
                del self._buckets[client]


async def client_of(scope: Scope, svc: Service | None) -> str:
    """The bucket a request draws from: its key's name when the key is valid, else its IP address."""
    token = bearer_token(scope)
    if token and svc is not None:
        keys = svc.keys
        principal = keys.authenticate(token) if keys.fresh else await anyio.to_thread.run_sync(keys.authenticate, token)
        scope.setdefault("state", {})["authenticated"] = (token, principal)  # the guard reuses it
        if principal is not None:
            return f"key:{principal.name}"
    host = scope.get("client") or ("unknown", 0)
    return f"ip:{host[0]}"


async def too_many(send: Send, wait: float) -> None:
    retry_after = str(max(1, math.ceil(wait)))
    body = msgspec.json.encode(
        {
            "type": "/problems/rate_limited",
            "title": "Too many requests",
            "status": 429,
            "detail": f"The rate limit for this client is exceeded; retry after {retry_after} s",
            "code": "rate_limited",
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", retry_after.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
