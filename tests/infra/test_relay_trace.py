"""The NATS relay carries a traced request's `traceparent` on the events it publishes (API.md
"Tracing"), because it renders the feed's CloudEvents. Needs NATS, like tests/infra/test_relay.py."""

from __future__ import annotations

import json

from infra.workers.relay import Relay, RelayConfig
from tests.conftest import Api, make_settings
from tests.infra.test_relay import feed, running, stream, wait_for_messages

__all__ = ["stream"]  # the fixture, used by name below
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_relay_publishes_the_traceparent_of_a_traced_request(
    database_url: str, api: Api, stream: RelayConfig
) -> None:
    assert api.put("/v1/warehouses/W-PLAIN", {"name": "Plain"}).status_code == 201
    traced = api.client.put("/v1/warehouses/W-T", json={"name": "Traced"}, headers=api.headers({"traceparent": TRACE}))
    assert traced.status_code == 201
    expected = feed(api)
    with running(Relay(make_settings(database_url), stream)):
        msgs = wait_for_messages(stream, len(expected))
    published = [json.loads(m.data) for m in msgs]
    assert published == expected
    mine = [e for e in published if e["subject"].endswith("W-T")]
    assert mine and {e.get("traceparent") for e in mine} == {TRACE}
    assert all("traceparent" not in e for e in published if e["subject"].endswith("W-PLAIN"))
