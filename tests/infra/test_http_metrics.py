"""The request counter and latency histogram (infra/adapters/http_metrics.py): Prometheus' bucket
rule (an observation counts in every bucket whose bound is at least it), exact counts from many
threads at once, and the families prometheus-client renders."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from infra.adapters.http_metrics import BUCKETS, HttpRequests


def samples(h: HttpRequests) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(h)
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def bucket(found: dict, le: str, route: str = "/v1/orders", method: str = "POST") -> float:
    return found[("o2c_http_request_seconds_bucket", (("le", le), ("method", method), ("route", route)))]


def test_an_observation_on_a_bound_counts_in_that_bucket_and_every_one_above() -> None:
    h = HttpRequests()
    for seconds in (0.001, 0.0011, 0.25, 11.0):
        h.observe("/v1/orders", "POST", 201, seconds)
    found = samples(h)
    assert bucket(found, "0.001") == 1
    assert bucket(found, "0.0025") == 2
    assert bucket(found, "0.25") == 3
    assert bucket(found, "10.0") == 3
    assert bucket(found, "+Inf") == 4
    assert found[("o2c_http_request_seconds_count", (("method", "POST"), ("route", "/v1/orders")))] == 4
    assert abs(found[("o2c_http_request_seconds_sum", (("method", "POST"), ("route", "/v1/orders")))] - 11.2521) < 1e-9
    assert found[("o2c_http_requests_total", (("method", "POST"), ("route", "/v1/orders"), ("status", "201")))] == 4
    assert len([k for k in found if k[0] == "o2c_http_request_seconds_bucket"]) == len(BUCKETS) + 1


def test_counts_stay_exact_with_many_threads_and_a_scrape_between() -> None:
    h = HttpRequests()

    def hammer(status: int) -> None:
        for i in range(5_000):
            h.observe("/healthz", "GET", status, (i % 7) / 1000)

    threads = [threading.Thread(target=hammer, args=(200 + n % 2,)) for n in range(6)]
    for t in threads:
        t.start()
    samples(h)  # a scrape while they count
    for t in threads:
        t.join()
    found = samples(h)
    assert found[("o2c_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))] == 15_000
    assert found[("o2c_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "201")))] == 15_000
    assert bucket(found, "+Inf", "/healthz", "GET") == 30_000
