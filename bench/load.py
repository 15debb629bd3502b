"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, N concurrent clients).

Run as its own process so the server under test never shares an interpreter with it:
    python -m bench.load --url http://127.0.0.1:8000 --path /healthz --clients 64 --seconds 10
Prints one JSON line: requests, seconds, rps, p50_ms, p99_ms, status counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections import Counter
from urllib.parse import urlparse


def _request(method: str, host: str, path: str, key: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + (body or b"")


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def order_body(skus: list[str], customers: list[str], rng: random.Random) -> bytes:
    lines = [{"sku": sku, "qty": rng.randint(1, 3)} for sku in rng.sample(skus, 3)]
    body = {
        "order_id": f"B-{uuid.uuid4().hex[:16]}",
        "customer_id": rng.choice(customers),
        "channel": "web",
        "lines": lines,
    }
    return json.dumps(body).encode()


async def client(
    url: str, path: str, key: str, deadline: float, latencies: list[float], statuses: Counter[int], mode: str, seed: int
) -> None:
    parsed = urlparse(url)
    reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
    rng = random.Random(seed)
    skus = [f"SKU-{i:05d}" for i in range(200)]
    customers = [f"CUST-{c:04d}" for c in range(50)]
    try:
        while time.perf_counter() < deadline:
            if mode == "orders":
                request = _request("POST", parsed.netloc, "/v1/orders", key, order_body(skus, customers, rng))
            else:
                target = path.replace("{sku}", rng.choice(skus))
                request = _request("GET", parsed.netloc, target, key, None)
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
    finally:
        writer.close()


async def run(url: str, path: str, key: str, clients: int, seconds: float, mode: str) -> dict[str, object]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client(url, path, key, deadline, latencies, statuses, mode, i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(int(len(latencies) * p), len(latencies) - 1)] * 1000, 2) if latencies else 0.0

    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", default="/healthz")
    parser.add_argument("--key", default="bench-admin-key")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--mode", choices=["get", "orders"], default="get")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, args.path, args.key, args.clients, args.seconds, args.mode))))


if __name__ == "__main__":
    main()
